"""Deleting versions, linking them into portfolios, and expiring them by ttl."""
from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from artvcs.core import aliases as _aliases
from artvcs.core.aliases import check_user_aliases
from artvcs.errors import RefusedError
from artvcs.plumbing import attrs as _attrs
from artvcs.plumbing import config as _config
from artvcs.plumbing import links as _links
from artvcs.plumbing import refs as _refs
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import ConflictError, UsageError
from artvcs.plumbing.names import check_name
from artvcs.plumbing.refs import CollectionId

if TYPE_CHECKING:
    from artvcs.core.context import Context


def delete_version(context: "Context", version: _versions.Version, delete_aliases: bool) -> None:
    """Delete a version (its links go too) or, for a link, only the membership.

    The number is never given again: the collection's chain keeps the commit.
    Content becomes unreachable for ``gc`` once no live version names it.
    """
    git = context.repo.git
    coll = version.collection
    if _versions.version_commit(git, coll, version.number) != version.commit:
        raise UsageError(f"{coll}:v{version.number} is already deleted")
    names = _aliases.aliases_of(git, version)
    if names and not delete_aliases and version.kind != "link":
        raise RefusedError(  # a ValueError, and W&B's CommError
            f"{coll.name}:v{version.number} has aliases {', '.join(names)}: "
            "remove them first or pass delete_aliases=True"
        )
    if version.kind != "link":
        for link in list(_links.links_of(git, version)):
            delete_version(context, link, True)
    _versions.collection_tip(git, coll)  # repair a lagging tip so the number can never be reused
    for alias, oid in _aliases.stored_aliases(git, coll).items():
        if oid == version.commit:
            _aliases.remove_alias(git, coll, alias, version.commit, f"delete v{version.number}")
    try:
        _refs.update(git, coll.version_ref(version.number), None, version.commit, f"delete v{version.number}")
    except ConflictError:
        raise UsageError(f"{coll}:v{version.number} was deleted concurrently") from None
    _attrs.edit_attrs(
        git, coll, version.number, version.facts.get("attrs", {}),
        lambda cur: dict(cur, deleted_at=_versions.utcnow()), "deleted",
    )


def parse_target(context: "Context", target_path: str) -> CollectionId:
    """``portfolio``, ``project/portfolio`` or ``entity/project/portfolio`` → a collection id."""
    if not isinstance(target_path, str) or not target_path:
        raise UsageError(f"invalid link target {target_path!r}: use portfolio, project/portfolio or entity/project/portfolio")
    parts = target_path.split("/")
    if len(parts) > 3:
        raise UsageError(f"invalid link target {target_path!r}: at most entity/project/portfolio")
    full = [context.entity, context.project][: 3 - len(parts)] + parts
    for p, what in zip(full, ("entity", "project", "portfolio")):
        check_name(p, what)
    return CollectionId(*full)


def link(context: "Context", source: _versions.Version, target_path: str, aliases: list[str]) -> _versions.Version:
    """Make ``source`` a member of a portfolio, reusing an existing membership."""
    git = context.repo.git
    portfolio = parse_target(context, target_path)
    wanted = check_user_aliases(aliases)
    _links.check_link_allowed(source, portfolio)
    tip = _versions.collection_tip(git, portfolio)
    if tip is not None and tip.kind != "link":
        raise UsageError(f"{portfolio} is an artifact collection, not a portfolio: choose another target name")
    member = next((v for v in _links.links_of(git, source) if v.collection == portfolio), None)
    if member is None:
        member = _links.link_version(git, source, portfolio, _versions.utcnow(), sync_path=context.repo.gitdir)
    for alias in wanted:
        _aliases.move_alias(git, portfolio, alias, member.commit, f"link {source.collection.name}:v{source.number}")
    return member


def expired(context: "Context", version: _versions.Version, now: _dt.datetime | None = None) -> bool:
    """True if the version's ttl (its own or the project default) has passed."""
    git = context.repo.git
    rec = _attrs.read_attrs(git, version.collection, version.number) or version.facts.get("attrs", {})
    ttl = rec.get("ttl", "inherit")
    if ttl == "inherit":
        ttl = _config.project_ttl(context.repo.config_path, version.collection.project)
    if ttl is None:
        return False
    now = now or _dt.datetime.now(_dt.timezone.utc)
    return _versions.parse_time(version.facts["created_at"]) + _dt.timedelta(seconds=float(ttl)) <= now


def expire(context: "Context", coll: CollectionId) -> list[int]:
    """Delete every expired version of ``coll`` (aliases too); return their numbers."""
    git = context.repo.git
    gone = []
    for v in _versions.iter_versions(git, coll):
        if v.kind == "version" and expired(context, v):
            delete_version(context, v, True)
            gone.append(v.number)
    return gone
