"""Chunk packs: many chunks in one file, so a large file is a few sequential writes, reads and requests.

A pack holds chunks back to back; its index, written after it, lists them in
order as canonical text::

    artvcs-chunkpack 1 <count>\\n
    <chunk digest> <size>\\n          (count lines; offsets are running sums)

A pack is named by the first 40 hex characters of the blake3 digest of its
index, so an index is checked against its own name before it is believed.
The same two files make up a pack in the local store (``chunks/<name>.pack``
and ``.idx``) and on a remote (artvcs-remote-format(5)); a pack whose index
is absent is incomplete and ignored.

Packs are immutable; gc replaces a partly dead one by a new pack of its live
chunks (:func:`packplan.plan` decides which, :mod:`chunkprune` does it locally). Every
process that reads the local packs, or relies on a chunk being in one, holds
a shared flock(2) on ``chunks/lock`` while it does; gc removes a pack only
under the exclusive lock (artvcs-format(5), GC PROTECTION).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter

import blake3

from . import chunkmidx
from . import chunklist
from .chunklist import MAX_CHUNK, ascii_header, fast_rows
from .durability import fsync_dir
from .errors import CorruptObjectError

DIRNAME = "chunks"  # the local packs, beside content/
TMP_PREFIX = ".tmp-"
LOCKFILE = "lock"  # chunks/lock: shared by readers and writers, exclusive while gc removes packs
PACK_BYTES = 64 * 1024 * 1024  # a pack is closed once it holds this many bytes
MAX_PACK_CHUNKS = chunkmidx.MAX_PACK_ROWS  # one limit: the multi-pack index's row numbers rely on it
MAX_IDX_BYTES = 64 + MAX_PACK_CHUNKS * (64 + 1 + 9 + 1)
PAGE = 4096  # the page phase a writer keeps: a run's offset in its pack and in its file agree mod PAGE
FILL_MIN_RUN = 256 * 1024  # a shorter run is not worth a filler: measured, a 2 % scattered edit of 1 GiB
# got 314 fillers (0.6 MB, +1.4 % growth) at 64 KiB and 9 (18 KB) at 256 KiB; a new file's runs are whole blocks
_HEX = "0123456789abcdef"
_HEADER = re.compile(r"artvcs-chunkpack 1 ([1-9][0-9]{0,5})\n")
_ROW = re.compile(r"([0-9a-f]{64}) ([1-9][0-9]{0,8})\n")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a chunk is: pack name, byte offset in the pack, size."""

    pack: str
    offset: int
    size: int


def filler(n: int) -> tuple[str, bytes]:
    """``(digest, bytes)`` of the filler chunk of ``n`` zero bytes (0 < n < PAGE): an ordinary chunk,
    named by its digest, that a writer puts before a run so that the run sits at the same offset
    within a page in the pack as in its file (artvcs-format(5)); no list names it unless a file
    holds those bytes, so gc counts it dead."""
    data = bytes(n)
    return _FILLERS.setdefault(n, blake3.blake3(data).hexdigest()), data


_FILLERS: dict[int, str] = {}


def encode_idx(chunks: Iterable[tuple[str, int]]) -> bytes:
    rows = list(chunks)
    return (f"artvcs-chunkpack 1 {len(rows)}\n" + "".join(f"{d} {n}\n" for d, n in rows)).encode("ascii")


def idx_name(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()[:40]


def parse_idx(data: bytes, name: str) -> list[tuple[str, int]]:
    """The chunks of pack ``name`` in order; an index that is not its name's, or not canonical, is a
    CorruptObjectError."""
    what = f"chunk pack index {name}"
    if len(data) > MAX_IDX_BYTES:
        raise CorruptObjectError(f"{what} is {len(data)} bytes, above the {MAX_IDX_BYTES} limit: refused")
    if idx_name(data) != name:
        raise CorruptObjectError(f"{what} does not hash to its name: refused")
    text, head = ascii_header(data, _HEADER, what, "artvcs-chunkpack 1 <count>")
    count = int(head.group(1))
    if count > MAX_PACK_CHUNKS:
        raise CorruptObjectError(f"{what} claims {count} chunks, above the {MAX_PACK_CHUNKS} limit: refused")
    fast = fast_rows(data, head.end(), count, MAX_CHUNK)
    if fast is not None:
        return fast[0]
    rows, pos = [], head.end()  # not canonical: walk the rows to name the first bad one
    for _ in range(count):
        row = _ROW.match(text, pos)
        if row is None or int(row.group(2)) > MAX_CHUNK:
            raise CorruptObjectError(f"{what}: row {len(rows) + 1} is not '<digest> <size>' within limits: refused")
        rows.append((row.group(1), int(row.group(2))))
        pos = row.end()
    if pos != len(text):
        raise CorruptObjectError(f"{what} has bytes after its {count} rows: refused")
    return rows


def split_name(filename: str) -> tuple[str, str] | None:
    """``(name, "pack" | "idx")`` of a pack file's name (40 lowercase hex, a dot, the kind), or None for
    anything else. String operations, not a pattern: thousands of packs are listed."""
    name, _, kind = filename.partition(".")
    if len(name) == 40 and kind in ("pack", "idx") and not name.strip(_HEX):  # (strip stops at a non-hex)
        return name, kind
    return None


def folder_of(gitdir: str) -> str:
    """The folder of the local packs of the repository at ``gitdir``."""
    return os.path.join(gitdir, DIRNAME)


class PackWriter:
    """Appends chunks to a new local pack; ``close`` (or reaching PACK_BYTES) installs it: the pack
    renamed into place first, its index last, so an index always describes a whole pack.
    Thread-safe: fetchers append from several threads."""

    def __init__(self, folder: str, on_install=None, durable: bool = False) -> None:
        self.folder, self.on_install, self.durable = folder, on_install, durable
        self._lock = threading.Lock()
        self._fd, self._tmp, self._rows, self._size = -1, "", [], 0
        self._seen: set[str] = set()
        self.filled = 0  # bytes of filler chunks appended so far (gc reports what it frees net of them)
        self.installed: list[tuple[str, list[tuple[str, int]]]] = []

    def has(self, digest: str) -> bool:
        return digest in self._seen

    def add(self, digest: str, data) -> None:
        """Append one chunk, unless this writer already holds it."""
        with self._lock:
            if digest not in self._seen:
                self._append(memoryview(data), [(digest, len(data))])

    def add_run(self, data, rows: list[tuple[str, int]], at: int | None = None) -> None:
        """Append neighbouring chunks in one write: ``data`` is their bytes, ``rows`` their
        ``(digest, size)`` in order (the caller hands each digest over once). ``at``: the run's
        offset in the file it comes from; a run of FILL_MIN_RUN bytes or more that would land at
        another offset within a page is put after a filler chunk (:func:`filler`), so that a
        checkout copies it page for page (copy_file_range on whole pages, as ``cp``)."""
        with self._lock:
            if at is not None and len(data) >= FILL_MIN_RUN:
                gap = (at - (self._size if self._fd >= 0 else 0)) % PAGE
                if gap:
                    digest, zeros = filler(gap)
                    self._append(memoryview(zeros), [(digest, gap)], install=False)
                    self.filled += gap
            self._append(memoryview(data), rows)

    def _append(self, view: memoryview, rows: list[tuple[str, int]], install: bool = True) -> None:
        if self._fd < 0:
            os.makedirs(self.folder, exist_ok=True)
            self._tmp = os.path.join(self.folder, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")
            self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        self._size += len(view)
        while view:
            view = view[os.write(self._fd, view):]
        self._rows += rows
        self._seen.update(d for d, _ in rows)
        if install and (self._size >= PACK_BYTES or len(self._rows) >= MAX_PACK_CHUNKS - 1024):
            self._install()

    def close(self) -> None:
        with self._lock:
            self._install()

    def abort(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._tmp)

    def _install(self) -> None:
        if self._fd < 0:
            return
        if self.durable:
            os.fsync(self._fd)
        os.close(self._fd)
        self._fd = -1
        data = encode_idx(self._rows)
        name = idx_name(data)
        try:
            os.replace(self._tmp, os.path.join(self.folder, f"{name}.pack"))
            tmp = os.path.join(self.folder, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")
            with open(tmp, "wb") as f:
                f.write(data)
                if self.durable:
                    f.flush()
                    os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, os.path.join(self.folder, f"{name}.idx"))
            if self.durable:
                fsync_dir(self.folder)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)
            raise
        self.installed.append((name, self._rows))
        if self.on_install is not None:
            self.on_install(name, self._rows)
        self._rows, self._size = [], 0


class ChunkPlaces(Mapping[str, Location]):
    """``digest -> Location`` of every chunk in a set of packs (the first pack added that holds it).

    Built with whole-list operations in C (a pack name per digest, and per pack a row number per
    digest and running offsets) rather than a Location object per chunk: every read and write of a
    chunked file loads the packs' indexes first, ~27,000 rows per GiB of packs, so this is on the
    path of every checkout. Locations are made when asked for."""

    def __init__(self) -> None:
        self._pack: dict[str, str] = {}  # digest -> pack name
        self._rows: dict[str, tuple[dict[str, int], list[int]]] = {}  # name -> (row of digest, running offsets)

    def add(self, name: str, rows: list[tuple[str, int]]) -> None:
        if type(rows) is list and chunklist.native():  # the same in one pass in C (_chunkrows.places)
            self._rows[name] = chunklist._native_places(rows, name, self._pack)
            return
        digests = list(map(itemgetter(0), rows))
        row_of = dict(zip(digests, range(len(digests))))
        if len(row_of) != len(digests):  # a chunk twice in the pack: its first row is where it is
            row_of = dict(zip(reversed(digests), range(len(digests) - 1, -1, -1)))
        self._rows[name] = (row_of, list(accumulate(map(itemgetter(1), rows), initial=0)))
        fresh = dict.fromkeys(digests, name)
        for d in fresh.keys() & self._pack.keys():  # held by a pack added before: that one stays
            del fresh[d]
        self._pack.update(fresh)

    def place(self, digest: str) -> tuple[str, int] | None:
        """``(pack, row)`` of ``digest``, or None: the cheap form of a lookup, for walking a list."""
        name = self._pack.get(digest)
        return None if name is None else (name, self._rows[name][0][digest])

    def offsets(self, name: str) -> list[int]:
        """The running offsets of pack ``name``'s rows (one more than it has rows: its size last)."""
        return self._rows[name][1]

    def __getitem__(self, digest: str) -> Location:
        name = self._pack[digest]
        row_of, offsets = self._rows[name]
        i = row_of[digest]
        return Location(name, offsets[i], offsets[i + 1] - offsets[i])

    def get(self, digest: str, default=None):  # type: ignore[override]
        return self[digest] if digest in self._pack else default

    def __contains__(self, digest: object) -> bool:
        return digest in self._pack

    def __iter__(self) -> Iterator[str]:
        return iter(self._pack)

    def __len__(self) -> int:
        return len(self._pack)


class PackIndex:
    """Which chunks a set of packs holds, and where: the union of their indexes (a chunk in two
    packs is found in the first added)."""

    def __init__(self) -> None:
        self.where = ChunkPlaces()
        self.packs: dict[str, list[tuple[str, int]]] = {}

    def add(self, name: str, rows: list[tuple[str, int]]) -> None:
        self.packs[name] = rows
        self.where.add(name, rows)


def _lock_fd(folder: str) -> int:
    """An open descriptor of ``chunks/lock`` (made when absent), or -1 where it cannot be made
    (a read-only store, which no gc can change either)."""
    try:
        os.makedirs(folder, exist_ok=True)  # a reader of a store with no pack yet takes the lock too
        return os.open(os.path.join(folder, LOCKFILE), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return -1


@contextlib.contextmanager
def exclusive(folder: str, wait_seconds: float) -> Iterator[bool]:
    """Hold ``chunks/lock`` exclusively, waiting at most ``wait_seconds`` for the readers and writers
    that hold it shared; yields whether it was taken (False: they are still at work)."""
    fd = _lock_fd(folder)
    if fd < 0:
        yield False
        return
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.02)
        yield True
    finally:
        os.close(fd)  # releases the lock


class IndexedPlaces(ChunkPlaces):
    """ChunkPlaces over a multi-pack index (:mod:`chunkmidx`): the packs added (those it does not
    cover, and those whose index was read) answer first, then the multi-pack index.

    ``load(name)`` adds pack ``name``'s rows (False when its index is gone or corrupt); a pack is
    loaded when the multi-pack index first names it for a chunk asked for. Every answer comes from
    a pack's own index: the multi-pack index only says which to read. A record naming a pack or
    row that does not hold the chunk makes it ``distrusted``: ``load_all`` then adds every pack,
    as without one."""

    def __init__(self, midx: chunkmidx.MultiPackIndex | None, load: Callable[[str], bool],
                 load_all: Callable[[], None]) -> None:
        super().__init__()
        self.midx, self._load, self._load_all = midx, load, load_all
        self.distrusted = False
        self._distrusting = threading.Lock()

    def _distrust(self) -> None:
        """Read every pack's index, then stop consulting the multi-pack index. In that order: a
        thread that finds ``midx`` None answers from the packs added, which are then all of them
        (cleared first, a lookup meanwhile would miss a chunk of a covered pack not yet read)."""
        with self._distrusting:  # a second thread finding the lie waits for the first's reads
            if self.distrusted:
                return
            self._load_all()
            self.midx, self.distrusted = None, True

    def place(self, digest: str) -> tuple[str, int] | None:
        midx = self.midx  # (another thread may distrust it meanwhile)
        if digest not in self._pack and midx is not None:
            try:
                at = midx.find(digest)
            except CorruptObjectError:  # a record outside the index's own tables
                at = None
                self._distrust()
            # ``load`` returns once the pack is wholly added, by this thread or another (readers
            # look chunks up from several threads: a push's uploads, a fetch's writers)
            if at is not None and not (self._load(at[0]) and self._rows[at[0]][0].get(digest) == at[1]):
                self._distrust()  # the index named a pack or row that does not hold it
        return super().place(digest)

    def look_again(self, digest: str) -> tuple[str, int] | None:
        """After :meth:`place` missed ``digest``: read every pack's index (once) and look again, so a
        multi-pack index that leaves a chunk out never makes a read report it missing; one that
        did is distrusted (rewritten on close). For error paths: it may read every pack index."""
        if self.midx is not None:
            self._load_all()
            if super().place(digest) is not None:
                self._distrust()
        return super().place(digest)

    def offsets(self, name: str) -> list[int]:
        if name not in self._rows and not self._load(name):
            raise KeyError(name)
        return super().offsets(name)

    def get(self, digest: str, default=None):  # type: ignore[override]
        return default if self.place(digest) is None else super().__getitem__(digest)

    def __getitem__(self, digest: str) -> Location:
        if self.place(digest) is None:
            raise KeyError(digest)
        return super().__getitem__(digest)

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, str) and self.place(digest) is not None

    def __iter__(self) -> Iterator[str]:
        yield from self._pack
        if self.midx is not None:
            yield from (d for d in self.midx if d not in self._pack)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _PackRows(Mapping[str, list[tuple[str, int]]]):
    """``pack -> rows`` of every complete pack, each pack's index read when first asked for."""

    def __init__(self, names: Iterable[str], load: Callable[[str], bool]) -> None:
        self._names = dict.fromkeys(names)
        self._load = load
        self.read: dict[str, list[tuple[str, int]]] = {}

    def __setitem__(self, name: str, rows: list[tuple[str, int]]) -> None:
        self._names[name] = None
        self.read[name] = rows

    def __getitem__(self, name: str) -> list[tuple[str, int]]:
        if name not in self.read and (name not in self._names or not self._load(name)):
            raise KeyError(name)
        return self.read[name]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)

    def items(self) -> list[tuple[str, list[tuple[str, int]]]]:  # type: ignore[override]
        """Every pack whose index reads, with its rows (a pack whose index is gone or corrupt drops out)."""
        return [(n, self.read[n]) for n in list(self._names) if n in self.read or self._load(n)]

    def forget(self, name: str) -> None:
        self._names.pop(name, None)


FOLD_AT = 8  # packs outside the multi-pack index that make a reader or writer fold them into it


class LocalPacks(PackIndex):
    """The local store's chunk packs: where each chunk is, and open descriptors for reading.

    Chunks are found through the multi-pack index (:mod:`chunkmidx`) where there is a sound one
    covering only packs still present; the indexes of the packs it does not cover are read at
    once, those of the packs it covers only when a caller asks for their rows. On ``close`` an
    absent or unsound multi-pack index is rebuilt, and one that leaves FOLD_AT packs or more
    outside has them folded in. ``every_index`` reads every pack's index at once, without the
    multi-pack index (gc, which goes through them all).

    Unless ``shared_lock`` is False (gc itself), it holds ``chunks/lock`` shared from before the
    indexes are read until ``close``: no pack it may read, and no pack a writer decided it need
    not write a chunk to, is removed meanwhile."""

    def __init__(self, folder: str, shared_lock: bool = True, every_index: bool = False) -> None:
        super().__init__()
        self.folder = folder
        self._fds: dict[str, int] = {}
        self._lock = threading.Lock()
        self._reading = threading.RLock()
        self._flock = _lock_fd(folder) if shared_lock else -1
        self._fold = shared_lock and not every_index
        self.midx = None
        try:
            if self._flock >= 0:
                fcntl.flock(self._flock, fcntl.LOCK_SH)  # waits only while a gc removes packs
            # the index before the listing: under the shared lock every pack an index names was
            # installed before the index, so a listing taken after it names them all (taken before,
            # an index written between the two would be thrown away and rewritten with fewer packs)
            midx = None if every_index else self._open_midx()
            present = sorted(self.names())
            self.midx = self._sound(midx, set(present))
            covered = set(self.midx.names) if self.midx else set()
            self.packs = _PackRows(present, self._read)
            self.where = IndexedPlaces(self.midx, self._read, self._read_all)
            self._missing_midx = self.midx is None
            for name in present:
                if name not in covered:
                    self._read(name)
        except BaseException:  # (a pack index unreadable: the lock is not left held)
            self._release()
            raise

    def _open_midx(self) -> chunkmidx.MultiPackIndex | None:
        try:
            self.midx = chunkmidx.open_index(self.folder)  # (released by _release if the listing fails)
        except (CorruptObjectError, OSError, ValueError):
            return None  # rebuilt on close
        return self.midx

    @staticmethod
    def _sound(midx: chunkmidx.MultiPackIndex | None, present: set[str]) -> chunkmidx.MultiPackIndex | None:
        if midx is not None and not set(midx.names) <= present:
            midx.close()  # it names a pack gc has removed since: read the pack indexes
            return None
        return midx

    def _read(self, name: str) -> bool:
        """Read pack ``name``'s index into the places (once; a thread asking while another reads it
        waits until it is wholly added); False when it is gone or corrupt."""
        with self._reading:
            if name in self.packs.read:
                return True
            try:
                with open(os.path.join(self.folder, f"{name}.idx"), "rb") as f:
                    self.add(name, parse_idx(f.read(MAX_IDX_BYTES + 1), name))
                return True
            except FileNotFoundError:
                pass  # removed by gc since it was listed
            except CorruptObjectError:
                pass  # its chunks count as absent; fsck reports the index
            self.packs.forget(name)
            return False

    def add(self, name: str, rows: list[tuple[str, int]]) -> None:
        with self._reading:  # (a pack writer's thread adds the packs it installs)
            super().add(name, rows)

    def _read_all(self) -> None:
        for name in self.packs:
            self._read(name)

    def names(self) -> Iterator[str]:
        """Names of complete packs (those with an index)."""
        try:
            entries = os.listdir(self.folder)
        except FileNotFoundError:
            return
        for n in entries:
            parts = split_name(n)
            if parts is not None and parts[1] == "idx":
                yield parts[0]

    def path(self, name: str, kind: str = "pack") -> str:
        return os.path.join(self.folder, f"{name}.{kind}")

    def fd(self, name: str) -> int:
        """An open descriptor of pack ``name`` (kept until ``close``)."""
        with self._lock:
            fd = self._fds.get(name)
            if fd is None:
                fd = self._fds[name] = os.open(self.path(name), os.O_RDONLY | os.O_CLOEXEC)
            return fd

    def read_checked(self, loc: Location, digest: str) -> tuple[bytes, str]:
        """The bytes of chunk ``digest`` at ``loc`` (one pread) and what is wrong with them, in words
        ('' when they are whole and hash to ``digest``); FileNotFoundError when its pack is gone."""
        data = os.pread(self.fd(loc.pack), loc.size, loc.offset)
        if len(data) != loc.size:
            return data, f"is cut short in pack {loc.pack}"
        if blake3.blake3(data).hexdigest() != digest:
            return data, f"is corrupt in pack {loc.pack} (its bytes hash to another digest)"
        return data, ""

    def fold(self) -> bool:
        """Write the multi-pack index anew when it is absent, unsound, or leaves FOLD_AT packs or
        more outside: the sound one's records kept, the other packs' merged in (every pack's
        rows otherwise); True when written. A cache: failing to write it is no error."""
        covered = set(self.midx.names) if self.midx else set()
        outside = [n for n in sorted(self.packs.read) if n not in covered]
        if not (self._missing_midx or self.where.distrusted or len(outside) >= FOLD_AT) or not self.packs:
            return False
        base = self.where.midx
        if base is None:
            self._read_all()
            outside = sorted(self.packs.read)
        try:
            chunkmidx.write(self.folder, chunkmidx.parts([(n, self.packs.read[n]) for n in outside], base))
        except (OSError, CorruptObjectError):
            return False
        return True

    def close(self) -> None:
        """Fold the multi-pack index (see :meth:`fold`), then release the map, the pack descriptors
        and the shared lock, even when the fold fails (a Ctrl-C while the index is written)."""
        with self._lock:
            try:
                if self._fold and self._flock >= 0:
                    self._fold = False
                    self.fold()  # under the shared lock: no pack it names goes meanwhile
            finally:
                self._release()

    def _release(self) -> None:
        if self.midx is not None:
            self.midx.close()
            self.midx = None
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()
        if self._flock >= 0:
            os.close(self._flock)  # releases the shared lock
            self._flock = -1
