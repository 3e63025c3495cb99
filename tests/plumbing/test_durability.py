"""The flush before a version ref: file by file for what the log named, whole when another
writer's marker says its files may not be durable (plumbing/durability.py, DURABILITY in
artvcs-format(5))."""
from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

import artvcs
from artvcs.plumbing import durability
from artvcs.plumbing.store import ContentStore


def _markers(gitdir: str) -> list[str]:
    try:
        return sorted(os.listdir(os.path.join(gitdir, durability.MARKERS)))
    except FileNotFoundError:
        return []


def _log(folder: str, name: str = "ds") -> "artvcs.Artifact":
    with artvcs.init(job_type="t") as run:
        a = artvcs.Artifact(name, "dataset")
        a.add_dir(folder)
        run.log_artifact(a)
    return a


def _data(root, n: int = 30, seed: int = 0):
    folder = root / "data"
    for i in range(n):
        (folder / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (folder / f"d{i % 3}" / f"f{i}.bin").write_bytes(os.urandom(100 + i) + bytes([seed]))
    return str(folder)


@pytest.fixture
def flush_by_file(monkeypatch):
    """The file-by-file flush whatever the machine's dirty data (else a quiet machine takes syncfs)."""
    monkeypatch.setattr(durability, "DIRTY_CHEAP", -1)
    monkeypatch.delenv(durability.ENV, raising=False)


def test_a_log_marks_while_it_writes_and_unmarks_once_durable(repo_dir, flush_by_file):
    gitdir = str(repo_dir / ".artifacts")
    folder = _data(repo_dir)
    a = artvcs.Artifact("ds", "dataset")
    a.add_dir(folder)
    assert _markers(gitdir) == [str(os.getpid())]  # staged content, not yet durable: marked
    with artvcs.init(job_type="t") as run:
        run.log_artifact(a)
    assert _markers(gitdir) == []
    assert a.version == "v0" and len(a.manifest.entries) == 30


def test_reused_content_is_named_for_the_flush_too(repo, flush_by_file):
    # another process wrote these bytes and may have died before its flush: the writer that finds
    # them names them, so its own flush makes them durable
    store = ContentStore(repo.store.root)
    digest = store.put_bytes(b"shared bytes")
    durability.make_durable(repo.gitdir)
    assert _markers(repo.gitdir) == []
    assert store.put_bytes(b"shared bytes") == digest
    assert _markers(repo.gitdir) == [str(os.getpid())]
    durability.make_durable(repo.gitdir)
    assert _markers(repo.gitdir) == []


def test_a_dead_writers_marker_makes_the_flush_whole_then_goes(repo_dir, flush_by_file):
    gitdir = str(repo_dir / ".artifacts")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    os.makedirs(os.path.join(gitdir, durability.MARKERS), exist_ok=True)
    open(os.path.join(gitdir, durability.MARKERS, str(dead.pid)), "w").close()
    _log(_data(repo_dir))
    assert _markers(gitdir) == []  # the syncfs covered what it may have left: its marker is removed


def test_a_live_writers_marker_stays(repo_dir, flush_by_file):
    gitdir = str(repo_dir / ".artifacts")
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        os.makedirs(os.path.join(gitdir, durability.MARKERS), exist_ok=True)
        open(os.path.join(gitdir, durability.MARKERS, str(live.pid)), "w").close()
        a = _log(_data(repo_dir))
        assert a.version == "v0"
        assert _markers(gitdir) == [str(live.pid)]  # its files may still be dirty: only it removes it
    finally:
        live.kill()
        live.wait()


def test_without_fsync_the_marker_stays_and_the_next_flush_goes_whole(repo_dir, monkeypatch):
    monkeypatch.setenv(durability.ENV, "0")
    gitdir = str(repo_dir / ".artifacts")
    _log(_data(repo_dir))
    assert _markers(gitdir) == [str(os.getpid())]
    monkeypatch.delenv(durability.ENV)
    monkeypatch.setattr(durability, "DIRTY_CHEAP", -1)
    # the files of that log were never flushed: this process's next flush is one syncfs
    assert durability._key(gitdir) in durability._unnamed
    _log(_data(repo_dir, seed=1))
    assert _markers(gitdir) == []
    assert durability._key(gitdir) not in durability._unnamed


def test_a_marker_left_under_this_pid_makes_the_flush_whole(repo, flush_by_file):
    # a dead process that had this pid left its marker: its files were never flushed, so this
    # process's flush must not be file by file (and its marker goes only after that whole flush)
    os.makedirs(os.path.join(repo.gitdir, durability.MARKERS), exist_ok=True)
    open(os.path.join(repo.gitdir, durability.MARKERS, str(os.getpid())), "w").close()
    ContentStore(repo.store.root).put_bytes(b"bytes of this process")
    assert durability._key(repo.gitdir) in durability._unnamed
    durability.make_durable(repo.gitdir)
    assert _markers(repo.gitdir) == []
    assert durability._key(repo.gitdir) not in durability._unnamed


def test_a_flush_that_fails_makes_the_next_one_whole(repo, flush_by_file, tmp_path):
    store = ContentStore(repo.store.root)
    store.put_bytes(b"first")
    (tmp_path / "file").write_bytes(b"")
    durability.wrote(repo.gitdir, str(tmp_path / "file" / "x"))  # cannot be opened: the flush fails
    with pytest.raises(OSError):
        durability.make_durable(repo.gitdir)
    assert _markers(repo.gitdir) == [str(os.getpid())]  # not known durable: the marker stays
    assert durability._key(repo.gitdir) in durability._unnamed
    durability.make_durable(repo.gitdir)  # whole, by syncfs
    assert _markers(repo.gitdir) == []


def test_a_relog_that_makes_no_new_version_leaves_no_marker(repo_dir, flush_by_file):
    # a touched file is hashed and its content named again; the version is the one before, and
    # what was named is flushed before latest moves (a marker left would make others' flushes whole)
    gitdir = str(repo_dir / ".artifacts")
    folder = _data(repo_dir)
    assert _log(folder).version == "v0"
    touched = os.path.join(folder, "d0", "f0.bin")
    os.utime(touched, (os.stat(touched).st_atime, os.stat(touched).st_mtime + 5))
    assert _log(folder).version == "v0"
    assert _markers(gitdir) == []


def _held_fdatasync(monkeypatch):
    """os.fdatasync as it is, but each call waits for the returned event: a flush held mid-way."""
    real, go, started = os.fdatasync, threading.Event(), threading.Event()

    def held(fd):
        started.set()
        assert go.wait(10)
        return real(fd)

    monkeypatch.setattr(os, "fdatasync", held)
    return go, started


def test_a_flush_that_took_another_threads_files_is_waited_for(repo, flush_by_file, monkeypatch):
    # thread A's make_durable takes the files thread B named; B's own make_durable finds nothing to
    # flush, and must still not return (and let B's ref move) before A has made them durable
    store = ContentStore(repo.store.root)
    go, started = _held_fdatasync(monkeypatch)
    store.put_bytes(b"named by B")
    a = threading.Thread(target=durability.make_durable, args=(repo.gitdir,))
    a.start()
    assert started.wait(10)  # A holds B's file, mid-flush
    b_done = threading.Event()
    b = threading.Thread(target=lambda: (durability.make_durable(repo.gitdir), b_done.set()))
    b.start()
    assert not b_done.wait(0.5)  # B waits for A's flush
    go.set()
    a.join(10)
    b.join(10)
    assert b_done.is_set() and _markers(repo.gitdir) == []


def test_when_the_flush_that_took_its_files_fails_a_thread_flushes_everything(repo, flush_by_file, monkeypatch, tmp_path):
    store = ContentStore(repo.store.root)
    go, started = _held_fdatasync(monkeypatch)
    store.put_bytes(b"named by B")
    (tmp_path / "file").write_bytes(b"")
    durability.wrote(repo.gitdir, str(tmp_path / "file" / "x"))  # A's flush of it fails
    errors, synced = [], []
    real_sync = durability.sync_filesystem
    monkeypatch.setattr(durability, "sync_filesystem", lambda path: (synced.append(path), real_sync(path)))

    def a_flush():
        try:
            durability.make_durable(repo.gitdir)
        except OSError as e:
            errors.append(e)

    a = threading.Thread(target=a_flush)
    a.start()
    assert started.wait(10)
    b = threading.Thread(target=durability.make_durable, args=(repo.gitdir,))
    b.start()
    go.set()
    a.join(10)
    b.join(10)
    assert len(errors) == 1  # A's own error is A's
    assert synced  # B did not trust A's failed flush: it flushed the whole file system


def test_a_relog_by_a_second_process_reads_back_every_file(repo_dir, run_cli):
    # a real re-log in a child process: the manifest pack or loose objects, the commit and the
    # content named by the first log, the new files by the second; both versions read back whole
    folder = _data(repo_dir, n=200)
    env = {"ARTVCS_ENTITY": "me", "ARTVCS_PROJECT": "proj"}
    subprocess.run(["git", "init", "-q"], cwd=repo_dir, check=True)
    assert run_cli("track", "--name", "ds", "data", env=env).code == 0
    with open(os.path.join(folder, "d0", "f0.bin"), "r+b") as f:
        f.write(b"edited")
    (repo_dir / "data" / "d1" / "new.bin").write_bytes(b"new file")
    r = run_cli("track", "--name", "ds", "data", env=env)
    assert r.code == 0, r.err
    assert _markers(str(repo_dir / ".artifacts")) == []
    assert run_cli("fsck", env=env).code == 0
    out = repo_dir / "out"
    assert run_cli("checkout", "ds:v1", str(out), env=env).code == 0
    assert (out / "d0" / "f0.bin").read_bytes() == open(os.path.join(folder, "d0", "f0.bin"), "rb").read()
    assert (out / "d1" / "new.bin").read_bytes() == b"new file"


def test_a_flush_ahead_is_waited_for_by_the_flush_before_the_ref(repo, flush_by_file, monkeypatch):
    # a log's content is flushed in a thread while it writes the manifest (flush_ahead); the flush
    # before the version ref finds nothing left to flush, and must still wait for that one
    store = ContentStore(repo.store.root)
    go, started = _held_fdatasync(monkeypatch)
    store.put_bytes(b"the log's content")
    wait = durability.flush_ahead(repo.gitdir)
    assert started.wait(10)  # the thread holds the content, mid-flush
    ref_done = threading.Event()
    ref = threading.Thread(target=lambda: (durability.make_durable(repo.gitdir), ref_done.set()))
    ref.start()
    assert not ref_done.wait(0.5)
    go.set()
    wait()
    ref.join(10)
    assert ref_done.is_set() and _markers(repo.gitdir) == []
    assert not [t for t in threading.enumerate() if t.name == "artvcs-flush-ahead"]


def test_a_failed_flush_ahead_is_not_raised_and_the_next_flush_is_whole(repo, flush_by_file, monkeypatch, tmp_path):
    store = ContentStore(repo.store.root)
    store.put_bytes(b"content")
    (tmp_path / "file").write_bytes(b"")
    durability.wrote(repo.gitdir, str(tmp_path / "file" / "x"))  # cannot be opened: the flush fails
    synced = []
    real_sync = durability.sync_filesystem
    monkeypatch.setattr(durability, "sync_filesystem", lambda path: (synced.append(path), real_sync(path)))
    durability.flush_ahead(repo.gitdir)()  # its error is left for the flush before the ref
    assert not synced and _markers(repo.gitdir) == [str(os.getpid())]
    durability.make_durable(repo.gitdir)
    assert synced and _markers(repo.gitdir) == []


def test_a_flush_ahead_of_nothing_starts_no_thread(repo, flush_by_file, monkeypatch):
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda self: started.append(self))
    durability.flush_ahead(repo.gitdir)()
    assert started == []
    monkeypatch.setenv(durability.ENV, "0")  # no fsync: nothing to overlap
    ContentStore(repo.store.root).put_bytes(b"content")
    durability.flush_ahead(repo.gitdir)()
    assert started == []


def test_a_log_leaves_no_flush_thread_behind(repo_dir, flush_by_file, monkeypatch):
    # the log waits for its flush-ahead, also when it fails after starting it (a full disk here)
    import errno

    from artvcs.draft import commit

    folder = _data(repo_dir)
    assert _log(folder).version == "v0"
    assert not [t for t in threading.enumerate() if t.name == "artvcs-flush-ahead"]
    with open(os.path.join(folder, "d0", "f0.bin"), "ab") as f:
        f.write(b"edited")
    started = []
    real_start = threading.Thread.start
    monkeypatch.setattr(threading.Thread, "start", lambda self: (started.append(self.name), real_start(self)))

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(commit._manifestwrite, "write", full)
    with pytest.raises(OSError):
        _log(folder)
    assert "artvcs-flush-ahead" in started
    assert not [t for t in threading.enumerate() if t.name == "artvcs-flush-ahead"]
