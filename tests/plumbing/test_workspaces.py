"""Workspace records: what each folder holds, stored beside the repository and read as untrusted data."""
from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import workspaces
from artvcs.plumbing.workspaces import Workspace, WorkspaceRecordError


def _ws(path: str, how: str = "checkout") -> Workspace:
    return Workspace(path=os.path.realpath(path), name="me/proj/ds", version="v3", commit="a" * 40, digest="b" * 64,
                     how=how, at="2026-12-01T21:00:00.000000Z")


def test_record_lookup_forget(repo, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    assert workspaces.lookup(repo.gitdir, str(folder)) is None
    workspaces.record(repo.gitdir, _ws(str(folder)))
    assert workspaces.lookup(repo.gitdir, str(folder)) == _ws(str(folder))
    assert os.listdir(folder) == [], "nothing is written into the folder itself"
    os.symlink(folder, tmp_path / "link")
    assert workspaces.lookup(repo.gitdir, str(tmp_path / "link")) == _ws(str(folder)), "found by its real path"
    workspaces.record(repo.gitdir, _ws(str(folder), "download"))
    assert workspaces.lookup(repo.gitdir, str(folder)).how == "download", "the last writer wins"
    assert [w.path for w in workspaces.all_records(repo.gitdir)] == [str(folder)]
    workspaces.forget(repo.gitdir, str(folder))
    assert workspaces.lookup(repo.gitdir, str(folder)) is None and workspaces.all_records(repo.gitdir) == []


def test_a_damaged_record_is_refused_by_lookup_and_skipped_by_listing(repo, tmp_path):
    workspaces.record(repo.gitdir, _ws(str(tmp_path / "a")))
    workspaces.record(repo.gitdir, _ws(str(tmp_path / "b")))
    target = workspaces._file(repo.gitdir, str(tmp_path / "a"))
    with open(target, "w") as f:
        f.write('{"path": 1}')
    with pytest.raises(WorkspaceRecordError, match="exactly the strings"):
        workspaces.lookup(repo.gitdir, str(tmp_path / "a"))
    assert [w.path for w in workspaces.all_records(repo.gitdir)] == [str(tmp_path / "b")]
    other = _ws(str(tmp_path / "b")).to_json()
    with open(target, "w") as f:
        json.dump(other, f)  # a record moved under another folder's name answers for nothing
    assert workspaces.lookup(repo.gitdir, str(tmp_path / "a")) is None


@pytest.mark.parametrize("change", [
    {"how": "stolen"}, {"digest": "x" * 64}, {"commit": "A" * 40}, {"commit": "a" * 39}, {"path": "relative/dir"},
    {"version": "3"}, {"version": "vx"}, {"extra": "field"},
])
def test_each_field_rule(change):
    obj = {**_ws("/tmp/x").to_json(), **change}
    with pytest.raises(WorkspaceRecordError):
        workspaces.parse(json.dumps(obj).encode(), "rec")


@settings(max_examples=300, deadline=None)
@given(st.one_of(
    st.binary(max_size=300),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                 lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=8),
                 max_leaves=20).map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.sampled_from(sorted(Workspace._fields)), st.text(max_size=70), max_size=7)
      .map(lambda v: json.dumps(v).encode()),
))
def test_parse_never_raises_anything_but_its_own_error(data):
    try:
        ws = workspaces.parse(data, "fuzz")
    except WorkspaceRecordError:
        return
    assert ws.how in workspaces.HOWS and os.path.isabs(ws.path)


def test_parse_refuses_a_deeply_nested_or_huge_record():
    with pytest.raises(WorkspaceRecordError):
        workspaces.parse(b"[" * 30000 + b"]" * 30000, "deep")
    with pytest.raises(WorkspaceRecordError, match="at most"):
        workspaces.parse(b" " * (workspaces.MAX_RECORD + 1), "huge")
