"""The content store: file bytes keyed by their blake3 digest.

Layout: ``<root>/<first 2 hex>/<remaining 62 hex>``, raw bytes, mode 0444.
Writers create ``<root>/<xx>/.tmp-*`` files and rename them into place, so a
reader never sees a partial object; content already present is never written
again. Durability is batched: see :mod:`durability`. A file of
``CHUNK_THRESHOLD`` bytes or more is stored whole when it first arrives (the
fast path: one kernel copy and one hash) and as chunks and a chunk list
(:mod:`chunkstore`) once chunking pays: when a second version of it is logged
(:func:`chunkstore.convert`), when it is pushed, or when it is fetched. Every
method here serves both forms alike, and a reader that finds the whole file
gone finds its chunk list (the list is written, and made durable, before the
whole file is removed).
"""
from __future__ import annotations

import io
import os
import secrets
import shutil
from collections.abc import Iterator
from typing import BinaryIO

from . import durability
from .chunklist import LISTS
from .errors import CorruptObjectError, ObjectMissingError, UsageError
from .hashing import MMAP_THRESHOLD, hash_bytes, hash_file, is_digest

FANOUT = 2
TMP_PREFIX = ".tmp-"
POLICIES = ("mutable", "immutable")
CHUNK_THRESHOLD = MMAP_THRESHOLD  # 4 MiB: files this large may be stored as chunks (chunking)


class ContentStore:
    """A folder of immutable, content-addressed files."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.gitdir = os.path.dirname(root)  # the repository: where durability's marker goes

    # -- layout -----------------------------------------------------------
    def path_of(self, digest: str) -> str:
        """The path where the object ``digest`` lives (whether or not present)."""
        if not is_digest(digest):
            raise UsageError(f"invalid digest {digest!r}: expected 64 lowercase hex characters")
        return os.path.join(self.root, digest[:FANOUT], digest[FANOUT:])

    def create_layout(self) -> None:
        """Create the root and all fan-out folders (done once, at init)."""
        os.makedirs(self.root, exist_ok=True)
        for i in range(256):
            os.makedirs(os.path.join(self.root, f"{i:02x}"), exist_ok=True)

    def has(self, digest: str) -> bool:
        """True if the content is stored, whole or as chunks."""
        return os.path.exists(self.path_of(digest)) or os.path.exists(self.list_path(digest))

    def is_chunked(self, digest: str) -> bool:
        """True if ``digest`` has a chunk list (a whole file may be there too, while it is converted)."""
        return os.path.exists(self.list_path(digest))

    def list_path(self, digest: str) -> str:
        """Where the chunk list of a chunked file ``digest`` lives (whether or not present)."""
        return f"{os.path.dirname(self.root)}/{LISTS}/{digest[:FANOUT]}/{digest[FANOUT:]}"

    def size(self, digest: str) -> int:
        """The size in bytes of stored content; ObjectMissingError when absent."""
        from . import chunkstore

        try:
            return os.stat(self.path_of(digest)).st_size
        except FileNotFoundError:
            return chunkstore.read_list(self, digest).size

    def _tmp(self, digest_hint: str | None) -> tuple[int, str]:
        folder = os.path.join(self.root, digest_hint[:FANOUT]) if digest_hint else self.root
        path = os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o444)
        return fd, path

    def _install(self, tmp: str, digest: str) -> None:
        # Two writers of one digest write the same bytes, so the later rename
        # replacing the earlier file is harmless; one rename beats link+unlink.
        os.replace(tmp, self._path(digest))

    def _path(self, digest: str) -> str:
        return f"{self.root}/{digest[:FANOUT]}/{digest[FANOUT:]}"

    # -- writing ----------------------------------------------------------
    def put_bytes(self, data: bytes, digest: str | None = None, replace: bool = False) -> str:
        """Store ``data``; return its digest. Already-present content is not rewritten, unless
        ``replace``: then a stored file this writer cannot vouch for (a link to a file that
        changed while it was hashed) is replaced by these bytes in one rename, so the digest is
        never absent meanwhile (only gc removes stored files; see :mod:`sweepgen`)."""
        digest = digest or hash_bytes(data)
        final = self._path(digest)
        if not replace and os.path.exists(final):
            self.touch(digest)  # a draft now needs it: restart gc's grace period
            durability.wrote(self.gitdir, final)
            return digest
        tmp = f"{self.root}/{digest[:FANOUT]}/{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.close(fd)
            fd = -1
            os.replace(tmp, final)
        except BaseException:
            if fd >= 0:
                os.close(fd)
            _unlink_quiet(tmp)
            raise
        durability.wrote(self.gitdir, final)
        return digest

    def put_file(self, path: str, policy: str = "mutable", known_digest: str | None = None,
                 chunked: bool = False) -> tuple[str, int]:
        """Store the file at ``path``; return ``(digest, size)``.

        ``mutable`` copies the bytes now, so later edits of the source do not
        change what was stored (the digest is taken of the copy, never of a
        file that may still be changing). ``immutable`` hard-links the source
        into the store when it can (the caller promises not to change it) and
        copies otherwise. ``known_digest`` (from the stat cache) skips all
        work when that content is already stored. A file of ``CHUNK_THRESHOLD``
        bytes or more is stored whole unless ``chunked`` (the caller knows an
        earlier version of it, so chunks will be shared).
        """
        if policy not in POLICIES:
            raise UsageError(f"invalid policy {policy!r}: must be 'mutable' or 'immutable'")
        if known_digest and self.has(known_digest):
            self.touch(known_digest)
            self._found(known_digest)
            return known_digest, os.stat(path).st_size
        st = os.stat(path)
        if chunked and st.st_size >= CHUNK_THRESHOLD:
            return self.put_chunked(path)
        if policy == "immutable":
            digest, size = hash_file(path)
            if not self.has(digest):
                self._link_or_copy(path, digest)
            else:
                self._found(digest)
            return digest, size
        if st.st_size < MMAP_THRESHOLD:
            with open(path, "rb") as f:
                data = f.read()
            return self.put_bytes(data), len(data)
        return self.copy_in(path)

    def _found(self, digest: str) -> None:
        """Name stored content found already there for the next flush (:mod:`durability`): its
        writer may have died before making it durable."""
        whole = self._path(digest)
        if os.path.exists(whole):
            durability.wrote(self.gitdir, whole)
        else:
            durability.wrote_unnamed(self.gitdir)  # a chunk list and its packs

    def put_chunked(self, path: str) -> tuple[str, int]:
        """Store a large file as content-defined chunks and a chunk list; return ``(digest, size)``
        of the bytes read (a private copy of each block: a file changing meanwhile is stored as read)."""
        from . import chunkstore

        durability.wrote_unnamed(self.gitdir)  # packs and a list: flushed whole, as large files are

        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return chunkstore.store_chunked(self, fd)
        finally:
            os.close(fd)

    def convert_to_chunks(self, digest: str) -> bool:
        """Store the whole-stored large file ``digest`` as chunks and remove its whole file
        (:func:`chunkstore.convert`); False when there was nothing to convert."""
        from . import chunkstore

        return chunkstore.convert(self, digest, CHUNK_THRESHOLD)

    def put_stream(self, stream) -> tuple[str, int]:
        """Store the bytes read from ``stream`` (through a temporary file in the store's root, which
        gc removes should this writer die); return ``(digest, size)`` of what was stored."""
        import tempfile  # only here: a command's start need not load it

        fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=self.root)
        try:
            with os.fdopen(fd, "wb") as out:
                shutil.copyfileobj(stream, out, 8 * 1024 * 1024)
            return self.put_file(tmp, "mutable")
        finally:
            _unlink_quiet(tmp)

    def copy_in(self, path: str) -> tuple[str, int]:
        """Copy a (large) file into the store, hashing the copy as it is made; return ``(digest, size)``."""
        from .copyhash import copy_and_hash

        tmp = f"{self.root}/{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        dst = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o444)
        try:
            try:
                src = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    digest, size = copy_and_hash(src, dst)
                finally:
                    os.close(src)
            finally:
                os.close(dst)
            final = self._path(digest)
            if os.path.exists(final):
                os.unlink(tmp)
                self.touch(digest)
            else:
                os.replace(tmp, final)
        except BaseException:
            _unlink_quiet(tmp)
            raise
        durability.wrote(self.gitdir, final)
        return digest, size

    def link_in(self, path: str, digest: str, data: bytes | memoryview | None = None) -> bool:
        """Store ``path``, whose bytes hash to ``digest``, by hard-linking it (``immutable``).

        Returns False when the content was already stored. Where no link can
        be made the bytes are copied: ``data`` if given (the bytes that were
        hashed), else the file.
        """
        final = self._path(digest)
        try:
            os.link(path, final)
            durability.wrote(self.gitdir, final)
            return True
        except FileExistsError:
            durability.wrote(self.gitdir, final)
            return False
        except OSError:
            pass
        if data is not None:
            self.put_bytes(data, digest)
        else:
            self._link_or_copy(path, digest)
        return True

    def _link_or_copy(self, path: str, digest: str) -> None:
        # A hard link appears whole and at once (it is the same inode), so it
        # needs no temporary name; only the copy fallback does.
        try:
            os.link(path, self._path(digest))
            durability.wrote(self.gitdir, self._path(digest))
            return
        except FileExistsError:
            durability.wrote(self.gitdir, self._path(digest))
            return
        except OSError:
            pass
        with open(path, "rb") as f:
            data = f.read() if os.fstat(f.fileno()).st_size < MMAP_THRESHOLD else None
        if data is not None:
            self.put_bytes(data, digest)
        else:
            self.put_file(path, "mutable")

    # -- reading ----------------------------------------------------------
    def open(self, digest: str):
        """Open an object for reading; a missing object is an ObjectMissingError. A chunked file
        is reassembled as it is read and checked against its digest before its end is reported."""
        from . import chunkstore

        try:
            return open(self.path_of(digest), "rb")
        except FileNotFoundError:
            return chunkstore.open_chunked(self, digest)

    def read(self, digest: str, what: str | None = None) -> bytes:
        """The object's bytes, hashed on the way: CorruptObjectError naming ``what`` if they do not
        hash to ``digest``. For small objects (the bytes are held whole)."""
        from .copyhash import hash_verified, read_all

        with self.open(digest) as f:
            if _rebuilt(f):  # a chunked file: every chunk checked as it is read, the whole at the end
                return f.read()
            fd = f.fileno()
            size = os.fstat(fd).st_size
            if size >= MMAP_THRESHOLD:
                hash_verified(fd, digest, self._path(digest), what or f"content {digest}")
                return read_all(fd, size)
            data = read_all(fd, size)
        actual = hash_bytes(data)
        if actual != digest:
            from .copyhash import corrupt

            raise corrupt(digest, actual, self._path(digest), what or f"content {digest}")
        return data

    def copy_to(self, digest: str, dst_fd: int, what: str) -> int:
        """Copy the object into the empty ``dst_fd`` (open for reading too), verified on the way
        (see :func:`copyhash.copy_verified`); its size. On CorruptObjectError the caller removes
        what ``dst_fd`` names."""
        from .copyhash import copy_verified

        with self.open(digest) as f:
            if _rebuilt(f):
                return _stream(f, lambda block: _write_fd(dst_fd, block))
            return copy_verified(f.fileno(), dst_fd, digest, self._path(digest), what)

    def write_to(self, digest: str, out: BinaryIO, what: str) -> int:
        """Write the object to the stream ``out``, only once it hashed to ``digest``: small
        objects are read whole, large ones mapped, hashed with blake3's threads and written from
        the same mapped pages (one read from disk). Its size."""
        import mmap

        from .copyhash import hash_verified, read_all

        with self.open(digest) as f:
            if _rebuilt(f):  # each chunk is checked before it is written, the whole file by the end
                return _stream(f, out.write)
            fd = f.fileno()
            size = os.fstat(fd).st_size
            if size < MMAP_THRESHOLD:
                data = read_all(fd, size)
                actual = hash_bytes(data)
                if actual != digest:
                    from .copyhash import corrupt

                    raise corrupt(digest, actual, self._path(digest), what)
                out.write(data)
                return len(data)
            hash_verified(fd, digest, self._path(digest), what)
            with mmap.mmap(fd, size, access=mmap.ACCESS_READ) as m:
                for off in range(0, size, 8 << 20):
                    out.write(m[off : off + (8 << 20)])
            return size

    def verify(self, digest: str) -> None:
        """Re-hash a stored object; raise if it is missing or corrupt."""
        from . import chunkstore

        path = self.path_of(digest)
        try:
            actual, _ = hash_file(path)
        except FileNotFoundError:
            if self.is_chunked(digest):
                chunkstore.verify_chunked(self, digest)
                return
            raise ObjectMissingError(f"content {digest} is missing from the store") from None
        if actual != digest:
            raise CorruptObjectError(
                f"content {digest} is corrupt (its bytes hash to {actual}): restore it from a remote or re-log it"
            )

    def iter_digests(self) -> Iterator[str]:
        """Every digest present in the store (temporary files skipped)."""
        for fan in sorted(os.listdir(self.root)):
            folder = os.path.join(self.root, fan)
            if len(fan) != FANOUT or not os.path.isdir(folder):
                continue
            for rest in os.listdir(folder):
                if not rest.startswith(TMP_PREFIX):
                    yield fan + rest

    def iter_tmp(self) -> Iterator[str]:
        """Paths of temporary files left by writers (live or crashed)."""
        for fan in os.listdir(self.root):
            folder = os.path.join(self.root, fan)
            if os.path.isdir(folder):
                for rest in os.listdir(folder):
                    if rest.startswith(TMP_PREFIX):
                        yield os.path.join(folder, rest)
            elif fan.startswith(TMP_PREFIX):
                yield folder

    def remove(self, digest: str) -> None:
        """Delete an object (gc only)."""
        _unlink_quiet(self.path_of(digest))

    def touch(self, digest: str) -> None:
        """Refresh an object's mtime so gc's grace period protects it (a draft reuses it); for a
        chunked file, its list's (gc keeps the chunks of every list it keeps)."""
        from . import chunkstore

        try:
            os.utime(self.path_of(digest))
        except FileNotFoundError:
            chunkstore.touch(self.list_path(digest))
        except OSError:
            pass


def _unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _rebuilt(f) -> bool:
    """True for the reader of a chunked file (rebuilt from its chunks, no file descriptor of its own)."""
    return not isinstance(getattr(f, "raw", f), io.FileIO)


def _stream(f, write, block: int = 8 << 20) -> int:
    """Copy reader ``f`` through ``write`` a block at a time; the bytes copied."""
    n = 0
    while data := f.read(block):
        write(data)
        n += len(data)
    return n


def _write_fd(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
