"""Moving chunked files between the local store and a remote: only the chunks the other side lacks.

Push: the chunks of files whose list the remote lacks, minus those already in
a remote chunk pack, are read from the store (each checked against its
digest), written into packs of about 64 MiB, and uploaded pack first, index
second; then the chunk lists, which name only chunks now on the remote. An
interrupted push leaves complete packs that the next one finds in the index
and does not send again.

Fetch: a file's list is read (bounded, parsed strictly), the chunks the
store lacks are located in the remote's pack indexes and read by byte
ranges (neighbouring chunks of one pack in one request), in parallel; every
chunk is hashed before it is stored, the whole file is rebuilt and hashed
against its digest, and only then is the list installed. A fetch that stops
half-way keeps the chunks it stored; running it again fetches the rest.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterable

import blake3

from .. import chunkpacks, chunkstore
from ..chunklist import ChunkList, parse
from ..chunkpacks import MAX_IDX_BYTES, Location, PackIndex, encode_idx, idx_name, parse_idx, split_name
from ..errors import CorruptObjectError, ObjectMissingError
from ..store import ContentStore, _unlink_quiet
from .pool import HEAD_LIMIT, parallel
from .errors import RemoteFormatError
from .layout import RemoteRepo, chunked_layout

LISTS = "chunklists/"
CHUNKS = "chunks/"
MAX_LIST_BYTES = 128 * 1024 * 1024  # a list this size names ~1.7 million chunks (a file of ~130 GiB)
RANGE_BYTES = 8 * 1024 * 1024  # neighbouring chunks are read together up to this many bytes


def list_key(digest: str) -> str:
    return f"{LISTS}{digest[:2]}/{digest[2:]}"


def pack_key(name: str) -> str:
    return f"{CHUNKS}{name}.pack"


def idx_key(name: str) -> str:
    return f"{CHUNKS}{name}.idx"


def complete_packs(remote: RemoteRepo) -> list[str]:
    """Names of the remote's chunk packs whose index is listed (so whose pack is whole)."""
    seen: dict[str, set[str]] = {}
    for s in remote.backend.list(CHUNKS):
        parts = split_name(s.key[len(CHUNKS):])
        if parts:
            seen.setdefault(parts[0], set()).add(parts[1])
    return sorted(n for n, kinds in seen.items() if kinds == {"pack", "idx"})


class RemoteChunkIndex(PackIndex):
    """Which chunks a remote holds, and where: the union of its pack indexes, each checked against
    its name and cached under ``.artifacts/remotes/<name>/chunkidx/`` (immutable: fetched once)."""

    def __init__(self, remote: RemoteRepo, cache_dir: str) -> None:
        super().__init__()
        self.remote, self.cache_dir = remote, cache_dir

    def load(self) -> "RemoteChunkIndex":
        names = complete_packs(self.remote)
        for name, rows in zip(names, parallel(self._rows, names)):
            self.add(name, rows)
        return self

    def _rows(self, name: str) -> list[tuple[str, int]]:
        cached = os.path.join(self.cache_dir, name)
        try:
            with open(cached, "rb") as f:
                return parse_idx(f.read(MAX_IDX_BYTES + 1), name)
        except (FileNotFoundError, CorruptObjectError):
            pass
        st = self.remote.backend.stat(idx_key(name))
        if st is not None and st.size > MAX_IDX_BYTES:
            raise RemoteFormatError(f"chunk pack index {name} on {self.remote.name} is {st.size} bytes: refused")
        found = self.remote.backend.read(idx_key(name), limit=MAX_IDX_BYTES)  # the listing's size is the remote's word
        if found is None:
            return []  # removed since it was listed (remote gc): its chunks are not there
        try:
            rows = parse_idx(found[0], name)
        except CorruptObjectError as e:
            raise CorruptObjectError(f"remote {self.remote.name}: {e}") from None
        self.remember(name, found[0])
        return rows

    def remember(self, name: str, data: bytes) -> None:
        """Cache an index this process checked (or wrote)."""
        os.makedirs(self.cache_dir, exist_ok=True)
        tmp = os.path.join(self.cache_dir, f".tmp-{os.getpid()}-{secrets.token_hex(6)}")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.cache_dir, name))


def index(remote: RemoteRepo, gitdir: str) -> RemoteChunkIndex:
    cache = os.path.join(gitdir, "remotes", _safe(remote.name), "chunkidx")
    return RemoteChunkIndex(remote, cache)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "_"


def remote_lists(remote: RemoteRepo, digests: list[str]) -> set[str]:
    """Which of ``digests`` have a chunk list on the remote: a HEAD each when few, else one listing."""
    if len(digests) > HEAD_LIMIT:
        listed = {s.key[len(LISTS):].replace("/", "") for s in remote.backend.list(LISTS)}
        return listed & set(digests)
    there = parallel(lambda d: remote.backend.stat(list_key(d)) is not None, digests)
    return {d for d, ok in zip(digests, there) if ok}


# -- push ---------------------------------------------------------------------------------
def upload(remote: RemoteRepo, store: ContentStore, digests: Iterable[str]) -> tuple[int, int]:
    """Send the chunked files ``digests`` the remote lacks; return ``(objects, bytes)`` sent
    (packs, their indexes and lists)."""
    wanted = sorted(set(digests))
    if not wanted:
        return 0, 0
    have = remote_lists(remote, wanted)
    lists = [chunkstore.read_list(store, d) for d in wanted if d not in have]
    if not lists:
        return 0, 0
    idx = index(remote, os.path.dirname(store.root)).load()
    needed: dict[str, int] = {}
    for lst in lists:
        for d, n in lst.chunks:
            if d not in idx.where:
                needed.setdefault(d, n)
    groups = _groups(needed.items())
    by_chunk = {d: (lst, i) for lst in lists for i, (d, _) in enumerate(lst.chunks)}
    work = os.path.join(os.path.dirname(store.root), "remotes", "tmp")
    os.makedirs(work, exist_ok=True)
    local = chunkstore.local_packs(store)
    mine: dict[str, list[tuple[str, int]]] = {}  # the packs this push wrote

    def send(group: list[tuple[str, int]]) -> int:
        data = encode_idx(group)
        name = idx_name(data)
        tmp = os.path.join(work, f"chunkpack-{os.getpid()}-{secrets.token_hex(6)}")
        try:
            with open(tmp, "wb") as f:
                for d, _ in group:
                    lst, i = by_chunk[d]
                    f.write(chunkstore.read_chunk(local, lst, i))  # checked: a bad local chunk is never sent
            remote.backend.upload(pack_key(name), tmp)
            sent = os.path.getsize(tmp)
        finally:
            _unlink_quiet(tmp)
        remote.backend.write(idx_key(name), data)  # last: a listed index means a whole pack
        idx.remember(name, data)
        mine[name] = group
        return sent + len(data)

    try:
        sent = sum(parallel(send, groups, stage="uploading chunks"))
        chunked_layout(remote)  # before the first list: an older artvcs must refuse this remote
        for lst in lists:
            body = lst.encode()
            remote.backend.write(list_key(lst.digest), body)
            sent += len(body)
        sent += _resend_hidden(remote, idx, lists, dict(mine), send)
    finally:
        local.close()
    return len(lists), sent


def _groups(chunks: Iterable[tuple[str, int]]) -> list[list[tuple[str, int]]]:
    """``chunks`` cut into packs of about PACK_BYTES (and within an index's row limit)."""
    groups: list[list[tuple[str, int]]] = []
    size = 0
    for d, n in chunks:
        if not groups or size >= chunkpacks.PACK_BYTES or len(groups[-1]) >= chunkpacks.MAX_PACK_CHUNKS - 1024:
            groups.append([])
            size = 0
        groups[-1].append((d, n))
        size += n
    return groups


def _resend_hidden(remote: RemoteRepo, idx: RemoteChunkIndex, lists: list[ChunkList],
                   relied: dict[str, list[tuple[str, int]]], send) -> int:
    """After the lists are written: send again the chunks of ``lists`` that this push wrote or counted
    on finding in a pack (``relied``: pack -> chunks; the others are taken from ``idx``) that a gc
    running beside it has since hidden (removed its index). A gc that hid it before this check is
    seen here; one that hides it later lists the lists again first and sees ours (remote/chunkgc.py).
    The bytes sent."""
    counted = {d for rows in relied.values() for d, _ in rows}
    for lst in lists:
        for d, n in lst.chunks:
            if d not in counted and d in idx.where:
                relied.setdefault(idx.where[d].pack, []).append((d, n))
                counted.add(d)
    packs = sorted(relied)
    gone = [p for p, there in zip(packs, parallel(lambda p: remote.backend.stat(idx_key(p)) is not None, packs))
            if not there]
    again = {d: n for p in gone for d, n in relied[p]}
    return sum(parallel(send, _groups(again.items()), stage="uploading chunks")) if again else 0


# -- fetch --------------------------------------------------------------------------------
def read_remote_list(remote: RemoteRepo, digest: str) -> ChunkList | None:
    """The remote's chunk list of ``digest`` (None when it has none), bounded and parsed strictly."""
    st = remote.backend.stat(list_key(digest))
    if st is None:
        return None
    if st.size > MAX_LIST_BYTES:
        raise RemoteFormatError(f"remote {remote.name} holds a {st.size}-byte chunk list for {digest}: above the limit, refused")
    found = remote.backend.read(list_key(digest), limit=MAX_LIST_BYTES)  # the stat's size is the remote's word
    if found is None:
        return None
    if len(found[0]) > MAX_LIST_BYTES:
        raise RemoteFormatError(f"remote {remote.name} holds an oversized chunk list for {digest}: refused")
    try:
        return parse(found[0], digest)
    except CorruptObjectError as e:
        raise CorruptObjectError(f"remote {remote.name}: {e}") from None


def download(remote: RemoteRepo, store: ContentStore, digests: Iterable[str]) -> tuple[int, int]:
    """Fetch the chunked files ``digests`` into the store, verified; return ``(files, bytes)`` fetched.
    A digest the remote has no list for is an ObjectMissingError."""
    wanted = sorted({d for d in digests if not store.has(d)})
    if not wanted:
        return 0, 0
    lists = []
    for d, lst in zip(wanted, parallel(lambda d: read_remote_list(remote, d), wanted)):
        if lst is None:
            raise ObjectMissingError(
                f"content {d} is not on remote {remote.name} either: the version that names it was never "
                "completely pushed; ask its author to push again"
            )
        lists.append(lst)
    local = chunkstore.local_packs(store)
    try:
        need: dict[str, tuple[ChunkList, int]] = {}
        for lst in lists:
            for i, (c, _) in enumerate(lst.chunks):
                if c not in need and c not in local.where:
                    need[c] = (lst, i)
        fetched = 0
        if need:
            starts = {id(lst): lst.offsets() for lst in lists}  # each chunk's file offset: runs keep their phase
            writer = chunkstore.pack_writer(store, local)
            try:
                for attempt in (1, 2):  # a remote gc may move chunks to a new pack meanwhile: look again once
                    idx = index(remote, os.path.dirname(store.root)).load()
                    ranges = _ranges(remote, idx, {c: w for c, w in need.items() if not writer.has(c)})
                    try:
                        fetched += sum(parallel(lambda r: _fetch_range(remote, writer, r, need, starts), ranges,
                                                stage="downloading chunks"))
                        break
                    except _PackGone:
                        if attempt == 2:
                            raise
            finally:
                writer.close()  # every chunk in it was checked: keep them, so that a rerun resumes
        for lst in lists:
            _check_whole(remote, local, lst)
            chunkstore.put_list(store, lst)
    finally:
        local.close()
    return len(lists), fetched


def _ranges(remote: RemoteRepo, idx: RemoteChunkIndex, need: dict[str, tuple[ChunkList, int]]) -> list[tuple[str, int, list[tuple[str, int]]]]:
    """``(pack, start, [(chunk, size)...])`` reads covering every needed chunk, neighbours merged."""
    by_pack: dict[str, list[tuple[int, str, int]]] = {}
    for c, (lst, i) in need.items():
        loc: Location | None = idx.where.get(c)
        if loc is None:
            raise ObjectMissingError(
                f"content {lst.digest}: chunk {i + 1} of {len(lst.chunks)} ({c}) is in no chunk pack of remote "
                f"{remote.name}: the version that names it was never completely pushed; ask its author to push again"
            )
        if loc.size != lst.chunks[i][1]:
            raise CorruptObjectError(
                f"remote {remote.name}: chunk {c} of content {lst.digest} is {loc.size} bytes in pack {loc.pack} "
                f"but {lst.chunks[i][1]} in the chunk list: refused"
            )
        by_pack.setdefault(loc.pack, []).append((loc.offset, c, loc.size))
    out = []
    for pack, items in sorted(by_pack.items()):
        items.sort()
        start, run, end = None, [], 0
        for off, c, n in items:
            if start is not None and off == end and end + n - start <= RANGE_BYTES:
                run.append((c, n))
                end += n
                continue
            if run:
                out.append((pack, start, run))
            start, run, end = off, [(c, n)], off + n
        if run:
            out.append((pack, start, run))
    return out


class _PackGone(ObjectMissingError):
    """A chunk pack listed a moment ago is gone (a remote gc rewrote or removed it)."""


def _fetch_range(remote: RemoteRepo, writer, r: tuple[str, int, list[tuple[str, int]]],
                 need: dict[str, tuple[ChunkList, int]], starts: dict[int, list[int]]) -> int:
    pack, start, run = r
    total = sum(n for _, n in run)

    def which(c: str) -> str:
        lst, i = need[c]
        return f"content {lst.digest}: chunk {i + 1} of {len(lst.chunks)} ({c})"

    try:
        data = remote.backend.read_range(pack_key(pack), start, total)
    except FileNotFoundError:
        raise _PackGone(f"{which(run[0][0])}: its chunk pack {pack} went missing from remote {remote.name} "
                        "(a remote gc?): pull again") from None
    if len(data) != total:
        raise CorruptObjectError(f"remote {remote.name}: {which(run[0][0])}: chunk pack {pack} is shorter than "
                                 "its index says: refused")
    view, off = memoryview(data), 0
    for k, (c, n) in enumerate(run):
        if blake3.blake3(view[off:off + n]).hexdigest() != c:
            _keep(writer, view[:off], run[:k], need, starts)  # the chunks checked so far: a rerun resumes
            raise CorruptObjectError(
                f"remote {remote.name} served corrupt chunk {c} (pack {pack}, offset {start + off}) of "
                f"{which(c)}: refused; repair the remote from a clone that has it (artvcs push)"
            )
        off += n
    _keep(writer, view, run, need, starts)
    return total


def _keep(writer, data: memoryview, run: list[tuple[str, int]], need: dict[str, tuple[ChunkList, int]],
          starts: dict[int, list[int]]) -> None:
    """Append the checked chunks ``run`` (bytes ``data``) to the local pack: in one write at their file's
    page phase (PackWriter.add_run) when they are neighbours in one file too, else one by one."""
    if not run:
        return
    lst, first = need[run[0][0]]
    if all(need[c][0] is lst and need[c][1] == first + k for k, (c, _) in enumerate(run)):
        writer.add_run(data, run, starts[id(lst)][first])
        return
    off = 0
    for c, n in run:
        writer.add(c, data[off:off + n])
        off += n


def _check_whole(remote: RemoteRepo, local, lst: ChunkList) -> None:
    """Rebuild the file from its stored chunks and hash it: a list whose chunks are all genuine can
    still put them in a wrong order, or name other chunks; it is installed only if the file is right."""
    try:
        with chunkstore.ChunkedReader(local, lst, own=False) as f:
            while f.read(8 * 1024 * 1024):
                pass
    except CorruptObjectError:
        raise CorruptObjectError(
            f"remote {remote.name} served a chunk list for {lst.digest} whose chunks rebuild other bytes: refused"
        ) from None
