"""Checks on user-supplied metadata and ttl values (names live in plumbing.names)."""
from __future__ import annotations

import copy
import datetime as _dt
import json
import math
from typing import Any

from artvcs.plumbing.errors import UsageError

MAX_METADATA_KEYS = 100


def check_metadata(value: object) -> dict[str, Any]:
    """A deep copy of ``value`` if it is valid metadata, else a UsageError naming the problem."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"metadata must be a dict, not {type(value).__name__} ({value!r:.60})")
    if len(value) > MAX_METADATA_KEYS:
        raise UsageError(f"metadata has {len(value)} keys: at most {MAX_METADATA_KEYS} are allowed")
    for k in value:
        if not isinstance(k, str):
            raise UsageError(f"metadata key {k!r} is not a string: keys must be strings")
    _check_json(value, "metadata")
    return copy.deepcopy(value)


def _check_json(value: object, where: str) -> None:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        raise UsageError(f"{where} is {value!r}: NaN and infinity are not JSON; use None or a number")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise UsageError(f"{where} has key {k!r}: keys must be strings")
            _check_json(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]")
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise UsageError(f"{where} is a {type(value).__name__}: metadata must be JSON-serialisable (dict, list, str, number, bool, None)")


def canonical_metadata(value: dict[str, Any]) -> dict[str, Any]:
    """Metadata as JSON stores it (tuples become lists), for comparison."""
    return json.loads(json.dumps(value))


class ArtifactTTL:
    """Sentinel values for :attr:`Artifact.ttl` (W&B's ``wandb.ArtifactTTL``)."""

    INHERIT = "inherit"


def ttl_to_record(value: object) -> float | str | None:
    """timedelta → seconds; None → never expires; INHERIT → the project default."""
    if value is None:
        return None
    if value == ArtifactTTL.INHERIT:
        return ArtifactTTL.INHERIT
    if isinstance(value, _dt.timedelta):
        seconds = value.total_seconds()
        if seconds <= 0:
            raise UsageError(f"ttl {value!r} must be positive")
        return seconds
    raise UsageError(f"invalid ttl {value!r}: use a datetime.timedelta, None or ArtifactTTL.INHERIT")


def ttl_from_record(value: object) -> _dt.timedelta | None | str:
    if value is None or value == ArtifactTTL.INHERIT:
        return value  # type: ignore[return-value]
    return _dt.timedelta(seconds=float(value))  # type: ignore[arg-type]
