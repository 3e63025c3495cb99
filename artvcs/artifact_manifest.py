"""The W&B-shaped view of a manifest: ``artifact.manifest.entries[path]``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from artvcs.plumbing.manifest import Entry

if TYPE_CHECKING:
    from artvcs.artifact import Artifact


class ArtifactManifestEntry:
    """One file or reference of an artifact, as W&B's ArtifactManifestEntry."""

    __slots__ = ("path", "digest", "size", "ref", "extra", "local_path", "_artifact")

    def __init__(self, entry: Entry, local_path: str | None = None, artifact: "Artifact | None" = None) -> None:
        self.path = entry.path
        self.digest = entry.digest
        self.size = entry.size
        self.ref = entry.ref
        self.extra = dict(entry.extra)
        self.local_path = local_path
        self._artifact = artifact

    @property
    def birth_artifact_id(self) -> str | None:
        a = self._artifact
        return a.id if a is not None and not a.is_draft() else None

    def to_entry(self) -> Entry:
        return Entry(self.path, self.digest, self.size, self.ref, dict(self.extra))

    def ref_target(self) -> str:
        """The URI of a reference entry (W&B's ``ref_target``)."""
        if self.ref is None:
            raise ValueError(f"entry {self.path!r} is a stored file, not a reference")
        return self.ref

    def download(self, root: str | None = None, skip_cache: bool | None = None) -> str:
        """Write this entry's file under ``root`` (default: the artifact's download folder)."""
        if self._artifact is None:
            raise ValueError(f"entry {self.path!r} is not attached to an artifact")
        import os

        base = self._artifact.download(root=root, path_prefix=self.path, skip_cache=skip_cache)
        return os.path.join(base, *self.path.split("/"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtifactManifestEntry) and self.to_entry() == other.to_entry()

    def __repr__(self) -> str:
        ref = f", ref={self.ref!r}" if self.ref else ""
        return f"ArtifactManifestEntry(path={self.path!r}, digest={self.digest!r}, size={self.size}{ref})"

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "digest": self.digest, "size": self.size}
        if self.ref is not None:
            d["ref"] = self.ref
        if self.extra:
            d["extra"] = self.extra
        return d


class ArtifactManifest:
    """Entries of an artifact by path; loaded lazily for logged artifacts."""

    version = 1

    def __init__(self, entries: dict[str, ArtifactManifestEntry]) -> None:
        self.entries = entries

    def get_entry_by_path(self, path: str) -> ArtifactManifestEntry | None:
        return self.entries.get(path)

    def __len__(self) -> int:
        return len(self.entries)

    def to_manifest_json(self) -> dict[str, Any]:
        return {"version": self.version, "contents": {p: e.to_json() for p, e in sorted(self.entries.items())}}
