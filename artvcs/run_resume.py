"""Resuming a run, as ``wandb.init(id=..., resume=...)`` does in W&B 0.17.9.

The modes (W&B's ``Settings._apply_init`` and its sender's resume check):
``"allow"`` resumes the run ``id`` names if it exists, else starts it; ``"must"``
resumes it and refuses to start a new one; ``"never"`` refuses an ``id`` in use;
``"auto"`` (or ``True``) resumes, when no ``id`` is given, this machine's newest run of
the project started with ``"auto"`` that did not finish cleanly (crashed or failed).
Any other string is a run id resumed with ``"allow"``. ``None`` (and ``False``) keeps
artvcs's rule that a new run's id is not in use.
"""
from __future__ import annotations

import socket
from typing import Any

from artvcs.plumbing import runs as _runs
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import UsageError

MODES = ("allow", "must", "never", "auto")


def normalize(resume: Any, run_id: str | None) -> tuple[str | None, str | None]:
    """The resume mode and run id that W&B makes of ``init(resume=..., id=...)``."""
    if resume is None or resume is False:
        return None, run_id
    if resume is True:
        return "auto", run_id
    if not isinstance(resume, str) or not resume:
        raise UsageError(f"resume={resume!r}: expected one of {', '.join(map(repr, MODES))}, True, or a run id")
    if resume not in MODES:  # W&B: a string that is no mode is the id of a run to resume
        return "allow", run_id if run_id is not None else resume
    return resume, run_id


def auto_candidate(repo, entity: str, project: str) -> str | None:
    """The id of this machine's newest run in ``entity/project`` started with ``resume="auto"`` that
    crashed or failed (W&B keeps it in its resume file until the run finishes with exit code 0)."""
    host = socket.gethostname()
    found = [r for r in _runs.iter_runs(repo, entity, project)
             if r.get("resume") == "auto" and r.get("host") == host and _runs.state_of(r) in ("crashed", "failed")]
    if not found:
        return None
    return max(found, key=lambda r: str(r.get("started_at", "")))["id"]


def check(mode: str | None, old: dict[str, Any] | None, where: str, run_id: str) -> None:
    """Refuse what the mode refuses, with W&B's texts (a UsageError, as W&B raises)."""
    if old is None:
        if mode == "must":
            raise UsageError(
                "You provided an invalid value for the `resume` argument. The value 'must' is not a valid option "
                f"for resuming a run ({run_id}) that has not been initialized. Please check your inputs and try "
                "again with a valid run ID. If you are trying to start a new run, please omit the `resume` "
                "argument or use `resume='allow'`.")
        return
    if mode == "never":
        raise UsageError(
            "You provided an invalid value for the `resume` argument. The value 'never' is not a valid option "
            f"for resuming a run ({run_id}) that already exists. Please check your inputs and try again with a "
            "valid value for the `resume` argument.")
    if mode is None:
        raise UsageError(f"run id {run_id!r} is already used in {where}: choose another id, or resume it with "
                         "init(id=..., resume='allow')")
    if _runs.state_of(old) == "running":
        raise UsageError(f"run {where}/{run_id} is still running (process {old.get('pid')} on "
                         f"{old.get('host')}): finish it before resuming it")


def reopen(old: dict[str, Any], name: str | None, job_type: str | None, config: dict[str, Any],
           process: dict[str, Any], git: dict[str, Any] | None) -> dict[str, Any]:
    """The record of a resumed run: running again in this process, keeping what it used and logged;
    a new name or job type replaces the old, new config keys update the old config."""
    rec = dict(old)
    for key in ("finished_at", "exit_code", "state"):
        rec.pop(key, None)
    rec["finished_at"] = None
    if name is not None:
        rec["name"] = name
    if job_type is not None:
        rec["job_type"] = job_type
    rec["config"] = {**(old.get("config") or {}), **config}
    rec["git"] = git
    rec.update(process)
    rec["resumed_at"] = _versions.utcnow()
    return rec
