"""Filling a draft: the mechanisms behind ``Artifact.add_file``, ``add_dir``, ``new_file``,
``remove`` and ``add_reference`` of another artifact's entry (the Artifact is passed in)."""
from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import Generator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from artvcs.artifact_manifest import ArtifactManifestEntry
from artvcs.draft import staging
from artvcs.errors import ArtifactFinalizedError, MissingFileError
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.paths import normalize_entry_path
from artvcs.plumbing.settled import Settled
from artvcs.plumbing.settled import entries as settled_entries

if TYPE_CHECKING:
    from artvcs.artifact import Artifact


def add_file(
    art: "Artifact",
    local_path: str,
    name: str | None = None,
    is_tmp: bool | None = False,
    skip_cache: bool | None = False,
    policy: str | None = "mutable",
    overwrite: bool = False,
) -> ArtifactManifestEntry:
    """Add a local file (snapshotted now unless ``policy="immutable"``)."""
    policy = staging.check_policy(policy)
    if not os.path.isfile(local_path):
        raise MissingFileError(f"add_file: {local_path!r} is not a file")
    entry_path = normalize_entry_path(name if name is not None else os.path.basename(local_path))
    staged = staging.stage_file(art._repo(), local_path, entry_path, policy, bool(skip_cache))
    if is_tmp:
        folder, _, base = entry_path.rpartition("/")
        stem, dot, ext = base.partition(".")
        tmp_name = f"{stem}.{staged.entry.digest[:20]}{dot}{ext}"
        staged.entry.path = f"{folder}/{tmp_name}" if folder else tmp_name
    item = art._put(staged.entry, staged.local_path, overwrite, "add_file")
    if skip_cache:
        art._deferred[item.path] = staged.local_path
    art._hold()
    return item


def add_dir(
    art: "Artifact",
    local_path: str,
    name: str | None = None,
    skip_cache: bool | None = False,
    policy: str | None = "mutable",
    merge: bool = False,
) -> None:
    """Add every file below a local folder, under ``name`` (default: the artifact's root)."""
    policy = staging.check_policy(policy)
    if not os.path.isdir(local_path):
        raise MissingFileError(f"add_dir: {local_path!r} is not a directory")
    prefix = normalize_entry_path(name) if name else None
    # a draft holding nothing yet takes the unchanged files of a re-log as settled folders (bytes,
    # no entry per file), made entries only if someone reads or changes the draft (materialize)
    bulk = not art._entries and not art._pending and art._base_tree is None and not art._incremental
    staged, settled = staging.stage_dir(art._repo(), local_path, prefix, policy, bool(skip_cache),
                                        hold=art._hold_now, bulk=bulk)
    if settled:
        art._pending.append(PendingDir(staged, settled))
        if prefix is None:
            art._whole_dirs.append(os.path.abspath(local_path))
        art._hold()
        return
    _take(art, staged, merge, skip_cache)
    if prefix is None:
        art._whole_dirs.append(os.path.abspath(local_path))
    art._hold()


@dataclass(slots=True)
class PendingDir:
    """An ``add_dir`` to an empty draft, kept as staged: its files staged one by one, and its
    folders whose files the stat cache vouched for (``settled.Settled``)."""

    staged: list[staging.Staged]
    settled: list[Settled]

    def count(self) -> int:
        return len(self.staged) + sum(s.count for s in self.settled)


def materialize(art: "Artifact") -> None:
    """Turn the draft's pending ``add_dir`` into entries, as ``add_dir`` makes them, sorted by path."""
    pending, art._pending = art._pending, []
    for p in pending:
        staged = list(p.staged)
        for s in p.settled:
            staged += [staging.Staged(e, local) for e, local in settled_entries(s)]
        staged.sort(key=lambda st: st.entry.path)
        _take(art, staged, True, False)


def added_path(pending: list[PendingDir], local_path: str) -> str | None:
    """The entry path an ``add_dir`` kept as staged (pending or logged) gave the absolute
    ``local_path``, or None: ``get_added_local_path_name`` without making every entry."""
    for p in pending:
        for s in p.staged:
            if s.local_path == local_path:
                return s.entry.path
        folder, _, name = local_path.rpartition(os.sep)
        for s in p.settled:
            if os.path.abspath(s.local) == folder and name in s.names.split("/"):
                return f"{s.folder}/{name}" if s.folder else name
    return None


def pending_root(art: "Artifact", count: int) -> str | None:
    """The folder a draft with a pending ``add_dir`` was made of, when it was exactly one folder
    taken whole and nothing else (as logged.folders.logged_root tells of entries), without
    making its entries."""
    if len(art._whole_dirs) != 1 or art._local_paths or sum(p.count() for p in art._pending) != count:
        return None
    root = art._whole_dirs[0].rstrip(os.sep) + os.sep
    inside = [s.local_path for p in art._pending for s in p.staged] + [s.local + os.sep for p in art._pending for s in p.settled]
    return art._whole_dirs[0] if all(p.startswith(root) for p in inside) else None


def _take(art: "Artifact", staged: list[staging.Staged], merge: bool, skip_cache: bool | None) -> None:
    """Put staged files into the draft's entries (refused whole, before any change, when one
    differs from an entry the draft has and ``merge`` is False)."""
    entries = art._entry_map()
    if not merge and entries:  # check every path first, so a refusal changes nothing
        for s in staged:
            old = entries.get(s.entry.path)
            if old is not None and old.to_entry() != s.entry:
                raise UsageError(
                    f"add_dir: the artifact already has a different {s.entry.path!r}; pass merge=True to replace it"
                )
    # _put for each file, unrolled into dict updates: 20,000 files make this count. Staging gives
    # absolute local paths and stored entries, whose digests are already held (_hold_now).
    stored = [s.entry for s in staged]
    locals_ = [s.local_path for s in staged]
    paths = [e.path for e in stored]
    of = ArtifactManifestEntry._of
    entries.update(zip(paths, [of(e, local, art) for e, local in zip(stored, locals_)]))
    art._changes.update(zip(paths, stored))
    art._local_paths.update(zip(locals_, paths))
    if skip_cache:
        art._deferred.update(zip(paths, locals_))


def remove(art: "Artifact", item) -> None:
    """Remove an entry, or every entry under a folder path."""
    path = item.path if isinstance(item, ArtifactManifestEntry) else normalize_entry_path(item)
    entries = art._entry_map()
    doomed = [p for p in entries if p == path or p.startswith(path + "/")]
    if not doomed:
        raise MissingFileError(f"remove: the artifact has no entry or folder {path!r}")
    for p in doomed:
        del entries[p]
        art._changes[p] = None
    for local, p in list(art._local_paths.items()):
        if p in doomed:
            del art._local_paths[local]


@contextlib.contextmanager
def new_file(art: "Artifact", name: str, mode: str = "w", encoding: str | None = None) -> Generator[IO, None, None]:
    """Open a new file; when the block ends it is added to the artifact as ``name``."""
    if art._final:
        raise ArtifactFinalizedError(art.name, "new_file")
    path = normalize_entry_path(name)
    if path in art._entry_map():
        raise UsageError(f"new_file: the artifact already has {path!r}; remove it first or pick another name")
    repo = art._repo()
    # Written inside the repository (never to a system temp folder), then
    # stored, then removed: the content lives on in the store.
    folder = os.path.join(repo.gitdir, "tmp")
    os.makedirs(folder, exist_ok=True)
    local = os.path.join(folder, f"new-file-{os.getpid()}-{secrets.token_hex(6)}")
    if "b" not in mode and encoding is None:
        encoding = "utf-8"
    try:
        try:
            with open(local, mode, encoding=encoding) as f:
                yield f
        except UnicodeEncodeError as e:
            # W&B's words (wandb/sdk/artifacts/artifact.py new_file at v0.17.9): the text the
            # block wrote cannot be encoded in ``encoding``; nothing is added
            print(f"artvcs: ERROR Failed to open the provided file (UnicodeEncodeError: {e}). "
                  "Please provide the proper encoding.", file=sys.stderr)
            raise
        digest, size = repo.store.put_file(local, "mutable")
        art._put(Entry(path, digest, size), None, False, "new_file")
        art._hold()
    finally:
        try:
            os.unlink(local)
        except FileNotFoundError:
            pass


def entry_reference(entry: ArtifactManifestEntry, name: str | None) -> Entry:
    """A reference to another artifact's entry: the bytes are already in the store."""
    art = entry._artifact
    if art is None or art.is_draft():
        raise UsageError(f"add_reference: entry {entry.path!r} does not belong to a logged artifact")
    uri = f"{_manifest.ARTIFACT_SCHEME}{art.source_qualified_name}/{entry.path}"
    path = normalize_entry_path(name if name is not None else entry.path)
    return Entry(path, entry.digest, entry.size, uri, dict(entry.extra))
