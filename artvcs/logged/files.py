"""``artifact.files()``: the artifact's files as pages of ``File`` objects."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from artvcs.plumbing.paths import normalize_entry_path

if TYPE_CHECKING:
    from artvcs.artifact import Artifact
    from artvcs.artifact_manifest import ArtifactManifestEntry


class File:
    """One file of a logged artifact."""

    def __init__(self, artifact: "Artifact", entry: "ArtifactManifestEntry") -> None:
        self._artifact = artifact
        self._entry = entry
        self.name = entry.path
        self.size = entry.size
        self.digest = entry.digest
        self.ref = entry.ref

    @property
    def url(self) -> str:
        return self.ref or f"artvcs://{self._artifact.source_qualified_name}/{self.name}"

    def download(self, root: str = ".", replace: bool = False) -> str:
        """Write the file under ``root``; an existing different file needs ``replace=True``."""
        dest = os.path.join(root, *self.name.split("/"))
        if os.path.exists(dest) and not replace:
            raise FileExistsError(f"{dest!r} exists: pass replace=True to overwrite it")
        self._artifact.download(root=root, path_prefix=self.name)
        return dest

    def __repr__(self) -> str:
        return f"<File {self.name} ({self.size} bytes)>"


class ArtifactFiles:
    """Iterates an artifact's files ``per_page`` at a time, sorted by path."""

    def __init__(self, artifact: "Artifact", names: list[str] | None, per_page: int = 50) -> None:
        if not isinstance(per_page, int) or per_page < 1:
            raise ValueError(f"per_page {per_page!r} must be a positive integer")
        self._artifact = artifact
        entries = artifact._entry_map()
        if names is None:
            paths = sorted(entries)
        else:
            paths = [p for p in (normalize_entry_path(n) for n in names) if p in entries]
        self._paths = paths
        self.per_page = per_page

    def pages(self) -> Iterator[list[File]]:
        entries = self._artifact._entry_map()
        for i in range(0, len(self._paths), self.per_page):
            yield [File(self._artifact, entries[p]) for p in self._paths[i : i + self.per_page]]

    def __iter__(self) -> Iterator[File]:
        for page in self.pages():
            yield from page

    def __len__(self) -> int:
        return len(self._paths)

    def __getitem__(self, index: int | slice) -> "File | list[File]":
        """``files()[i]`` or a slice, as W&B's paginators allow (wandb/apis/paginator.py at v0.17.9)."""
        entries = self._artifact._entry_map()
        if isinstance(index, slice):
            return [File(self._artifact, entries[p]) for p in self._paths[index]]
        return File(self._artifact, entries[self._paths[index]])

    def __repr__(self) -> str:
        return f"<ArtifactFiles {self._artifact.name} ({len(self)} files)>"
