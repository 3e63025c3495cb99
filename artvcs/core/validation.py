"""Checks on user-supplied metadata and ttl values (names live in plumbing.names)."""
from __future__ import annotations

import datetime as _dt
from typing import Any

from artvcs.core.jsonable import json_friendly
from artvcs.errors import MetadataError
from artvcs.plumbing.errors import UsageError

MAX_METADATA_KEYS = 100


def check_metadata(value: object) -> dict[str, Any]:
    """``value`` converted to JSON shapes as W&B converts metadata (a new dict), or a
    MetadataError (a TypeError and ValueError) naming the problem."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MetadataError(f"metadata must be dict, not {type(value)} ({value!r:.60})")
    if len(value) > MAX_METADATA_KEYS:
        raise MetadataError(f"metadata has {len(value)} keys: at most {MAX_METADATA_KEYS} are allowed")
    return json_friendly(value)


def canonical_metadata(value: object) -> dict[str, Any]:
    """Metadata as it is stored: ``value`` checked and converted again, since a user may have
    changed ``artifact.metadata`` in place since it was set."""
    return check_metadata(value)


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
