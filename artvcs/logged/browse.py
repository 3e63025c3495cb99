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
from artvcs.logged.materialize import with_remote
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing import refs as _refs
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import ObjectMissingError
from artvcs.plumbing.paths import check_entry_path
from artvcs.plumbing.refs import CollectionId
from artvcs.plumbing.repository import Repository
from artvcs.sync.remotes import stored_digest

if TYPE_CHECKING:
    from artvcs.artifact import Artifact
    from artvcs.media.base import Media


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
    return Folder(path, found.subfolders, found.listings, chosen, [ArtifactManifestEntry._of(e, artifact=a) for e in rows])


def entry(a: "Artifact", path: str) -> ArtifactManifestEntry | None:
    """The entry at ``path``, reading only its folder's listing; None if there is none."""
    check_entry_path(path)
    found = _manifest.lookup(a._context.repo.git, a._source.manifest, path)
    return ArtifactManifestEntry._of(found, artifact=a) if found is not None else None


def is_stored(e: ArtifactManifestEntry) -> bool:
    """Whether the entry's bytes live in the content store (a file, or a reference to another artifact's file)."""
    return stored_digest(e) is not None


def open_stored(a: "Artifact", e: ArtifactManifestEntry) -> IO[bytes]:
    """The stored bytes of entry ``e``, fetched from the default remote when only it has them (as
    ``Artifact.get`` does), and checked against the digest first: a corrupt file is a CorruptObjectError,
    never served."""
    if not is_stored(e):
        raise ObjectMissingError(f"{e.path!r} is a reference to {e.ref}: its bytes are not in the store")
    store = a._context.repo.store

    def opened() -> IO[bytes]:
        store.verify(e.digest)
        return store.open(e.digest)

    return with_remote(a._context.repo, [e], opened)


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
    from artvcs import media  # imported on first use: its 20 modules are not needed to start

    paths = _ManifestPaths(a)

    def read(p: str) -> bytes:
        with open_stored(a, entry(a, p)) as f:
            return f.read()

    return media.decode(path, paths, read)  # type: ignore[arg-type]


def image_file(img: "Media") -> tuple[bytes, str]:
    """An Image's stored file as it is (PNG, JPEG...) and its format, for a viewer to show without re-encoding."""
    return img._data, img._format


def projects(repo: Repository) -> list[tuple[str, str]]:
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
# Per collection folder: its refs.folder_stamp and what was listed then (numbers; numbers and commits).
_NUMBERS: dict[tuple[str, str], tuple[tuple[int, ...], tuple[int, ...]]] = {}
_REFS: dict[tuple[str, str], tuple[tuple[int, ...], tuple[tuple[int, str], ...]]] = {}


def version_numbers(repo: Repository, entity: str, project: str, name: str) -> list[int]:
    """The numbers of the collection's live versions, ascending: from :func:`version_refs`'s list when it
    still holds, else a directory listing (no ref or object read)."""
    coll = CollectionId(entity, project, name)
    key, stamp = (repo.gitdir, coll.versions_prefix), _refs.folder_stamp(repo.git, coll.versions_prefix)
    for cache in (_NUMBERS, _REFS):
        cached = cache.get(key)
        if stamp is not None and cached is not None and cached[0] == stamp:
            return [n if isinstance(n, int) else n[0] for n in cached[1]]
    numbers = _versions.live_numbers(repo.git, coll)
    if stamp is not None:
        _NUMBERS[key] = (stamp, tuple(numbers))
    return numbers


def version_refs(repo: Repository, entity: str, project: str, name: str) -> list[tuple[int, str]]:
    """``(number, commit)`` of every live version of the collection, oldest first: refs only, no object read."""
    prefix = CollectionId(entity, project, name).versions_prefix
    stamp = _refs.folder_stamp(repo.git, prefix)
    key = (repo.gitdir, prefix)
    cached = _REFS.get(key)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return list(cached[1])  # no version ref came, went or moved since: the same list, no file read
    out = []
    for ref, oid in _refs.iter_refs(repo.git, prefix):
        leaf = ref.rsplit("/", 1)[1]
        if leaf.startswith("v") and leaf[1:].isdigit():
            out.append((int(leaf[1:]), str(oid)))
    out.sort()
    if stamp is not None:
        _REFS[key] = (stamp, tuple(out))
    return out


def version_rows(repo: Repository, found: list[tuple[int, str]]) -> list[VersionRow]:
    """The sort keys of versions ``found`` (from :func:`version_refs`); each commit is read once per process."""
    out = []
    for number, key in found:
        row = _ROWS.get(key)
        if row is None:
            v = _versions.read_version(repo.git, key)
            row = VersionRow(number, key, v.facts.get("created_at") or "", int(v.facts.get("size") or 0), int(v.facts.get("file_count") or 0))
            if len(_ROWS) >= _ROWS_MAX:
                _ROWS.clear()
            _ROWS[key] = row
        out.append(row)
    return out


def all_version_rows(gitdir: str) -> list[VersionRow]:
    """The sort keys of every version of every collection (for a viewer to compute in a child process)."""
    repo = Repository(gitdir)
    try:
        return [r for c in _versions.iter_collections(repo.git) for r in version_rows(repo, version_refs(repo, c.entity, c.project, c.name))]
    finally:
        repo.close()


def remember_rows(rows: list[VersionRow]) -> None:
    """Put sort keys computed elsewhere (:func:`all_version_rows` in a child) into this process's cache."""
    for row in rows:
        if len(_ROWS) >= _ROWS_MAX:
            break
        _ROWS.setdefault(row.commit, row)
