"""The new git objects of one manifest write, written together: loose when few, one pack when many.

A manifest of many folders is hundreds of listing blobs and trees. Written
loose, each costs a file of its own (open, write, rename); written as one
pack (git's pack format, version 2, without deltas) they cost two files. git
makes the same choice for objects it receives (``transfer.unpackLimit``):
fewer than PACK_MIN stay loose. The pack is renamed into ``objects/pack/``
before its index, and git and libgit2 see a pack only through its index, so a
reader never meets a partial one. Packs and loose objects are named to
:mod:`durability`, which makes them durable with the content files before the version ref.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import struct
import zlib
from collections.abc import Iterable

import pygit2

from . import durability

PACK_MIN = 100
DEFLATE_THREADS = 4  # at most this many threads compress a pack's objects (and no more than cores)
DEFLATE_MIN = 64  # objects per thread, at least: fewer are compressed in this thread
MAX_BYTES = 32 << 20  # a batch holding this much is written then, so memory stays bounded
TMP_PREFIXES = ("tmp_pack_", "tmp_idx_")  # git's own prefixes for files being written; gc removes stale ones
_KINDS = {pygit2.GIT_OBJECT_BLOB: b"blob", pygit2.GIT_OBJECT_TREE: b"tree"}
_TREE_MODE = pygit2.GIT_FILEMODE_TREE


def object_id(kind: int, data: bytes) -> bytes:
    """git's name for an object: SHA-1 of ``"<type> <size>\\0"`` and the bytes (raw, 20 bytes)."""
    h = hashlib.sha1(b"%s %d\0" % (_KINDS[kind], len(data)))
    h.update(data)
    return h.digest()


def tree_bytes(entries: Iterable[tuple[str, pygit2.Oid, int]]) -> bytes:
    """A git tree's bytes from ``(name, oid, filemode)``: entries ordered by name, a subtree's
    name compared as if it ended in ``/`` (git's order; ``git fsck`` checks it)."""
    rows = []
    for name, oid, mode in entries:
        raw = name.encode()
        rows.append((raw + b"/" if mode == _TREE_MODE else raw, b"%o %s\0" % (mode, raw) + oid.raw))
    rows.sort()
    return b"".join(r[1] for r in rows)


class ObjectBatch:
    """Blobs and trees gathered in memory and written by :meth:`write` (or as soon as they reach
    MAX_BYTES: a huge manifest becomes several packs); objects the repository already has are
    not gathered again. Nothing gathered may be read before ``write``."""

    def __init__(self, repo: pygit2.Repository) -> None:
        self.repo = repo
        self._new: dict[bytes, tuple[int, bytes]] = {}
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._new)

    def blob(self, data: bytes) -> pygit2.Oid:
        return self._add(pygit2.GIT_OBJECT_BLOB, data)

    def tree(self, entries: Iterable[tuple[str, pygit2.Oid, int]]) -> pygit2.Oid:
        return self._add(pygit2.GIT_OBJECT_TREE, tree_bytes(entries))

    def _add(self, kind: int, data: bytes) -> pygit2.Oid:
        raw = object_id(kind, data)
        oid = pygit2.Oid(raw=raw)
        # an unchanged folder (the common case in a new version) costs a hash and a lookup
        if raw not in self._new and not self.repo.odb.exists(oid):
            self._new[raw] = (kind, data)
            self._bytes += len(data)
            if self._bytes >= MAX_BYTES:
                self.write()
        return oid

    def write(self) -> None:
        """Write what was gathered: loose below PACK_MIN objects, else one pack and its index."""
        new, self._new, self._bytes = self._new, {}, 0
        gitdir = self.repo.path
        if len(new) < PACK_MIN:
            for kind, data in new.values():
                durability.wrote(gitdir, loose_path(gitdir, self.repo.odb.write(kind, data)))
        elif new:
            pack_dir = os.path.join(gitdir, "objects", "pack")
            name = os.path.join(pack_dir, f"pack-{write_pack(pack_dir, new)}")
            durability.wrote(gitdir, name + ".pack")
            durability.wrote(gitdir, name + ".idx")


def loose_path(gitdir: str, oid: pygit2.Oid) -> str:
    """Where git keeps object ``oid`` when it is loose (whether or not it is there)."""
    h = str(oid)
    return os.path.join(gitdir, "objects", h[:2], h[2:])


def _header(kind: int, size: int) -> bytes:
    # type in bits 4-6 of the first byte, size in 4 bits there and 7 bits per following byte
    out = bytearray([(kind << 4) | (size & 0x0F)])
    size >>= 4
    while size:
        out[-1] |= 0x80
        out.append(size & 0x7F)
        size >>= 7
    return bytes(out)


def write_pack(pack_dir: str, objects: dict[bytes, tuple[int, bytes]]) -> str:
    """Write ``{raw oid: (type, bytes)}`` as ``pack-<sha1>.pack`` then ``.idx`` in ``pack_dir``
    (git's formats, version 2); return the pack's checksum in hex."""
    os.makedirs(pack_dir, exist_ok=True)
    tag = f"{os.getpid()}-{secrets.token_hex(6)}"
    tmp_pack = os.path.join(pack_dir, f"{TMP_PREFIXES[0]}{tag}")
    tmp_idx = os.path.join(pack_dir, f"{TMP_PREFIXES[1]}{tag}")
    offsets: dict[bytes, tuple[int, int]] = {}  # raw oid -> (offset, crc32)
    try:
        sha = hashlib.sha1()
        with open(tmp_pack, "wb") as f:
            head = b"PACK" + struct.pack(">II", 2, len(objects))
            f.write(head)
            sha.update(head)
            offset = len(head)
            for (raw, (kind, data)), deflated in zip(objects.items(), _deflate([d for _, d in objects.values()])):
                packed = _header(kind, len(data)) + deflated
                offsets[raw] = (offset, zlib.crc32(packed))
                f.write(packed)
                sha.update(packed)
                offset += len(packed)
            checksum = sha.digest()
            f.write(checksum)
        name = os.path.join(pack_dir, f"pack-{checksum.hex()}")
        os.chmod(tmp_pack, 0o444)
        os.replace(tmp_pack, name + ".pack")
        with open(tmp_idx, "wb") as f:
            f.write(_index(offsets, checksum))
        os.chmod(tmp_idx, 0o444)
        os.replace(tmp_idx, name + ".idx")  # last: the index is what makes the pack visible
        return checksum.hex()
    finally:
        for tmp in (tmp_pack, tmp_idx):
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass


def _deflate(datas: list[bytes]) -> list[bytes]:
    """zlib level 1 of each of ``datas``, in order; from DEFLATE_THREADS threads at once when they are
    many (zlib lets go of the GIL while it compresses: a re-log's 370 listings and trees took 35 ms
    in one thread)."""
    workers = min(DEFLATE_THREADS, os.cpu_count() or 1, len(datas) // DEFLATE_MIN)
    if workers < 2:
        return [zlib.compress(d, 1) for d in datas]
    from concurrent.futures import ThreadPoolExecutor  # here: a batch of a few objects needs no pool

    step = -(-len(datas) // workers)
    with ThreadPoolExecutor(workers) as pool:
        parts = pool.map(lambda i: [zlib.compress(d, 1) for d in datas[i:i + step]], range(0, len(datas), step))
        return [c for part in parts for c in part]


def _index(offsets: dict[bytes, tuple[int, int]], checksum: bytes) -> bytes:
    """A version-2 pack index: fan-out table, sorted ids, CRC-32s, offsets (large ones in a
    second table of 8-byte offsets), the pack's checksum, and the index's own."""
    oids = sorted(offsets)
    fanout = [0] * 256
    for raw in oids:
        fanout[raw[0]] += 1
    total = 0
    for i in range(256):
        total += fanout[i]
        fanout[i] = total
    small, large = [], []
    for raw in oids:
        off = offsets[raw][0]
        if off < 0x80000000:
            small.append(off)
        else:
            small.append(0x80000000 | len(large))
            large.append(off)
    n = len(oids)
    body = b"".join([
        b"\377tOc", struct.pack(">I", 2), struct.pack(">256I", *fanout), *oids,
        struct.pack(f">{n}I", *(offsets[raw][1] for raw in oids)),
        struct.pack(f">{n}I", *small), struct.pack(f">{len(large)}Q", *large), checksum,
    ])
    return body + hashlib.sha1(body).digest()
