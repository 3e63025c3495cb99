"""Large files in the content store: their chunks in chunk packs, plus a chunk list.

A file of ``CHUNK_THRESHOLD`` bytes or more is stored whole when it first
arrives (chunking a file with no earlier version shares nothing and costs
three times the work), and once a second version of it is logged
(:func:`convert`, run by the log on the earlier version and the new one),
or it is pushed or fetched, as its content-defined chunks, each stored once
(a chunk shared by two versions, or two files, is not written again),
appended to chunk packs under ``chunks/`` beside ``content/``
(:mod:`chunkpacks`: one sequential write, not a file per chunk), and a chunk list named by the file's digest at ``chunklists/<xx>/<rest>``.
The file's digest stays the blake3 of all its bytes: chunking is invisible
above the store.

Writing reads the file once, in private blocks, through a pipeline of
threads: one reads, one cuts chunks, one hashes the whole file, one hashes
each chunk, one appends the new ones to a pack;
the pack's index is written after the pack and the list last, so a list's
presence means all its chunks are stored. Reading reassembles the file and
checks the whole-file digest in the same pass, a chunk (or a run of
neighbouring chunks) at a time, so memory does not grow with the file; a
missing or corrupt chunk is an error naming the file and the chunk, never
wrong bytes.
"""
from __future__ import annotations

import io
import os
import queue
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import blake3

from . import chunking
from .chunking import Cutter, read_blocks
from .copyhash import STEP, HashBehind, RangeCopier, check_stop, preallocate
from .chunklist import LISTS, ChunkList, parse
from .chunkruns import list_bytes, text_runs
from .chunkpacks import TMP_PREFIX, LocalPacks, PackWriter, folder_of
from .durability import sync_filesystem
from .errors import CorruptObjectError, ObjectMissingError
from .formatrecord import raise_format
from .placefile import stat_renamed, unlink_quiet

if TYPE_CHECKING:
    from .store import ContentStore

CHUNKED_FORMAT = 2  # the repository format that has chunk lists (artvcs-format(5))
_DEPTH = 3  # blocks queued per worker: bounds memory at a few blocks


class _Worker(threading.Thread):
    """Runs ``fn`` on each queued item, in order; the first error is kept and later items skipped."""

    def __init__(self, fn: Callable, depth: int = _DEPTH) -> None:
        super().__init__(daemon=True)
        self.fn, self.q, self.error = fn, queue.Queue(depth), None

    def run(self) -> None:
        while (item := self.q.get()) is not None:
            if self.error is None:
                try:
                    self.fn(item)
                except BaseException as e:  # raised again by the caller through finish()
                    self.error = e

    def finish(self) -> None:
        self.q.put(None)
        self.join()
        if self.error is not None:
            raise self.error


class _Buffers:
    """Block buffers handed back once every stage that reads a block is done with it, and handed
    out again: a fresh buffer costs zeroing and faulting in 8 MiB. Never waits for one (a new one is
    made), so a stage that stopped on an error cannot stall the reader; the queues between stages
    bound how many are in use."""

    def __init__(self) -> None:
        self.free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._users: dict[int, int] = {}

    def new(self) -> bytearray:
        try:
            return self.free.get_nowait()
        except queue.Empty:
            return bytearray(chunking.MAX_SIZE + chunking.BLOCK)

    def share(self, buf: bytearray, users: int) -> None:
        """``buf`` is now read by ``users`` stages, each of which calls :meth:`done` once."""
        with self._lock:
            self._users[id(buf)] = users

    def done(self, buf: bytearray) -> None:
        with self._lock:
            left = self._users[id(buf)] - 1
            if left:
                self._users[id(buf)] = left
                return
            del self._users[id(buf)]
        self.free.put(buf)


def packs_dir(store: "ContentStore") -> str:
    return folder_of(os.path.dirname(store.root))


def local_packs(store: "ContentStore") -> LocalPacks:
    """The store's chunk packs as they are now (indexes read once)."""
    return LocalPacks(packs_dir(store))


def pack_writer(store: "ContentStore", packs: LocalPacks) -> PackWriter:
    """A writer of new packs that the reader ``packs`` learns of as each is installed."""
    return PackWriter(packs_dir(store), on_install=packs.add)


def store_chunked(store: "ContentStore", fd: int, expect: str | None = None) -> tuple[str, int]:
    """Store the file open at ``fd`` (read from its current offset) as chunks and a chunk list;
    return ``(digest, size)`` of the bytes read. Chunks already stored are not written again.
    With ``expect``, bytes that do not hash to it get no list: CorruptObjectError (their chunks
    stay in a pack until gc, named by no list).

    A pipeline of threads, each handed whole blocks in file order: this one reads, one cuts (the C
    cutter releases the GIL), one hashes the whole file, one hashes each chunk (blake3 releases the
    GIL for inputs of 2 KiB and more) and looks it up, one appends runs of new chunks to a pack. So
    the work spreads over the cores, and memory stays at a few blocks per stage.
    """
    whole = blake3.blake3()
    chunks: list[tuple[str, int]] = []
    packs = local_packs(store)
    writer = pack_writer(store, packs)
    reused: set[str] = set()
    queued: set[str] = set()  # new chunks handed to the writer (never twice)
    filepos = [0]  # the file offset where the next block's first chunk starts (find_new's own)
    cutter = Cutter()
    buffers = _Buffers()

    def cut(block: tuple[bytearray, int]) -> None:
        buf = block[0]
        view, cuts = cutter.cut(*block)
        if not cuts:
            return
        end = cuts[-1][0] + cuts[-1][1]
        buffers.share(buf, 2)
        hash_whole.q.put((buf, view[:end]))
        hash_chunks.q.put((buf, view, cuts, end))

    def update_whole(block: tuple[bytearray, memoryview]) -> None:
        whole.update(block[1])
        buffers.done(block[0])

    def find_new(block: tuple[bytearray, memoryview, list[tuple[int, int]], int]) -> None:
        buf, view, cuts, end = block
        runs: list[tuple[memoryview, list[tuple[str, int]], int]] = []
        start, rows = 0, []  # the run of neighbouring new chunks being gathered
        base = filepos[0] - cuts[0][0]  # the file offset of view[0]
        for off, n in cuts:
            d = blake3.blake3(view[off:off + n]).hexdigest()
            chunks.append((d, n))
            at = packs.where.place(d)
            if at is None and d not in queued:
                if not rows:
                    start = off
                rows.append((d, n))
                queued.add(d)
                continue
            if at is not None and at[0] not in reused:  # a gc beside us must see it in use
                reused.add(at[0])
                touch(packs.path(at[0], "idx"))
            if rows:
                runs.append((view[start:off], rows, base + start))
                rows = []
        if rows:
            runs.append((view[start:end], rows, base + start))
        filepos[0] = base + end
        if runs:
            write_new.q.put((buf, runs))
        else:
            buffers.done(buf)

    def write_runs(block: tuple[bytearray, list[tuple[memoryview, list[tuple[str, int]], int]]]) -> None:
        buf, runs = block
        for data, rows, at in runs:
            writer.add_run(data, rows, at)  # (in the file's page phase: see PackWriter.add_run)
        buffers.done(buf)

    cutting, hash_whole, hash_chunks, write_new = stages = [  # two blocks queued per stage: ~10 in use
        _Worker(cut, 2), _Worker(update_whole, 2), _Worker(find_new, 2), _Worker(write_runs, 2)]
    for w in stages:
        w.start()
    try:
        try:
            for block in read_blocks(fd, buffers.new):
                if any(w.error is not None for w in stages):  # no use reading on: the write has failed
                    break
                cutting.q.put(block)
        finally:
            errors = []
            for w in stages:  # in pipeline order: each stage has had all its input when it is finished
                try:
                    w.finish()
                except BaseException as e:
                    errors.append(e)
            if errors:
                raise errors[0]
        writer.close()
        lst = ChunkList(whole.hexdigest(), sum(n for _, n in chunks), tuple(chunks))
        if expect is not None and lst.digest != expect:
            raise CorruptObjectError(
                f"content {expect} is corrupt (its bytes hash to {lst.digest}): not converted to chunks; "
                "restore it from a remote or re-log it")
        put_list(store, lst)
    except BaseException:
        writer.abort()
        raise
    finally:
        packs.close()  # the shared chunk lock held until the list is written (chunkprune)
    return lst.digest, lst.size


def convert(store: "ContentStore", digest: str, min_size: int) -> bool:
    """Store the whole-stored large file ``digest`` as chunks, then remove its whole file; False
    when there is nothing to convert (absent, already chunked, or smaller than ``min_size``).

    Order, so that ``digest`` is readable at every instant and a crash at any point loses
    nothing: the chunks and their pack index, then the list (only if the bytes hash to
    ``digest``), then one flush of the file system (:func:`durability.sync_filesystem`), then
    the whole file is unlinked. A reader that has it open keeps reading it; one that opens it
    later finds the list. A crash before the unlink leaves both forms, which read alike; the
    next conversion only removes the whole file. Bytes that do not hash to ``digest`` (a
    damaged store file) are left whole and raise CorruptObjectError.
    """
    whole = store.path_of(digest)
    if not os.path.exists(list_path(store, digest)):
        try:
            fd = os.open(whole, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            if os.fstat(fd).st_size < min_size:
                return False
            store_chunked(store, fd, expect=digest)
        finally:
            os.close(fd)
    elif not os.path.exists(whole):
        return False
    sync_filesystem(store.root)  # the packs, their indexes and the list on disk before the whole file goes
    unlink_quiet(whole)
    return True


# -- lists ------------------------------------------------------------------------
def lists_root(store: "ContentStore") -> str:
    return os.path.join(os.path.dirname(store.root), LISTS)


def list_path(store: "ContentStore", digest: str) -> str:
    return store.list_path(digest)


def put_list(store: "ContentStore", lst: ChunkList) -> None:
    """Write ``lst`` under its file's digest (after all its chunks: its presence vouches for them)."""
    final = list_path(store, lst.digest)
    if os.path.exists(final):
        touch(final)
        return
    require_chunked_format(os.path.dirname(store.root))
    folder = os.path.dirname(final)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
    try:
        try:
            os.write(fd, lst.encode())
        finally:
            os.close(fd)
        os.replace(tmp, final)
    except BaseException:
        unlink_quiet(tmp)
        raise


def read_list(store: "ContentStore", digest: str) -> ChunkList:
    """The stored chunk list of ``digest``; ObjectMissingError when there is none."""
    return parse(_list_bytes(store, digest), digest)


def _list_bytes(store: "ContentStore", digest: str) -> bytes:
    """The stored bytes of the chunk list of ``digest``, unparsed; ObjectMissingError when there is none."""
    try:
        return list_bytes(list_path(store, digest))
    except FileNotFoundError:
        raise ObjectMissingError(
            f"content {digest} is not in the store: fetch it from a remote (artvcs pull) or re-log the files"
        ) from None


def iter_lists(store: "ContentStore") -> Iterator[str]:
    """The file digests that have a chunk list (temporary files skipped)."""
    root = lists_root(store)
    if not os.path.isdir(root):
        return
    for fan in sorted(os.listdir(root)):
        folder = os.path.join(root, fan)
        if len(fan) == 2 and os.path.isdir(folder):
            for rest in os.listdir(folder):
                if not rest.startswith(".tmp-"):
                    yield fan + rest


def iter_list_tmp(store: "ContentStore") -> Iterator[str]:
    root = lists_root(store)
    if os.path.isdir(root):
        for fan in os.listdir(root):
            folder = os.path.join(root, fan)
            if os.path.isdir(folder):
                yield from (os.path.join(folder, r) for r in os.listdir(folder) if r.startswith(".tmp-"))


def require_chunked_format(gitdir: str) -> None:
    """Raise the repository's format record to 2 before its first chunk list is written, so
    an artvcs that knows only format 1 refuses the repository instead of missing content."""
    raise_format(gitdir, CHUNKED_FORMAT)


# -- reading ----------------------------------------------------------------------------
def _chunk_error(lst: ChunkList, i: int, problem: str) -> CorruptObjectError:
    d, n = lst.chunks[i]
    return CorruptObjectError(
        f"content {lst.digest}: chunk {i + 1} of {len(lst.chunks)} ({d}, {n} bytes) {problem}: "
        "restore it from a remote (artvcs pull) or re-log the file"
    )


def _missing_chunk(lst: ChunkList, i: int) -> ObjectMissingError:
    d, _ = lst.chunks[i]
    return ObjectMissingError(
        f"content {lst.digest}: chunk {i + 1} of {len(lst.chunks)} ({d}) is missing from the store: "
        "fetch it from a remote (artvcs pull) or re-log the file"
    )


def _locate(packs: LocalPacks, lst: ChunkList, i: int):
    d, n = lst.chunks[i]
    loc = packs.where.get(d)
    if loc is None:
        if packs.where.look_again(d) is None:  # (the multi-pack index may have left it out)
            raise _missing_chunk(lst, i)
        loc = packs.where.get(d)
    if loc.size != n:
        raise _chunk_error(lst, i, f"is {loc.size} bytes in pack {loc.pack}")
    return loc


def read_chunk(packs: LocalPacks, lst: ChunkList, i: int) -> bytes:
    """Chunk ``i`` of ``lst``, checked against its digest and size."""
    loc = _locate(packs, lst, i)
    try:
        data, wrong = packs.read_checked(loc, lst.chunks[i][0])
    except FileNotFoundError:
        raise _missing_chunk(lst, i) from None
    if wrong:
        raise _chunk_error(lst, i, wrong)
    return data


class ChunkedReader(io.RawIOBase):
    """A read-only stream of a chunked file: each chunk checked as it is read, and the whole-file
    digest checked at the end, before end-of-file is reported."""

    def __init__(self, packs: LocalPacks, lst: ChunkList, own: bool = True) -> None:
        super().__init__()
        self.packs, self.lst, self._own = packs, lst, own
        self._i, self._buf, self._pos = 0, b"", 0
        self._whole = blake3.blake3()

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while self._pos >= len(self._buf):
            if self._i >= len(self.lst.chunks):
                if self._whole is not None:
                    if self._whole.hexdigest() != self.lst.digest:
                        raise CorruptObjectError(f"content {self.lst.digest}: its chunks rebuild other bytes: refused")
                    self._whole = None
                return 0
            self._buf, self._pos = read_chunk(self.packs, self.lst, self._i), 0
            self._whole.update(self._buf)
            self._i += 1
        n = min(len(b), len(self._buf) - self._pos)
        b[:n] = self._buf[self._pos:self._pos + n]
        self._pos += n
        return n

    def close(self) -> None:
        if self._own and not self.closed:
            self.packs.close()
        super().close()


def open_chunked(store: "ContentStore", digest: str) -> io.BufferedReader:
    """A verified reader of the chunked file ``digest``."""
    lst = read_list(store, digest)
    return io.BufferedReader(ChunkedReader(local_packs(store), lst), 1024 * 1024)


def verify_chunked(store: "ContentStore", digest: str) -> None:
    """Re-hash every chunk and the whole file; raise naming the first bad chunk."""
    with open_chunked(store, digest) as f:
        while f.read(8 * 1024 * 1024):
            pass


def _runs(packs: LocalPacks, lst: ChunkList) -> Iterator[tuple[str, int, int, int]]:
    """``(pack, offset, length, first chunk)`` of the runs of ``lst``'s chunks that lie back to back
    in one pack, in file order: a fresh file's chunks are a few runs of a whole pack each.

    A run is found by comparing the list's rows with the pack's rows from where its first chunk
    is, as whole slices (in C), not chunk by chunk: walking a 1 GiB file's ~27,000 chunks in
    Python cost a tenth of the copy. A chunk absent from every pack, or of another size in its
    pack than in the list, is an error naming it."""
    rows = list(lst.chunks)
    place, i = packs.where.place, 0
    while i < len(rows):
        at = place(rows[i][0])
        if at is None and (at := packs.where.look_again(rows[i][0])) is None:
            raise _missing_chunk(lst, i)
        pack, row = at
        pack_rows = packs.packs[pack]
        if pack_rows[row][1] != rows[i][1]:
            raise _chunk_error(lst, i, f"is {pack_rows[row][1]} bytes in pack {pack}")
        k = _common_run(rows, i, pack_rows, row)
        offsets = packs.where.offsets(pack)
        yield pack, offsets[row], offsets[row + k] - offsets[row], i
        i += k


def _common_run(a: list, i: int, b: list, j: int) -> int:
    """How many rows from ``a[i]`` on equal those from ``b[j]`` on (``a[i] == b[j]`` is known):
    one slice comparison when the rest agrees, else a binary search of slice comparisons."""
    hi = min(len(a) - i, len(b) - j)
    if a[i:i + hi] == b[j:j + hi]:
        return hi
    lo = 1  # a[i:i + lo] == b[j:j + lo] holds, a[i:i + hi] == b[j:j + hi] does not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[i:i + mid] == b[j:j + mid]:
            lo = mid
        else:
            hi = mid
    return lo


def write_chunked(store: "ContentStore", digest: str, dst_fd: int, stop: threading.Event | None = None) -> int:
    """Write the chunked file ``digest`` into the empty ``dst_fd`` (open for reading too) and check
    the written bytes against ``digest`` on the way; return its size.

    The kernel copies each run of neighbouring chunks from its pack (copyhash.RangeCopier:
    copy_file_range, or splice in target-aligned rounds for a run that starts mid-page in its pack;
    STEP bytes a call) while a thread hashes what has been written so far, read back from
    ``dst_fd`` (copyhash.HashBehind): the bytes checked are the bytes the caller gets, and the hash
    runs beside the copy, one STEP behind. No chunk is hashed on its own: only on a mismatch are
    the chunks hashed one by one, to name the bad one. Once ``stop`` is set the copy ends at the
    next step (StoppedError, see :func:`copyhash.check_stop`). The runs come from the texts of the
    list and the pack indexes (:func:`chunkruns.text_runs`, no object per chunk); where that does not
    apply, or finds anything amiss, from the parsed list (:func:`_runs`), which names what is wrong.
    """
    raw = _list_bytes(store, digest)
    packs = local_packs(store)
    off = hashed = 0
    try:
        plan = text_runs(packs, raw, digest)  # from the texts, in C; else the parsed rows (and their errors)
        lst = None if plan is not None else parse(raw, digest)
        size, runs = plan if plan is not None else (lst.size, _runs(packs, lst))
        preallocate(dst_fd, size)
        hasher = HashBehind(dst_fd)
        try:
            with RangeCopier() as copier:  # (runs that start mid-page in their pack: see RangeCopier)
                for pack, start, length, first in runs:
                    sfd, end = packs.fd(pack), off + length
                    while off < end:
                        check_stop(stop)
                        n = min(STEP - off % STEP, end - off)  # steps end on STEP boundaries of the target
                        done = copier.copy(sfd, dst_fd, n, start + off - (end - length), off)
                        if done != n:
                            _name_short_chunk(packs, lst or parse(raw, digest), first)
                        off += n
                        if off % STEP == 0:
                            hasher.put(hashed, off - hashed)
                            hashed = off
            hasher.put(hashed, off - hashed)
        except BaseException:
            hasher.stop()
            raise
        actual = hasher.finish()
        if off != size or actual != digest:
            lst = lst or parse(raw, digest)
            for i in range(len(lst.chunks)):
                read_chunk(packs, lst, i)  # raises naming the bad chunk
            raise CorruptObjectError(f"content {digest}: the bytes written do not hash to it: refused")
    finally:
        packs.close()
    return off


def _name_short_chunk(packs: LocalPacks, lst: ChunkList, first: int) -> None:
    """Raise naming the first chunk from ``first`` on that its pack cuts short (a copy came up short)."""
    for i in range(first, len(lst.chunks)):
        read_chunk(packs, lst, i)
    raise _chunk_error(lst, first, "is cut short in its pack")


def chunk_digests(store: "ContentStore", digest: str) -> list[str]:
    """The chunk digests of the chunked file ``digest`` (empty when it is stored whole or absent)."""
    try:
        return [d for d, _ in read_list(store, digest).chunks]
    except ObjectMissingError:
        return []


def touch(path: str) -> None:
    try:
        os.utime(path)
    except OSError:
        pass



def place_chunked(store: "ContentStore", digest: str, target: str, tmp_name: str,
                  stop: threading.Event | None = None) -> os.stat_result | None:
    """Write the chunked file ``digest`` as ``tmp_name`` (a new file, mode 0666 less the umask),
    checked on the way, and only once its bytes hash to ``digest`` rename it to ``target`` (over
    what is there): a reader sees the old file or the whole new one, and a failed write (a
    missing or corrupt chunk) or a crash leaves nothing under the target's name. Its stat after
    the rename (:func:`placefile.stat_renamed`; None if it changed since). ``stop``: see
    :func:`write_chunked` (a stopped write leaves nothing either)."""
    fd = os.open(tmp_name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        try:
            write_chunked(store, digest, fd, stop)
            st = os.fstat(fd)
        finally:
            os.close(fd)
        os.replace(tmp_name, target)
    except BaseException:
        unlink_quiet(tmp_name)
        raise
    return stat_renamed(target, st)


def check_chunks(store: "ContentStore", digest: str) -> None:
    """Raise naming the first chunk of ``digest`` absent from the store's packs (no hashing)."""
    lst = read_list(store, digest)
    packs = local_packs(store)
    try:
        for i in range(len(lst.chunks)):
            _locate(packs, lst, i)
    finally:
        packs.close()


def pack_files(store: "ContentStore") -> list[str]:
    """Every file under ``chunks/`` (for fsck's report of leftovers)."""
    try:
        return [os.path.join(packs_dir(store), n) for n in os.listdir(packs_dir(store)) if n.startswith(TMP_PREFIX)]
    except FileNotFoundError:
        return []

