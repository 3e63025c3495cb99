"""Making written files survive a power cut, cheaply.

Content files and git objects are renamed into place without an fsync each.
Each writer names what it wrote (or found already there) with :func:`wrote`,
and before a ref makes them reachable :func:`make_durable` flushes exactly
those: an ``fdatasync`` per file and an ``fsync`` per folder, from many
threads at once, so the file system's journal commits them together. That
costs what the new files cost, not what every other process left dirty
(``syncfs`` flushes the whole file system: a re-log's 400 files took 0.15 s
beside 200 MiB of other dirty data, against 0.05 s for its own files alone;
bench/durability.py).

A file reached another way, through a stat-cache record, was named by the
process that recorded it, and is covered by the marker that process keeps
in ``unsynced/<pid>`` from its first :func:`wrote` until what it named is
durable. A marker of any other process (alive: its files may be named by our
version through its records; dead: it crashed before its flush) makes the
flush one ``syncfs``, as do a write that is not named file by file (a large
file's chunks, a forked helper's files: :func:`wrote_unnamed`), more than
PENDING_MAX files (a first log of 20,000: one call beats 20,000), and a
machine with little dirty data (then syncfs flushes about what we wrote, in
one call). Either way everything the version names is on disk before its ref, also when
another thread's flush took the files this one named: it waits for that flush,
and flushes the whole file system if that one failed. Large files
start their own writeback while they are being copied (``start_writeback``),
so that flush finds little left to write; and a log flushes its content in a
thread while it writes the manifest (:func:`flush_ahead`), so that the flush
before the ref has only the manifest and the commit left.
"""
from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable

from .drafts import process_alive

_libc = None
_fns: dict[str, object] = {}
SYNC_FILE_RANGE_WRITE = 2


def _load_libc():
    global _libc
    if _libc is None:
        import ctypes  # here, not at import: a process that never flushes needs no ctypes

        # The C library is loaded already: open it by the names it goes by (glibc's soname, then
        # the symbols this process has). ctypes.util.find_library would find it too, by running
        # ldconfig or a compiler in a subprocess: 40-50 ms of a re-log that asks for syncfs.
        for name in ("libc.so.6", None):
            try:
                _libc = ctypes.CDLL(name, use_errno=True)
                break
            except OSError:
                continue
        else:
            import ctypes.util

            found = ctypes.util.find_library("c")
            try:
                _libc = ctypes.CDLL(found, use_errno=True) if found else False
            except OSError:
                _libc = False
    return _libc


def libc_function(name: str, *argtypes: str):
    """libc's ``name`` (its ``argtypes`` named as ctypes types: "int", "int64", "uint"), returning
    an int with errno kept, or None where libc or the function is missing; set up once per process.
    The one place artvcs loads libc functions (ctypes only when first asked for)."""
    fn = _fns.get(name)
    if fn is None:
        libc = _load_libc()
        fn = getattr(libc, name, None) if libc else None
        if fn is not None:
            import ctypes

            fn.argtypes = [{"int": ctypes.c_int, "int64": ctypes.c_int64, "uint": ctypes.c_uint}[t] for t in argtypes]
            fn.restype = ctypes.c_int
        fn = _fns[name] = fn or False
    return fn or None


ENV = "ARTVCS_FSYNC"


def enabled() -> bool:
    """False when ``ARTVCS_FSYNC=0`` leaves durability to the OS."""
    return os.environ.get(ENV) != "0"


def start_writeback(fd: int, offset: int, nbytes: int) -> None:
    """Ask the kernel to start writing ``nbytes`` at ``offset`` of ``fd`` to disk, without waiting
    (sync_file_range(2) SYNC_FILE_RANGE_WRITE). Only a head start for the flush that follows:
    it promises nothing, so where it is missing nothing is done."""
    fn = libc_function("sync_file_range", "int", "int64", "int64", "uint")  # offsets: off64_t
    if fn is not None:
        fn(fd, offset, nbytes, SYNC_FILE_RANGE_WRITE)


def sync_filesystem(path: str) -> None:
    """Flush every dirty page of the file system holding ``path`` to disk.

    ``ARTVCS_FSYNC=0`` skips it (like git's core.fsync=none): a killed
    process still loses nothing, a power cut may lose the newest versions.
    """
    if not enabled():
        return
    fn = libc_function("syncfs", "int")
    if fn is None:
        os.sync()
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        if fn(fd) != 0:
            os.sync()
    finally:
        os.close(fd)


def fsync_dir(path: str) -> None:
    """fsync a directory so a rename inside it is durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


MARKERS = "unsynced"  # <gitdir>/unsynced/<pid>: that process named files it has not made durable yet
PENDING_MAX = 2048  # more files than this: one syncfs beats a flush per file
# With this little dirty in the whole machine, one syncfs costs less than a flush per file: 400
# files took 0.01 s by syncfs with nothing else dirty, 0.05 s file by file (bench/durability.py)
DIRTY_CHEAP = 32 << 20
THREADS = 16  # flushes in flight at once: the journal commits them together

_lock = threading.Lock()
_pending: dict[str, list[str]] = {}  # gitdir -> files named since its last make_durable
_unnamed: set[str] = set()  # gitdirs written to in ways not named file by file
_marked: dict[str, int] = {}  # gitdir -> the pid whose marker this process made there
_flushing: dict[str, int] = {}  # gitdir -> make_durable calls of this process under way
# A make_durable may take (and flush) files another thread named: that thread's own make_durable
# then finds nothing to flush, and must wait for the flushes under way when it started before it
# says its files are durable. Each call holds a ticket while it flushes; a failed one is kept.
_changed = threading.Condition(_lock)
_tickets: dict[str, set[int]] = {}  # gitdir -> tickets of the flushes under way
_failed: dict[str, set[int]] = {}  # gitdir -> tickets whose flush raised, kept while any is under way
_ticket_numbers = itertools.count(1)
_keys: dict[str, str] = {}  # a gitdir as given -> its real path: one repository, one list


def _key(gitdir: str) -> str:
    k = _keys.get(gitdir)
    if k is None:
        k = _keys[gitdir] = os.path.realpath(gitdir)
    return k


def _mark(gitdir: str) -> None:
    # under _lock; a forked child inherits _marked but not the pid: it makes its own
    if _marked.get(gitdir) != os.getpid():
        folder = os.path.join(gitdir, MARKERS)
        os.makedirs(folder, exist_ok=True)
        try:
            os.close(os.open(os.path.join(folder, str(os.getpid())),
                             os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644))
        except FileExistsError:  # left by a dead process that had this pid: its files, too, need a whole flush
            _unnamed.add(gitdir)
        _marked[gitdir] = os.getpid()


def wrote(gitdir: str, path: str) -> None:
    """Name a file of the repository ``gitdir`` that a version may soon name: written just now,
    or found already there (another process may have written it and died before its flush)."""
    gitdir = _key(gitdir)
    with _lock:
        _mark(gitdir)
        _pending.setdefault(gitdir, []).append(path)


def wrote_unnamed(gitdir: str) -> None:
    """Note that files were written in ``gitdir`` that were not named by :func:`wrote`: its next
    :func:`make_durable` flushes the whole file system."""
    gitdir = _key(gitdir)
    with _lock:
        _mark(gitdir)
        _unnamed.add(gitdir)


def _dirty_bytes() -> int:
    """Bytes waiting to be written to disk, machine-wide (Linux's /proc/meminfo: Dirty and
    Writeback); where that cannot be read, more than DIRTY_CHEAP."""
    try:
        with open("/proc/meminfo", "rb") as f:
            text = f.read()
        total = 0
        for line in text.splitlines():
            if line.startswith((b"Dirty:", b"Writeback:")):
                total += int(line.split()[1]) * 1024
        return total
    except (OSError, ValueError, IndexError):
        return DIRTY_CHEAP + 1


def _others(gitdir: str) -> list[str]:
    try:
        names = os.listdir(os.path.join(gitdir, MARKERS))
    except FileNotFoundError:
        return []
    return [n for n in names if n != str(os.getpid())]


def _sync_each(paths: list[str], folders: set[str]) -> None:
    """fdatasync every file of ``paths`` and fsync every folder of ``folders``, THREADS at a time."""
    from concurrent.futures import ThreadPoolExecutor

    def one(item: tuple[str, bool]) -> None:
        path, is_dir = item
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # not there (a git object that went to a pack): nothing of it to flush
        try:
            (os.fsync if is_dir else os.fdatasync)(fd)
        finally:
            os.close(fd)

    items = [(p, False) for p in paths] + [(f, True) for f in folders]
    if len(items) <= 2:
        for item in items:
            one(item)
        return
    with ThreadPoolExecutor(min(THREADS, len(items))) as pool:
        list(pool.map(one, items))


def make_durable(gitdir: str, paths: tuple[str, ...] = (), folders: tuple[str, ...] = ()) -> None:
    """Before a ref names them: make durable the files named by :func:`wrote` for ``gitdir``
    and ``paths`` (the folders they were renamed into, and ``folders``, too), or flush the whole
    file system where that is what the module docstring says. ``ARTVCS_FSYNC=0`` skips it."""
    _complete(_begin(gitdir, paths), folders)


class _Flush:
    """One make_durable under way: what it flushes and the ticket it holds meanwhile."""

    def __init__(self, gitdir: str, todo: list[str], whole: bool, ticket: int, under_way: set[int]) -> None:
        self.gitdir, self.todo, self.whole, self.ticket, self.under_way = gitdir, todo, whole, ticket, under_way


def _begin(gitdir: str, paths: tuple[str, ...]) -> _Flush:
    """Take what was named for ``gitdir`` (and ``paths``) and a ticket; :func:`_complete` must follow."""
    gitdir = _key(gitdir)
    with _lock:
        todo = list(dict.fromkeys(_pending.pop(gitdir, []) + list(paths)))
        whole = gitdir in _unnamed
        _unnamed.discard(gitdir)
        _flushing[gitdir] = _flushing.get(gitdir, 0) + 1
        ticket = next(_ticket_numbers)
        under_way = set(_tickets.setdefault(gitdir, set()))  # they may hold files we named
        _tickets[gitdir].add(ticket)
    return _Flush(gitdir, todo, whole, ticket, under_way)


def _complete(f: _Flush, folders: tuple[str, ...], plan: list[str] | None | bool = False) -> None:
    """Flush what ``f`` took (by ``plan`` when given, see :func:`_plan`), wait for the flushes under
    way when it began, redo it whole if one of them failed, and give its ticket back."""
    gitdir = f.gitdir
    ok = False
    try:
        _flush(gitdir, f.todo, f.whole, folders, plan)
        with _lock:
            while f.under_way & _tickets[gitdir]:
                _changed.wait()
            redo = bool(f.under_way & _failed.get(gitdir, set()))
        if redo:  # a flush that may have taken files we named failed: flush them all ourselves
            _flush(gitdir, [], True, folders)
        ok = True
    except BaseException:  # not known durable: this process's next flush is whole
        with _lock:
            _unnamed.add(gitdir)
        raise
    finally:
        with _lock:
            _tickets[gitdir].discard(f.ticket)
            if not ok:
                _failed.setdefault(gitdir, set()).add(f.ticket)
            if not _tickets[gitdir]:  # no one is left waiting on a failed ticket
                _failed.pop(gitdir, None)
            _changed.notify_all()
            _flushing[gitdir] -= 1
            # the marker goes once nothing this process named is left undurable (another thread may
            # have named files since the lists above were taken, or be flushing: it stays for them)
            if not _flushing[gitdir] and not _pending.get(gitdir) and gitdir not in _unnamed \
                    and _marked.get(gitdir) == os.getpid():
                del _marked[gitdir]
                try:
                    os.unlink(os.path.join(gitdir, MARKERS, str(os.getpid())))
                except FileNotFoundError:
                    pass


def flush_ahead(gitdir: str) -> Callable[[], None]:
    """Start :func:`make_durable` of what ``gitdir``'s writers named so far in a thread of its own,
    and return the function that waits for it to end. The flush then overlaps what a writer does
    before its ref (a re-log's manifest: ~50 ms beside a ~25 ms flush), and the flush before the
    ref finds little left. Its failure is not raised: it leaves the next flush whole, and a flush
    under way when that one began is waited for and redone by it if it failed (make_durable).

    What to flush is decided here, and ctypes or the thread pool loaded here: the thread then waits
    for the GIL only to start its flush (each wait is up to the interpreter's 5 ms switch interval
    while this thread runs Python: deciding in the thread cost a re-log's flush ~35 ms of start)."""
    key = _key(gitdir)
    with _lock:
        idle = not _pending.get(key) and key not in _unnamed
    if idle or not enabled():
        return _nothing
    f = _begin(gitdir, ())
    try:
        plan = _plan(f.gitdir, f.todo, f.whole)
        if plan is None:
            import concurrent.futures  # noqa: F401 - _sync_each's pool, imported in this thread
        else:
            libc_function("syncfs", "int")

        def run() -> None:
            try:
                _complete(f, (), plan)
            except Exception:  # noqa: BLE001 - recorded by _complete; the flush before the ref redoes it
                pass

        thread = threading.Thread(target=run, name="artvcs-flush-ahead", daemon=True)
        thread.start()
    except Exception:  # noqa: BLE001 - no thread: flushed here, its failure left as above
        try:
            _complete(f, ())
        except Exception:  # noqa: BLE001
            pass
        return _nothing
    return thread.join


def _nothing() -> None:
    return None


def _plan(gitdir: str, todo: list[str], whole: bool) -> list[str] | None:
    """How :func:`_flush` flushes ``todo``: None for file by file, else the whole file system, and
    the list of the other processes' markers then (see the module docstring)."""
    others = _others(gitdir)
    if whole or others or len(todo) > PENDING_MAX or _dirty_bytes() <= DIRTY_CHEAP:
        return others
    return None


def _flush(gitdir: str, todo: list[str], whole: bool, folders: tuple[str, ...],
           plan: list[str] | None | bool = False) -> None:
    """make_durable's flush of ``todo`` (or of the whole file system, ``whole`` or as the module
    docstring says), by ``plan`` when one was made (:func:`_plan`; False: make it here)."""
    if not enabled():
        # not durable: the marker stays, so others' flushes stay whole, and so does this
        # process's next one with fsync on (it no longer lists these files)
        with _lock:
            _unnamed.add(gitdir)
        return
    others = _plan(gitdir, todo, whole) if plan is False else plan
    if others is not None:
        sync_filesystem(gitdir)
        for pid in others:  # a dead writer's files are durable now: its marker has done its work
            if not pid.isdigit() or not process_alive(int(pid)):
                try:
                    os.unlink(os.path.join(gitdir, MARKERS, pid))
                except FileNotFoundError:
                    pass
    else:
        _sync_each(todo, {os.path.dirname(p) for p in todo} | set(folders))
