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
from artvcs.plumbing.manifest import NO_EXTRA, Entry
from artvcs.plumbing.statcache import StatCache

DIGEST = "ab" * 32


def shape(groups: dict) -> dict:
    return {f: [(e.path, e.digest, e.size, e.ref, e.extra) for e in g] for f, g in groups.items()}


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
                     st.one_of(st.none(), st.none(), st.just("s3://bucket/key")),
                     st.sampled_from([NO_EXTRA, NO_EXTRA, {"label": 1}]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_entries, max_size=30))
def test_packed_and_loose_agree_on_any_entries(entries):
    """Any order (folders coming apart), duplicates, clashes, references, extras, odd digests and sizes:
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


def test_an_entry_with_extra_keeps_it_streamed_first_or_coming_back():
    """Packed holds no extra: a folder with one stays loose, and a packed folder that comes back
    in the stream is made loose from its packed entries (which had none) without losing any."""
    tagged = Entry("d/b", DIGEST, 2, None, {"label": "cat"})
    _, groups = checkindex.index(iter([Entry("d/a", DIGEST, 1), tagged]))
    assert isinstance(groups["d"], checkindex.Loose) and [e.extra for e in groups["d"]] == [{}, {"label": "cat"}]
    stream = [Entry("p/a", DIGEST, 1), Entry("q/a", DIGEST, 1), Entry("p/b", DIGEST, 2, None, {"w": 0.5}),
              Entry("q/b", DIGEST, 1, None, {"w": 2}), Entry("p/c", DIGEST, 3)]
    _, groups = checkindex.index(iter(stream))
    assert {f: [(e.path, e.extra) for e in g] for f, g in groups.items()} == {
        "p": [("p/a", {}), ("p/b", {"w": 0.5}), ("p/c", {})], "q": [("q/a", {}), ("q/b", {"w": 2})]}


def counting_loose(monkeypatch) -> list[int]:
    """How many entries are handed to each Loose made by checkindex from now on."""
    handed: list[int] = []

    class Counted(checkindex.Loose):
        def __init__(self, folder, items):
            handed.append(len(items))
            super().__init__(folder, items)

    monkeypatch.setattr(checkindex, "Loose", Counted)
    return handed


@pytest.mark.parametrize("streamed", [True, False])
def test_folders_interleaved_in_the_stream_are_extended_not_copied(monkeypatch, streamed):
    """train/0, val/1, train/2, ... (the binding hands entries over in the user's order): each
    time a folder comes back its entries are added to it, not the folder copied again (that
    costs the square of its size: 40,000 entries took 22 s)."""
    n = 2000
    entries = [Entry(f"{'val' if i % 2 else 'train'}/{i}", f"{i:064x}", i, "s3://b/k" if i == 1001 else None)
               for i in range(n)]
    handed = counting_loose(monkeypatch)
    _, groups = checkindex.index(iter(entries) if streamed else entries)
    assert sum(handed) <= 4, f"{sum(handed)} entries handed to Loose for {n} entries"
    assert [e.path for e in groups["train"]] == [f"train/{i}" for i in range(0, n, 2)]
    assert [e.path for e in groups["val"]] == [f"val/{i}" for i in range(1, n, 2)]
    assert (groups["train"].has_refs, groups["val"].has_refs) == (False, True)
    assert groups["val"].stored == n // 2 - 1


class Drawn(list):
    """A folder's entries that count how many have been taken from them."""

    taken = 0

    def __iter__(self):
        for e in super().__iter__():
            self.taken += 1
            yield e


def test_fresh_slices_take_each_entry_once_as_its_slice_fills():
    """A big loose folder is not copied whole and then again for every slice (quadratic: a million
    entries took 3.8 s): entries are taken as slices fill, never more than a slice ahead."""
    items = Drawn(Entry(f"big/f{i}", f"{i:064x}", i) for i in range(5000))
    big = checkindex.Loose("big", items)
    items.taken = 0
    step, given = 64, 0
    for batch in checkindex.Fresh([big]).slices(step):
        given += len(batch)
        assert items.taken <= given + step, f"{items.taken} entries taken for {given} handed out"
    assert given == items.taken == 5000


@pytest.mark.parametrize("step", [1, 3, 7, 64, 1000])
def test_fresh_slices_hand_out_every_stored_entry_in_order(step):
    plain = [Entry(f"a/f{i}", f"{i:064x}", i) for i in range(23)]
    mixed = [Entry(f"b/f{i}", f"{i + 100:064x}", i, "s3://b/k" if i % 3 == 0 else None) for i in range(17)]
    _, groups = checkindex.index(iter(plain + mixed + [Entry("c/x", DIGEST, 1)]))
    assert isinstance(groups["a"], checkindex.Packed) and groups["b"].has_refs
    batches = list(checkindex.Fresh(list(groups.values())).slices(step))
    assert all(len(b) == step for b in batches[:-1]) and 0 < len(batches[-1]) <= step
    got = [(e.path, e.digest, e.size) for b in batches for e in b]
    assert got == [(e.path, e.digest, e.size) for e in plain + mixed + [Entry("c/x", DIGEST, 1)] if e.ref is None]


def recorded_folder(repo, root: str, files: dict[str, bytes]) -> list[Entry]:
    """``files`` checked out under ``root`` and recorded in the stat cache (not racily clean)."""
    entries = put(repo, files)
    materialize(repo.store, entries, root, mode="copy", statcache=repo.statcache)
    time.sleep(1.1)  # then the copies are no longer racy
    assert verify_folder(entries, root, repo.statcache) == []  # hashes and records them
    assert records(repo, root, files) == {e.path: e.digest for e in entries}
    return entries


def test_verify_compares_recorded_digests_one_by_one(repo, tmp_path):
    """A manifest whose digests are "" and X+Y, over files recorded as X and Y: the digests joined
    are the same, but neither file is what its entry says: both are modified."""
    root = str(tmp_path / "out")
    a, b = recorded_folder(repo, root, {"d/a": b"first", "d/b": b"second"})
    lying = [Entry("d/a", "", None), Entry("d/b", a.digest + b.digest, None)]
    for how in (iter, list):
        assert verify_folder(how(lying), root, repo.statcache) == [("d/a", "modified"), ("d/b", "modified")]
    # a checkout refuses such a manifest before it plans (its digests are checked first), and changes nothing
    with pytest.raises(UsageError, match="invalid digest"):
        materialize(repo.store, lying, root, mode="copy", statcache=repo.statcache)
    assert snapshot(root) == {os.path.join("d", "a"): b"first", os.path.join("d", "b"): b"second"}


def test_vouched_needs_each_record_to_hold_its_own_entrys_digest():
    """The stat-cache records of a folder vouch for it only digest by digest, whatever their lengths."""
    x, y = "ab" * 32, "cd" * 32
    packed = checkindex.index(iter([Entry("d/a", x, 1), Entry("d/b", y, 1)]))[1]["d"]
    loose = checkindex.Loose("d", [Entry("d/a", x, 1), Entry("d/b", y, 1)])
    odd = checkindex.Loose("d", [Entry("d/a", "", 1), Entry("d/b", x + y, 1)])
    assert isinstance(packed, checkindex.Packed)
    for group in (packed, loose):
        assert checkindex.vouched(group, [(x,), (y,)])
        assert not checkindex.vouched(group, [(x[:10],), (x[10:] + y,)])
        assert not checkindex.vouched(group, [(x,), None]) and not checkindex.vouched(group, [False, (y,)])
    assert not checkindex.vouched(odd, [(x,), (y,)])
