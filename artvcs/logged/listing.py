"""What a project holds, summarised for listings and shell completion.

Read-only and cheap: collections come from refs, and only the newest version
of each is read, so ``artvcs ls`` and tab completion stay fast however many
versions a collection has.
"""
from __future__ import annotations

from typing import Any

from artvcs.core.aliases import LATEST, stored_aliases
from artvcs.core.context import Context
from artvcs.plumbing import versions


def collections(context: Context, type_: str | None = None) -> list[dict[str, Any]]:
    """Each collection and portfolio of the context's project, by name: its type, kind
    (collection or portfolio), number of live versions, newest version, its size and time."""
    git = context.repo.git
    rows = []
    for coll in versions.iter_collections(git, context.entity, context.project):
        tip = versions.collection_tip(git, coll)
        kind_type = tip.facts.get("type") if tip else None
        if type_ and kind_type != type_:
            continue
        newest = versions.latest(git, coll)
        rows.append({
            "name": coll.name,
            "type": kind_type,
            "kind": "portfolio" if tip and tip.kind == "link" else "collection",
            "versions": len(versions.live_numbers(git, coll)),
            "latest": f"v{newest.number}" if newest else None,
            "size": newest.facts.get("size") if newest else None,
            "updated": newest.facts.get("created_at") if newest else None,
        })
    return rows


def ref_candidates(context: Context, incomplete: str) -> list[str]:
    """Completions of a REF: collection names, then ``name:`` with each alias and ``vN``."""
    git = context.repo.git
    name, colon, _ = incomplete.partition(":")
    out = []
    for coll in versions.iter_collections(git, context.entity, context.project):
        if colon and coll.name == name:
            selectors = [LATEST, *sorted(stored_aliases(git, coll)), *(f"v{n}" for n in versions.live_numbers(git, coll))]
            out += [f"{coll.name}:{s}" for s in selectors if f"{coll.name}:{s}".startswith(incomplete)]
        elif not colon and coll.name.startswith(incomplete):
            out.append(coll.name)
    return out
