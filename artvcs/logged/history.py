"""The recorded history of a version: attribute edits and alias moves, oldest first."""
from __future__ import annotations

import datetime as dt
import re
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


# one change in an alias edit's message: "+prod (from v1)", "-prod (to v2)", "-staging"
_ALIAS_WORD = re.compile(r"([+-])(\S+)(?: \((from|to) v(\d+)\))?")


def _who(name: str, email: str) -> dict[str, str]:
    """The fields that say who did something: ``who`` (name <email>), ``author`` and ``email``."""
    return {"who": f"{name} <{email}>", "author": name, "email": email}


def _number(git, oid: str | None) -> int | None:
    """The version number of commit ``oid``, or None (no commit, or not a version)."""
    try:
        return _versions.read_version(git, oid).number if oid else None
    except ArtvcsError:
        return None


def history(a: Artifact) -> list[dict[str, Any]]:
    """Each event, oldest first: time, kind (created, edit, alias), who (name <email>), what it did,
    and attrs (after an edit) or alias (the alias that moved).

    An alias change shows once. The edit record of an alias set (written on
    the version that took the alias and on the one that lost it) is the
    durable account, since deleting an alias deletes its ref's reflog; the
    reflog adds the moves no edit recorded (``log --alias``, a pull).
    """
    git = a._context.repo.git
    src, view = a._source, a._version
    logged_by = _versions.author(git, src)
    events: list[dict[str, Any]] = [{"time": src.facts["created_at"][:19] + "Z", "kind": "created",
                                     "what": f"{a.source_name} logged", **_who(logged_by.name, logged_by.email)}]
    recorded: set[tuple[str, str, str]] = set()  # (time, alias, "+" or "-") the edit history tells
    for h in _attrs.history(git, src.collection, src.number):
        when = _iso(h["time"])
        if not h["message"].startswith("aliases "):
            events.append({"time": when, "kind": "edit", **_who(h["author"], h["email"]), "what": h["message"],
                           "attrs": h["attrs"]})
            continue
        for sign, alias, way, other in _ALIAS_WORD.findall(h["message"][len("aliases "):]):
            recorded.add((when, alias, sign))
            if sign == "+":
                what = f"alias {alias!r} moved to {a.name}" + (f" (from v{other})" if other else "")
            else:
                what = f"alias {alias!r} moved away from {a.name} (to v{other})" if other else f"alias {alias!r} removed from {a.name}"
            events.append({"time": when, "kind": "alias", **_who(h["author"], h["email"]), "what": what, "alias": alias})
    commit = str(view.commit)
    for alias in sorted(stored_aliases(git, view.collection)):
        for e in _refs.reflog(git, view.collection.alias_ref(alias)):
            when = _iso(e.time)
            if e.new == commit and e.old != commit and (when, alias, "+") not in recorded:
                other, what = _number(git, e.old), f"alias {alias!r} moved to {a.name}"
                what += f" (from v{other})" if other is not None else ""
            elif e.old == commit and e.new != commit and (when, alias, "-") not in recorded:
                other, what = _number(git, e.new), f"alias {alias!r} moved away from {a.name}"
                what += f" (to v{other})" if other is not None else ""
            else:
                continue
            events.append({"time": when, "kind": "alias", **_who(e.author, e.email), "what": what, "alias": alias})
    events.sort(key=lambda e: e["time"])
    return events
