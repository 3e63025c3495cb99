"""Ref names and compare-and-swap ref updates.

Namespaces (every component percent-encoded by :mod:`names`):

- ``refs/collections/<E>/<P>/<C>``   tip of a collection's version chain
- ``refs/versions/<E>/<P>/<C>/v<N>``  one version (created once, never reused)
- ``refs/aliases/<E>/<P>/<C>/<A>``    an alias; its reflog is its history
- ``refs/attrs/<E>/<P>/<C>``          chain of edits to mutable attributes
- ``refs/runs/<E>/<P>/<ID>``          a run record

libgit2 takes a ``.lock`` file per ref, so these updates are atomic between
processes; every update names the value it expects to replace.
"""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import pygit2

from .errors import ConflictError, NotFoundError, UsageError
from .names import decode_component, encode_component

ZERO = "0" * 40
NAMESPACES = ("collections", "versions", "aliases", "attrs", "runs", "latest")


@dataclass(frozen=True, slots=True)
class CollectionId:
    """Names one collection (or portfolio): entity/project/name."""

    entity: str
    project: str
    name: str

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}/{self.name}"

    @property
    def _path(self) -> str:
        return "/".join(encode_component(p) for p in (self.entity, self.project, self.name))

    @property
    def collection_ref(self) -> str:
        return f"refs/collections/{self._path}"

    @property
    def attrs_ref(self) -> str:
        return f"refs/attrs/{self._path}"

    def version_ref(self, number: int) -> str:
        return f"refs/versions/{self._path}/v{number}"

    @property
    def versions_prefix(self) -> str:
        return f"refs/versions/{self._path}/"

    def alias_ref(self, alias: str) -> str:
        return f"refs/aliases/{self._path}/{encode_component(alias)}"

    @property
    def aliases_prefix(self) -> str:
        return f"refs/aliases/{self._path}/"

    def latest_ref(self, tip_number: int) -> str:
        return f"refs/latest/{self._path}/v{tip_number}"

    @property
    def latest_prefix(self) -> str:
        return f"refs/latest/{self._path}/"


def run_ref(entity: str, project: str, run_id: str) -> str:
    return "refs/runs/" + "/".join(encode_component(p) for p in (entity, project, run_id))


def parse_ref(name: str) -> tuple[str, CollectionId | None, str | None]:
    """Split a ref name into ``(namespace, collection, leaf)``; leaf is ``vN``, an alias or a run id."""
    parts = name.split("/")
    if len(parts) < 5 or parts[0] != "refs" or parts[1] not in NAMESPACES:
        raise UsageError(f"{name!r} is not an artvcs ref (expected refs/<namespace>/<entity>/<project>/<name>...)")
    ns = parts[1]
    dec = [decode_component(p) for p in parts[2:]]
    if ns == "runs":
        return ns, None, dec[2]
    coll = CollectionId(*dec[:3])
    leaf = dec[3] if len(dec) > 3 else None
    return ns, coll, leaf


def _oid(value: str | pygit2.Oid | None) -> pygit2.Oid | None:
    if value is None or str(value) == ZERO:
        return None
    return value if isinstance(value, pygit2.Oid) else pygit2.Oid(hex=str(value))


def read(repo: pygit2.Repository, name: str) -> pygit2.Oid | None:
    """The target of ref ``name``, or None."""
    ref = repo.references.get(name)
    return ref.target if ref is not None else None


def update(repo: pygit2.Repository, name: str, new: str | pygit2.Oid | None, old: str | pygit2.Oid | None, message: str) -> None:
    """Set ``name`` to ``new`` only if it now holds ``old`` (None: must not exist / delete).

    Raises :class:`ConflictError` naming the ref when somebody else got there first.
    """
    new_oid, old_oid = _oid(new), _oid(old)
    if new_oid is not None and new_oid not in repo:
        raise NotFoundError(f"object {new_oid} does not exist: write it before pointing {name} at it")
    try:
        if old_oid is None:
            if new_oid is not None:
                _create(repo, name, new_oid, message)
            return
        ref = repo.references.get(name)
        if ref is None or ref.target != old_oid:
            raise ConflictError(_conflict(name, old_oid, ref.target if ref else None))
        if new_oid is None:
            ref.delete()
        else:
            ref.set_target(new_oid, message)
    except pygit2.GitError as e:
        if "does not match" in str(e):
            raise ConflictError(_conflict(name, old_oid, read(repo, name))) from None
        raise
    except OSError as e:
        # libgit2 could not take <ref>.lock: another writer holds it (for
        # microseconds), or a killed writer left it behind.
        if "lock" not in str(e):
            raise
        _clear_stale_lock(repo, name)
        raise ConflictError(f"ref {name} is locked by another writer: retry") from None


STALE_LOCK_SECONDS = 10


def _create(repo: pygit2.Repository, name: str, oid: pygit2.Oid, message: str) -> None:
    """Create ``name`` only if it does not exist, atomically.

    libgit2 checks for an existing ref before it takes the lock, so two
    creators can both succeed; here the check happens under git's own lock
    (``<ref>.lock`` made with O_EXCL), which git and libgit2 writers respect.
    """
    path = os.path.join(repo.path, name)
    lock = path + ".lock"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        _clear_stale_lock(repo, name)
        raise ConflictError(f"ref {name} is locked by another writer: retry") from None
    renamed = False
    try:
        current = read(repo, name)  # loose or packed, read under the lock
        if current is not None:
            raise ConflictError(_conflict(name, None, current))
        os.write(fd, f"{oid}\n".encode())
        os.fsync(fd)  # a ref that survives a power cut must not be empty
        _append_reflog(repo, name, ZERO, str(oid), message)
        try:
            os.rename(lock, path)
        except FileNotFoundError:  # another writer judged our lock stale and moved it aside
            raise ConflictError(f"ref {name} was contended while being created: retry") from None
        renamed = True
    finally:
        os.close(fd)
        if not renamed:
            try:
                os.unlink(lock)  # ours: we made it with O_EXCL
            except FileNotFoundError:
                pass


def _append_reflog(repo: pygit2.Repository, name: str, old: str, new: str, message: str) -> None:
    who, email = repo.ident  # the author, as libgit2 writes it in the reflogs of its own updates
    log = os.path.join(repo.path, "logs", name)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    line = f"{old} {new} {who} <{email}> {int(time.time())} +0000\t{message.splitlines()[0] if message else ''}\n"
    with open(log, "a", encoding="utf-8") as f:
        f.write(line)


def move(repo: pygit2.Repository, name: str, new: pygit2.Oid | None, message: str, attempts: int = 100) -> bool:
    """Point ``name`` at ``new`` (None: delete) from whatever it holds, retrying lost races.

    Returns False when it already held ``new``; raises ConflictError when
    other writers keep winning for ``attempts`` tries.
    """
    for attempt in range(attempts):
        backoff(attempt)
        old = read(repo, name)
        if old == new:
            return False
        try:
            update(repo, name, new, old, message)
            return True
        except ConflictError:
            continue
    raise ConflictError(f"could not update {name}: other writers keep moving it; retry")


def backoff(attempt: int) -> None:
    """Sleep a little before retrying a lost compare-and-swap (grows to 0.2 s)."""
    if attempt:
        time.sleep(min(0.2, 0.0005 * 2 ** min(attempt, 10)))


def _clear_stale_lock(repo: pygit2.Repository, name: str) -> None:
    """Remove ``<ref>.lock`` if its writer is long gone (a lock lives for microseconds).

    Two writers may both judge one lock stale; each renames it aside first and
    deletes only what it moved, and only if that is the very file (inode) it
    judged, so a fresh lock taken meanwhile by a third writer is put back.
    """
    lock = os.path.join(repo.path, name + ".lock")
    try:
        st = os.stat(lock)
        if time.time() - st.st_mtime <= STALE_LOCK_SECONDS:
            return
        aside = f"{lock}.stale-{os.getpid()}-{time.monotonic_ns()}"
        os.rename(lock, aside)
    except FileNotFoundError:
        return
    moved = os.stat(aside)
    if (moved.st_ino, moved.st_dev) == (st.st_ino, st.st_dev):
        os.unlink(aside)
    else:
        try:
            os.link(aside, lock)  # not ours to remove: restore it unless a new lock exists
        except FileExistsError:
            pass
        os.unlink(aside)


def _conflict(name: str, expected, actual) -> str:
    exp = str(expected) if expected else "absent"
    act = str(actual) if actual else "absent"
    return f"ref {name} changed concurrently (expected {exp}, found {act}): re-read it and retry"


def iter_refs(repo: pygit2.Repository, prefix: str = "refs/") -> Iterator[tuple[str, pygit2.Oid]]:
    """``(name, target)`` of every direct ref under ``prefix``, sorted by name."""
    found = [
        (ref.name, ref.target)
        for ref in repo.references.iterator()
        if ref.name.startswith(prefix) and ref.type == pygit2.enums.ReferenceType.DIRECT
    ]
    found.sort()
    yield from found


class ReflogEntry(NamedTuple):
    """One move of a ref: from ``old`` to ``new`` (None: absent), why, when, and by whom."""

    old: str | None
    new: str | None
    message: str
    time: int
    author: str
    email: str

    @property
    def who(self) -> str:
        """``name <email>`` of who moved the ref."""
        return f"{self.author} <{self.email}>"


def reflog(repo: pygit2.Repository, name: str) -> list[ReflogEntry]:
    """The entries of a ref's reflog, oldest first."""
    ref = repo.references.get(name)
    if ref is None:
        return []
    out = []
    for e in ref.log():
        out.append(ReflogEntry(_hex(e.oid_old), _hex(e.oid_new), e.message or "", e.committer.time, e.committer.name, e.committer.email))
    return list(reversed(out))


def _hex(oid) -> str | None:
    s = str(oid)
    return None if s == ZERO else s
