"""The recorded facts of a version, recomputed from its manifest and compared.

``artifact.json`` states a version's ``digest``, ``size`` and ``file_count``.
They are derived data: whoever wrote the commit could have written anything
there, and ``log`` finds an existing version by its stored digest, so a
lying digest would let a crafted version stand in for another. Versions
that arrive from a remote (pull, fetch, clone) and every version fsck reads
are checked here: the facts are computed again from the manifest's entries
and must equal the recorded ones.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pygit2

from .errors import CorruptObjectError
from .manifest import Entry, iter_entries, summarize

FIELDS = ("digest", "size", "file_count")


def manifest_facts(git: pygit2.Repository, manifest: pygit2.Oid) -> tuple[str, int, int]:
    """``(digest, size, file_count)`` of the manifest tree ``manifest``, computed from its entries."""
    return summarize(iter_entries(git, manifest))


def facts_of(entries: Iterable[Entry]) -> tuple[str, int, int]:
    """``(digest, size, file_count)`` of ``entries`` (for a caller that already walks a manifest)."""
    return summarize(entries)


def mismatch(recorded: dict[str, Any], computed: tuple[str, int, int]) -> str | None:
    """A sentence naming the first recorded fact that differs from ``computed``, or None when all agree."""
    for name, value in zip(FIELDS, computed):
        have = recorded.get(name)
        if type(have) is not type(value) or have != value:
            return f"artifact.json says {name} {have!r} but its manifest gives {value!r}"
    return None


def check_facts(recorded: dict[str, Any], computed: tuple[str, int, int], what: str) -> None:
    """Refuse ``what`` (a version, named for the message) when its recorded facts are not ``computed``."""
    wrong = mismatch(recorded, computed)
    if wrong is not None:
        raise CorruptObjectError(f"{what}: {wrong}: the version's recorded facts lie; refused")
