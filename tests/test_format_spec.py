"""The format spec (man/artvcs-format.5) states what the code does."""
from __future__ import annotations

import os
import re

from artvcs.plumbing import manifest, refs, repository, statcache
from artvcs.plumbing.repository import init_repository

SPEC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "man", "artvcs-format.5")


def _text() -> str:
    with open(SPEC, encoding="utf-8") as f:
        return f.read().replace("\\-", "-").replace("\\fB", "").replace("\\fR", "").replace("\\fI", "")


def test_version_record_and_constants_match():
    text = _text()
    assert f"artvcs-format {repository.FORMAT_VERSION}" in text
    assert f"repository, version {repository.FORMAT_VERSION}" in text.splitlines()[2]
    assert manifest.LISTING in text and f"more than {manifest.SHARD_THRESHOLD} files" in text
    assert f"({statcache.RACY_NS} ns)" in text
    assert f"older than {refs.STALE_LOCK_SECONDS} seconds" in text


def test_every_ref_namespace_is_specified():
    text = _text()
    for ns in refs.NAMESPACES:
        assert re.search(rf"refs/{ns}/", text), ns


def test_layout_matches_a_new_repository(tmp_path):
    init_repository(str(tmp_path))
    root = tmp_path / ".artifacts"
    text = _text()
    for name in ("artvcs-format", "HEAD", "config", "objects", "refs", "content/00", "content/ff", "cache"):
        assert (root / name).exists(), name
        assert name.split("/")[0] in text
    assert (root / "artvcs-format").read_bytes() == b"artvcs-format 1\n"


def test_a_newer_format_is_refused(tmp_path):
    import pytest

    init_repository(str(tmp_path))
    (tmp_path / ".artifacts" / "artvcs-format").write_text("artvcs-format 2\n")
    with pytest.raises(repository.FormatVersionError, match="format 2, newer"):
        repository.Repository(str(tmp_path / ".artifacts"))
