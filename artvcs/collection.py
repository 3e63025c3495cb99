"""``ArtifactCollection``: a collection (or portfolio) of versions, as W&B's public API has it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from artvcs.core.aliases import stored_aliases
from artvcs.core.context import Context
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.refs import CollectionId

if TYPE_CHECKING:
    from artvcs.artifact import Artifact


class ArtifactCollection:
    """A collection (or portfolio) of versions."""

    def __init__(self, context: Context, coll: CollectionId, artifact_class: "type[Artifact]") -> None:
        self._context = context
        self._coll = coll
        self._artifact_class = artifact_class  # the layer above: passed in, never imported

    @property
    def name(self) -> str:
        return self._coll.name

    @property
    def entity(self) -> str:
        return self._coll.entity

    @property
    def project(self) -> str:
        return self._coll.project

    @property
    def _tip(self) -> _versions.Version | None:
        return _versions.collection_tip(self._context.repo.git, self._coll)

    @property
    def type(self) -> str | None:
        tip = self._tip
        return tip.facts.get("type") if tip else None

    def is_sequence(self) -> bool:
        """True for a collection of logged versions, False for a portfolio of links."""
        tip = self._tip
        return tip is None or tip.kind != "link"

    @property
    def aliases(self) -> list[str]:
        return sorted(stored_aliases(self._context.repo.git, self._coll))

    def artifacts(self, per_page: int = 50) -> list["Artifact"]:
        """Every live version, oldest first."""
        return [self._artifact_class._from_version(self._context, v) for v in _versions.iter_versions(self._context.repo.git, self._coll)]

    def delete(self) -> None:
        """Delete every live version with its aliases (W&B's ``ArtifactCollection.delete``); for a
        portfolio only its links go, never the versions they point to. Each version's deletion is
        whole on its own, so a crash midway leaves the rest live, to delete again."""
        from artvcs.logged import lifecycle  # the layer that deletes; imported on use

        for v in _versions.iter_versions(self._context.repo.git, self._coll):
            lifecycle.delete_version(self._context, v, True)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ArtifactCollection) and other._coll == self._coll

    def __repr__(self) -> str:
        return f"<ArtifactCollection {self._coll} type={self.type}>"
