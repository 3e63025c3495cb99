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
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import blake3

from .chunklist import MAX_CHUNK, ascii_header
from .errors import CorruptObjectError

DIRNAME = "chunks"  # the local packs, beside content/
TMP_PREFIX = ".tmp-"
PACK_BYTES = 64 * 1024 * 1024  # a pack is closed once it holds this many bytes
MAX_PACK_CHUNKS = 1 << 16
MAX_IDX_BYTES = 64 + MAX_PACK_CHUNKS * (64 + 1 + 9 + 1)
_NAME = re.compile(r"^([0-9a-f]{40})\.(pack|idx)$")
_HEADER = re.compile(r"artvcs-chunkpack 1 ([1-9][0-9]{0,5})\n")
_ROW = re.compile(r"([0-9a-f]{64}) ([1-9][0-9]{0,8})\n")


@dataclass(frozen=True, slots=True)
class Location:
    """Where a chunk is: pack name, byte offset in the pack, size."""

    pack: str
    offset: int
    size: int


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
    rows, pos = [], head.end()
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
    """``(name, "pack" | "idx")`` of a pack file's name, or None for anything else."""
    m = _NAME.match(filename)
    return (m.group(1), m.group(2)) if m else None


class PackWriter:
    """Appends chunks to a new local pack; ``close`` (or reaching PACK_BYTES) installs it: the pack
    renamed into place first, its index last, so an index always describes a whole pack.
    Thread-safe: fetchers append from several threads."""

    def __init__(self, folder: str, on_install=None) -> None:
        self.folder, self.on_install = folder, on_install
        self._lock = threading.Lock()
        self._fd, self._tmp, self._rows, self._size = -1, "", [], 0
        self._seen: set[str] = set()
        self.installed: list[tuple[str, list[tuple[str, int]]]] = []

    def has(self, digest: str) -> bool:
        return digest in self._seen

    def add(self, digest: str, data) -> None:
        """Append one chunk, unless this writer already holds it."""
        with self._lock:
            if digest not in self._seen:
                self._append(memoryview(data), [(digest, len(data))])

    def add_run(self, data, rows: list[tuple[str, int]]) -> None:
        """Append neighbouring chunks in one write: ``data`` is their bytes, ``rows`` their
        ``(digest, size)`` in order (the caller hands each digest over once)."""
        with self._lock:
            self._append(memoryview(data), rows)

    def _append(self, view: memoryview, rows: list[tuple[str, int]]) -> None:
        if self._fd < 0:
            os.makedirs(self.folder, exist_ok=True)
            self._tmp = os.path.join(self.folder, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")
            self._fd = os.open(self._tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        self._size += len(view)
        while view:
            view = view[os.write(self._fd, view):]
        self._rows += rows
        self._seen.update(d for d, _ in rows)
        if self._size >= PACK_BYTES or len(self._rows) >= MAX_PACK_CHUNKS - 1024:
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
        os.close(self._fd)
        self._fd = -1
        data = encode_idx(self._rows)
        name = idx_name(data)
        try:
            os.replace(self._tmp, os.path.join(self.folder, f"{name}.pack"))
            tmp = os.path.join(self.folder, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")
            with open(tmp, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o444)
            os.replace(tmp, os.path.join(self.folder, f"{name}.idx"))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)
            raise
        self.installed.append((name, self._rows))
        if self.on_install is not None:
            self.on_install(name, self._rows)
        self._rows, self._size = [], 0


class PackIndex:
    """Which chunks a set of packs holds, and where: the union of their indexes (a chunk in two
    packs is found in the first added)."""

    def __init__(self) -> None:
        self.where: dict[str, Location] = {}
        self.packs: dict[str, list[tuple[str, int]]] = {}

    def add(self, name: str, rows: list[tuple[str, int]]) -> None:
        self.packs[name] = rows
        off = 0
        for d, n in rows:
            self.where.setdefault(d, Location(name, off, n))
            off += n


class LocalPacks(PackIndex):
    """The local store's chunk packs, their indexes read once, and open descriptors for reading."""

    def __init__(self, folder: str) -> None:
        super().__init__()
        self.folder = folder
        self._fds: dict[str, int] = {}
        self._lock = threading.Lock()
        for name in self.names():
            try:
                with open(os.path.join(folder, f"{name}.idx"), "rb") as f:
                    self.add(name, parse_idx(f.read(MAX_IDX_BYTES + 1), name))
            except FileNotFoundError:
                continue  # removed by gc since it was listed
            except CorruptObjectError:
                continue  # its chunks count as absent; fsck reports the index

    def names(self) -> Iterator[str]:
        """Names of complete packs (those with an index)."""
        try:
            entries = os.listdir(self.folder)
        except FileNotFoundError:
            return
        for n in entries:
            parts = split_name(n)
            if parts and parts[1] == "idx":
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

    def close(self) -> None:
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()

