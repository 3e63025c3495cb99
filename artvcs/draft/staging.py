"""Putting local files into the content store as they are added to a draft.

``mutable`` (the default) copies the bytes into the store at add time, so the
draft is a snapshot; ``immutable`` hard-links where it can; ``skip_cache``
only hashes now and stores at log time (the file must not change between).
The stat cache lets unchanged files skip both reading and hashing. Many
small files are copied by a thread pool (the kernel does that work); hashed
and linked, which is Python-bound work, they are split with a forked child.
"""
from __future__ import annotations

import contextlib
import marshal
import os
import signal
import stat as _stat
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import blake3

from artvcs.errors import MissingFileError
from artvcs.plumbing.progress import report
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.hashing import MMAP_THRESHOLD, hash_file
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.paths import check_entry_paths
from artvcs.plumbing.repository import DIRNAME, Repository
from artvcs.plumbing import durability, settled as _settled, sweepgen
from artvcs.plumbing.scan import scan
from artvcs.plumbing.settled import Settled
from artvcs.plumbing.statcache import StatCache, fs_clock_ns
from artvcs.plumbing.store import CHUNK_THRESHOLD, POLICIES, ContentStore

WORKERS = 8
POOL_MIN = 1000  # fewer misses than this are staged in this thread
REPORT_EVERY = 256  # files staged in this thread between two progress reports


@dataclass(slots=True)
class Staged:
    """An entry and the local file it came from."""

    entry: Entry
    local_path: str


def check_policy(policy: object) -> str:
    if policy not in POLICIES:
        raise UsageError(f'invalid policy {policy!r}: policy must be "mutable" or "immutable"')
    return policy  # type: ignore[return-value]


_local = threading.local()
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


BUFFER = 1 << 20  # files below this are read into a per-thread buffer, reused


def _buffer(size: int) -> bytearray:
    """A buffer for a file of ``size`` bytes, with one byte to spare (to notice growth)."""
    if size >= BUFFER:
        return bytearray(size + 1)
    buf = getattr(_local, "buf", None)
    if buf is None:
        buf = _local.buf = bytearray(BUFFER + 1)
    return buf


def _read_small(path: str, size: int, then=None) -> tuple[memoryview, os.stat_result, object] | None:
    """The whole file (``size`` bytes when stat looked), ``then(data)``'s result, and fstat after
    both; None if the file grew. ``then`` runs while the file is still open, so the fstat tells
    whether the file changed during the read or during ``then``."""
    fd = os.open(path, _OPEN_FLAGS)
    try:
        buf = _buffer(size)
        view = memoryview(buf)
        n = 0
        while True:
            k = os.readv(fd, [view[n:]])
            n += k
            # all ``size`` bytes: done without reading EOF (the fstat below sees any growth)
            if k == 0 or n >= size:
                break
        if n > size:
            return None  # it grew while we looked: the slow path copes
        data = view[:n]
        done = then(data) if then is not None else None
        return data, os.fstat(fd), done
    finally:
        os.close(fd)


def _stage_one(repo: Repository, records: dict, path: str, entry_path: str, policy: str, skip_cache: bool,
               clock: tuple[int, int | None], gen: int | None = None, small_only: bool = False,
               asked: bool = False) -> Staged | None:
    """Stage one file; with ``small_only``, None for a file large enough to be hashed by threads.
    ``asked``: the folder's scan already compared this regular file with its record and found
    none to use (or its content gone), so the record is not looked up again (a folder's records
    would be parsed for it); only a large file's is read (:func:`_earlier_large`)."""
    st = os.stat(path)
    if small_only and st.st_size >= MMAP_THRESHOLD:
        return None
    known = None if asked else StatCache.lookup(records, path, st)
    store = repo.store
    if known is not None and (os.path.exists(store._path(known)) or os.path.exists(store.list_path(known))):
        return Staged(Entry(entry_path, known, st.st_size), path)
    small = None
    if st.st_size < MMAP_THRESHOLD:
        if policy == "immutable" and not skip_cache:
            # hash, then link while the file is open: one fstat tells whether it changed meanwhile
            small = _read_small(path, st.st_size, lambda data: _link(store, path, data))
        else:
            small = _read_small(path, st.st_size)
    if small is None:
        if skip_cache:
            digest, size = hash_file(path)
        else:
            digest, size = store.put_file(path, policy, chunked=_earlier_large(records, path))
        after = os.stat(path)
    else:
        # The hot path for small files: one read into a reused buffer, one hash, one write or link.
        data, after, linked = small
        size = len(data)
        if linked is not None:
            digest, made = linked
            if (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
                # changed under us: store the bytes that were hashed, never the file (a link
                # this writer made is replaced by them, never removed first)
                store.put_bytes(data, digest, replace=made)
                return Staged(Entry(entry_path, digest, size), path)
            if made:
                # the link itself moved ctime, so no stat can vouch for these bytes yet
                return Staged(Entry(entry_path, digest, size), path)
        else:
            digest = blake3.blake3(data).hexdigest()
            if not skip_cache:
                store.put_bytes(data, digest)
    # A file that changed while we read it was still snapshotted faithfully,
    # but its stat no longer describes those bytes: don't cache that.
    if (after.st_size, after.st_mtime_ns, after.st_ctime_ns) == (st.st_size, st.st_mtime_ns, st.st_ctime_ns) and size == st.st_size:
        # seen stored (just written, or found) after gen was read; skip_cache stores nothing yet
        repo.statcache.record(path, st, digest, clock[0], clock[1], None if skip_cache else gen)
    return Staged(Entry(entry_path, digest, size), path)


def _earlier_large(records, path: str) -> bool:
    """True if the stat cache remembers ``path`` holding a large file before (it changed since): this
    is a new version of a large file, stored straight as chunks (a new large file is stored whole;
    the log converts the earlier version, see large_files)."""
    rec = records.get(path)
    return rec is not None and rec[0][2] >= CHUNK_THRESHOLD  # rec[0]: (dev, ino, size, mtime, ctime)


def _link(store, path: str, data: memoryview) -> tuple[str, bool]:
    digest = blake3.blake3(data).hexdigest()
    return digest, store.link_in(path, digest, data)


FORK_MIN = 2000  # fewer misses than this do not pay for a second process


def _can_fork() -> bool:
    # A fork copies only the calling thread: with other Python threads alive, a lock one of
    # them holds could never be released in the child, so only a single-threaded caller forks.
    # Linux only: macOS system libraries are not safe to use in a forked child.
    return (sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1
            and threading.active_count() == 1)


def _stage_split(repo: Repository, misses: list[tuple[str, str]], one: Callable[[tuple[str, str]], Staged],
                 policy: str, skip_cache: bool, clock: tuple[int, int | None], gen: int | None) -> list[Staged]:
    """Stage ``misses`` in two processes: a forked child takes the second half, this one the first.

    The child stages small files only (large ones use blake3's threads, which a forked child
    lacks) and sends back, marshalled, each file's digest and size and the stat cache records
    it made. If the child fails for any reason, its half is staged here again, where any
    error is raised as usual; storing is idempotent, so nothing is lost or doubled.
    """
    half = len(misses) // 2
    mine, theirs = misses[:half], misses[half:]
    durability.wrote_unnamed(repo.gitdir)  # the child's files are not named here: the flush goes whole
    collect = _fork(lambda: _child_stage(repo, theirs, policy, skip_cache, clock, gen))
    try:
        out = [one(m) for m in mine]
    except BaseException:
        collect(kill=True)
        raise
    result = collect()
    if result is None:
        return out + [one(m) for m in theirs]
    done, records = result
    repo.statcache.queue(records)
    for (path, entry_path), got in zip(theirs, done):
        out.append(one((path, entry_path)) if got is None else Staged(Entry(entry_path, got[0], got[1]), path))
    return out


def _child_stage(repo: Repository, items: list[tuple[str, str]], policy: str, skip_cache: bool,
                 clock: tuple[int, int | None], gen: int | None) -> tuple[list, list]:
    cache = StatCache(repo.statcache.db_path)  # collects records; the parent writes them
    worker = _Worker(repo.store, cache)
    done = []
    for path, entry_path in items:
        s = _stage_one(worker, {}, path, entry_path, policy, skip_cache, clock, gen, small_only=True)  # type: ignore[arg-type]
        done.append(None if s is None else (s.entry.digest, s.entry.size))
    return done, cache.take_queued()


@dataclass(slots=True)
class _Worker:
    """What _stage_one uses of a repository, in a forked child."""

    store: ContentStore
    statcache: StatCache


def _fork(work: Callable[[], object]) -> Callable[..., object | None]:
    """Run ``work`` in a forked child; the returned function waits for its marshalled result
    (None if the child failed; ``kill=True`` stops it first)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(r)
            data = marshal.dumps(work())
            with open(w, "wb") as f:
                f.write(data)
            code = 0
        finally:
            os._exit(code)  # never return into the parent's stack, never run its exit handlers
    os.close(w)

    def collect(kill: bool = False) -> object | None:
        if kill:
            os.kill(pid, signal.SIGKILL)
        with open(r, "rb") as f:
            data = f.read()
        try:
            status = os.waitpid(pid, 0)[1]
        except ChildProcessError:
            status = 0  # SIGCHLD ignored: the child was reaped unseen; its data tells whether it finished
        if kill or status != 0:
            return None
        try:
            return marshal.loads(data)
        except (EOFError, ValueError, TypeError):
            return None  # it died before writing all of it

    return collect


REFRESH_AFTER_S = 600  # far inside gc's grace period (an hour by default)


def _still_stored(path: str, now_s: float) -> bool:
    """True if the store holds ``path``; refresh its mtime when old, so gc's grace covers this draft."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return False
    if now_s - st.st_mtime > REFRESH_AFTER_S:
        try:
            os.utime(path)
        except OSError:
            pass
    return True


def stage_file(repo: Repository, local_path: str, entry_path: str, policy: str, skip_cache: bool) -> Staged:
    """Hash (and store) one file."""
    path = os.path.abspath(local_path)
    if not os.path.isfile(path):
        raise MissingFileError(f"add_file: {local_path!r} is not a file")
    clock = fs_clock_ns(os.path.dirname(repo.statcache.db_path))
    staged = _stage_one(repo, repo.statcache.load_one(path), path, entry_path, policy, skip_cache, clock)
    repo.statcache.flush()
    return staged


def walk_files(root: str, records, settle_gen: int | None = None,
               prefix: str | None = None) -> tuple[list[tuple[str, str, tuple | bool | None]], list[Settled]]:
    """``(files, settled)``: ``files`` is ``(absolute path, path relative to root with /, cached)``
    for every file below ``root`` to stage one by one, sorted by relative path; ``cached`` is
    ``(digest, size, sweep_gen)`` where the stat cache ``records`` vouches for the file, False
    for a regular file it was asked about and does not vouch for, None for a symbolic link to a
    file (the scan does not follow it, so its record was not asked). Each folder's files are settled by the stat-cache scan as the folder is listed (one
    lstat per file, in C where built); a symbolic link to a file is left to hashing (the scan
    does not follow links). With ``settle_gen`` (the store's sweep generation) and the C scan
    built, the files the cache vouches for under that generation are not listed one by one:
    each folder's are one :class:`settled.Settled` (entry paths under ``prefix``).

    Symlinks to files are followed (their content is added); symlinked
    folders are not descended into (they could loop or lead outside the
    folder) and are reported in one warning. A ``.artifacts`` folder is never
    added, as git never adds ``.git``: it is a repository, not data.
    """
    out: list[tuple[str, str, tuple | bool | None]] = []
    settled: list[Settled] = []
    skipped: list[str] = []
    links: set[str] = set()  # symbolic links to files
    bulk = settle_gen is not None and _settled.NATIVE
    frontier = [(root, "")]
    while frontier:
        todo, frontier = frontier, []
        if bulk:
            # a level of folders at a time, settled in one C call on threads of its own (no GIL)
            records.prefetch()
            done = _settled.settle_many([folder for folder, _ in todo],
                                        [f"{prefix}/{rel}" if prefix and rel else prefix or rel for _, rel in todo],
                                        [records.row(folder) for folder, _ in todo], settle_gen, CHUNK_THRESHOLD)
        else:
            done = [None] * len(todo)
        for (folder, rel), got in zip(todo, done):
            here: list[tuple[str, str]] = []
            names: list[str] = []
            if got is not None:
                dirs, names, rest, vouched = got
                if vouched is not None:
                    settled.append(vouched)
                frontier += [(os.path.join(folder, n), f"{rel}/{n}" if rel else n) for n in dirs if n != DIRNAME]
                here = [(os.path.join(folder, n), f"{rel}/{n}" if rel else n) for n in names]
                listed = contextlib.nullcontext([_Named(folder, n) for n in rest])
            else:
                listed = os.scandir(folder)
            with listed as it:
                for de in it:
                    child_rel = f"{rel}/{de.name}" if rel else de.name
                    if de.is_file(follow_symlinks=False):  # first: nearly every entry is one
                        here.append((de.path, child_rel))
                        names.append(de.name)
                    elif de.is_dir(follow_symlinks=False):
                        if de.name != DIRNAME:
                            frontier.append((de.path, child_rel))
                    elif de.is_symlink():
                        try:
                            target = os.stat(de.path)
                        except FileNotFoundError:
                            raise MissingFileError(f"add_dir: {de.path!r} is a dangling symbolic link") from None
                        if _stat.S_ISDIR(target.st_mode):
                            skipped.append(child_rel)
                        elif _stat.S_ISREG(target.st_mode):
                            here.append((de.path, child_rel))
                            names.append(de.name)
                            links.add(de.path)
            if here:
                out += [(p, r, h or (None if p in links else False))
                        for (p, r), h in zip(here, scan(folder, names, records.row(folder), False))]
    if skipped:
        warnings.warn(
            f"add_dir: not following {len(skipped)} symbolic link(s) to folders: {', '.join(sorted(skipped)[:5])}",
            stacklevel=3,
        )
    out.sort(key=lambda t: t[1])
    return out, settled


class _Named:
    """What walk_files asks of an os.DirEntry, for a name the C settle left to Python (one lstat)."""

    __slots__ = ("name", "path", "_mode")

    def __init__(self, folder: str, name: str) -> None:
        self.name, self.path = name, os.path.join(folder, name)
        try:
            self._mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            self._mode = 0  # gone since it was listed: nothing to add

    def is_file(self, follow_symlinks: bool = False) -> bool:
        return _stat.S_ISREG(self._mode)

    def is_dir(self, follow_symlinks: bool = False) -> bool:
        return _stat.S_ISDIR(self._mode)

    def is_symlink(self) -> bool:
        return _stat.S_ISLNK(self._mode)


def stage_dir(repo: Repository, local_path: str, prefix: str | None, policy: str, skip_cache: bool,
              hold: Callable[[list[str]], None] | None = None, bulk: bool = False) -> tuple[list[Staged], list[Settled]]:
    """Hash (and store) every file below ``local_path``: ``(staged files, settled folders)``.

    Unchanged files (stat cache hits whose content is stored) cost one stat,
    done in this thread; only the rest go to the thread pool, where reading,
    hashing and writing overlap. A hit whose record saw its content stored
    under the store's current sweep generation (:mod:`sweepgen`) is not looked
    for in the store: nothing has been removed since. ``hold`` is given every
    digest (a settled folder's as one string, a digest a line) before that
    trust is checked once more (the caller lists them where gc reads drafts):
    if a gc began meanwhile, those hits are looked for after all, and what it
    removed is stored again. With ``bulk`` those trusted hits come as one
    :class:`settled.Settled` per folder (no Python object per file); otherwise,
    and when a gc began meanwhile, every file is a :class:`Staged`.
    """
    root = os.path.abspath(local_path)
    if not os.path.isdir(root):
        raise MissingFileError(f"add_dir: {local_path!r} is not a directory")
    cache_dir = os.path.dirname(repo.statcache.db_path)
    gen = sweepgen.current(cache_dir)  # read before any hit is trusted or seen stored
    trust = gen is not None and hold is not None
    records = repo.statcache.load_prefix(root)
    files, settled = walk_files(root, records, gen if trust and bulk and not skip_cache else None, prefix)
    # every entry path, in one scan, before anything is hashed or stored (a name git or the OS
    # gives meaning to, a backslash, a control character: refused with the path and the rule)
    check_entry_paths([f"{prefix}/{rel}" if prefix else rel for _, rel, _ in files])
    for s in settled:
        _settled.check_names(s)
    clock = fs_clock_ns(cache_dir)
    store_path, list_path = repo.store._path, repo.store.list_path  # whole, or chunked (its list stands for it)
    now_s = time.time()
    staged: list[Staged] = []
    misses: list[tuple[str, str]] = []
    unasked: set[str] = set()  # misses the scan did not compare with their record (links to files)
    trusted: list[int] = []  # indexes in staged of hits not looked for in the store
    seen: list[tuple[str, str]] = []  # hits looked for and found: their records get gen
    stat = os.stat
    old_s = now_s - REFRESH_AFTER_S
    for path, rel, hit in files:
        entry_path = f"{prefix}/{rel}" if prefix else rel
        if hit:
            known, size, rec_gen = hit
            if trust and rec_gen == gen:
                trusted.append(len(staged))
                staged.append(Staged(Entry(entry_path, known, size), path))
                continue
            # _still_stored, inline: it runs once per unchanged file
            try:
                if stat(store_path(known)).st_mtime < old_s:
                    _still_stored(store_path(known), now_s)
                staged.append(Staged(Entry(entry_path, known, size), path))
                seen.append((path, known))
                continue
            except FileNotFoundError:
                if _still_stored(list_path(known), now_s):  # a chunked file: its list stands for it
                    staged.append(Staged(Entry(entry_path, known, size), path))
                    seen.append((path, known))
                    continue
        elif hit is None:
            unasked.add(path)
        misses.append((path, entry_path))

    def one(item: tuple[str, str]) -> Staged:
        return _stage_one(repo, records, item[0], item[1], policy, skip_cache, clock, gen, asked=item[0] not in unasked)

    total = len(files) + sum(s.count for s in settled)
    nbytes = sum(s.entry.size or 0 for s in staged) + sum(s.size for s in settled)  # vouched for: done already
    report("hashing", len(staged), total, nbytes)
    # Threads pay off where the kernel does the work (creating files for
    # ``mutable``); hashing and linking are mostly Python and GIL-bound, and
    # threads only fight over the GIL there: a second process does half.
    if len(misses) >= FORK_MIN and (policy == "immutable" or skip_cache) and _can_fork():
        staged.extend(_stage_split(repo, misses, one, policy, skip_cache, clock, gen))
    elif len(misses) < POOL_MIN or policy == "immutable" or skip_cache:
        for i in range(0, len(misses), REPORT_EVERY):
            part = [one(m) for m in misses[i : i + REPORT_EVERY]]
            staged.extend(part)
            nbytes += sum(s.entry.size or 0 for s in part)
            report("hashing", len(staged), total, nbytes)
    else:
        # One task per slice, not per file: futures cost more than a small file.
        step = max(16, len(misses) // (WORKERS * 4))
        slices = [misses[i : i + step] for i in range(0, len(misses), step)]
        from concurrent.futures import ThreadPoolExecutor  # only here: a re-log of a few files needs no pool

        with ThreadPoolExecutor(WORKERS) as pool:
            for part in pool.map(lambda sl: [one(m) for m in sl], slices):
                staged.extend(part)
                nbytes += sum(s.entry.size or 0 for s in part)
                report("hashing", len(staged), total, nbytes)
    if hold is not None:
        hold([s.entry.digest for s in staged] + [s.digests for s in settled])  # a settled folder's: one line each
    if settled and sweepgen.current(cache_dir) != gen:
        # a gc began: settled files are trusted hits like any other, looked for one by one below
        for folder in settled:
            for entry, local in _settled.entries(folder):
                trusted.append(len(staged))
                staged.append(Staged(entry, local))
        settled = []
    if trusted and sweepgen.current(cache_dir) != gen:
        # A gc began after gen was read, perhaps before the draft list above: look after all.
        now_s = time.time()
        again: list[str] = []
        for i in trusted:
            s = staged[i]
            d = s.entry.digest
            if not (_still_stored(store_path(d), now_s) or _still_stored(list_path(d), now_s)):
                s = staged[i] = _stage_one(repo, {}, s.local_path, s.entry.path, policy, skip_cache, clock, None)
                again.append(s.entry.digest)
        if again and hold is not None:
            hold(again)
    elif gen is not None:
        repo.statcache.confirm(seen, gen)
    report("hashing", total, total, sum(s.entry.size or 0 for s in staged) + sum(s.size for s in settled))
    repo.statcache.flush()
    return staged, settled
