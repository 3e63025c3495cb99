"""Ref names and compare-and-swap ref updates.

Namespaces (every component percent-encoded by :mod:`names`):

- ``refs/collections/<E>/<P>/<C>``   tip of a collection's version chain
- ``refs/versions/<E>/<P>/<C>/v<N>``  one version (created once, never reused)
- ``refs/aliases/<E>/<P>/<C>/<A>``    an alias; its reflog is its history
- ``refs/attrs/<E>/<P>/<C>``          chain of edits to mutable attributes
- ``refs/runs/<E>/<P>/<ID>``          a run record
- ``refs/drafts/<E>/<P>/<C>/<D>``     a distributed draft (W&B's upsert_artifact), not yet a version

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

from .errors import ConflictError, CorruptObjectError, NotFoundError, UsageError
from .names import decode_component, encode_component

ZERO = "0" * 40
NAMESPACES = ("collections", "versions", "aliases", "attrs", "runs", "latest", "drafts")
DRAFT_FILE = "draft.json"  # with "manifest", the tree of a commit a refs/drafts/ ref names


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

    def draft_ref(self, distributed_id: str) -> str:
        return f"refs/drafts/{self._path}/{encode_component(distributed_id)}"


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
    try:
        ref = repo.references.get(name)
    except pygit2.GitError as e:  # a damaged loose ref file or packed-refs
        raise CorruptObjectError(f"ref {name} cannot be read ({e}): fix or delete it (artvcs fsck lists refs)") from None
    except ValueError:  # a name git does not allow: never one artvcs writes
        raise UsageError(f"{name!r} is not a valid ref name") from None
    if ref is None or ref.type != pygit2.enums.ReferenceType.DIRECT:
        return None  # artvcs writes direct refs only; a symbolic one is not followed
    return ref.target


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
RACY_SECONDS = 2


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
    """``(name, target)`` of every direct ref under ``prefix``, sorted by name.

    A prefix naming a namespace or a folder in one (``refs/runs/``, ``refs/versions/E/P/C/``) reads only that folder's
    loose refs and the matching lines of ``packed-refs`` (git's layout, gitrepository-layout(5)): a
    collection's aliases are then found without reading the 10,000 version refs of every other.
    libgit2 can do this (a glob iterator) but pygit2 does not expose it.
    """
    if _one_folder(repo, prefix):
        found = _files_refs(repo.path, prefix)
    else:
        try:
            found = [
                (ref.name, ref.target)
                for ref in repo.references.iterator()
                if ref.name.startswith(prefix) and ref.type == pygit2.enums.ReferenceType.DIRECT
            ]
        except pygit2.GitError as e:  # a damaged packed-refs file
            raise CorruptObjectError(f"the refs of {repo.path} cannot be listed ({e}): repair or remove the damaged file") from None
    found.sort()
    yield from found


def iter_ref_names(repo: pygit2.Repository, prefix: str) -> list[str]:
    """The names of the refs under ``prefix``, sorted, without reading their values (for a namespace or a
    folder in one, a directory listing: counting 10,000 versions reads no file)."""
    if _one_folder(repo, prefix):
        return sorted(n for n, _ in _files_refs(repo.path, prefix, values=False))
    return [n for n, _ in iter_refs(repo, prefix)]


def iter_ref_folders(repo: pygit2.Repository, prefix: str, depth: int) -> set[str]:
    """The folders ``depth`` levels below ``prefix`` that hold at least one ref (``refs/versions/`` and 3: each
    ``refs/versions/E/P/C``), listing folders only, never the refs inside them."""
    if not _one_folder(repo, prefix):
        return {"/".join(n.split("/")[: prefix.count("/") + depth]) for n in iter_ref_names(repo, prefix) if n.count("/") >= prefix.count("/") + depth}
    found: set[str] = set()
    level = [prefix.rstrip("/")]
    for _ in range(depth):
        nxt = []
        for folder in level:
            try:
                nxt += [f"{folder}/{e.name}" for e in os.scandir(os.path.join(repo.path, folder)) if e.is_dir(follow_symlinks=False)]
            except (FileNotFoundError, NotADirectoryError):
                pass
        level = nxt
    found.update(folder for folder in level if _holds_a_file(os.path.join(repo.path, folder)))
    try:
        with open(os.path.join(repo.path, "packed-refs"), "rb") as f:
            packed = f.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        packed = ""
    cut = prefix.count("/") + depth
    for line in packed.splitlines():
        name = line.split(" ", 1)[1] if line[:1] not in ("#", "^") and " " in line else ""
        if name.startswith(prefix) and name.count("/") >= cut:
            found.add("/".join(name.split("/")[:cut]))
    return found


def folder_stamp(repo: pygit2.Repository, prefix: str) -> tuple[int, ...] | None:
    """A value that changes whenever a ref directly in folder ``prefix`` is created, moved or deleted
    (the folder's and packed-refs' modification times, sizes and inodes: every ref write renames a
    file into one of them); None when it cannot tell: no files backend, or a write in the last
    RACY_SECONDS, whose time a later write in the same clock tick could repeat (git's "racy" rule)."""
    if not _one_folder(repo, prefix):
        return None
    out: list[int] = []
    now = time.time_ns()
    for path in (os.path.join(repo.path, prefix), os.path.join(repo.path, "packed-refs")):
        try:
            st = os.stat(path)
        except FileNotFoundError:
            out += [0, 0, 0]
            continue
        if now - st.st_mtime_ns < RACY_SECONDS * 1_000_000_000:
            return None
        out += [st.st_mtime_ns, st.st_ino, st.st_size]
    return tuple(out)


def _holds_a_file(path: str) -> bool:
    """Whether folder ``path`` (or one below it) holds a ref file; stops at the first one."""
    try:
        with os.scandir(path) as it:
            for e in it:
                if e.is_dir(follow_symlinks=False) and _holds_a_file(e.path) or not e.is_dir(follow_symlinks=False) and not e.name.endswith(".lock"):
                    return True
    except (FileNotFoundError, NotADirectoryError):
        pass
    return False


def _one_folder(repo: pygit2.Repository, prefix: str) -> bool:
    """``refs/<namespace>/...`` with a files backend: its loose refs are one folder on disk."""
    return prefix.startswith("refs/") and prefix.endswith("/") and prefix != "refs/" and os.path.isdir(os.path.join(repo.path, "refs"))


def _files_refs(gitdir: str, prefix: str, values: bool = True) -> list[tuple[str, pygit2.Oid | None]]:
    """Direct refs under ``prefix`` in the files backend: loose refs first, then packed-refs, so a ref
    packed meanwhile (written to packed-refs before its loose file goes) is seen in one or the other.
    Without ``values`` the loose files are listed, not read (their values come back as None)."""
    loose: dict[str, pygit2.Oid | None] = {}
    stack = [prefix]
    while stack:
        folder = stack.pop()
        try:
            items = list(os.scandir(os.path.join(gitdir, folder)))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for item in items:
            name = folder + item.name
            if item.is_dir(follow_symlinks=False):
                stack.append(name + "/")
            elif not item.name.endswith(".lock"):
                if not values:
                    loose[name] = None
                    continue
                try:
                    with open(item.path, "rb") as f:
                        text = f.read(200).strip()
                except (FileNotFoundError, IsADirectoryError):
                    continue  # deleted or packed meanwhile: packed-refs has it if it still exists
                loose[name] = _parse_oid(text)  # None: symbolic or unreadable; it still hides a packed value
    found = [(n, oid) for n, oid in loose.items() if oid is not None or not values]
    try:
        with open(os.path.join(gitdir, "packed-refs"), "rb") as f:
            packed = f.read().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        packed = ""
    for line in packed.splitlines():
        if line[:1] in ("#", "^") or " " not in line:
            continue
        hexid, name = line.split(" ", 1)
        if name.startswith(prefix) and name not in loose and (oid := _parse_oid(hexid.encode())) is not None:
            found.append((name, oid))
    return found


def _parse_oid(text: bytes) -> pygit2.Oid | None:
    try:
        return pygit2.Oid(hex=text.decode("ascii")) if len(text) == 40 else None
    except (ValueError, UnicodeDecodeError):
        return None


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
