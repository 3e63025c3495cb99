"""W&B's conversion of Python values to JSON shapes (``wandb.util.json_friendly_val``).

Metadata goes through it so that code written for W&B stores what it stored
there: a tuple or set becomes a list, a numpy array a list (a one-element
array its value), a numpy scalar a number, a slice a dict of its three
fields, bytes a string, a date its ISO form, an Enum its name, NaN None, a
dataclass a dict, a callable its qualified name, and any other object of a
library its ``str``. Values that still have no JSON form (a complex number,
an infinite float, a non-string key that JSON cannot write) are refused.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import json
import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from artvcs.errors import MetadataError

MAX_DEPTH = 100  # deeper values are refused rather than recursed into


def json_friendly(value: Any, where: str = "metadata", depth: int = 0) -> Any:
    """``value`` converted to JSON shapes as W&B converts it; MetadataError naming ``where`` if it cannot be."""
    if depth > MAX_DEPTH:
        raise MetadataError(f"{where} nests deeper than {MAX_DEPTH} levels: flatten it")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None  # as W&B stores it
        if math.isinf(value):
            raise MetadataError(f"{where} is {value!r}: infinity has no JSON form; use None or a finite number")
        return value
    if isinstance(value, Mapping):
        out = {}
        for k, v in value.items():
            key = _key(k, where)
            out[key] = json_friendly(v, f"{where}[{key!r}]", depth + 1)
        return out
    if isinstance(value, slice):
        return {"slice_start": value.start, "slice_step": value.step, "slice_stop": value.stop}
    value = _convert(value, where)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return json_friendly(value, where, depth + 1)
    if isinstance(value, (Sequence, set, frozenset)) and not isinstance(value, (str, bytes, bytearray)):
        return [json_friendly(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_friendly(dataclasses.asdict(value), where, depth + 1)
    if isinstance(value, Mapping):
        return json_friendly(value, where, depth + 1)
    if type(value).__module__ != "builtins":
        return str(value)  # W&B stores any other library object as its text
    raise MetadataError(
        f"{where} is a {type(value).__name__} ({value!r:.60}): it has no JSON form; "
        "use a dict, list, str, number, bool or None"
    )


def _key(k: Any, where: str) -> str:
    """A mapping key as JSON writes it: strings as they are, numbers, bools and None as text."""
    if isinstance(k, str):
        return k
    if k is None or isinstance(k, (bool, int, float)):
        return json.dumps(k)
    np = _numpy()
    if np is not None and isinstance(k, np.generic):
        return _key(k.item(), where)
    raise MetadataError(f"{where} has key {k!r} of type {type(k).__name__}: keys must be strings")


def _convert(value: Any, where: str) -> Any:
    """One step of W&B's ``json_friendly``: library and special values to plain ones."""
    np = _numpy()
    if np is not None:
        if isinstance(value, np.ndarray):
            return value.flatten()[0].item() if value.size == 1 else value.tolist()
        if isinstance(value, np.generic):
            return value.item()
    typename = f"{type(value).__module__}.{type(value).__name__}"
    if typename.startswith("torch.") and hasattr(value, "detach"):
        value = value.detach().cpu()
        return value.item() if value.dim() == 0 else value.tolist()
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise MetadataError(f"{where} holds bytes that are not UTF-8 text: decode or encode them first") from None
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.name
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if callable(value):
        if hasattr(value, "__qualname__") and hasattr(value, "__module__"):
            return f"{value.__module__}.{value.__qualname__}"
        return str(value)
    return value


def _numpy():
    """numpy if the caller already imported it (a value cannot be a numpy value otherwise)."""
    return sys.modules.get("numpy")
