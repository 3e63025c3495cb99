"""``encode``/``decode``: the bridge between ``Artifact.add``/``get`` and the media types.

An object added as ``name`` is the JSON entry ``<name>.<kind>.json`` (W&B's
naming) plus its parts; ``get(name)`` finds that entry again by trying each
kind, or takes ``name`` as is when it already ends in ``.<kind>.json``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from artvcs.media.base import REGISTRY, Media, Reader, Writer
from artvcs.plumbing.errors import UsageError


def _check(obj: Any) -> Media:
    if not isinstance(obj, Media):
        kinds = ", ".join(sorted(c.__name__ for c in set(REGISTRY.values())))
        raise UsageError(f"add: cannot add a {type(obj).__name__} ({obj!r:.40}); an artifact holds media objects: {kinds}")
    return obj


def json_path(obj: Any, name: str) -> str:
    """The entry path of ``obj``'s JSON document when added as ``name``."""
    suffix = f".{_check(obj)._log_type}.json"
    return name if name.endswith(suffix) else name + suffix


def encode(obj: Any, name: str) -> dict[str, bytes]:
    """Every entry ``obj`` needs when added as ``name``: its JSON document and its parts."""
    out = Writer()
    path = json_path(obj, name)
    doc = obj._encode(out)
    out.entry(path, doc)
    return out.parts


def find(name: str, entry_paths: frozenset[str]) -> str | None:
    """The JSON entry that ``get(name)`` means, or None; ValueError if several kinds match."""
    for kind in REGISTRY:
        if name.endswith(f".{kind}.json"):
            return name if name in entry_paths else None
    found = sorted(f"{name}.{kind}.json" for kind in REGISTRY if f"{name}.{kind}.json" in entry_paths)
    if len(found) > 1:
        raise UsageError(f"get: {name!r} could mean {' or '.join(found)}: pass the full entry path")
    return found[0] if found else None


def decode(name: str, entry_paths: frozenset[str], read: Callable[[str], bytes]) -> Media | None:
    """The media object stored as ``name`` (see :func:`find`), or None when there is none."""
    path = find(name, entry_paths)
    if path is None:
        return None
    return Reader(entry_paths, read).object(path)
