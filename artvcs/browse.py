"""Browsing a logged version a folder at a time: a folder's listing, one entry, its bytes, a media object.

A viewer of a 1,000,000-entry manifest must not load it whole (``Artifact.manifest`` does), so
everything here reads only the trees on one path and one listing blob; and every project the
repository holds, read from its refs.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from artvcs.artifact_manifest import ArtifactManifestEntry
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.paths import check_entry_path

if TYPE_CHECKING:
    from artvcs.artifact import Artifact
    from artvcs.media.base import Media
    from artvcs.plumbing.repository import Repository


@dataclass(frozen=True)
class Folder:
    """One folder of a version: its subfolders, and one listing's entries (``listings`` names them all:
    a folder of more than 4,096 files is split into up to 256 listings, read one at a time)."""

    path: str
    subfolders: list[str]
    listings: list[str]
    listing: str | None
    files: list[ArtifactManifestEntry]


def folder(a: "Artifact", path: str = "", listing: str | None = None) -> Folder | None:
    """Folder ``path`` of ``a`` with the entries of ``listing`` (default: its first); None if there is no such folder."""
    path = path.strip("/")
    if path:
        check_entry_path(path)
    git = a._context.repo.git
    found = _manifest.list_folder(git, a._source.manifest, path)
    if found is None:
        return None
    chosen = listing if listing in found.listings else (found.listings[0] if found.listings else None)
    rows = _manifest.read_listing(git, a._source.manifest, path, chosen) if chosen else []
    return Folder(path, found.subfolders, found.listings, chosen, [ArtifactManifestEntry(e, artifact=a) for e in rows])


def entry(a: "Artifact", path: str) -> ArtifactManifestEntry | None:
    """The entry at ``path``, reading only its folder's listing; None if there is none."""
    check_entry_path(path)
    found = _manifest.lookup(a._context.repo.git, a._source.manifest, path)
    return ArtifactManifestEntry(found, artifact=a) if found is not None else None


def open_stored(a: "Artifact", e: ArtifactManifestEntry, verify: bool = True) -> IO[bytes]:
    """The stored bytes of entry ``e`` (a reference's too, once fetched), checked against its digest first
    when ``verify`` (a corrupt file is a CorruptObjectError, never served)."""
    from artvcs.remotes import stored_digest

    store = a._context.repo.store
    digest = stored_digest(e)
    if digest is None:
        from artvcs.plumbing.errors import ObjectMissingError

        raise ObjectMissingError(f"{e.path!r} is a reference to {e.ref}: its bytes are not in the store")
    if verify:
        store.verify(digest)
    return store.open(digest)


class _ManifestPaths:
    """The set of a version's entry paths, answered one lookup at a time (what media decoding asks)."""

    def __init__(self, a: "Artifact") -> None:
        self._a = a
        self._known: dict[str, bool] = {}

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        if path not in self._known:
            try:
                self._known[path] = _manifest.lookup(self._a._context.repo.git, self._a._source.manifest, path) is not None
            except Exception:  # a path no entry can have (``..``, empty part): not in the manifest
                self._known[path] = False
        return self._known[path]

    def __iter__(self) -> Iterator[str]:  # a partitioned table lists its folder: that reads the manifest
        return iter(self._a._entry_map())


def media_object(a: "Artifact", path: str) -> "Media | None":
    """The media object (Table, Image...) whose JSON document is entry ``path``, or None."""
    from artvcs import media

    paths = _ManifestPaths(a)

    def read(p: str) -> bytes:
        with open_stored(a, entry(a, p)) as f:
            return f.read()

    return media.decode(path, paths, read)  # type: ignore[arg-type]


def projects(repo: "Repository") -> list[tuple[str, str]]:
    """Every (entity, project) that holds a collection or portfolio, sorted."""
    return sorted({(c.entity, c.project) for c in _versions.iter_collections(repo.git)})


@dataclass(frozen=True, slots=True)
class VersionRow:
    """What sorting a collection's versions needs, read from the version commit (immutable, so cached)."""

    number: int
    commit: str
    created_at: str
    size: int
    file_count: int


_ROWS: dict[str, VersionRow] = {}
_ROWS_MAX = 200_000


def version_rows(repo: "Repository", entity: str, project: str, name: str) -> list[VersionRow]:
    """Every live version of the collection, oldest first; each commit's facts are read once per process."""
    from artvcs.plumbing import refs as _refs
    from artvcs.plumbing.refs import CollectionId

    coll = CollectionId(entity, project, name)
    git = repo.git
    out = []
    for ref, oid in _refs.iter_refs(git, coll.versions_prefix):
        leaf = ref.rsplit("/", 1)[1]
        if not (leaf.startswith("v") and leaf[1:].isdigit()):
            continue
        key = str(oid)
        row = _ROWS.get(key)
        if row is None:
            v = _versions.read_version(git, oid)
            row = VersionRow(v.number, key, v.facts.get("created_at") or "", int(v.facts.get("size") or 0), int(v.facts.get("file_count") or 0))
            if len(_ROWS) >= _ROWS_MAX:
                _ROWS.clear()
            _ROWS[key] = row
        out.append(row)
    out.sort(key=lambda r: r.number)
    return out
