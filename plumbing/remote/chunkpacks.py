"""Chunk packs on a remote: many chunks in one object, so a large file is a few requests, not one per chunk.

``chunks/<name>.pack`` holds chunks back to back; ``chunks/<name>.idx``,
written after it, lists them in order as canonical text::

    artvcs-chunkpack 1 <count>\\n
    <chunk digest> <size>\\n          (count lines; offsets are running sums)

``<name>`` is the first 40 hex characters of the blake3 digest of the index,
so an index is checked against its own name before it is believed, and a
re-sent pack of the same chunks lands on the same name. A pack whose index
is not listed is incomplete and ignored. The chunks a remote holds are the
union of its indexes; they are cached under ``.artifacts/remotes/<name>/chunkidx/``
(immutable, so a cached index is never fetched again).
"""
from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import blake3

from ..chunklist import MAX_CHUNK
from ..errors import CorruptObjectError
from .errors import RemoteFormatError
from .layout import RemoteRepo

CHUNKS = "chunks/"
PACK_BYTES = 64 * 1024 * 1024  # a pack holds chunks up to this many bytes (plus one chunk)
MAX_PACK_CHUNKS = 1 << 16
MAX_IDX_BYTES = 64 + MAX_PACK_CHUNKS * (64 + 1 + 9 + 1)
_PACK = re.compile(r"^chunks/([0-9a-f]{40})\.(pack|idx)$")
_HEADER = re.compile(r"artvcs-chunkpack 1 ([1-9][0-9]{0,5})\n")
_ROW = re.compile(r"([0-9a-f]{64}) ([1-9][0-9]{0,8})\n")


@dataclass(frozen=True)
class Location:
    """Where a chunk is on the remote: pack name, byte offset, size."""

    pack: str
    offset: int
    size: int


def pack_key(name: str) -> str:
    return f"{CHUNKS}{name}.pack"


def idx_key(name: str) -> str:
    return f"{CHUNKS}{name}.idx"


def encode_idx(chunks: Iterable[tuple[str, int]]) -> bytes:
    rows = list(chunks)
    return (f"artvcs-chunkpack 1 {len(rows)}\n" + "".join(f"{d} {n}\n" for d, n in rows)).encode("ascii")


def idx_name(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()[:40]


def parse_idx(data: bytes, name: str) -> list[tuple[str, int]]:
    """The chunks of pack ``name`` in order; an index that is not its name's, or not canonical, is refused."""
    what = f"chunk pack index {name}"
    if len(data) > MAX_IDX_BYTES:
        raise RemoteFormatError(f"{what} is {len(data)} bytes, above the {MAX_IDX_BYTES} limit: refused")
    if idx_name(data) != name:
        raise CorruptObjectError(f"{what} does not hash to its name: refused")
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise RemoteFormatError(f"{what} is not ASCII text: refused") from None
    head = _HEADER.match(text)
    if head is None:
        raise RemoteFormatError(f"{what} does not begin with 'artvcs-chunkpack 1 <count>': refused")
    count = int(head.group(1))
    if count > MAX_PACK_CHUNKS:
        raise RemoteFormatError(f"{what} claims {count} chunks, above the {MAX_PACK_CHUNKS} limit: refused")
    rows, pos = [], head.end()
    for _ in range(count):
        row = _ROW.match(text, pos)
        if row is None or int(row.group(2)) > MAX_CHUNK:
            raise RemoteFormatError(f"{what}: row {len(rows) + 1} is not '<digest> <size>' within limits: refused")
        rows.append((row.group(1), int(row.group(2))))
        pos = row.end()
    if pos != len(text):
        raise RemoteFormatError(f"{what} has bytes after its {count} rows: refused")
    return rows


def complete_packs(remote: RemoteRepo) -> list[str]:
    """Names of the remote's chunk packs whose index is listed (so whose pack is whole)."""
    seen: dict[str, set[str]] = {}
    for s in remote.backend.list(CHUNKS):
        m = _PACK.match(s.key)
        if m:
            seen.setdefault(m.group(1), set()).add(m.group(2))
    return sorted(n for n, kinds in seen.items() if kinds == {"pack", "idx"})


class RemoteChunkIndex:
    """Which chunks a remote holds, and where: the union of its pack indexes, cached locally."""

    def __init__(self, remote: RemoteRepo, cache_dir: str) -> None:
        self.remote, self.cache_dir = remote, cache_dir
        self.where: dict[str, Location] = {}
        self.packs: dict[str, list[tuple[str, int]]] = {}

    def load(self, parallel) -> "RemoteChunkIndex":
        """Read every complete pack's index (from the cache, or fetched, checked and cached)."""
        names = complete_packs(self.remote)
        for name, rows in zip(names, parallel(self._rows, names)):
            self.add(name, rows)
        return self

    def add(self, name: str, rows: list[tuple[str, int]]) -> None:
        self.packs[name] = rows
        off = 0
        for d, n in rows:
            self.where.setdefault(d, Location(name, off, n))
            off += n

    def _rows(self, name: str) -> list[tuple[str, int]]:
        cached = os.path.join(self.cache_dir, name)
        try:
            with open(cached, "rb") as f:
                return parse_idx(f.read(MAX_IDX_BYTES + 1), name)
        except (FileNotFoundError, CorruptObjectError, RemoteFormatError):
            pass
        st = self.remote.backend.stat(idx_key(name))
        if st is not None and st.size > MAX_IDX_BYTES:
            raise RemoteFormatError(f"chunk pack index {name} on {self.remote.name} is {st.size} bytes: refused")
        found = self.remote.backend.read(idx_key(name))
        if found is None:
            return []  # removed since it was listed (remote gc): its chunks are not there
        rows = parse_idx(found[0], name)
        self.remember(name, found[0])
        return rows

    def remember(self, name: str, data: bytes) -> None:
        """Cache an index this process checked (or wrote)."""
        os.makedirs(self.cache_dir, exist_ok=True)
        tmp = os.path.join(self.cache_dir, f".tmp-{os.getpid()}-{secrets.token_hex(6)}")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(self.cache_dir, name))
