"""The test servers' own rule: a server that cannot be had skips its tests, except under CI, where it fails them."""
from __future__ import annotations

import pytest

from remote_servers import unavailable


def test_a_missing_server_skips_outside_ci_and_fails_under_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no server here"):
        unavailable("no server here")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="no server here .CI=true"):
        unavailable("no server here")
