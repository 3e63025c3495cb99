"""The W&B-shaped view of a manifest: ``artifact.manifest.entries[path]``."""
from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from artvcs.plumbing.manifest import Entry

if TYPE_CHECKING:
    from artvcs.artifact import Artifact


class ArtifactManifestEntry:
    """One file or reference of an artifact, as W&B's ArtifactManifestEntry.

    Constructible with W&B's keywords; ``size`` is read from ``local_path`` when
    not given. ``birth_artifact_id`` defaults to the id of the logged artifact the
    entry belongs to.
    """

    __slots__ = ("path", "digest", "size", "ref", "extra", "local_path", "skip_cache", "_birth", "_artifact")

    def __init__(
        self,
        path: str,
        digest: str,
        skip_cache: bool | None = False,
        ref: str | None = None,
        birth_artifact_id: str | None = None,
        size: int | None = None,
        extra: dict | None = None,
        local_path: str | None = None,
    ) -> None:
        self.path = str(path)
        self.digest = digest
        self.ref = ref
        self._birth = birth_artifact_id
        self.size = size
        self.extra = dict(extra or {})
        self.local_path = str(local_path) if local_path else None
        if self.local_path and self.size is None:
            self.size = os.stat(self.local_path).st_size
        self.skip_cache = bool(skip_cache)
        self._artifact: "Artifact | None" = None

    @classmethod
    def _of(cls, entry: Entry, local_path: str | None = None, artifact: "Artifact | None" = None) -> "ArtifactManifestEntry":
        """The W&B-shaped view of a stored manifest entry, attached to ``artifact``."""
        # __init__'s work without its checks and stat (the staged size stands): once per file of a log
        self = object.__new__(cls)
        self.path, self.digest, self.ref, self.size = entry.path, entry.digest, entry.ref, entry.size
        self.extra = dict(entry.extra) if entry.extra else {}
        self.local_path, self.skip_cache, self._birth, self._artifact = local_path, False, None, artifact
        return self

    @property
    def birth_artifact_id(self) -> str | None:
        if self._birth is not None:
            return self._birth
        a = self._artifact
        return a.id if a is not None and not a.is_draft() else None

    @birth_artifact_id.setter
    def birth_artifact_id(self, value: str | None) -> None:
        self._birth = value

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
        base = self._artifact.download(root=root, path_prefix=self.path, skip_cache=skip_cache)
        return os.path.join(base, *self.path.split("/"))

    def __eq__(self, other: object) -> bool:
        """Strict equality over every public field, as W&B's."""
        if not isinstance(other, ArtifactManifestEntry):
            return False
        return (self.path, self.digest, self.ref, self.birth_artifact_id, self.size, self.extra, self.local_path,
                self.skip_cache) == (other.path, other.digest, other.ref, other.birth_artifact_id, other.size,
                                     other.extra, other.local_path, other.skip_cache)

    __hash__ = None  # type: ignore[assignment]  # mutable, like W&B's

    def __repr__(self) -> str:
        """W&B's repr: ``eval(repr(entry)) == entry``."""
        parts = [f"path={self.path!r}", f"digest={self.digest!r}"]
        if self.ref is not None:
            parts.append(f"ref={self.ref!r}")
        if self.birth_artifact_id is not None:
            parts.append(f"birth_artifact_id={self.birth_artifact_id!r}")
        if self.size is not None:
            parts.append(f"size={self.size}")
        if self.extra:
            parts.append(f"extra={json.dumps(self.extra)}")
        if self.local_path:
            parts.append(f"local_path={self.local_path!r}")
        parts.append(f"skip_cache={self.skip_cache}")
        return f"ArtifactManifestEntry({', '.join(parts)})"

    def to_json(self) -> dict[str, Any]:
        """W&B's entry dict: path and digest, then what is set."""
        d: dict[str, Any] = {"path": self.path, "digest": self.digest}
        if self.size is not None:
            d["size"] = self.size
        if self.ref:
            d["ref"] = self.ref
        if self.birth_artifact_id:
            d["birthArtifactID"] = self.birth_artifact_id
        if self.local_path:
            d["local_path"] = self.local_path
        if self.skip_cache:
            d["skip_cache"] = True
        if self.extra:
            d["extra"] = self.extra
        return d

    def to_manifest_contents(self) -> dict[str, Any]:
        """The entry as a manifest v1 ``contents`` value: W&B's keys and order, no path."""
        d: dict[str, Any] = {"digest": self.digest}
        if self.birth_artifact_id:
            d["birthArtifactID"] = self.birth_artifact_id
        if self.ref:
            d["ref"] = self.ref
        if self.extra:
            d["extra"] = self.extra
        if self.size is not None:
            d["size"] = self.size
        return d


STORAGE_POLICY = "wandb-storage-policy-v1"  # W&B's name, so its tools read the manifest


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
        """W&B's manifest v1 JSON (what ``wandb_manifest.json`` holds); digests are artvcs's blake3."""
        return {
            "version": self.version,
            "storagePolicy": STORAGE_POLICY,
            "storagePolicyConfig": {"storageLayout": "V2"},
            "contents": {p: e.to_manifest_contents() for p, e in sorted(self.entries.items())},
        }
