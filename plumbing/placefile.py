"""Putting one stored file in its place in a checkout: copy, reflink, hard or symbolic link.

With the digest that names it, what is handed over is verified on the way:
a small copy is read whole and hashed before its file is created
(:func:`copyhash.read_small_verified`; a checkout's new small copies go
a batch at a time through :mod:`copybatch`, which hands back here every file
off its plain path), a large one hashed as it is made
(:func:`copyhash.copy_verified`), and a reflink or link hashes the store
file it shares first. A mismatch is a CorruptObjectError and leaves nothing
under the target's name.
"""
from __future__ import annotations

import errno
import fcntl
import os
import secrets
import stat
import threading
from collections.abc import Callable

from .copyhash import STEP, check_stop, copy_verified, hash_verified, read_small_verified, write_all
from .errors import CorruptObjectError
from .hashing import MMAP_THRESHOLD

FICLONE = 0x40049409  # _IOW(0x94, 9, int): share the source's extents (btrfs, XFS, bcachefs)
TMP_PREFIX = ".artvcs-tmp-"


def copy_fd(sfd: int, dfd: int, stop: threading.Event | None = None) -> None:
    """Copy all of ``sfd`` into ``dfd``: in the kernel where it can, else by reads and writes.
    With ``stop``, STEP bytes a call, checked before each (see :func:`copyhash.check_stop`)."""
    n, off = os.fstat(sfd).st_size, 0
    most = n if stop is None else STEP
    try:
        while off < n:
            check_stop(stop)
            done = os.copy_file_range(sfd, dfd, min(most, n - off))
            if not done:
                break
            off += done
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EPERM):
            raise
        os.lseek(sfd, off, os.SEEK_SET)
        os.lseek(dfd, off, os.SEEK_SET)
        while buf := os.read(sfd, 1 << 20):
            if off % STEP < len(buf):  # (each STEP boundary crossed)
                check_stop(stop)
            write_all(dfd, buf)
            off += len(buf)


def _create(dst: str, fill: Callable[[int], None], access: int = os.O_RDWR) -> os.stat_result:
    """Create ``dst`` (O_EXCL: it must not exist) with ``fill(dst_fd)``; the file's stat once
    written. On an error the half-written ``dst`` is removed (a crash can leave it)."""
    dfd = os.open(dst, access | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        fill(dfd)
        st = os.fstat(dfd)
    except BaseException:
        os.close(dfd)
        unlink_quiet(dst)
        raise
    os.close(dfd)
    return st


def _write_new(fill: Callable[[int, int], None], src: str, dst: str) -> os.stat_result:
    """Create ``dst`` (see :func:`_create`) with ``fill(src_fd, dst_fd)``."""
    sfd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    try:
        return _create(dst, lambda dfd: fill(sfd, dfd))
    finally:
        os.close(sfd)


def copy(src: str, dst: str, digest: str | None = None, what: str | None = None,
         size: int | None = None, stop: threading.Event | None = None) -> os.stat_result:
    """Copy store file ``src`` to the new file ``dst``; verified against ``digest`` when given.
    A small file whose ``size`` the manifest gives is read whole and hashed first
    (:func:`copyhash.read_small_verified`). ``stop`` ends a large copy at a step boundary."""
    if digest is None:
        return _write_new(lambda s, d: copy_fd(s, d, stop), src, dst)
    if size is not None and size < MMAP_THRESHOLD:
        data = read_small_verified(src, digest, size, repr(what or dst))
        if data is not None:  # verified: only now is dst created
            return _create(dst, lambda dfd: write_all(dfd, data), os.O_WRONLY)
    return _write_new(lambda s, d: copy_verified(s, d, digest, src, repr(what or dst), stop), src, dst)


def reflink(src: str, dst: str, digest: str | None = None, what: str | None = None) -> os.stat_result:
    """Clone store file ``src`` to the new file ``dst``; its bytes verified first when ``digest``."""
    def fill(s: int, d: int) -> None:
        if digest is not None:
            hash_verified(s, digest, src, repr(what or dst))
        fcntl.ioctl(d, FICLONE, s)

    return _write_new(fill, src, dst)


def verify_stored(src: str, digest: str, what: str) -> None:
    """Hash store file ``src`` (about to be linked to): CorruptObjectError unless it is ``digest``
    and a regular file of its own (a link would hand over a symlink, not the bytes hashed)."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
        raise CorruptObjectError(f"stored content {digest} for {what!r} is a symbolic link in the store, "
                                 f"not a file: refused ({src})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CorruptObjectError(f"stored content {digest} for {what!r} is not a regular file in the store: refused ({src})")
        hash_verified(fd, digest, src, repr(what))
    finally:
        os.close(fd)


def tmp_beside(target: str) -> str:
    return os.path.join(os.path.dirname(target), TMP_PREFIX + secrets.token_hex(8))


def unlink_quiet(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def place(mode: str, src: str, target: str, present: bool = True, digest: str | None = None,
          size: int | None = None, stop: threading.Event | None = None) -> os.stat_result | None:
    """Put store file ``src`` at ``target`` by ``mode``; for a copy or reflink, its stat once written.

    With ``digest``, what is handed over is verified (see the module); without,
    it is trusted. Where something is at ``target`` (``present``) the file is
    written under a temporary name and renamed over it, so no reader ever sees
    half a file there; so is a large copy (``size``, verified or not), so that a
    crash mid-copy leaves nothing under its final name either. Otherwise a small file
    is written at ``target`` directly (O_EXCL): one directory operation instead
    of two. A link is whole the moment it exists; a small copy killed mid-way
    (a crash: errors remove it) leaves a partial file, which is not in the stat
    cache, so the next checkout, status or verify hashes it and finds it modified.
    ``stop`` ends a copy early (StoppedError, its temporary file removed).
    """
    if digest is not None and mode in ("hardlink", "symlink"):
        verify_stored(src, digest, target)
    if not present and not (size is not None and size >= MMAP_THRESHOLD):
        try:
            if mode == "hardlink":
                os.link(src, target)
                return None
            if mode == "symlink":
                os.symlink(src, target)
                return None
            if mode == "reflink":
                return reflink(src, target, digest)
            return copy(src, target, digest, size=size, stop=stop)
        except FileExistsError:
            pass  # something appeared meanwhile: replace it below
        except OSError as e:
            if mode != "hardlink" or e.errno != errno.EMLINK:
                raise
    tmp = tmp_beside(target)
    st = None
    try:
        if mode == "hardlink":
            try:
                os.link(src, tmp)
            except OSError as e:
                if e.errno != errno.EMLINK:  # this inode has all the links it can have: copy it
                    raise
                st = copy(src, tmp, digest, target, size, stop)
        elif mode == "symlink":
            os.symlink(src, tmp)
        elif mode == "reflink":
            st = reflink(src, tmp, digest, target)
        else:
            st = copy(src, tmp, digest, target, size, stop)
        os.replace(tmp, target)
    except BaseException:
        unlink_quiet(tmp)
        raise
    return None if st is None else stat_renamed(target, st)


def stat_renamed(target: str, st: os.stat_result) -> os.stat_result | None:
    """The stat of the file just renamed to ``target`` whose stat ``st`` was taken before the
    rename, for the stat cache: the rename changed its ctime (ext4 and others), so ``st`` would
    never match again; None when the file there is not that one, unwritten since (inode, size, mtime)."""
    try:
        now = os.lstat(target)
    except OSError:
        return None
    same = (now.st_ino, now.st_size, now.st_mtime_ns) == (st.st_ino, st.st_size, st.st_mtime_ns)
    return now if same else None
