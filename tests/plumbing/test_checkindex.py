"""plumbing.checkindex: a streamed manifest held packed a folder at a time must plan, refuse and
write exactly what the same entries handed over in a list (kept as Entry objects) do."""
from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from artvcs.plumbing import checkindex
from artvcs.plumbing.checkout import materialize, verify_folder
from artvcs.plumbing.errors import ArtvcsError, ObjectMissingError, UsageError
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.statcache import StatCache

DIGEST = "ab" * 32


def shape(groups: dict) -> dict:
    return {f: [(e.path, e.digest, e.size, e.ref) for e in g] for f, g in groups.items()}


def outcome(entries: list[Entry], streamed: bool):
    try:
        folders, groups = checkindex.index(iter(entries) if streamed else list(entries))
    except ArtvcsError as e:
        return type(e), str(e)
    return folders, shape(groups)


_parts = st.sampled_from(["a", "b", "ä x", "名", "c.d", "e-1"])
_paths = st.lists(_parts, min_size=1, max_size=3).map("/".join)
_digests = st.one_of(st.just(DIGEST), st.just("cd" * 32), st.sampled_from(["AB" * 32, "ab" * 31, "xyz", "ab" * 32 + "\n"]))
_entries = st.builds(Entry, _paths, _digests, st.one_of(st.integers(0, 2**40), st.none(), st.just(-1)),
                     st.one_of(st.none(), st.none(), st.just("s3://bucket/key")))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_entries, max_size=30))
def test_packed_and_loose_agree_on_any_entries(entries):
    """Any order (folders coming apart), duplicates, clashes, references, odd digests and sizes:
    the same folders and entries, or the same error, either way."""
    assert outcome(entries, True) == outcome(entries, False)
    # and both agree with the plain rules: a path twice, or a file where a folder is, is refused
    paths = [e.path for e in entries]
    dirs = {p.rsplit("/", k)[0] for p in paths for k in range(1, p.count("/") + 1)}
    bad = len(set(paths)) != len(paths) or bool(dirs & set(paths))
    assert isinstance(outcome(entries, True)[0], type) == bad


def test_plain_streamed_folders_are_packed_and_listed_ones_are_not():
    entries = [Entry(f"d{i % 3}/f{i:03d}", f"{i:064x}", i) for i in range(30)]
    entries.sort(key=lambda e: e.path)
    odd = [Entry("r/x", DIGEST, 1, "s3://b/k"), Entry("u/y", "AB" * 32, 1), Entry("n/z", DIGEST, None)]
    _, streamed = checkindex.index(iter(entries + odd))
    _, listed = checkindex.index(entries + odd)
    assert {f: type(g).__name__ for f, g in streamed.items()} == {
        "d0": "Packed", "d1": "Packed", "d2": "Packed", "r": "Loose", "u": "Loose", "n": "Loose"}
    assert {type(g) for g in listed.values()} == {checkindex.Loose}
    assert shape(streamed) == shape(listed)
    # a folder whose entries come apart in the stream is kept as objects, and still refused when repeated
    _, apart = checkindex.index(iter([Entry("p/a", DIGEST, 1), Entry("q/a", DIGEST, 1), Entry("p/b", DIGEST, 2)]))
    assert [e.path for e in apart["p"]] == ["p/a", "p/b"] and isinstance(apart["p"], checkindex.Loose)
    with pytest.raises(UsageError, match="'p/a' appears twice"):
        checkindex.index(iter([Entry("p/a", DIGEST, 1), Entry("q/a", DIGEST, 1), Entry("p/a", DIGEST, 2)]))


def put(repo, files: dict[str, bytes]) -> list[Entry]:
    return [Entry(p, repo.store.put_bytes(d), len(d)) for p, d in sorted(files.items())]


def snapshot(root: str) -> dict[str, bytes]:
    out = {}
    for folder, _, names in os.walk(root):
        for n in names:
            p = os.path.join(folder, n)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def records(repo, root: str, paths) -> dict:
    recs = repo.statcache.load_prefix(root)
    return {p: StatCache.lookup(recs, os.path.join(root, p), os.lstat(os.path.join(root, p))) for p in paths}


def test_a_streamed_checkout_writes_refuses_and_records_as_a_listed_one(repo, tmp_path):
    """First checkout, partly changed folder (a file gone, one edited, one extra), a folder there
    but empty, a reference, verify: the same files, results, stat-cache records and problems
    whether the entries are streamed (packed) or listed."""
    files = {f"d{i % 4}/{'ü ' if i % 5 else ''}f{i:03d}.bin": os.urandom(100 + i) for i in range(80)}
    files["top.txt"] = b"top"
    entries = put(repo, files)
    ref = Entry("refs/remote.bin", "ef" * 32, 5, "s3://bucket/remote.bin")

    def fetch(e, tmp):
        with open(tmp, "wb") as f:
            f.write(b"fetch")

    seen = {}
    for how in ("listed", "streamed"):
        root = str(tmp_path / how)

        def run(**kw):
            es = entries + [ref]
            return materialize(repo.store, iter(es) if how == "streamed" else es, root, mode="copy", prune=True,
                               statcache=repo.statcache, fetch_reference=fetch, **kw)

        first = run()
        os.unlink(os.path.join(root, entries[3].path))
        with open(os.path.join(root, entries[5].path), "wb") as f:
            f.write(b"edited, and not stored")
        with open(os.path.join(root, "d1", "extra"), "wb") as f:
            f.write(b"x")
        for e in entries:
            if e.path.startswith("d2/"):
                os.unlink(os.path.join(root, e.path))
        problems = verify_folder(iter(entries + [ref]) if how == "streamed" else entries + [ref], root, repo.statcache)
        with pytest.raises(UsageError, match="would delete or overwrite"):
            run(protect_untracked=True)
        again = run()
        time.sleep(1.1)  # then the copies written in the clock's last tick are no longer racy
        run()  # hashes and records them
        seen[how] = (first, problems, again, snapshot(root), records(repo, root, files))
        assert seen[how][3] == {**{p.replace("/", os.sep): d for p, d in files.items()}, os.path.join("refs", "remote.bin"): b"fetch"}
    assert seen["listed"] == seen["streamed"]
    first, problems, again, _, recs = seen["streamed"]
    assert (first.written, first.references, again.written, again.removed) == (81, 1, 2 + 20, 1)
    assert [p for p, _ in problems].count(entries[3].path) == 1 and ("d1/extra", "extra") in problems
    assert recs == {e.path: e.digest for e in entries}, "every written file is recorded"


def test_a_streamed_checkout_refuses_missing_content_before_writing(repo, tmp_path):
    entries = put(repo, {f"d/f{i}": b"%d" % i for i in range(20)})
    gone = Entry("d/zz", "cd" * 32, 3)
    with pytest.raises(ObjectMissingError, match=gone.digest):
        materialize(repo.store, iter(entries + [gone]), str(tmp_path / "out"), mode="copy")
    assert not (tmp_path / "out").exists() or snapshot(str(tmp_path / "out")) == {}
    with pytest.raises(ArtvcsError, match="invalid digest"):
        materialize(repo.store, iter(entries + [Entry("e/x", "../../etc", 1)]), str(tmp_path / "out"), mode="copy")
