"""plumbing.checkout: materialising manifests into folders (real files, no mocks) and verifying them."""
from __future__ import annotations

import errno
import os
import stat
import time

import pytest

from artvcs.plumbing import checkout, checkplan, checkrecord, copybatch, placefile
from artvcs.plumbing.checkout import materialize, verify_folder
from artvcs.plumbing.errors import ArtvcsError, ObjectMissingError, PathEscapeError, UsageError
from artvcs.plumbing.hashing import hash_bytes
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.repository import init_repository
from artvcs.plumbing.statcache import StatCache
from test_copybatch import copy_path  # noqa: F401 (a fixture: every test runs batched and per file)

pytestmark = pytest.mark.usefixtures("copy_path")

FILES = {
    "a.txt": b"alpha\n",
    "b/c.bin": bytes(range(256)) * 40,
    "b/d/e.txt": b"deep",
    "empty": b"",
}


@pytest.fixture
def repo(tmp_path):
    r = init_repository(str(tmp_path / "proj"))
    yield r
    r.close()


def stored(repo, files: dict[str, bytes]) -> list[Entry]:
    return [Entry(p, repo.store.put_bytes(data), len(data)) for p, data in files.items()]


def tree(root) -> dict[str, bytes]:
    """Every non-folder under root (links not followed) → its bytes (b'->target' for a link)."""
    out = {}
    for folder, dirs, names in os.walk(root):
        for n in names + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            p = os.path.join(folder, n)
            rel = os.path.relpath(p, root).replace(os.sep, "/")
            out[rel] = b"->" + os.readlink(p).encode() if os.path.islink(p) else open(p, "rb").read()
    return out


def folders(root) -> list[str]:
    return sorted(os.path.relpath(f, root) for f, _, _ in os.walk(root) if f != str(root))


def inodes(root) -> dict[str, int]:
    return {p: os.lstat(os.path.join(root, p)).st_ino for p in tree(root)}


# -- modes ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["copy", "hardlink", "symlink", "auto"])
def test_each_mode_writes_the_right_bytes(repo, tmp_path, mode):
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    res = materialize(repo.store, entries, str(root), mode=mode, statcache=repo.statcache)
    assert res.written == len(FILES) and res.up_to_date == 0 and res.removed == 0
    for e in entries:
        target = root / e.path
        assert target.read_bytes() == FILES[e.path]
        store_file = repo.store.path_of(e.digest)
        same_inode = os.stat(target).st_ino == os.stat(store_file).st_ino
        if mode == "hardlink":
            assert same_inode and not target.is_symlink()
            assert stat.S_IMODE(os.stat(target).st_mode) & 0o222 == 0, "a hard-linked store file stays read-only"
        elif mode == "symlink":
            assert target.is_symlink() and os.readlink(target) == os.path.abspath(store_file)
        else:
            assert not same_inode and not target.is_symlink()
            assert os.stat(target).st_mode & stat.S_IWUSR, "a copy or reflink is the user's to edit"
    assert res.mode == (mode if mode != "auto" else res.mode) and res.mode in ("copy", "hardlink", "symlink", "reflink")
    assert not [n for n in tree(root) if n.rpartition("/")[2].startswith(checkout.TMP_PREFIX)]


def test_explicit_reflink_works_or_says_why_before_writing(repo, tmp_path):
    entries = stored(repo, FILES)
    root = tmp_path / "r"
    root.mkdir()
    (root / "extra.txt").write_text("x")
    try:
        res = materialize(repo.store, entries, str(root), mode="reflink", prune=True)
    except UsageError as e:
        assert "reflink" in str(e) and "copy" in str(e)
        assert tree(root) == {"extra.txt": b"x"} and folders(root) == [], "refused before any change"
    else:
        assert res.mode == "reflink" and tree(root) == FILES


def test_invalid_mode_is_refused(repo, tmp_path):
    with pytest.raises(UsageError, match="'teleport'"):
        materialize(repo.store, [], str(tmp_path / "x"), mode="teleport")


@pytest.mark.parametrize("mode", ["copy", "hardlink", "symlink", "auto"])
def test_second_run_rewrites_nothing(repo, tmp_path, mode):
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    materialize(repo.store, entries, str(root), mode=mode, statcache=repo.statcache)
    before = inodes(root)
    res = materialize(repo.store, entries, str(root), mode=mode, statcache=repo.statcache)
    assert (res.written, res.up_to_date, res.removed) == (0, len(FILES), 0)
    assert inodes(root) == before


def test_up_to_date_copies_become_stat_only(repo, tmp_path):
    """Once a checked-out file has been hashed out of the racy window, the stat cache vouches for it."""
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    time.sleep(1.1)  # past RACY_NS: a hash taken now can be trusted later
    assert materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache).written == 0
    records = repo.statcache.load_prefix(str(root))
    for e in entries:
        target = os.path.join(str(root), e.path)
        assert StatCache.lookup(records, target, os.lstat(target)) == e.digest
    # a changed file is noticed despite the cache (its stat changed) and repaired
    (root / "a.txt").write_bytes(b"alphA\n")
    res = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert res.written == 1 and (root / "a.txt").read_bytes() == FILES["a.txt"]


def test_switching_mode_replaces_the_files(repo, tmp_path):
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    materialize(repo.store, entries, str(root), mode="hardlink")
    res = materialize(repo.store, entries, str(root), mode="copy")
    assert res.written == len(FILES)
    a = entries[0]
    assert os.stat(root / a.path).st_ino != os.stat(repo.store.path_of(a.digest)).st_ino
    res = materialize(repo.store, entries, str(root), mode="symlink")
    assert res.written == len(FILES) and all((root / e.path).is_symlink() for e in entries)
    assert tree(root).keys() == FILES.keys()


def test_download_repairs_own_files_and_keeps_others(repo, tmp_path):
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    root.mkdir()
    (root / "mine.txt").write_text("keep me")
    materialize(repo.store, entries, str(root))
    (root / "a.txt").write_text("tampered")
    res = materialize(repo.store, entries, str(root))
    assert res.written == 1 and res.removed == 0
    assert tree(root) == {**FILES, "mine.txt": b"keep me"}


def test_many_files_on_the_thread_pool(repo, tmp_path):
    files = {f"d{i % 7}/f{i}.txt": f"file {i}".encode() for i in range(400)}
    entries = stored(repo, files)
    root = tmp_path / "many"
    assert materialize(repo.store, entries, str(root), mode="copy").written == 400
    assert tree(root) == files
    assert verify_folder(entries, str(root)) == []
    res = materialize(repo.store, entries, str(root), mode="copy")
    assert res.written == 0 and res.up_to_date == 400


# -- prune and protection --------------------------------------------------------------
def test_prune_removes_extra_files_and_empty_folders(repo, tmp_path):
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    (root / "stale" / "deeper").mkdir(parents=True)
    (root / "stale" / "deeper" / "x.txt").write_text("x")
    (root / "b").mkdir()
    (root / "b" / "old.txt").write_text("old")
    (root / "empty-dir").mkdir()
    (root / "extra.txt").write_text("e")
    res = materialize(repo.store, entries, str(root), prune=True)
    assert res.removed == 3
    assert tree(root) == FILES
    assert folders(root) == ["b", "b/d"]


def test_prune_replaces_files_and_folders_in_the_way(repo, tmp_path):
    entries = stored(repo, {"x/y.txt": b"y", "z": b"z"})
    root = tmp_path / "out"
    root.mkdir()
    (root / "x").write_text("a file where a folder goes")
    (root / "z").mkdir()
    (root / "z" / "inner.txt").write_text("a folder where a file goes")
    with pytest.raises(UsageError, match="'x'"):
        materialize(repo.store, entries, str(root))
    (root / "x").unlink()
    with pytest.raises(UsageError, match=r"z.*folder|folder.*'z'"):
        materialize(repo.store, entries, str(root))
    assert not (root / "x").exists(), "refused before anything was written"
    (root / "x").write_text("a file where a folder goes")
    materialize(repo.store, entries, str(root), prune=True)
    assert tree(root) == {"x/y.txt": b"y", "z": b"z"}


def test_protect_untracked_refuses_and_changes_nothing(repo, tmp_path):
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    materialize(repo.store, entries, str(root), statcache=repo.statcache)
    (root / "notes.txt").write_text("precious, never logged")
    snapshot = tree(root)
    with pytest.raises(UsageError, match="notes.txt"):
        materialize(repo.store, entries[1:], str(root), prune=True, protect_untracked=True, statcache=repo.statcache)
    assert tree(root) == snapshot
    # a modified tracked file would be overwritten: also refused
    (root / "notes.txt").unlink()
    (root / "b" / "d" / "e.txt").write_text("edited, not logged")
    snapshot = tree(root)
    with pytest.raises(UsageError, match="e.txt"):
        materialize(repo.store, entries, str(root), prune=True, protect_untracked=True)
    assert tree(root) == snapshot
    # known paths may go; so may files whose content is in the store (a.txt here)
    res = materialize(repo.store, entries[1:], str(root), prune=True, protect_untracked=True, known_paths={"b/d/e.txt"})
    assert res.removed == 1 and res.written == 1
    assert tree(root) == {p: d for p, d in FILES.items() if p != "a.txt"}


def test_prune_never_touches_the_repository(repo, tmp_path):
    """Checking out into the project folder itself keeps .artifacts, and no entry may write into it."""
    entries = stored(repo, {"a.txt": b"a"})
    proj = repo.worktree
    open(os.path.join(proj, "junk"), "w").write("j")
    res = materialize(repo.store, entries, proj, prune=True)
    assert res.removed == 1 and os.path.isdir(os.path.join(proj, ".artifacts", "content"))
    assert repo.store.read(entries[0].digest) == b"a"
    bad = [Entry(".artifacts/HEAD", entries[0].digest, 1)]
    with pytest.raises(PathEscapeError, match="repository"):
        materialize(repo.store, bad, proj)
    with pytest.raises(UsageError, match="inside the artvcs repository"):
        materialize(repo.store, entries, os.path.join(proj, ".artifacts", "content"))


# -- hostile input ---------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["../evil", "/abs", "a/../../x", "a/./b", "c:/x", "a\\..\\..\\x"])
def test_escaping_entry_paths_write_nothing(repo, tmp_path, bad):
    good = stored(repo, {"ok.txt": b"ok"})[0]
    root = tmp_path / "box" / "out"
    root.mkdir(parents=True)
    entries = [good, Entry(bad, good.digest, 2)]
    with pytest.raises(PathEscapeError):
        materialize(repo.store, entries, str(root), prune=True)
    assert tree(tmp_path / "box") == {}
    assert not os.path.exists("/abs") and not (tmp_path / "evil").exists() and not (tmp_path / "x").exists()


def test_a_digest_cannot_name_a_path(repo, tmp_path):
    with pytest.raises(UsageError, match="digest"):
        materialize(repo.store, [Entry("a", "../../../../etc/passwd", 1)], str(tmp_path / "out"))


def test_a_digest_holding_a_newline_is_refused_as_invalid_before_anything_is_written(repo, tmp_path):
    """Digests are checked in bulk, a slice joined by newlines at a time: a "digest" that is two
    valid ones around a newline must not pass as two lines."""
    good = stored(repo, {"ok.txt": b"ok"})[0]
    two = good.digest + "\n" + good.digest
    with pytest.raises(UsageError, match="invalid digest"):
        materialize(repo.store, [good, Entry("b.txt", two, 2)], str(tmp_path / "out"))
    assert not (tmp_path / "out" / "ok.txt").exists()


def test_symlinked_folder_inside_root_never_leads_outside(repo, tmp_path):
    entries = stored(repo, {"link/pwn.txt": b"pwned", "ok.txt": b"ok"})
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "out"
    root.mkdir()
    os.symlink(outside, root / "link")
    with pytest.raises(PathEscapeError, match="link"):
        materialize(repo.store, entries, str(root))
    assert tree(outside) == {} and not (root / "ok.txt").exists(), "refused before any write"
    assert verify_folder(entries, str(root)) == [("link/pwn.txt", "outside root"), ("ok.txt", "missing")]
    # checkout (prune) replaces the link itself with a real folder; the outside stays untouched
    res = materialize(repo.store, entries, str(root), prune=True)
    assert tree(outside) == {} and outside.is_dir()
    assert not (root / "link").is_symlink() and tree(root) == {"link/pwn.txt": b"pwned", "ok.txt": b"ok"}
    assert res.written == 2


def test_a_link_in_a_files_place_is_replaced_not_written_through(repo, tmp_path):
    entries = stored(repo, {"f.txt": b"new"})
    victim = tmp_path / "victim.txt"
    victim.write_text("do not touch")
    root = tmp_path / "out"
    root.mkdir()
    os.symlink(victim, root / "f.txt")
    materialize(repo.store, entries, str(root), mode="copy")
    assert victim.read_text() == "do not touch"
    assert not (root / "f.txt").is_symlink() and (root / "f.txt").read_bytes() == b"new"


def test_link_to_a_folder_inside_root_is_allowed_for_download(repo, tmp_path):
    entries = stored(repo, {"alias/x.txt": b"x"})
    root = tmp_path / "out"
    (root / "real").mkdir(parents=True)
    os.symlink(root / "real", root / "alias")
    materialize(repo.store, entries, str(root))
    assert (root / "real" / "x.txt").read_bytes() == b"x"


def test_duplicate_and_clashing_entries_are_refused(repo, tmp_path):
    [e] = stored(repo, {"a": b"a"})
    with pytest.raises(UsageError, match="twice"):
        materialize(repo.store, [e, e], str(tmp_path / "o"))
    with pytest.raises(UsageError, match="both a file and a folder"):
        materialize(repo.store, [e, Entry("a/b", e.digest, 1)], str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_missing_content_is_named_before_anything_is_written(repo, tmp_path):
    entries = stored(repo, FILES)
    ghost = hash_bytes(b"never stored")
    root = tmp_path / "out"
    with pytest.raises(ObjectMissingError) as err:
        materialize(repo.store, entries + [Entry("zz/ghost.bin", ghost, 12)], str(root))
    assert ghost in str(err.value) and "zz/ghost.bin" in str(err.value)
    assert isinstance(err.value, FileNotFoundError)
    assert tree(root) == {}


# -- references ------------------------------------------------------------------------
def test_references_are_fetched_through_the_callback(repo, tmp_path):
    src = tmp_path / "remote.bin"
    src.write_bytes(b"far away")
    ref = Entry("refs/remote.bin", "etag-123", 8, "x-test://remote.bin", {})
    gone = Entry("refs/gone.bin", "etag-456", 3, "x-test://gone.bin", {})
    seen = []

    def fetch(entry: Entry, dest: str) -> None:
        seen.append(dest)
        assert os.path.basename(os.path.dirname(dest)) == "refs" and not os.path.exists(dest)
        assert os.path.basename(dest).startswith(checkout.TMP_PREFIX), "fetched to a temporary name, then renamed"
        if entry.ref.endswith("gone.bin"):
            raise FileNotFoundError(entry.ref)
        with open(dest, "wb") as f:
            f.write(src.read_bytes())

    entries = stored(repo, {"a.txt": b"a"}) + [ref]
    res = materialize(repo.store, entries, str(tmp_path / "out"), fetch_reference=fetch)
    assert res.references == 1 and res.written == 1
    assert (tmp_path / "out" / "refs" / "remote.bin").read_bytes() == b"far away"
    with pytest.raises(ArtvcsError, match="x-test://gone.bin"):
        materialize(repo.store, entries + [gone], str(tmp_path / "out2"), fetch_reference=fetch)
    res = materialize(repo.store, entries + [gone], str(tmp_path / "out3"), fetch_reference=fetch,
                      allow_missing_references=True)
    assert res.skipped_references == ["refs/gone.bin"] and res.skipped == 1 and res.references == 1
    assert not (tmp_path / "out3" / "refs" / "gone.bin").exists()
    assert not [n for n in tree(tmp_path / "out3") if checkout.TMP_PREFIX in n]
    with pytest.raises(UsageError, match="reference"):
        materialize(repo.store, entries, str(tmp_path / "out4"))


def test_a_reference_with_a_content_digest_is_not_fetched_again(repo, tmp_path):
    data = b"checksummed reference"
    ref = Entry("r.bin", hash_bytes(data), len(data), "x-test://r", {})
    calls = []

    def fetch(entry, dest):
        calls.append(entry.path)
        open(dest, "wb").write(data)

    materialize(repo.store, [ref], str(tmp_path / "o"), fetch_reference=fetch)
    res = materialize(repo.store, [ref], str(tmp_path / "o"), fetch_reference=fetch)
    assert calls == ["r.bin"] and res.up_to_date == 1 and res.references == 0


# -- verify ------------------------------------------------------------------------------
def test_verify_folder_reports_modified_missing_and_extra(repo, tmp_path):
    entries = stored(repo, FILES)
    ref = Entry("ref.bin", "some-etag", 5, "https://example.invalid/ref.bin", {})
    root = tmp_path / "out"
    materialize(repo.store, entries, str(root), statcache=repo.statcache)
    (root / "ref.bin").write_bytes(b"whatever, references are not verified")
    assert verify_folder(entries + [ref], str(root), repo.statcache) == []
    (root / "a.txt").write_bytes(b"alphA\n")  # same size: only the hash tells
    (root / "b" / "d" / "e.txt").unlink()
    (root / "b" / "new.txt").write_text("n")
    (root / "ref.bin").unlink()
    assert verify_folder(entries + [ref], str(root), repo.statcache) == [
        ("a.txt", "modified"), ("b/d/e.txt", "missing"), ("b/new.txt", "extra"), ("ref.bin", "missing"),
    ]


def test_verify_trusts_the_stat_cache_only_for_the_entry_digest(repo, tmp_path):
    entries = stored(repo, {"f.txt": b"one"})
    root = tmp_path / "out"
    materialize(repo.store, entries, str(root), mode="copy")
    time.sleep(1.1)
    assert verify_folder(entries, str(root), repo.statcache) == []  # hashes once, records
    other = Entry("f.txt", hash_bytes(b"two"), 3)
    assert verify_folder([other], str(root), repo.statcache) == [("f.txt", "modified")]
    assert verify_folder(entries, str(root), repo.statcache) == []


def test_verify_of_each_mode(repo, tmp_path):
    entries = stored(repo, FILES)
    for mode in ("copy", "hardlink", "symlink"):
        root = tmp_path / mode
        materialize(repo.store, entries, str(root), mode=mode)
        assert verify_folder(entries, str(root)) == [], mode


def test_a_link_inside_root_cannot_lead_into_the_repository(repo, tmp_path):
    entries = stored(repo, {"lnk/HEAD": b"ref: refs/heads/evil\n"})
    proj = repo.worktree
    os.symlink(os.path.join(proj, ".artifacts"), os.path.join(proj, "lnk"))
    head = open(os.path.join(proj, ".artifacts", "HEAD"), "rb").read()
    with pytest.raises(PathEscapeError, match="repository"):
        materialize(repo.store, entries, proj)
    assert open(os.path.join(proj, ".artifacts", "HEAD"), "rb").read() == head
    materialize(repo.store, entries, proj, prune=True)  # checkout replaces the link itself
    assert not os.path.islink(os.path.join(proj, "lnk")) and open(os.path.join(proj, ".artifacts", "HEAD"), "rb").read() == head


def test_hardlink_across_file_systems_is_refused_before_any_change(repo, tmp_path):
    import tempfile

    other = "/dev/shm"
    if not os.path.isdir(other) or os.stat(other).st_dev == os.stat(repo.store.root).st_dev:
        pytest.skip("no second file system to check out onto")
    entries = stored(repo, FILES)
    with tempfile.TemporaryDirectory(dir=other) as d:
        root = os.path.join(d, "out")
        os.mkdir(root)
        open(os.path.join(root, "extra.txt"), "w").write("x")
        with pytest.raises(UsageError, match="different file systems"):
            materialize(repo.store, entries, root, mode="hardlink", prune=True)
        assert tree(root) == {"extra.txt": b"x"}
        res = materialize(repo.store, entries, root, mode="auto", prune=True)
        assert res.mode == "copy" and tree(root) == FILES


# -- writing in place, and recording what was written ------------------------------------
@pytest.mark.parametrize("how", ["small", "unsized", "unverified"])
def test_an_error_mid_copy_leaves_no_partial_file(repo, tmp_path, monkeypatch, how):
    """The write fails half-way (a full disk): whichever way the file was being copied (a small file
    of known size is read whole and written; one of unknown size streamed; --no-verify in the
    kernel), nothing is left under its name."""
    entries = stored(repo, {"big.bin": b"z" * 5000})
    if how == "unsized":
        entries = [Entry(e.path, e.digest, None) for e in entries]
    root = tmp_path / "out"
    verify = how != "unverified"

    def half_then_fail(fd, *_):
        os.write(fd, b"z" * 2500)
        raise OSError(28, "No space left on device")

    if how == "small":
        if copybatch.native():
            pytest.skip("the batches write in C: test_a_write_that_fails_half_way_leaves_nothing_under_its_name")
        monkeypatch.setattr(placefile, "write_all", half_then_fail)
    else:
        monkeypatch.setattr(placefile, "copy_verified" if verify else "copy_fd", lambda s, d, *_: half_then_fail(d))
    with pytest.raises(OSError):
        materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache, verify=verify)
    assert tree(root) == {}


def test_a_write_that_fails_half_way_leaves_nothing_under_its_name(repo, tmp_path):
    """A real write failure half-way through a file (the file-size limit stands in for a full disk):
    the error comes out of the checkout, and nothing is left under the file's name."""
    import subprocess
    import sys
    import textwrap

    entries = stored(repo, {"d/ok.bin": b"o" * 2000, "d/big.bin": b"z" * 5000})
    root = tmp_path / "out"
    code = textwrap.dedent(f"""
        import os, resource, signal
        from artvcs.plumbing import checkout
        from artvcs.plumbing.manifest import Entry
        from artvcs.plumbing.repository import Repository

        repo = Repository({os.path.join(repo.worktree, ".artifacts")!r})
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2500, 2500))
        try:
            checkout.materialize(repo.store, [Entry(*e) for e in {[(e.path, e.digest, e.size) for e in entries]!r}], {str(root)!r},
                                 mode="copy")
        except OSError as e:
            print(e.errno)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(errno.EFBIG)
    assert tree(root) == {"d/ok.bin": b"o" * 2000}


def test_a_crash_mid_copy_leaves_a_partial_file_that_is_seen_as_modified(repo, tmp_path):
    """A new file is written under its final name; a process killed mid-copy leaves part of it
    there, never recorded in the stat cache, so verify, checkout and protection all see it."""
    import signal
    import subprocess
    import sys
    import textwrap

    data = bytes(range(256)) * 40
    entries = stored(repo, {"a/part.bin": data})
    root = tmp_path / "out"
    code = textwrap.dedent(f"""
        import os
        from artvcs.plumbing import checkout
        from artvcs.plumbing.manifest import Entry
        from artvcs.plumbing.repository import Repository

        import resource, signal

        repo = Repository({os.path.join(repo.worktree, ".artifacts")!r})
        # killed by the kernel (SIGXFSZ, which Python ignores unless told) at the write past
        # 1000 bytes: no clean-up runs
        signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))
        checkout.materialize(repo.store, [Entry("a/part.bin", {entries[0].digest!r}, {len(data)})], {str(root)!r},
                             mode="copy", statcache=repo.statcache)
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == -signal.SIGXFSZ, run.stderr
    part = root / "a" / "part.bin"
    assert part.read_bytes() == data[:1000], "the partial file is under its final name"
    assert repo.statcache.load_prefix(str(root)) == {}
    assert verify_folder(entries, str(root), repo.statcache) == [("a/part.bin", "modified")]
    part.write_bytes(data[:1000] + bytes(len(data) - 1000))  # the size no longer tells
    assert verify_folder(entries, str(root), repo.statcache) == [("a/part.bin", "modified")]
    with pytest.raises(UsageError, match="part.bin"):
        materialize(repo.store, entries, str(root), prune=True, protect_untracked=True, statcache=repo.statcache)
    res = materialize(repo.store, entries, str(root), mode="copy", prune=True, statcache=repo.statcache)
    assert res.written == 1 and part.read_bytes() == data


def test_each_batch_is_recorded_while_the_next_is_written_and_a_failure_keeps_what_was_recorded(repo, tmp_path, monkeypatch):
    """Checkout writes a batch of files at a time and records each batch in the stat cache while the
    next is written (on a thread of its own): every batch that was written whole is recorded, in
    order, also when a later batch fails on a rotten store file."""
    from test_verified_reads import rot

    files = {f"d{i % 3}/f{i:02d}.bin": bytes([i]) * (100 + i) for i in range(10)}
    entries = stored(repo, files)
    monkeypatch.setattr(checkout, "WRITE_BATCH", 3)
    # the records are written with a clock reading well after the files' stamps, so none is racy
    monkeypatch.setattr(checkrecord, "fs_clock_ns", lambda folder: (time.time_ns() + 10**10, None))
    root = tmp_path / "out"
    res = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert res.written == 10 and tree(root) == files
    records = repo.statcache.load_prefix(str(root))
    assert {os.path.relpath(p, root): r[1] for p, r in records.items()} == {e.path: e.digest for e in entries}

    flat = [Entry(f"flat/{i:02d}.bin", e.digest, e.size) for i, e in enumerate(entries)]  # one folder: written in order
    bad = stored(repo, {"flat/07-rotten.bin": b"r" * 300})[0]
    rot(repo, bad.digest)
    root2 = tmp_path / "out2"
    with pytest.raises(ArtvcsError, match="corrupt"):
        materialize(repo.store, flat[:7] + [bad] + flat[7:], str(root2), mode="copy", statcache=repo.statcache)
    recorded = {os.path.relpath(p, root2) for p in repo.statcache.load_prefix(str(root2))}
    assert recorded == {e.path for e in flat[:6]}, "the two whole batches before the failing one are recorded"
    assert not (root2 / "flat" / "07-rotten.bin").exists()


@pytest.mark.parametrize("replace", [False, True])
def test_written_copies_are_recorded_and_never_serve_a_stale_digest(repo, tmp_path, monkeypatch, replace):
    """Checkout records the copies it writes (new files and replaced ones), so the next run is a
    stat per file; an edit right after, within the same second and keeping the size, still misses."""
    entries = stored(repo, FILES)
    root = tmp_path / "out"
    if replace:  # every file there already, with other content: each is replaced through a rename
        materialize(repo.store, stored(repo, {p: d + b"!" for p, d in FILES.items()}), str(root), mode="copy")
    res = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert res.written == len(FILES)
    records = repo.statcache.load_prefix(str(root))
    for e in entries:
        target = os.path.join(str(root), e.path)
        assert StatCache.lookup(records, target, os.lstat(target)) in (e.digest, None)  # racy: not trusted
    trusted = [e for e in entries if StatCache.lookup(records, os.path.join(str(root), e.path), os.lstat(os.path.join(str(root), e.path)))]
    if not trusted:  # with coarse stamps and no multigrain ctime, files and clock can share one tick
        pytest.skip("every file was stamped in the clock's own tick: nothing was recorded, so nothing can be stale")

    hashed: list[str] = []
    real_hash = checkplan.hash_file
    monkeypatch.setattr(checkplan, "hash_file", lambda p: (hashed.append(p), real_hash(p))[1])
    again = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert (again.written, again.up_to_date) == (0, len(FILES))
    assert not {os.path.join(str(root), e.path) for e in trusted} & set(hashed), "a trusted record was hashed again"
    # edit at once, same size, and even put the mtime back: the ctime still moves
    for e in trusted:
        target = os.path.join(str(root), e.path)
        before = os.lstat(target)
        with open(target, "r+b") as f:
            f.write(b"#")
        os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    expected = sorted((e.path, "modified") for e in trusted)  # no file of FILES starts with "#"
    assert verify_folder(entries, str(root), repo.statcache) == expected
    res = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert res.written == len(expected) and tree(root) == FILES


def test_links_are_not_recorded(repo, tmp_path):
    entries = stored(repo, FILES)
    for mode in ("hardlink", "symlink"):
        root = tmp_path / mode
        materialize(repo.store, entries, str(root), mode=mode, statcache=repo.statcache)
        assert repo.statcache.load_prefix(str(root)) == {}, mode


def test_the_store_is_asked_once_per_fan_out_folder_or_per_file(repo, tmp_path, monkeypatch):
    """Many wanted files in a small fan-out folder: one listing; the answer is the same either way."""
    files = {f"f{i}.txt": f"file {i}".encode() for i in range(300)}
    entries = stored(repo, files)
    gone = entries[7]
    os.chmod(repo.store.path_of(gone.digest), 0o644)
    os.unlink(repo.store.path_of(gone.digest))
    for per_stat in (checkplan.LIST_PER_STAT, 0):  # 0: never list, stat each file
        monkeypatch.setattr(checkplan, "LIST_PER_STAT", per_stat)
        with pytest.raises(ObjectMissingError, match=gone.digest):
            materialize(repo.store, entries, str(tmp_path / "out"), mode="copy")
        assert not (tmp_path / "out").exists() or tree(tmp_path / "out") == {}


def test_a_replaced_file_hashed_while_planning_keeps_the_record_of_its_copy(repo, tmp_path, monkeypatch):
    """Planning hashes a changed target (and queues its record), then the checkout replaces it and
    records the copy: the copy's record is the newer one and is what the cache keeps, so the next
    checkout is a stat, not a hash, of that file."""
    files = {p: d for p, d in FILES.items() if d}  # each one changed, its size kept (so it is hashed)
    entries = stored(repo, files)
    root = tmp_path / "out"
    materialize(repo.store, stored(repo, {p: b"~" * len(d) for p, d in files.items()}), str(root), mode="copy")
    time.sleep(1.1)  # the planning's record (local clock, a second's margin) is kept, not left out as racy
    hashed: list[str] = []
    real_hash, real_clock = checkplan.hash_file, checkrecord.fs_clock_ns
    monkeypatch.setattr(checkplan, "hash_file", lambda p: (hashed.append(p), real_hash(p))[1])
    # the clock read a few ticks after the copies: none of them is racy, each copy is recorded
    monkeypatch.setattr(checkrecord, "fs_clock_ns", lambda d: (time.sleep(0.05), real_clock(d))[1])
    res = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    targets = {os.path.join(str(root), e.path): e.digest for e in entries}
    assert res.written == len(files) and set(hashed) == set(targets), "every changed target was hashed while planning"
    records = repo.statcache.load_prefix(str(root))
    assert {t: StatCache.lookup(records, t, os.lstat(t)) for t in targets} == targets, \
        "a copy's record was replaced by the older record of the file it replaced"
    hashed.clear()
    again = materialize(repo.store, entries, str(root), mode="copy", statcache=repo.statcache)
    assert (again.written, again.up_to_date, hashed) == (0, len(files), []) and tree(root) == files


def test_a_failing_stat_cache_does_not_hide_the_error_that_stopped_the_checkout(repo, tmp_path, monkeypatch):
    """A checkout stopped by a rotten store file, whose stat cache cannot be written either (its
    folder is a file): the error that comes out is the rotten file's, not the cache's."""
    from test_verified_reads import rot

    files = {f"flat/{i:02d}.bin": bytes([i]) * (100 + i) for i in range(10)}
    entries = stored(repo, files)
    bad = stored(repo, {"flat/07-rotten.bin": b"r" * 300})[0]
    rot(repo, bad.digest)
    monkeypatch.setattr(checkout, "WRITE_BATCH", 3)  # batches recorded (and failing to be) before the rotten one
    monkeypatch.setattr(checkrecord, "fs_clock_ns", lambda folder: (time.time_ns() + 10**10, None))  # none racy
    (tmp_path / "not-a-folder").write_bytes(b"")
    cache = StatCache(str(tmp_path / "not-a-folder" / "stat.db"))
    with pytest.raises(OSError):
        cache.flush() or cache._conn()  # the cache itself fails, as it will in the checkout
    with pytest.raises(ArtvcsError, match="corrupt"):
        materialize(repo.store, entries[:7] + [bad] + entries[7:], str(tmp_path / "out"), mode="copy", statcache=cache)
    assert not (tmp_path / "out" / "flat" / "07-rotten.bin").exists()


def test_a_hardlink_checkout_records_the_copies_made_for_emlink(repo, tmp_path):
    """Where the store file has all the links its file system allows (EMLINK), a hardlink checkout
    makes a verified copy; the copy's stat goes into the stat cache like any copy's (a link's does
    not), batched (copybatch.Linker) as placing one file at a time."""
    from test_copybatch import exhaust_links

    data = b"one store file, many entries"
    entries = [Entry(f"f{i:02d}", repo.store.put_bytes(data), len(data)) for i in range(12)]
    store_file = repo.store.path_of(entries[0].digest)
    exhaust_links(store_file, tmp_path / "side", 4)  # the first few entries are links, the rest copies
    root = tmp_path / "out"
    res = materialize(repo.store, entries, str(root), mode="hardlink", statcache=repo.statcache)
    assert res.written == len(entries) and res.mode == "hardlink"
    records = repo.statcache.load_prefix(str(root))
    ino = os.lstat(store_file).st_ino
    copies = 0
    for e in entries:
        target = os.path.join(str(root), e.path)
        st = os.lstat(target)
        assert open(target, "rb").read() == data
        got = records.get(target)
        if st.st_ino == ino:
            assert got is None, "a link is not recorded"
        else:
            copies += 1
            assert got is not None, f"the copy {e.path} made for EMLINK is not in the stat cache"
            assert got[0] == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns) and got[1] == e.digest
    assert copies == len(entries) - 4
