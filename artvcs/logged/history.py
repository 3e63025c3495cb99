"""The recorded history of a version: attribute edits and alias moves, oldest first."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from artvcs.core.aliases import stored_aliases
from artvcs.plumbing import attrs as _attrs
from artvcs.plumbing import refs as _refs

if TYPE_CHECKING:
    from artvcs.artifact import Artifact


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def history(a: Artifact) -> list[dict[str, Any]]:
    """Each event: time, kind (created, edit, alias), and what it did."""
    git = a._context.repo.git
    src, view = a._source, a._version
    events: list[dict[str, Any]] = [{"time": src.facts["created_at"][:19] + "Z", "kind": "created", "what": f"{a.source_name} logged"}]
    for h in _attrs.history(git, src.collection, src.number):
        events.append({"time": _iso(h["time"]), "kind": "edit", "what": h["message"], "attrs": h["attrs"]})
    commit = str(view.commit)
    for alias in sorted(stored_aliases(git, view.collection)):
        for old, new, message, when in _refs.reflog(git, view.collection.alias_ref(alias)):
            if commit in (old, new):
                verb = "to" if new == commit else "away from"
                events.append({"time": _iso(when), "kind": "alias", "what": f"alias {alias!r} moved {verb} {a.name}", "alias": alias})
    events.sort(key=lambda e: e["time"])
    return events
