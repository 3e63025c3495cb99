"""Filling a draft: the mechanisms behind ``Artifact.add_file``, ``add_dir``, ``new_file``,
``remove`` and ``add_reference`` of another artifact's entry (the Artifact is passed in)."""
from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Generator
from typing import IO, TYPE_CHECKING

from artvcs.artifact_manifest import ArtifactManifestEntry
from artvcs.draft import staging
from artvcs.errors import ArtifactFinalizedError, MissingFileError
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.paths import normalize_entry_path

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
    staged = staging.stage_dir(art._repo(), local_path, prefix, policy, bool(skip_cache), hold=art._hold_now)
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
    if prefix is None:
        art._whole_dirs.append(os.path.abspath(local_path))
    art._hold()


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
        with open(local, mode, encoding=encoding) as f:
            yield f
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
