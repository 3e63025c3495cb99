"""``artvcs.Api``: reading and editing what is logged, outside a run (W&B's public API)."""
from __future__ import annotations

import warnings
from typing import Any

from artvcs.artifact import Artifact
from artvcs.collection import ArtifactCollection
from artvcs.core.context import Context, context_for, find_or_create
from artvcs.core.resolve import collection_for, resolve_version
from artvcs.runs import Run
from artvcs.plumbing import runs as _runs
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import NotFoundError, UsageError
from artvcs.plumbing.names import check_name
from artvcs.plumbing.refs import CollectionId


def load_artifact(context: Context, commit: str) -> Artifact:
    """The artifact for a version commit id."""
    return Artifact._from_version(context, _versions.read_version(context.repo.git, commit))


def resolve_artifact(context: Context, spec: str, type: str | None = None) -> Artifact:
    """``[[entity/]project/]name[:alias|:vN|:digest]`` → a logged artifact."""
    artifact = Artifact._from_version(context, resolve_version(context, spec))
    if type is not None and artifact.type != type:
        raise UsageError(f"artifact {spec!r} has type {artifact.type!r}, not {type!r}")
    return artifact


class ArtifactType:
    """An artifact type within a project."""

    def __init__(self, context: Context, project: str, type_name: str) -> None:
        self._context = context
        self.entity = context.entity  # W&B's ArtifactType.entity
        self.project = project
        self.type = self.name = type_name

    def collections(self) -> list[ArtifactCollection]:
        return [
            c for c in (ArtifactCollection(self._context, coll, Artifact) for coll in _versions.iter_collections(self._context.repo.git, self._context.entity, self.project))
            if c.type == self.name
        ]

    def collection(self, name: str) -> ArtifactCollection:
        c = ArtifactCollection(self._context, CollectionId(self._context.entity, self.project, check_name(name)), Artifact)
        if c.type != self.name:
            raise NotFoundError(f"no {self.name} collection {name!r} in project {self.project}")
        return c

    def __repr__(self) -> str:
        return f"<ArtifactType {self.name} in {self.project}>"


class Api:
    """Query and edit logged artifacts and runs without starting a run."""

    def __init__(self, overrides: dict[str, Any] | None = None, dir: str | None = None) -> None:
        overrides = dict(overrides or {})
        repo = find_or_create(dir or overrides.get("dir"), create=False)
        self._context = context_for(repo, overrides.get("entity"), overrides.get("project"))

    @property
    def default_entity(self) -> str:
        return self._context.entity

    def _ctx(self, project: str | None) -> Context:
        if project is None:
            return self._context
        parts = project.split("/")
        if len(parts) == 2:
            return context_for(self._context.repo, parts[0], parts[1])
        return context_for(self._context.repo, self._context.entity, project)

    def artifact(self, name: str, type: str | None = None) -> Artifact:
        """The version ``[[entity/]project/]name[:alias|:vN]`` (``latest`` if no selector)."""
        return resolve_artifact(self._context, name, type)

    def artifact_exists(self, name: str, type: str | None = None) -> bool:
        """Whether ``name`` answers a live version: a deleted one's record can still be read
        with :meth:`artifact` (state ``DELETED``), but it exists no more, as in W&B."""
        try:
            found = self.artifact(name, type)
        except (NotFoundError, UsageError):
            return False
        return found.state != "DELETED"

    def artifacts(self, type_name: str, name: str, per_page: int = 50) -> list[Artifact]:
        """Every live version of collection ``name`` of type ``type_name``, oldest first."""
        return self.artifact_collection(type_name, name).artifacts(per_page)

    def artifact_versions(self, type_name: str, name: str, per_page: int = 50) -> list[Artifact]:
        """Deprecated (as in W&B 0.17.9, which keeps it): use :meth:`artifacts`."""
        warnings.warn("Api.artifact_versions is deprecated; use Api.artifacts", DeprecationWarning, stacklevel=2)
        return self.artifacts(type_name, name, per_page)

    def artifact_collection(self, type_name: str, name: str) -> ArtifactCollection:
        """The collection ``[[entity/]project/]name``, which must hold type ``type_name``."""
        c = self.collection(name)
        if c.type != type_name:
            raise UsageError(f"collection {c._coll} has type {c.type!r}, not {type_name!r}")
        return c

    def collection(self, name: str) -> ArtifactCollection:
        """The collection or portfolio ``[[entity/]project/]name``, whatever its type."""
        c = ArtifactCollection(self._context, collection_for(self._context, name), Artifact)
        if c.type is None:
            raise NotFoundError(f"no artifact named {name!r} in {self._context.entity}/{self._context.project}: 'artvcs ls' lists them")
        return c

    def artifact_collection_exists(self, name: str, type: str) -> bool:
        try:
            self.artifact_collection(type, name)
        except (NotFoundError, UsageError):
            return False
        return True

    def artifact_collections(self, project_name: str, type_name: str, per_page: int = 50) -> list[ArtifactCollection]:
        return ArtifactType(self._ctx(project_name), self._ctx(project_name).project, type_name).collections()

    def artifact_type(self, type_name: str, project: str | None = None) -> ArtifactType:
        ctx = self._ctx(project)
        t = ArtifactType(ctx, ctx.project, type_name)
        if not t.collections():
            raise NotFoundError(f"no artifacts of type {type_name!r} in project {ctx.entity}/{ctx.project}")
        return t

    def artifact_types(self, project: str | None = None) -> list[ArtifactType]:
        ctx = self._ctx(project)
        names = sorted({ArtifactCollection(ctx, c, Artifact).type for c in _versions.iter_collections(ctx.repo.git, ctx.entity, ctx.project)} - {None})
        return [ArtifactType(ctx, ctx.project, n) for n in names]

    def run(self, path: str):
        """The run ``[[entity/]project/]run_id``."""
        parts = path.split("/")
        if not 1 <= len(parts) <= 3:
            raise UsageError(f"invalid run path {path!r}: expected [[entity/]project/]run_id")
        entity, project, run_id = ([self._context.entity, self._context.project][: 3 - len(parts)] + parts)
        rec = _runs.read_run(self._context.repo.git, entity, project, run_id)
        return Run(context_for(self._context.repo, entity, project), rec, Artifact)

    def runs(self, path: str | None = None, filters: dict[str, Any] | None = None) -> list:
        """Runs of ``[entity/]project`` (default: the current project), oldest first."""
        parts = (path or self._context.project).split("/")
        entity, project = ([self._context.entity] + parts)[-2:]
        recs = sorted(_runs.iter_runs(self._context.repo.git, entity, project), key=lambda r: r["started_at"])
        ctx = context_for(self._context.repo, entity, project)
        out = [Run(ctx, r, Artifact) for r in recs]
        for k, v in (filters or {}).items():
            out = [r for r in out if r._record.get(k) == v]
        return out
