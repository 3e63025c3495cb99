"""Where a remote's objects live: a small key-value interface and its local-folder implementation.

A backend stores whole objects under ``/``-separated keys relative to the
remote's root. Besides plain reads and writes it offers the two conditional
writes that keep concurrent writers from overwriting each other:

- :meth:`Backend.create` writes a key only if it does not exist (S3
  ``If-None-Match: *``; here ``link(2)``, which fails on an existing name);
- :meth:`Backend.swap` replaces or deletes a key only if it still holds the
  object whose tag the caller read (S3 ``If-Match: <etag>``; here an
  ``flock(2)`` on a lock file, a compare, and a rename).

A *tag* is the MD5 hex digest of an object's bytes (what S3 reports as the
ETag of a single-part upload), so a caller can tell from a listing alone
whether a small object holds a value it already knows.
"""
from __future__ import annotations

import hashlib
import os
import secrets
import stat as _stat
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import RemoteError

LOCK_SUFFIX = ".lock"
TMP_PREFIX = ".tmp-"
LOCK_WAIT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Stat:
    """One stored object: key (relative to the root), size, tag, and modification time (epoch seconds)."""

    key: str
    size: int
    tag: str | None
    mtime: float | None


def tag_of(data: bytes) -> str:
    """The tag an object holding ``data`` has (MD5 hex, as an S3 single-part ETag)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class Backend:
    """Interface of a remote object store. Keys never start with ``/`` and never hold ``..``."""

    url: str

    def read(self, key: str, limit: int | None = None) -> tuple[bytes, str] | None:
        """``(bytes, tag)`` of ``key``, or None when absent.

        With ``limit``, at most ``limit + 1`` bytes are read, whatever a listing said or the object
        has grown to since: the caller refuses more than ``limit`` (a small record served as a gigabyte)."""
        raise NotImplementedError

    def write(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key`` (for immutable, content-named objects: last writer wins harmlessly)."""
        raise NotImplementedError

    def upload(self, key: str, path: str) -> None:
        """Store the file at ``path`` under ``key``; readers see all of it or nothing."""
        raise NotImplementedError

    def download(self, key: str, path: str) -> None:
        """Write object ``key`` to ``path``; FileNotFoundError when absent."""
        raise NotImplementedError

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """``length`` bytes of ``key`` from ``start`` (fewer at its end); FileNotFoundError when absent."""
        raise NotImplementedError

    def create(self, key: str, data: bytes) -> bool:
        """Write ``key`` only if absent; True if it now holds ``data`` (written by us, or identical)."""
        raise NotImplementedError

    def swap(self, key: str, data: bytes | None, tag: str) -> bool:
        """Replace (or with None, delete) ``key`` only if its tag is still ``tag``; True on success."""
        raise NotImplementedError

    def stat(self, key: str) -> Stat | None:
        raise NotImplementedError

    def list(self, prefix: str) -> Iterator[Stat]:
        """Every object whose key starts with ``prefix`` (a folder, ending in ``/``)."""
        raise NotImplementedError

    def remove(self, key: str) -> None:
        """Delete ``key`` unconditionally (gc of immutable objects only)."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def _check_key(key: str) -> str:
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in key.split("/")):
        raise RemoteError(f"invalid remote key {key!r}")
    return key


class FileBackend(Backend):
    """A remote in a local (or network-mounted) folder: ``file:///path``.

    Objects appear whole (written to a temporary name, then renamed or
    linked); create-only uses ``link(2)``; compare-and-swap holds an
    exclusive ``flock(2)`` on ``<key>.lock``, compares, renames, and removes
    the lock file. The kernel drops the lock of a writer that dies, so no lock
    is ever judged stale by its age (and none is broken while its writer lives).

    Others may write the folder too, so it is read as untrusted: only regular files are objects
    (a symbolic link, FIFO or device is refused when read and left out of listings: /dev/zero or
    a FIFO would never end), and no key leads out of the folder through a linked subfolder.
    """

    def __init__(self, url: str, root: str) -> None:
        self.url = url
        self.root = os.path.abspath(root)
        self._real = os.path.realpath(self.root)
        self._inside: set[str] = set()  # folders found inside the real root (a realpath costs ~70 µs)

    def _path(self, key: str) -> str:
        path = os.path.join(self.root, *_check_key(key).split("/"))
        folder = os.path.dirname(path)
        if folder not in self._inside:
            real = os.path.realpath(folder)
            if real != self._real and not real.startswith(self._real.rstrip(os.sep) + os.sep):
                raise RemoteError(f"remote {self.url}: key {key!r} leads out of the remote folder through a symbolic "
                                  f"link ({folder} is {real}): refused")
            self._inside.add(folder)
        return path

    def _open(self, key: str) -> int:
        """A descriptor of ``key``'s file, which must be a regular file (FileNotFoundError if absent)."""
        path = self._path(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as e:
            if isinstance(e, FileNotFoundError) or not os.path.islink(path):
                raise
            raise RemoteError(f"remote {self.url}: {key!r} is a symbolic link, not an object: refused") from None
        if not _stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise RemoteError(f"remote {self.url}: {key!r} is not a regular file, not an object: refused")
        return fd

    def _tmp_for(self, path: str) -> str:
        folder = os.path.dirname(path)
        os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")

    def _write_tmp(self, path: str, data: bytes) -> str:
        tmp = self._tmp_for(path)
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        return tmp

    def read(self, key: str, limit: int | None = None) -> tuple[bytes, str] | None:
        try:
            with open(self._open(key), "rb") as f:
                data = f.read() if limit is None else f.read(limit + 1)
        except FileNotFoundError:
            return None
        return data, tag_of(data)

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        os.replace(self._write_tmp(path, data), path)

    def upload(self, key: str, path: str) -> None:
        import shutil

        dest = self._path(key)
        tmp = self._tmp_for(dest)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)
        except BaseException:
            _unlink(tmp)
            raise

    def download(self, key: str, path: str) -> None:
        import shutil

        with open(self._open(key), "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        with open(self._open(key), "rb") as f:
            return os.pread(f.fileno(), length, start)

    def create(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        tmp = self._write_tmp(path, data)
        try:
            os.link(tmp, path)  # fails if the name exists: the O_EXCL of whole files
            return True
        except FileExistsError:
            current = self.read(key)
            return current is not None and current[0] == data
        finally:
            _unlink(tmp)

    def swap(self, key: str, data: bytes | None, tag: str) -> bool:
        path = self._path(key)
        lock = path + LOCK_SUFFIX
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = self._lock(lock)
        if fd is None:
            return False
        try:
            current = self.read(key)
            if current is None or current[1] != tag:
                return data is not None and current is not None and current[0] == data
            if data is None:
                _unlink(path)
            else:
                os.replace(self._write_tmp(path, data), path)
            return True
        finally:
            _unlink(lock)  # before unlocking: a waiter that then locks this file sees it gone and retries
            os.close(fd)

    def _lock(self, lock: str) -> int | None:
        """An open descriptor holding the flock of ``lock``, or None after LOCK_WAIT_SECONDS."""
        import fcntl

        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        attempt = 0
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                try:
                    # A holder removes the file before unlocking: the lock is ours only if
                    # the file we locked is still the one at that name.
                    if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                        return fd
                except FileNotFoundError:
                    pass
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    return None
                attempt += 1
                time.sleep(min(0.05, 0.001 * 2 ** min(attempt, 6)))
            os.close(fd)

    def stat(self, key: str) -> Stat | None:
        try:
            st = os.lstat(self._path(key))
        except FileNotFoundError:
            return None
        if not _stat.S_ISREG(st.st_mode):
            raise RemoteError(f"remote {self.url}: {key!r} is not a regular file, not an object: refused")
        return Stat(key, st.st_size, None, st.st_mtime)

    def list(self, prefix: str) -> Iterator[Stat]:
        base = self._path(prefix.rstrip("/")) if prefix.strip("/") else self.root
        if base != self.root and os.path.islink(base):
            raise RemoteError(f"remote {self.url}: {prefix!r} is a symbolic link, not a folder of objects: refused")
        found = []
        for folder, dirs, names in os.walk(base):
            dirs.sort()
            rel = os.path.relpath(folder, self.root).replace(os.sep, "/")
            for n in sorted(names):
                if n.startswith(TMP_PREFIX) or n.endswith(LOCK_SUFFIX):
                    continue
                key = n if rel == "." else f"{rel}/{n}"
                full = os.path.join(folder, n)
                try:
                    st = os.lstat(full)
                    if not _stat.S_ISREG(st.st_mode):
                        continue  # a link, FIFO or device is no object (reading it could never end)
                    tag = None
                    if st.st_size <= 4096:  # small objects (refs): their tag, as S3 lists it
                        with open(full, "rb") as f:
                            tag = tag_of(f.read(4097))
                except FileNotFoundError:
                    continue
                found.append(Stat(key, st.st_size, tag, st.st_mtime))
        yield from sorted(found, key=lambda s: s.key)

    def remove(self, key: str) -> None:
        _unlink(self._path(key))


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
