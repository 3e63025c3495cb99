"""The store's sweep generation: whether anything may have left the content store since a moment.

Only gc removes stored files. Before it reads the draft lists (and so
before it removes anything) it durably writes ``sweeping`` to
``cache/sweep``, and when it is done it writes a fresh random number there;
one gc at a time holds ``cache/sweep.lock``. So while the file holds the
number a writer read, nothing has been removed since that reading, and a
stat cache record that saw its digest stored under that number (seen after
the reading) can be trusted without looking at the store again. A missing
file is replaced by a fresh number (never an old one, so no record matches),
and a ``sweeping`` left by a killed gc is replaced once no gc holds the lock.
"""
from __future__ import annotations

import fcntl
import os
import secrets

FILENAME = "sweep"
LOCKNAME = "sweep.lock"
SWEEPING = "sweeping"


def _path(cache_dir: str) -> str:
    return os.path.join(cache_dir, FILENAME)


def _parse(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


def _write(cache_dir: str, text: str, durable: bool, replace: bool = True) -> bool:
    """Put ``text`` in the file by rename (``replace``) or by link, which fails when it exists."""
    os.makedirs(cache_dir, exist_ok=True)
    tmp = os.path.join(cache_dir, f"{FILENAME}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        os.write(fd, f"{text}\n".encode())
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)
    try:
        if replace:
            os.replace(tmp, _path(cache_dir))
        else:
            try:
                os.link(tmp, _path(cache_dir))
            except FileExistsError:
                return False
    finally:
        if not replace:
            os.unlink(tmp)
    if durable:
        dfd = os.open(cache_dir, os.O_RDONLY | os.O_CLOEXEC)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    return True


def current(cache_dir: str) -> int | None:
    """The generation now, or None while a gc may be removing files (or when it cannot be known)."""
    for _ in range(3):
        try:
            with open(_path(cache_dir), encoding="ascii") as f:
                text = f.read()
        except FileNotFoundError:
            try:
                _write(cache_dir, str(secrets.randbits(62)), durable=False, replace=False)
            except OSError:
                return None
            continue
        except (OSError, UnicodeDecodeError):
            return None
        gen = _parse(text)
        if gen is None and text.strip() == SWEEPING and _replace_stale(cache_dir):
            continue
        return gen
    return None


def _replace_stale(cache_dir: str) -> bool:
    """A ``sweeping`` whose gc is gone (no one holds the lock) becomes a fresh number."""
    try:
        fd = os.open(os.path.join(cache_dir, LOCKNAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a gc is sweeping
        with open(_path(cache_dir), encoding="ascii") as f:
            if f.read().strip() != SWEEPING:
                return True
        _write(cache_dir, str(secrets.randbits(62)), durable=False)
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def renew(cache_dir: str) -> None:
    """Start a fresh generation, so that no stat cache record vouches for the store any more:
    for when stored files went missing other than by gc (fsck found them missing or corrupt).
    While a gc sweeps, nothing is done: it ends with a fresh number anyway."""
    try:
        fd = os.open(os.path.join(cache_dir, LOCKNAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        _write(cache_dir, str(secrets.randbits(62)), durable=True)
    except OSError:
        pass
    finally:
        os.close(fd)


class Sweeping:
    """Held by gc around its sweep: one gc at a time; ``sweeping`` is durable before any removal."""

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = cache_dir
        self._fd = -1

    def __enter__(self) -> "Sweeping":
        os.makedirs(self.cache_dir, exist_ok=True)
        self._fd = os.open(os.path.join(self.cache_dir, LOCKNAME), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.begin()
        return self

    def begin(self) -> None:
        """(Again) mark the store as being swept, unless it already says so; durable on return."""
        try:
            with open(_path(self.cache_dir), encoding="ascii") as f:
                if f.read().strip() == SWEEPING:
                    return
        except (FileNotFoundError, UnicodeDecodeError):
            pass
        _write(self.cache_dir, SWEEPING, durable=True)

    def __exit__(self, *exc) -> None:
        try:
            _write(self.cache_dir, str(secrets.randbits(62)), durable=False)
        finally:
            os.close(self._fd)
