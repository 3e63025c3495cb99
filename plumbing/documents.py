"""Reading the JSON documents artvcs stores (listings, artifact.json, attributes, run records).

Stored bytes may have been damaged or crafted (a pulled pack, an edited
file), so every document is decoded strictly (UTF-8, RFC 8259 JSON, no NaN,
nesting no deeper than the parser can follow) and checked
against its shape before anything uses it. Every failure is a
:class:`CorruptObjectError` naming the document and the rule it breaks.
"""
from __future__ import annotations

import json
from typing import Any

from .errors import CorruptObjectError


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def load_json(data: bytes, what: str) -> Any:
    """Parse ``data`` (the document ``what``) or raise CorruptObjectError naming it and the rule."""
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as e:
        raise CorruptObjectError(f"{what} is not UTF-8 (byte {e.start}): the document is damaged") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except RecursionError:  # the C parser counts its depth against the recursion limit
        raise CorruptObjectError(f"{what} nests JSON too deeply to read: the document is damaged") from None
    except ValueError as e:
        raise CorruptObjectError(f"{what} is not valid JSON ({e}): the document is damaged") from None


def expect(doc: dict, key: str, kinds: type | tuple[type, ...], what: str, *, optional: bool = False) -> Any:
    """``doc[key]`` if it has one of ``kinds`` (bool is never an int here); else CorruptObjectError."""
    if key not in doc:
        if optional:
            return None
        raise CorruptObjectError(f"{what} has no {key!r} field: the document is damaged")
    value = doc[key]
    kinds = kinds if isinstance(kinds, tuple) else (kinds,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
        raise CorruptObjectError(f"{what}: field {key!r} is {short(value)}, not {names}: the document is damaged")
    return value


def expect_object(value: Any, what: str) -> dict:
    """``value`` if it is a JSON object; else CorruptObjectError."""
    if not isinstance(value, dict):
        raise CorruptObjectError(f"{what} is a JSON {type(value).__name__}, not an object: the document is damaged")
    return value


def short(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: for messages about untrusted values."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
