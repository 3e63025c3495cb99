"""Saving edits to a logged artifact: attributes and aliases.

Everything is validated before anything is written, so a refused save
changes nothing. Attribute edits go to the source version's attrs chain
(one recorded edit per save); alias edits move refs in the collection the
artifact was retrieved from.
"""
from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from artvcs.core import aliases as _aliases
from artvcs.core.aliases import check_user_aliases
from artvcs.plumbing import attrs as _attrs
from artvcs.plumbing import links as _links
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.versions import utcnow
from artvcs.core.validation import canonical_metadata, check_metadata, ttl_to_record

if TYPE_CHECKING:
    from artvcs.artifact import Artifact


def save_edits(artifact: "Artifact") -> None:
    ctx, version, source = artifact._context, artifact._version, artifact._source
    git = ctx.repo.git
    if artifact.state == "DELETED":
        raise UsageError(f"{artifact.name} was deleted: its attributes can no longer change")
    artifact._metadata = check_metadata(artifact._metadata)
    record = artifact._attrs_record()
    saved = artifact._saved
    changed = [
        k for k, cur in (("description", artifact._description), ("metadata", record["metadata"]), ("ttl", record["ttl"]), ("tags", record["tags"]))
        if cur != _saved_record(saved)[k]
    ]
    old = set(saved["aliases"])
    new = set(artifact._aliases)
    added = sorted(new - old)
    removed = sorted(old - new)
    if _aliases.LATEST in added:
        raise UsageError("alias 'latest' is managed by artvcs: it names the version logged last; it cannot be added")
    if _aliases.LATEST in removed:
        warnings.warn("alias 'latest' is managed by artvcs and stays on the version logged last", stacklevel=3)
        removed.remove(_aliases.LATEST)
    check_user_aliases(added)
    if (added or removed) and version.kind != "link":
        registry = [v for v in _links.links_of(git, source) if v.collection.project == _links.MODEL_REGISTRY]
        if registry:
            raise UsageError(
                f"the aliases of {artifact.name} cannot be changed: it is linked to the model registry "
                f"({registry[0].collection}); change them on the registry link instead"
            )

    if changed:
        fields = {k: record[k] for k in changed}
        fields["updated_at"] = utcnow()

        def edit(cur: dict) -> dict:
            cur.update(fields)
            return cur

        _attrs.edit_attrs(git, source.collection, source.number, source.facts.get("attrs", {}), edit, "set " + ", ".join(changed))
    coll = version.collection
    for a in added:
        _aliases.move_alias(git, coll, a, version.commit, f"add alias to v{version.number}")
    for a in removed:
        _aliases.remove_alias(git, coll, a, version.commit, f"remove alias from v{version.number}")
    if (added or removed) and version.kind != "link":
        # Record the alias set in the edit history; the refs stay the truth.
        now = sorted(set(_aliases.aliases_of(git, version)) - {_aliases.LATEST})
        _attrs.edit_attrs(
            git, source.collection, source.number, source.facts.get("attrs", {}),
            lambda cur: dict(cur, aliases=now, updated_at=utcnow()),
            "aliases " + " ".join([f"+{a}" for a in added] + [f"-{a}" for a in removed]),
        )
    artifact._load_attrs()


def _saved_record(saved: dict) -> dict:
    return {
        "description": saved["description"],
        "metadata": canonical_metadata(saved["metadata"]),
        "ttl": ttl_to_record(saved["ttl"]),
        "tags": list(saved["tags"]),
    }
