"""``Run.log``: W&B's ``run.log(data, step, commit)`` (wandb/sdk/wandb_run.py and
sdk/data_types/utils.py ``val_to_json`` at v0.17.9), for what artvcs keeps.

A logged value becomes the run's summary value for its key (W&B's ``run.summary``: the
last value logged), recorded in the run record. As in W&B, a table (``Table``,
``PartitionedTable``, ``JoinedTable``, or a pandas DataFrame, made a ``Table``) is logged as an
artifact ``run-<run id>-<key>`` of type ``run_table`` holding it under ``<key>``, and the summary
keeps where. Other values are converted to JSON as W&B converts them (``json_friendly``).
Media other than tables (images, audio...) W&B uploads as run files; artvcs keeps files only
in artifacts, so they are refused with a message saying to add them to one.
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from artvcs.core.jsonable import json_friendly
from artvcs.plumbing.errors import UsageError

if TYPE_CHECKING:
    from artvcs.runs import Run

TABLE_KINDS = ("table", "partitioned-table", "joined-table")


class LogError(UsageError):
    """A value ``Run.log`` cannot record (W&B raises ValueError for a non-dict or a non-string key)."""


def check(data: Any) -> None:
    """W&B's checks, before anything is recorded."""
    if not isinstance(data, Mapping):
        raise LogError(f"wandb.log must be passed a dictionary, not {type(data).__name__} ({data!r:.60})")
    for key in data:
        if not isinstance(key, str):
            raise LogError(f"Key values passed to `wandb.log` must be strings: {key!r:.60} is a {type(key).__name__}")


def to_summary(run: "Run", data: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON value each key of ``data`` leaves in the run's summary; tables are logged as
    ``run_table`` artifacts on the way. Everything is checked before the first table is logged."""
    from artvcs.media import Table
    from artvcs.media.base import Media
    from artvcs.media.extras import is_dataframe

    prepared: dict[str, Any] = {}
    for key, value in data.items():
        if is_dataframe(value):
            value = Table(dataframe=value)
        if isinstance(value, Media):
            if value._log_type not in TABLE_KINDS:
                raise LogError(f"Run.log: {key!r} is {type(value).__name__} media; artvcs keeps media in artifacts: "
                               f"add it to one (artifact.add(obj, {key!r})) and log that")
            prepared[key] = value
        else:
            prepared[key] = json_friendly(value, f"Run.log value {key!r}")
    out = {}
    for key, value in prepared.items():
        out[key] = _log_table(run, key, value) if isinstance(value, Media) else value
    return out


def _log_table(run: "Run", key: str, table: Any) -> dict[str, Any]:
    """W&B's table logging: an artifact ``run-<id>-<key, alphanumerics and _ only>`` of type ``run_table``."""
    sanitized = re.sub(r"[^a-zA-Z0-9_]+", "", key)
    art = run._artifact_class(f"run-{run.id}-{sanitized}", "run_table")
    entry = art.add(table, key)
    run.log_artifact(art)
    found = {"_type": f"{table._log_type}-file", "artifact_path": f"wandb-artifact://{art.qualified_name}/{entry.path}",
             "path": entry.path, "size": entry.size}
    if table._log_type == "table":
        found.update(ncols=len(table.columns), nrows=len(table.data))
    return found


def next_step(current: int, step: Any) -> int | None:
    """The step a log records at, or None to drop it (W&B warns and drops a step below the current)."""
    if step is None:
        return current
    if isinstance(step, bool) or not isinstance(step, int) or step < 0:
        raise LogError(f"Run.log: step must be a non-negative integer, not {step!r:.40}")
    if step < current:
        warnings.warn(f"Tried to log to step {step} that is less than the current step {current}. "
                      "Steps must be monotonically increasing, so this data will be ignored.", stacklevel=3)
        return None
    return step
