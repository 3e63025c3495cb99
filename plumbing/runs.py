"""Run records: who logged and used which versions.

A run is a chain of commits at ``refs/runs/<E>/<P>/<ID>`` whose tree holds
``run.json`` (id, job type, config, host git commit and dirty flag, times,
artifacts used and logged). Each update is a new commit, so a run's record
has history like everything else.
"""
from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pygit2

from . import refs
from .drafts import process_alive
from .errors import ConflictError, CorruptObjectError, NotFoundError
from .records import parse_run
from .manifest import canonical_json
from .names import decode_component

RUN_FILE = "run.json"
MAX_ATTEMPTS = 1000
STATES = ("running", "finished", "failed", "crashed")


def _start_ticks(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot (Linux /proc), or None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    try:  # the command name, in parentheses, may hold spaces: count fields after its closing one
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except (ValueError, IndexError):
        return None


def this_process() -> dict[str, Any]:
    """What a run record keeps to tell, later, whether the process that runs it is still alive."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "pid_start": _start_ticks(os.getpid())}


def _alive(pid: int, started: int | None) -> bool:
    if not process_alive(pid):  # gone, a zombie, or no process can have that id
        return False
    # another process may have taken the id since (another user's too): the start time tells
    now = _start_ticks(pid)
    return started is None or now is None or now == started


def state_of(record: dict[str, Any]) -> str:
    """running, finished, failed or crashed, as W&B names a run's end.

    A finished record says how it ended (a nonzero exit code, or an exception
    out of a ``with`` block, is failed). An unfinished one is crashed when it
    was started on this machine by a process that is gone (killed, or exited
    without finishing it); elsewhere it is taken as running.
    """
    if record.get("finished_at"):
        state = record.get("state")
        if state in STATES:
            return state
        return "finished" if record.get("exit_code") in (0, None) else "failed"
    pid = record.get("pid")
    if type(pid) is int and pid > 0 and record.get("host") == socket.gethostname():
        started = record.get("pid_start")
        if not _alive(pid, started if type(started) is int else None):
            return "crashed"
    return "running"


def read_run(repo: pygit2.Repository, entity: str, project: str, run_id: str) -> dict[str, Any]:
    name = refs.run_ref(entity, project, run_id)
    tip = refs.read(repo, name)
    if tip is None:
        raise NotFoundError(f"run {entity}/{project}/{run_id} not found: list runs with 'artvcs lineage' or Api().runs()")
    return record_at(repo, tip, name)


def record_at(repo: pygit2.Repository, oid: pygit2.Oid, ref: str) -> dict[str, Any]:
    """The checked run record in commit ``oid`` (named by ``ref``), or CorruptObjectError saying what is wrong."""
    commit = repo.get(oid)
    if not isinstance(commit, pygit2.Commit):
        raise CorruptObjectError(f"run ref {ref} names {oid}, which is not a commit")
    entry = commit.tree[RUN_FILE] if RUN_FILE in commit.tree else None
    if entry is None or entry.type != pygit2.GIT_OBJECT_BLOB:
        raise CorruptObjectError(f"run ref {ref}: commit {oid} holds no {RUN_FILE} blob")
    return parse_run(repo[entry.id].data, f"{RUN_FILE} of {ref} ({oid})")


def write_run(
    repo: pygit2.Repository,
    entity: str,
    project: str,
    run_id: str,
    update: Callable[[dict[str, Any] | None], dict[str, Any]],
    message: str,
) -> dict[str, Any]:
    """Create or update a run record through ``update(old) -> new`` (compare-and-swap, retried)."""
    name = refs.run_ref(entity, project, run_id)
    for attempt in range(MAX_ATTEMPTS):
        refs.backoff(attempt)
        tip = refs.read(repo, name)
        old = record_at(repo, tip, name) if tip else None
        new = update(json.loads(json.dumps(old)) if old is not None else None)
        tb = repo.TreeBuilder()
        tb.insert(RUN_FILE, repo.create_blob(canonical_json(new)), pygit2.GIT_FILEMODE_BLOB)
        sig = pygit2.Signature(entity, f"{entity}@artvcs", int(time.time()), 0)
        oid = repo.create_commit(None, sig, sig, message + "\n", tb.write(), [tip] if tip else [])
        try:
            refs.update(repo, name, oid, tip, message)
            return new
        except ConflictError:
            continue
    raise ConflictError(f"could not update run {entity}/{project}/{run_id}")


def discard_run(repo: pygit2.Repository, entity: str, project: str, run_id: str) -> bool:
    """Delete the run's ref if its record names no version it logged or used; True if it went.

    For a run that a command started for itself and that failed before it
    recorded anything (``artvcs track`` of bad input): a failed command changes
    nothing. A run that did record a version stays, since that version's facts
    name it. Compare-and-swap: a concurrent update of the record keeps it.
    """
    name = refs.run_ref(entity, project, run_id)
    tip = refs.read(repo, name)
    if tip is None:
        return False
    record = record_at(repo, tip, name)
    if record.get("logged") or record.get("used"):
        return False
    try:
        refs.update(repo, name, None, tip, "discard")
    except ConflictError:
        return False
    return True


def iter_runs(repo: pygit2.Repository, entity: str | None = None, project: str | None = None) -> Iterator[dict[str, Any]]:
    """Every run record, optionally of one entity/project."""
    for name, target in refs.iter_refs(repo, "refs/runs/"):
        parts = [decode_component(p) for p in name.split("/")[2:]]
        if len(parts) != 3:
            continue
        if (entity is None or parts[0] == entity) and (project is None or parts[1] == project):
            yield record_at(repo, target, name)
