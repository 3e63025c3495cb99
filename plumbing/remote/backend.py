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

import errno
import hashlib
import os
import secrets
import stat as _stat
import time
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import RemoteError, RemoteFormatError

LOCK_SUFFIX = ".lock"
TMP_PREFIX = ".tmp-"
LOCK_WAIT_SECONDS = 10.0
SWAP_LIMIT = 1 << 20  # objects moved by compare-and-swap (refs, the layout record) are tiny: read no more to compare


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


def read_bounded(backend: Backend, key: str, limit: int, what: str) -> tuple[bytes, str] | None:
    """``(bytes, tag)`` of the small record ``key`` (None when absent), refusing one above ``limit`` bytes.

    For records that are not named by their digest (the layout record, the namespace, lock objects):
    the read stops after ``limit + 1`` bytes whatever the remote serves, so a record served as a
    gigabyte costs no more memory than its bound (artvcs-remote-format(5), BOUNDS)."""
    found = backend.read(key, limit=limit)
    if found is not None and len(found[0]) > limit:
        raise RemoteFormatError(f"remote {backend.url}: {what} {key!r} is larger than its bound of {limit} bytes: "
                                "the remote is damaged or forged: refused")
    return found


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

    # Every key is reached from the root one folder at a time, each opened O_NOFOLLOW|O_DIRECTORY, and
    # its file named relative to the last folder's descriptor (openat, renameat, linkat, unlinkat): a
    # folder swapped for a link at any moment is refused, never followed. Nothing is cached: a check
    # made once would hold only until a writer of the remote folder swaps the folder (a walk of
    # content/ab costs two openat, less than one realpath).
    def _walk(self, key: str, folders: list[str], create: bool = False) -> int:
        """A descriptor of the folder ``folders`` (components under the root); FileNotFoundError if one is
        missing (unless ``create``); a link or file among them is refused."""
        try:
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except FileNotFoundError:
            if not create:
                raise
            os.makedirs(self.root, exist_ok=True)  # the folder the user named: links on its way are theirs
            fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for i, name in enumerate(folders):
                try:
                    nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    try:
                        os.mkdir(name, 0o777, dir_fd=fd)
                    except FileExistsError:
                        pass
                    nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as e:
                    if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                        raise
                    where = os.path.join(self.root, *folders[:i + 1])
                    if os.path.islink(where):
                        raise RemoteError(f"remote {self.url}: key {key!r} leads out of the remote folder through a "
                                          f"symbolic link ({where} is a link): refused") from None
                    raise RemoteError(f"remote {self.url}: key {key!r} needs {where} to be a folder: refused") from None
                os.close(fd)
                fd = nxt
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _folder(self, key: str, create: bool = False) -> tuple[int, str]:
        """``(descriptor of key's folder, key's last name)``; the caller closes the descriptor."""
        parts = _check_key(key).split("/")
        return self._walk(key, parts[:-1], create), parts[-1]

    def _open_at(self, dfd: int, name: str, key: str) -> int:
        """A descriptor of ``name`` in folder ``dfd``, which must be a regular file (FileNotFoundError if absent)."""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
        except OSError as e:
            if isinstance(e, FileNotFoundError) or not _stat.S_ISLNK(os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode):
                raise
            raise RemoteError(f"remote {self.url}: {key!r} is a symbolic link, not an object: refused") from None
        if not _stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise RemoteError(f"remote {self.url}: {key!r} is not a regular file, not an object: refused")
        return fd

    def _open(self, key: str) -> int:
        """A descriptor of ``key``'s file, which must be a regular file (FileNotFoundError if absent)."""
        dfd, name = self._folder(key)
        try:
            return self._open_at(dfd, name, key)
        finally:
            os.close(dfd)

    @staticmethod
    def _new_tmp(dfd: int) -> tuple[str, int]:
        """A fresh temporary file in folder ``dfd``: its name and a descriptor open for writing."""
        tmp = f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        return tmp, os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666, dir_fd=dfd)

    def _write_tmp(self, dfd: int, data: bytes) -> str:
        tmp, fd = self._new_tmp(dfd)
        try:
            with open(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            _unlink(tmp, dfd)
            raise
        return tmp

    def _read_at(self, dfd: int, name: str, key: str, limit: int | None = None) -> tuple[bytes, str] | None:
        try:
            with open(self._open_at(dfd, name, key), "rb") as f:
                data = f.read() if limit is None else f.read(limit + 1)
        except FileNotFoundError:
            return None
        return data, tag_of(data)

    def read(self, key: str, limit: int | None = None) -> tuple[bytes, str] | None:
        try:
            dfd, name = self._folder(key)
        except FileNotFoundError:
            return None
        try:
            return self._read_at(dfd, name, key, limit)
        finally:
            os.close(dfd)

    def write(self, key: str, data: bytes) -> None:
        dfd, name = self._folder(key, create=True)
        try:
            os.replace(self._write_tmp(dfd, data), name, src_dir_fd=dfd, dst_dir_fd=dfd)
        finally:
            os.close(dfd)

    def upload(self, key: str, path: str) -> None:
        import shutil

        dfd, name = self._folder(key, create=True)
        try:
            tmp, fd = self._new_tmp(dfd)
            try:
                with open(fd, "wb") as dst, open(path, "rb") as src:
                    try:
                        while os.sendfile(fd, src.fileno(), None, 1 << 30):  # in the kernel, as shutil.copyfile
                            pass
                    except OSError:  # no sendfile between these two: through memory, from the start
                        src.seek(0)
                        dst.seek(0)
                        dst.truncate(0)
                        shutil.copyfileobj(src, dst, 1 << 20)
                os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
            except BaseException:
                _unlink(tmp, dfd)
                raise
        finally:
            os.close(dfd)

    def download(self, key: str, path: str) -> None:
        import shutil

        with open(self._open(key), "rb") as src, open(path, "wb") as dst:
            shutil.copyfileobj(src, dst)

    def read_range(self, key: str, start: int, length: int) -> bytes:
        with open(self._open(key), "rb") as f:
            return os.pread(f.fileno(), length, start)

    def create(self, key: str, data: bytes) -> bool:
        dfd, name = self._folder(key, create=True)
        try:
            tmp = self._write_tmp(dfd, data)
            try:
                os.link(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd, follow_symlinks=False)  # the O_EXCL of whole files
                return True
            except FileExistsError:
                current = self._read_at(dfd, name, key, len(data))  # a larger object is not ours: read no further
                return current is not None and current[0] == data
            finally:
                _unlink(tmp, dfd)
        finally:
            os.close(dfd)

    def swap(self, key: str, data: bytes | None, tag: str) -> bool:
        dfd, name = self._folder(key, create=True)
        try:
            lock = name + LOCK_SUFFIX
            fd = self._lock(dfd, lock)
            if fd is None:
                return False
            try:
                current = self._read_at(dfd, name, key, SWAP_LIMIT)
                if current is not None and len(current[0]) > SWAP_LIMIT:
                    return False  # no record swapped is this large: its tag cannot be the one read
                if current is None or current[1] != tag:
                    return data is not None and current is not None and current[0] == data
                if data is None:
                    _unlink(name, dfd)
                else:
                    os.replace(self._write_tmp(dfd, data), name, src_dir_fd=dfd, dst_dir_fd=dfd)
                return True
            finally:
                _unlink(lock, dfd)  # before unlocking: a waiter that then locks this file sees it gone and retries
                os.close(fd)
        finally:
            os.close(dfd)

    @staticmethod
    def _lock(dfd: int, lock: str) -> int | None:
        """An open descriptor holding the flock of ``lock`` (in folder ``dfd``), or None after LOCK_WAIT_SECONDS."""
        import fcntl

        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        attempt = 0
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dfd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                try:
                    # A holder removes the file before unlocking: the lock is ours only if
                    # the file we locked is still the one at that name.
                    if os.stat(lock, dir_fd=dfd, follow_symlinks=False).st_ino == os.fstat(fd).st_ino:
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
            dfd, name = self._folder(key)
        except FileNotFoundError:
            return None
        try:
            st = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            return None
        finally:
            os.close(dfd)
        if not _stat.S_ISREG(st.st_mode):
            raise RemoteError(f"remote {self.url}: {key!r} is not a regular file, not an object: refused")
        return Stat(key, st.st_size, None, st.st_mtime)

    def list(self, prefix: str) -> Iterator[Stat]:
        folders = _check_key(prefix.strip("/")).split("/") if prefix.strip("/") else []
        base = os.path.join(self.root, *folders)
        if folders and os.path.islink(base):
            raise RemoteError(f"remote {self.url}: {prefix!r} is a symbolic link, not a folder of objects: refused")
        try:
            os.close(self._walk(prefix, folders))  # no folder on the way is a link (objects read later are walked again)
        except FileNotFoundError:
            return
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
        try:
            dfd, name = self._folder(key)
        except FileNotFoundError:
            return
        try:
            _unlink(name, dfd)
        finally:
            os.close(dfd)


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _unlink(path: str, dir_fd: int | None = None) -> None:
    try:
        os.unlink(path, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
