"""Runs, W&B style: ``artvcs.init()``, ``artvcs.log_artifact()``, ``artvcs.use_artifact()``,
``artvcs.finish()`` and the current run (the ``Run`` class is in :mod:`artvcs.runs`)."""
from __future__ import annotations

from typing import Any

from artvcs import runs as _runs
from artvcs.artifact import Artifact
from artvcs.core.context import current_run
from artvcs.runs import Run

__all__ = ["Run", "current_run", "finish", "init", "log_artifact", "use_artifact"]


def init(
    project: str | None = None,
    entity: str | None = None,
    job_type: str | None = None,
    name: str | None = None,
    config: dict[str, Any] | None = None,
    dir: str | None = None,
    id: str | None = None,
    resume: bool | str | None = None,
    group: str | None = None,
    **_ignored: Any,
) -> Run:
    """Start a run in the repository found from ``dir`` (or the current folder); create one if none exists.
    ``id`` names the run (W&B's ``wandb.init(id=...)``); it must not be in use in the project unless
    ``resume`` says to resume it: "allow", "must", "never" or "auto" (True), as in W&B. ``group`` groups
    runs of one distributed job (their default ``distributed_id`` for ``upsert_artifact``)."""
    return _runs.start(Artifact, project, entity, job_type, name, config, dir, id=id, resume=resume, group=group)


def _require_run() -> Run:
    run = current_run()
    return run if run is not None else init(job_type="auto")


def log_artifact(artifact_or_path, name=None, type=None, aliases=None, tags=None) -> Artifact:
    """``Run.log_artifact`` on the current run (one of job type ``auto`` is started if none is)."""
    return _require_run().log_artifact(artifact_or_path, name, type, aliases, tags)


def use_artifact(artifact_or_name, type=None, aliases=None, use_as=None) -> Artifact:
    """``Run.use_artifact`` on the current run (one of job type ``auto`` is started if none is)."""
    return _require_run().use_artifact(artifact_or_name, type, aliases, use_as)


def finish(exit_code: int | None = None) -> None:
    """Finish the current run, if any."""
    if (run := current_run()) is not None:
        run.finish(exit_code)
