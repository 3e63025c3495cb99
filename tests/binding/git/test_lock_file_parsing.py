"""The git-tracking files (artvcs.lock, artvcs.yaml) come from git commits: any bytes give a pin
table or an artvcs error, and no tracked path can name a place outside the work tree or inside
a repository's own folder (a checkout writes there when git checks out a commit)."""
from __future__ import annotations

import datetime
import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from artvcs.git import tracking
from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.statcache import StatCache

FUZZ = settings(max_examples=100, deadline=datetime.timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
PIN = {"name": "ds", "version": "v0", "digest": "d" * 64, "commit": "c" * 40}
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))
json_values = st.recursive(json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3), max_leaves=10)
pin_tables = st.dictionaries(st.text(max_size=12), st.one_of(json_values, st.just(PIN)), max_size=3).map(lambda t: {"pins": t})


@FUZZ
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()) | pin_tables.map(lambda v: json.dumps(v).encode()))
@example(b"pins: !!python/object/apply:os.system [echo pwned]\n")
@example(b"pins:\n  ../outside/: {}\n")
@example(b"[" * 3000)
def test_any_lock_file_bytes(data):
    try:
        pins = tracking.parse_lock(data, "artvcs.lock")
    except ArtvcsError:
        return
    for rel in pins:  # whatever is accepted is a normal path inside the work tree
        assert isinstance(rel, str) and not rel.startswith("/") and ".." not in rel.split("/") and ".git" not in rel.lower().split("/")
    with tempfile.TemporaryDirectory() as root:
        with open(os.path.join(root, tracking.LOCK), "wb") as f:
            f.write(data)
        assert tracking.pins(root) == pins
        # parsed once and kept by content (what an up-to-date status reads): the same pins, twice
        cache = StatCache(os.path.join(root, "stat.db"))
        assert tracking.pins(root, cache) == pins and tracking.pins(root, cache) == pins
        cache.close()


@pytest.mark.parametrize("rel,words", [("../outside/", "'..'"), ("/etc/", "absolute"), (".git/hooks/", "git's own folder"),
                                       ("a/.GIT./", "NTFS"), (".artifacts/content/", ".artifacts"), ("a//b", "normal"),
                                       ("./data/", "normal")])
def test_a_tracked_path_that_leads_elsewhere_is_refused(tmp_path, rel, words):
    for name, key in ((tracking.LOCK, "pins"), (tracking.DECLARATIONS, "tracked")):
        (tmp_path / name).write_text(json.dumps({key: {rel: PIN}}))
    for read in (tracking.pins, tracking.declarations):
        with pytest.raises(UsageError) as e:
            read(str(tmp_path))
        assert repr(rel) in str(e.value) and words in str(e.value)
