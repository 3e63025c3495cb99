"""Stored bytes are hashed on the way out: a store file rotted in place is an error, never a bad copy.

Each test rots a real store file in place (same size, one byte changed) and
hands its content over through checkout in every mode, ``store.read``,
``store.write_to`` and ``cat-object``: each must fail naming the path and
both digests, leave nothing under the final name, and record nothing in the
stat cache that would make ``verify`` call the file a match.
"""
from __future__ import annotations

import io
import os
import stat

import blake3
import pytest

from artvcs.plumbing.checkout import materialize, verify_folder
from artvcs.plumbing.errors import CorruptObjectError
from artvcs.plumbing.hashing import MMAP_THRESHOLD
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.statcache import StatCache
from test_copybatch import copy_path  # noqa: F401 (a fixture: every test runs batched and per file)

pytestmark = pytest.mark.usefixtures("copy_path")

SMALL = bytes(range(256)) * 40
LARGE = os.urandom(MMAP_THRESHOLD + 12345)  # above the size where copies are hashed from the copy


def rot(repo, digest: str, offset: int = 100) -> str:
    """Flip one byte of the stored file of ``digest`` in place (size kept); its new digest."""
    path = repo.store.path_of(digest)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))
    os.chmod(path, 0o444)
    with open(path, "rb") as f:
        return blake3.blake3(f.read()).hexdigest()


def leftovers(root) -> list[str]:
    return sorted(os.path.relpath(os.path.join(f, n), root) for f, _, ns in os.walk(root) for n in ns)



@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["small", "large"])
@pytest.mark.parametrize("mode", ["copy", "hardlink", "symlink", "auto"])
def test_checkout_of_a_rotten_store_file_fails_and_writes_nothing(repo, tmp_path, data, mode):
    good = Entry("ok.txt", repo.store.put_bytes(b"fine\n"), 5)
    digest = repo.store.put_bytes(data)
    bad = rot(repo, digest)
    root = tmp_path / "out"
    with pytest.raises(CorruptObjectError) as err:
        materialize(repo.store, [good, Entry("sub/bad.bin", digest, len(data))], str(root), mode=mode,
                    statcache=repo.statcache)
    msg = str(err.value)
    assert digest in msg and bad in msg and str(root / "sub" / "bad.bin") in msg
    assert not (root / "sub" / "bad.bin").exists() and not (root / "sub" / "bad.bin").is_symlink()
    assert "sub/bad.bin" not in leftovers(root)
    assert not [n for n in leftovers(root) if ".artvcs-tmp-" in n]
    recs = repo.statcache.load_prefix(str(root))
    assert all(r[1] != digest for r in recs.values()), "nothing is recorded under the manifest's digest"


def test_hardlink_checkout_of_many_odd_names_links_each_verified_file_and_never_a_rotten_one(repo, tmp_path):
    """Enough files for the batches (C, or per file with ARTVCS_NATIVE=0), odd names among them: every
    good file is its store file's inode; one rotted in place among them fails the checkout naming
    it, and no link is under its name."""
    odd = ["plain.bin", "with space.txt", "ünïcødé-名前", "-dash", ".hidden", "quote'\"#%", "x" * 200]  # (entry paths hold no control characters)
    files = {f"d{i % 3}/{i:03d}-{n}": os.urandom(64 + 13 * i) for i, n in enumerate(odd * 45)}
    entries = [Entry(p, repo.store.put_bytes(d), len(d)) for p, d in files.items()]
    root = tmp_path / "out"
    res = materialize(repo.store, entries, str(root), mode="hardlink", statcache=repo.statcache)
    assert (res.mode, res.written) == ("hardlink", len(files))
    for e in entries:
        assert os.stat(root / e.path).st_ino == os.stat(repo.store.path_of(e.digest)).st_ino, e.path
        assert (root / e.path).read_bytes() == files[e.path]
    victim = entries[len(entries) // 2]
    bad = rot(repo, victim.digest)
    root2 = tmp_path / "out2"
    with pytest.raises(CorruptObjectError) as err:
        materialize(repo.store, entries, str(root2), mode="hardlink", statcache=repo.statcache)
    assert str(root2 / victim.path) in str(err.value) and bad in str(err.value)
    assert not os.path.lexists(root2 / victim.path), "no link to the rotten store file"
    assert not [n for n in leftovers(root2) if ".artvcs-tmp-" in n]


def test_replacing_an_existing_file_with_rotten_content_keeps_the_old_file(repo, tmp_path):
    digest = repo.store.put_bytes(SMALL)
    rot(repo, digest)
    root = tmp_path / "out"
    root.mkdir()
    (root / "f.bin").write_bytes(b"old work")
    with pytest.raises(CorruptObjectError):
        materialize(repo.store, [Entry("f.bin", digest, len(SMALL))], str(root), mode="copy", prune=True)
    assert (root / "f.bin").read_bytes() == b"old work"
    assert leftovers(root) == ["f.bin"]


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["small", "large"])
def test_no_verify_copies_but_records_nothing_so_verify_says_modified(repo, tmp_path, data):
    digest = repo.store.put_bytes(data)
    rot(repo, digest)
    root = tmp_path / "out"
    entries = [Entry("f.bin", digest, len(data))]
    sc = StatCache(repo.statcache.db_path)
    result = materialize(repo.store, entries, str(root), mode="copy", statcache=sc, verify=False)
    sc.close()
    assert result.written == 1 and (root / "f.bin").read_bytes() != data
    with open(repo.store.path_of(digest), "rb") as f:
        assert (root / "f.bin").read_bytes() == f.read(), "the store's bytes, trusted as they are"
    assert StatCache(repo.statcache.db_path).load_prefix(str(root)) == {}
    assert verify_folder(entries, str(root), repo.statcache) == [("f.bin", "modified")]


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["small", "large"])
def test_verified_copy_is_recorded_and_verify_matches(repo, tmp_path, data):
    digest = repo.store.put_bytes(data)
    root = tmp_path / "out"
    entries = [Entry("f.bin", digest, len(data))]
    materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert (root / "f.bin").read_bytes() == data
    recs = repo.statcache.load_prefix(str(root))
    assert recs[str(root / "f.bin")][1] == digest, "a verified copy is recorded: the next look is a stat"
    assert verify_folder(entries, str(root), repo.statcache) == []


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["small", "large"])
def test_store_read_and_write_to_refuse_rotten_content(repo, data):
    digest = repo.store.put_bytes(data)
    assert repo.store.read(digest) == data
    out = io.BytesIO()
    assert repo.store.write_to(digest, out, "standard output") == len(data) and out.getvalue() == data
    bad = rot(repo, digest, offset=len(data) - 1)
    with pytest.raises(CorruptObjectError, match=bad):
        repo.store.read(digest, "entry 'x.bin'")
    out = io.BytesIO()
    with pytest.raises(CorruptObjectError, match=digest):
        repo.store.write_to(digest, out, "standard output")
    assert out.getvalue() == b"", "not a byte goes out before the whole was hashed"


def test_cat_object_of_rotten_content_is_an_error_with_no_output(repo_dir, run_cli):
    from artvcs.plumbing.repository import discover

    r = discover()
    digest = r.store.put_bytes(SMALL)
    ok = run_cli("cat-object", digest)
    assert ok.code == 0 and ok.out.encode("utf-8", "surrogateescape") == SMALL
    bad = rot(r, digest)
    res = run_cli("cat-object", digest)
    assert res.code == 1 and res.out == ""
    assert digest in res.err and bad in res.err and len(res.err.strip().splitlines()) == 1
    r.close()


@pytest.mark.parametrize("told", [0, 100, len(SMALL) - 1, len(SMALL) + 1, MMAP_THRESHOLD - 1, None])
def test_a_manifest_size_that_is_wrong_still_gives_the_stored_bytes(repo, tmp_path, told):
    """A small copy reads as many bytes as the manifest says the file has (plus one): a size that
    is wrong, larger or smaller, neither cuts the copy short nor lets other bytes through."""
    digest = repo.store.put_bytes(SMALL)
    root = tmp_path / "out"
    materialize(repo.store, [Entry("f.bin", digest, told)], str(root), mode="copy")
    assert (root / "f.bin").read_bytes() == SMALL


@pytest.mark.parametrize("change", ["truncated", "appended"])
def test_a_store_file_of_another_size_is_refused_and_nothing_is_written(repo, tmp_path, change):
    digest = repo.store.put_bytes(SMALL)
    path = repo.store.path_of(digest)
    os.chmod(path, 0o644)
    with open(path, "r+b") as f:
        if change == "truncated":
            f.truncate(len(SMALL) // 2)
        else:
            f.seek(0, 2)
            f.write(b"more")
    root = tmp_path / "out"
    with pytest.raises(CorruptObjectError, match=digest):
        materialize(repo.store, [Entry("f.bin", digest, len(SMALL))], str(root), mode="copy", statcache=repo.statcache)
    assert leftovers(root) == []


@pytest.mark.parametrize("change", ["rotted", "grown"])
def test_a_store_file_changed_after_planning_is_caught_among_many(repo, tmp_path, monkeypatch, change):
    """Hundreds of small files (several read and write batches, odd names); one store file is
    changed after the plan confirmed it stored and before it is read. The checkout fails naming its
    path and both digests, nothing is under its name, and every file that was written is whole and
    recorded only under its own digest."""
    from artvcs.plumbing import checkout

    names = [f"d{i % 5}/{i:03d} {'ünï' if i % 3 else '名前 -x'}.bin" for i in range(700)]
    datas = {n: os.urandom(1000 + i * 13) for i, n in enumerate(names)}
    entries = [Entry(n, repo.store.put_bytes(d), len(d)) for n, d in datas.items()]
    victim = entries[450]
    real_missing = checkout._missing
    changed = {}

    def missing_then_change(*args):
        out = real_missing(*args)
        if change == "rotted":
            changed["digest"] = rot(repo, victim.digest, offset=7)
        else:
            path = repo.store.path_of(victim.digest)
            os.chmod(path, 0o644)
            with open(path, "ab") as f:
                f.write(b"+")
            changed["digest"] = blake3.blake3(open(path, "rb").read()).hexdigest()
        return out

    monkeypatch.setattr(checkout, "_missing", missing_then_change)
    root = tmp_path / "out"
    with pytest.raises(CorruptObjectError) as err:
        materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    msg = str(err.value)
    assert victim.digest in msg and changed["digest"] in msg and str(root / victim.path) in msg
    assert not os.path.lexists(root / victim.path)
    left = leftovers(root)
    assert not [n for n in left if ".artvcs-tmp-" in n]
    for rel in left:
        assert (root / rel).read_bytes() == datas[rel]
    recs = repo.statcache.load_prefix(str(root))
    by_path = {e.path: e.digest for e in entries}
    assert all(r[1] == by_path[os.path.relpath(p, root)] for p, r in recs.items())


def test_many_small_files_with_odd_names_are_written_and_recorded(repo, tmp_path, monkeypatch):
    """Several batches' worth of small files, written into new folders and beside files already
    there: the same bytes, modes and stat-cache records whichever way they are written."""
    import time

    from artvcs.plumbing import checkrecord

    # the records are written with a clock reading well after the files' stamps, so none is racy
    monkeypatch.setattr(checkrecord, "fs_clock_ns", lambda folder: (time.time_ns() + 10**10, None))
    names = [f"f{i % 4}/{i:03d}{' ünï' if i % 2 else '-x'}{' 名前' if i % 7 == 0 else ''}.bin" for i in range(600)]
    datas = {n: os.urandom(i * 29) for i, n in enumerate(names)}
    entries = [Entry(n, repo.store.put_bytes(d), len(d)) for n, d in datas.items()]
    root = tmp_path / "out"
    (root / "f1").mkdir(parents=True)
    (root / "f1" / "keep.txt").write_bytes(b"mine")
    res = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert res.written == 600
    assert {rel: (root / rel).read_bytes() for rel in leftovers(root)} == {**datas, "f1/keep.txt": b"mine"}
    mask = os.umask(0)
    os.umask(mask)
    assert {stat.S_IMODE(os.lstat(root / n).st_mode) for n in names} == {0o666 & ~mask}
    recs = repo.statcache.load_prefix(str(root))
    assert len(recs) == 600
    for n, e in zip(names, entries):
        r = recs[str(root / n)]
        st = os.lstat(root / n)
        assert r[1] == e.digest and r[0] == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    assert verify_folder(entries, str(root), repo.statcache) == [("f1/keep.txt", "extra")]
