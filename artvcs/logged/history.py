"""The recorded history of a version: attribute edits and alias moves, oldest first."""
from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from artvcs.core.aliases import stored_aliases
from artvcs.plumbing import attrs as _attrs
from artvcs.plumbing import refs as _refs
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import ArtvcsError

if TYPE_CHECKING:
    from artvcs.artifact import Artifact


def _iso(ts: int) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _who(sig) -> str:
    return f"{sig.name} <{sig.email}>"


def _number(git, oid: str | None) -> int | None:
    """The version number of commit ``oid``, or None (no commit, or not a version)."""
    try:
        return _versions.read_version(git, oid).number if oid else None
    except ArtvcsError:
        return None


def history(a: Artifact) -> list[dict[str, Any]]:
    """Each event, oldest first: time, kind (created, edit, alias), who (name <email>), what it did,
    and attrs (after an edit) or alias (the alias that moved).

    An alias change shows once: as the move its ref's reflog records (to
    this version from another, or away to another); a removal, whose ref
    and reflog are gone, as the edit that recorded it.
    """
    git = a._context.repo.git
    src, view = a._source, a._version
    events: list[dict[str, Any]] = [{"time": src.facts["created_at"][:19] + "Z", "kind": "created",
                                     "what": f"{a.source_name} logged", "who": _who(git[src.commit].author)}]
    commit = str(view.commit)
    for alias in sorted(stored_aliases(git, view.collection)):
        for e in _refs.reflog(git, view.collection.alias_ref(alias)):
            if e.new == commit and e.old != commit:
                other, what = _number(git, e.old), f"alias {alias!r} moved to {a.name}"
                what += f" (from v{other})" if other is not None else ""
            elif e.old == commit and e.new != commit:
                other, what = _number(git, e.new), f"alias {alias!r} moved away from {a.name}"
                what += f" (to v{other})" if other is not None else ""
            else:
                continue
            events.append({"time": _iso(e.time), "kind": "alias", "who": e.who, "what": what, "alias": alias})
    moved_away: dict[str, set[str]] = {}  # time -> aliases whose ref moved away then (not a removal)
    for e in events:
        if "moved away" in e["what"]:
            moved_away.setdefault(e["time"], set()).add(e["alias"])
    for h in _attrs.history(git, src.collection, src.number):
        if h["message"].startswith("aliases "):
            for word in h["message"].split()[1:]:
                if word.startswith("-") and word[1:] not in moved_away.get(_iso(h["time"]), ()):
                    events.append({"time": _iso(h["time"]), "kind": "alias", "who": h["who"],
                                   "what": f"alias {word[1:]!r} removed from {a.name}", "alias": word[1:]})
            continue
        events.append({"time": _iso(h["time"]), "kind": "edit", "who": h["who"], "what": h["message"], "attrs": h["attrs"]})
    events.sort(key=lambda e: e["time"])
    return events
