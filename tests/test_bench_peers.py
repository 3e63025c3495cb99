"""bench/peers.py's "(server)" rows: a figure counts only if the fork server served the command."""
from __future__ import annotations

import os
import shutil
import sys
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import peers  # noqa: E402

ARTVCS = os.path.join(os.path.dirname(sys.executable), "artvcs")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is Linux's")


def test_a_served_row_fails_unless_the_server_served_it(tmp_path):
    p = peers.Peers(str(tmp_path), {}, ARTVCS, shutil.rmtree, lambda path: None, served=True)
    p.envs[peers.SERVED]["ARTVCS_SERVER_TAG"] = f"benchtest{os.getpid()}-{uuid.uuid4().hex[:8]}"
    p.server("start")
    try:
        assert p.run(str(tmp_path), ARTVCS, "--help", tool=peers.SERVED) > 0  # served: counted
        p.envs[peers.SERVED]["SOME_SETTING"] = "1"  # the server refuses it: the command runs in process
        with pytest.raises(RuntimeError, match="was not served by the artvcs server"):
            p.run(str(tmp_path), ARTVCS, "--help", tool=peers.SERVED)
        del p.envs[peers.SERVED]["SOME_SETTING"]
        p.envs[peers.SERVED]["ARTVCS_SERVER"] = "0"  # in process, nothing asked of the server
        with pytest.raises(RuntimeError, match="was not served"):
            p.run(str(tmp_path), ARTVCS, "--help", tool=peers.SERVED)
        p.envs[peers.SERVED]["ARTVCS_SERVER"] = "1"
    finally:
        p.server("stop")
    with pytest.raises(RuntimeError, match="not running"):
        p.run(str(tmp_path), ARTVCS, "--help", tool=peers.SERVED)
    assert p.run(str(tmp_path), ARTVCS, "--help") > 0  # the other rows ask nothing of a server


def test_the_served_status_row_says_the_launcher_answers_it():
    assert peers._suffix("status, up to date", peers.SERVED) == " (quick answer)"
    assert peers._suffix("log many small", peers.SERVED) == " (server)"
    assert peers._suffix("log many small", "artvcs") == ""
