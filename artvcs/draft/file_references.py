"""Reading ``file://`` references: only regular files, never past the recorded size, and a
reference that arrived from a remote only where its bytes can be checked or the user allowed it.

A manifest names a local path; whoever wrote the manifest chose it. A
reference added on this machine is the user's own. One that arrived in a
version pulled from a remote (the remote branch records it in
``remotes/.references``, :mod:`artvcs.plumbing.remote.provenance`) names a
path on *this* machine chosen by whoever could write the remote, so it is
followed only when its recorded digest is the blake3 of content (then what is
read is checked against it before it is handed over), or when the path lies
under a folder allowed in ``config.yaml``::

    references:
      file_roots: [/data/shared]

Every read opens the file first and then looks at what was opened: a device,
FIFO, socket or folder is refused (so ``/dev/zero`` or a FIFO never stalls a
download), so is a size other than the recorded one (``/proc`` files report 0),
and no more than the recorded size is read.
"""
from __future__ import annotations

import os
import stat as _stat
from collections.abc import Callable
from dataclasses import dataclass

import blake3

from artvcs.plumbing import config as _config
from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.manifest import Entry

CHUNK = 1 << 20
CONFIG_SECTION, CONFIG_KEY = "references", "file_roots"


class ReferenceUnavailableError(ArtvcsError, ValueError):
    """A referenced object is missing, changed since it was logged, unreachable, or not to be followed."""


@dataclass(frozen=True)
class FileReferencePolicy:
    """What may be followed: ``origin(uri)`` names the remote a reference arrived from (None: added
    here); ``roots`` are the real paths of folders the user allows for such references."""

    origin: Callable[[str], str | None]
    roots: tuple[str, ...] = ()

    def allows(self, real: str) -> bool:
        return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in self.roots)


def allowed_roots(config_path: str) -> tuple[str, ...]:
    """The folders ``config.yaml`` allows remote-borne file references under (real paths)."""
    where = f"{config_path} ({CONFIG_SECTION})"
    section = _config.section(_config.load(config_path), CONFIG_SECTION, config_path)
    roots = section.get(CONFIG_KEY) or []
    if not isinstance(roots, list) or not all(isinstance(r, str) and os.path.isabs(r) for r in roots):
        raise UsageError(f"{where}: '{CONFIG_KEY}' must be a list of absolute folder paths, not {roots!r}")
    return tuple(os.path.realpath(r) for r in roots)


def policy_for(gitdir: str, config_path: str) -> FileReferencePolicy:
    """The policy of the repository at ``gitdir``: its provenance record and its config."""
    from artvcs.plumbing.remote.provenance import is_local_reference, remote_references

    arrived = remote_references(gitdir)  # read once: a download may follow thousands of references
    return FileReferencePolicy(lambda uri: arrived.get(uri) if is_local_reference(uri) else None, allowed_roots(config_path))


def read_file_reference(entry: Entry, uri: str, path: str, dest: str, checked: bool,
                        policy: FileReferencePolicy | None, changed: Callable[[str], Exception]) -> None:
    """Copy the file ``path`` (from ``uri``) to ``dest`` under the rules above.

    ``checked``: the entry's digest is the blake3 of the content, so the bytes
    are compared with it. ``changed(detail)`` makes the error for a file that
    is not what was logged.
    """
    origin = policy.origin(uri) if policy is not None else None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # O_NONBLOCK: a FIFO must not block the open
    except FileNotFoundError:
        raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} no longer exists") from None
    except OSError as e:
        raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} cannot be read: {e.strerror}") from None
    try:
        st = os.fstat(fd)
        if _stat.S_ISDIR(st.st_mode):
            raise ReferenceUnavailableError(
                f"reference {uri} of {entry.path!r} is a folder logged with checksum=False: "
                "its files were not recorded, so it cannot be downloaded"
            )
        if not _stat.S_ISREG(st.st_mode):
            raise ReferenceUnavailableError(
                f"reference {uri} of {entry.path!r} is not a regular file (a device, FIFO or socket): "
                "artvcs never reads one as a reference"
            )
        if origin is not None and not checked:
            real = os.path.realpath(path)
            if not policy.allows(real) or _identity(os.stat(real)) != _identity(st):
                raise ReferenceUnavailableError(
                    f"reference {uri} of {entry.path!r} arrived from remote {origin!r} and records no content digest "
                    f"to check it against, so artvcs follows it only under a folder allowed in config.yaml "
                    f"({CONFIG_SECTION}: {CONFIG_KEY}: [...]); allow its folder if you trust that remote, "
                    "or skip it with allow_missing_references=True"
                )
        if entry.size is not None and st.st_size != entry.size:
            raise changed(f" (it is {st.st_size} bytes; {entry.size} were recorded)")
        limit = st.st_size if entry.size is None else entry.size
        digest = _copy_at_most(fd, dest, limit, changed)
    finally:
        os.close(fd)
    if checked and digest != entry.digest:
        raise changed("")


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _copy_at_most(fd: int, dest: str, limit: int, changed: Callable[[str], Exception]) -> str:
    """Copy ``limit`` bytes of ``fd`` to ``dest`` and return their blake3; a file that turns out
    longer or shorter than ``limit`` (it changed while read) is refused."""
    h = blake3.blake3()
    left = limit
    with open(dest, "wb") as out:
        while left > 0:
            chunk = os.read(fd, min(CHUNK, left))
            if not chunk:
                raise changed(f" (it ended after {limit - left} bytes; {limit} were recorded)")
            h.update(chunk)
            out.write(chunk)
            left -= len(chunk)
    if os.read(fd, 1):
        raise changed(f" (it holds more than the {limit} bytes recorded)")
    return h.hexdigest()
