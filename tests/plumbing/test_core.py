"""The core plumbing pieces: content store, stat cache, manifests, names and paths."""
from __future__ import annotations

import os
import stat
import time

import blake3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import chunkstore, manifest, names, paths
from artvcs.plumbing.errors import ArtvcsError, CorruptObjectError, ObjectMissingError
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.repository import init_repository
from artvcs.plumbing.statcache import RACY_NS, StatCache, now_ns


@pytest.fixture
def repo(tmp_path):
    return init_repository(str(tmp_path))


def _odb_count(repo) -> int:
    return sum(1 for _ in repo.git.odb)


# -- content store ---------------------------------------------------------------
def test_store_is_content_addressed_read_only_and_idempotent(repo, tmp_path):
    src = tmp_path / "f.bin"
    src.write_bytes(b"x" * 1000)
    digest, size = repo.store.put_file(str(src))
    assert digest == blake3.blake3(b"x" * 1000).hexdigest() and size == 1000
    stored = repo.store.path_of(digest)
    assert stored.endswith(f"{digest[:2]}/{digest[2:]}")
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o444
    before = os.stat(stored)
    time.sleep(0.01)
    assert repo.store.put_file(str(src))[0] == digest
    assert os.stat(stored).st_ino == before.st_ino, "present content is not written again"
    assert list(repo.store.iter_tmp()) == []


def test_mutable_snapshots_and_immutable_links(repo, tmp_path):
    src = tmp_path / "m.bin"
    src.write_bytes(b"before")
    d, _ = repo.store.put_file(str(src), "mutable")
    src.write_bytes(b"after!")
    assert repo.store.read(d) == b"before"
    imm = tmp_path / "i.bin"
    imm.write_bytes(b"immutable bytes")
    d2, _ = repo.store.put_file(str(imm), "immutable")
    assert os.stat(repo.store.path_of(d2)).st_ino == os.stat(imm).st_ino
    with pytest.raises(ValueError, match="policy"):
        repo.store.put_file(str(src), "sometimes")


def test_large_file_digest_and_verify(repo, tmp_path):
    big = tmp_path / "big.bin"
    data = os.urandom(20 << 20)
    big.write_bytes(data)
    d, size = repo.store.put_file(str(big))
    assert d == blake3.blake3(data).hexdigest() and size == len(data)
    repo.store.verify(d)  # stored whole: a new large file
    assert repo.store.convert_to_chunks(d)
    repo.store.verify(d)
    first, _ = chunkstore.read_list(repo.store, d).chunks[0]  # converted: chunks in packs
    packs = chunkstore.local_packs(repo.store)
    loc = packs.where[first]
    packs.close()
    path = packs.path(loc.pack)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(loc.offset)
        f.write(bytes([data[0] ^ 0xFF]))  # always a change (a fixed byte is already there 1 time in 256)
    with pytest.raises(CorruptObjectError, match=f"content {d}: chunk 1 of .*{first}"):
        repo.store.verify(d)
    os.unlink(packs.path(loc.pack, "idx"))
    with pytest.raises(ObjectMissingError, match=f"content {d}: chunk 1 of .*{first}"):
        repo.store.verify(d)
    with pytest.raises(ValueError, match="digest"):
        repo.store.path_of("not-a-digest")


# -- stat cache ------------------------------------------------------------------
def test_stat_cache_hits_only_unchanged_non_racy_files(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("one")
    old = time.time() - 10
    os.utime(f, (old, old))
    cache = StatCache(str(tmp_path / "c" / "stat.db"))
    # as if hashed well after the file last changed (utime itself moves ctime)
    cache.record(str(f), os.stat(f), "d1", now_ns() + 2 * RACY_NS)
    cache.flush()
    cache.close()
    cache = StatCache(str(tmp_path / "c" / "stat.db"))
    recs = cache.load_prefix(str(tmp_path))
    assert StatCache.lookup(recs, str(f), os.stat(f)) == "d1", "survives a reopen"
    f.write_text("two")  # same size; restore the mtime: ctime still moves
    os.utime(f, (old, old))
    assert StatCache.lookup(recs, str(f), os.stat(f)) is None, "never a stale digest"
    g = tmp_path / "g.txt"
    g.write_text("fresh")
    cache.record(str(g), os.stat(g), "d2", now_ns())
    cache.flush()
    assert StatCache.lookup(cache.load_prefix(str(tmp_path)), str(g), os.stat(g)) is None, "racy: changed within the timestamp window"
    assert RACY_NS >= 10**8


# -- manifests -------------------------------------------------------------------
segment = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\"), min_size=1, max_size=6).filter(
    lambda s: s not in (".", "..") and paths.git_component_rule(s) is None  # those are refused (test_paths_security)
)
path_sets = st.lists(
    st.lists(segment, min_size=1, max_size=3).map("/".join).filter(lambda p: not (len(p) > 1 and p[1] == ":")),  # no drive letters
    min_size=1, max_size=15, unique=True,
)


@settings(max_examples=60, deadline=None)
@given(path_sets)
def test_manifest_round_trip(tmp_path_factory, ps):
    repo = init_repository(str(tmp_path_factory.mktemp("m")))
    # drop paths that are a folder of another path: a path is a file or a folder, not both
    ps = [p for p in ps if not any(q.startswith(p + "/") for q in ps)]
    entries = [Entry(p, f"{i:064x}", i, None if i % 2 else f"s3://b/{i}", {"n": i} if i % 3 == 0 else {}) for i, p in enumerate(ps)]
    tree = manifest.write_manifest(repo.git, entries)
    assert manifest.read_manifest(repo.git, tree) == {e.path: e for e in entries}
    assert manifest.manifest_digest(reversed(entries)) == manifest.manifest_digest(entries)
    for e in entries:
        assert manifest.lookup(repo.git, tree, e.path) == e


def test_entries_read_without_extra_share_one_empty_extra_that_refuses_changes(repo):
    """A million-entry manifest read into memory holds no empty dict per entry; the shared one
    cannot be changed through one entry (that would change them all), and a copy can."""
    entries = [Entry("a.bin", "a" * 64, 1), Entry("b.bin", "b" * 64, 2, "s3://x/b", {"etag": "e"}), Entry("c.bin", "c" * 64, 3)]
    got = list(manifest.iter_entries(repo.git, manifest.write_manifest(repo.git, entries)))
    assert got == entries and got[0].extra == {} and got[1].extra == {"etag": "e"}
    assert got[0].extra is got[2].extra, "one shared empty extra"
    for change in (lambda x: x.__setitem__("k", 1), lambda x: x.update(k=1), lambda x: x.setdefault("k", 1)):
        with pytest.raises(TypeError, match="shared"):
            change(got[0].extra)
    assert got[2].extra == {} and not got[2].extra
    mine = dict(got[0].extra)
    mine["k"] = 1
    assert got[2].extra == {}
    got[1].extra["more"] = 2  # an entry's own extra is its own dict
    assert entries[1].extra == {"etag": "e"}


def test_structural_sharing_and_update(repo):
    entries = [Entry(f"d{d:02d}/f{i:03d}", f"{d * 1000 + i:064x}", i) for d in range(20) for i in range(50)]
    tree = manifest.write_manifest(repo.git, entries)
    before = _odb_count(repo)
    changed = Entry("d07/f010", "f" * 64, 1)
    new = manifest.update_manifest(repo.git, tree, {changed.path: changed, "d03/f001": None, "new/x": Entry("new/x", "e" * 64, 2)})
    written = _odb_count(repo) - before
    # three folders touched: each its listing and tree, plus the root tree
    assert written == 7, f"a change rewrites its folder's listing and the trees above it, not {written} objects"
    expect = {e.path: e for e in entries if e.path != "d03/f001"} | {changed.path: changed, "new/x": Entry("new/x", "e" * 64, 2)}
    assert new == manifest.write_manifest(repo.git, expect.values())
    diff = {p: (a, b) for p, a, b in manifest.diff_manifests(repo.git, tree, new)}
    assert set(diff) == {"d07/f010", "d03/f001", "new/x"}


def test_update_with_no_changes_is_the_base(repo):
    """An unchanged new_draft logs through update_manifest with no changes (a bare KeyError before)."""
    tree = manifest.write_manifest(repo.git, [Entry("a/b", "a" * 64, 1)])
    assert manifest.update_manifest(repo.git, tree, {}) == tree
    assert manifest.update_manifest(repo.git, None, {}) == manifest.write_manifest(repo.git, [])


def test_big_folders_are_sharded(repo):
    entries = [Entry(f"flat/f{i:05d}", f"{i:064x}", i) for i in range(5000)]
    tree = manifest.write_manifest(repo.git, entries)
    flat = repo.git[repo.git[tree]["flat"].id]
    shards = [o.name for o in flat]
    assert len(shards) > 100 and all(n.startswith("%files.") for n in shards)
    assert manifest.lookup(repo.git, tree, "flat/f04321").size == 4321
    assert len(manifest.read_manifest(repo.git, tree)) == 5000


def test_file_and_folder_conflict_is_refused(repo):
    before = _odb_count(repo)
    with pytest.raises(ValueError, match="both a file and a folder"):
        manifest.write_manifest(repo.git, [Entry("a", "1" * 64, 1), Entry("a/b", "2" * 64, 1)])
    assert _odb_count(repo) == before


# -- names and paths -----------------------------------------------------------------
@pytest.mark.parametrize("bad", ["/abs", "../up", "a/../../b", "C:evil", "\\\\srv\\share", "", ".", "a\x00b"])
def test_bad_entry_paths(bad):
    with pytest.raises(ValueError) as e:
        paths.normalize_entry_path(bad)
    assert isinstance(e.value, ArtvcsError) and repr(bad)[1:-1][:6] in str(e.value)


def test_path_normalisation_and_stored_form():
    assert paths.normalize_entry_path("./a//b\\c") == "a/b/c"
    for bad in ["a\\b", "a//b", "./a", "a/", "x/../y"]:
        with pytest.raises(ValueError):
            paths.check_entry_path(bad)


def test_safe_join_refuses_symlinked_escape(tmp_path):
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir(), outside.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(ValueError, match="symbolic link"):
        paths.safe_join(str(root), "link/x.txt")
    assert paths.safe_join(str(root), "ok/x.txt") == str(root / "ok" / "x.txt")


@pytest.mark.parametrize("alias", ["v3", "latest", "a/b", "a:b", ""])
def test_reserved_and_bad_aliases(alias):
    with pytest.raises(ValueError) as e:
        names.check_alias(alias)
    assert repr(alias) in str(e.value) or "latest" in str(e.value)


def test_ref_components_round_trip():
    for s in [".hidden", "a..b", "x.lock", "ü", "a b", "%"]:
        enc = names.encode_component(s)
        assert names.decode_component(enc) == s and all(c.isalnum() or c in "_-%" for c in enc)
