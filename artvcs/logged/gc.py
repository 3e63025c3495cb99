"""Garbage collection: expire versions past their ttl, then delete unreachable content.

Content is kept when a live version, alias or portfolio link names it, when a
draft in progress holds it, when a pin in the host git repository's lock
files names a version that has it (on any branch or tag, so that switching
branches never finds content gone), or when it is younger than the grace
period (work in flight). Only the content store is collected: git objects are
tiny and keep the history of deleted versions; past 50 packs of them, they are
merged into one (:mod:`artvcs.plumbing.repack`). The walking and deleting is
:mod:`artvcs.plumbing.gc`; this module decides what is live.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from artvcs.draft import distributed
from artvcs.logged import lifecycle
from artvcs.core.context import Context
from artvcs.plumbing import gc as _gc
from artvcs.plumbing import repack, versions
from artvcs.plumbing.errors import ArtvcsError

GRACE_SECONDS = 3600.0


@dataclass
class GcResult:
    """What one collection did: versions expired, content removed, and what it kept."""

    expired: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    kept_young: int = 0
    reachable: int = 0
    leftovers: int = 0
    repacked: int = 0
    rewritten_packs: int = 0  # partly dead chunk packs replaced by a pack of their live chunks
    kept_busy: int = 0  # chunk lists and packs left for the next gc while others read or wrote chunks
    pruned_sums: int = 0  # stat-cache folder sums of versions no ref or pin names any more


def _expired(context: Context, dry_run: bool) -> tuple[list[str], set[str]]:
    """Names and commits of the versions past their ttl; deleted unless ``dry_run``."""
    git = context.repo.git
    names, commits = [], set()
    for coll in versions.iter_collections(git):
        if not dry_run:
            names += [f"{coll}:v{n}" for n in lifecycle.expire(context, coll)]
            continue
        for v in versions.iter_versions(git, coll):
            if v.kind == "version" and lifecycle.expired(context, v):
                names.append(f"{coll}:v{v.number}")
                commits.add(str(v.commit))
    return names, commits


def reachable_digests(context: Context, pins: Iterable[str] = (), dead: set[str] = frozenset()) -> set[str]:
    """Digests named by live versions, aliases and links (less those of ``dead`` commits), by distributed
    drafts and by ``pins``."""
    git = context.repo.git
    manifests = set()
    for _, v in _gc.version_refs(git):
        source = v.facts.get("source", {}).get("commit") if v.kind == "link" else None
        if str(v.commit) not in dead and source not in dead:
            manifests.add(v.manifest)
    manifests.update(distributed.iter_manifests(git))  # drafts that runs upsert into, not yet versions
    for commit in pins:
        try:
            manifests.add(versions.read_version(git, commit).manifest)
        except ArtvcsError:
            continue  # a pin naming a commit this repository lacks protects nothing here
    return _gc.reachable_digests(git, manifests)


def gc(context: Context, pins: Iterable[str], dry_run: bool = False, grace_seconds: float = GRACE_SECONDS) -> GcResult:
    """Expire versions past their ttl, then remove unreachable content older than the grace period.

    ``pins`` are commits kept whatever their ttl or aliases: the caller passes those pinned
    by the lock files of the enclosing git repository (``artvcs.git.tracking.pinned_commits``).
    A dry run changes nothing and counts what expiry would free.
    """
    pins = list(pins)  # read twice: for the content kept and the folder sums kept
    expired, dead = _expired(context, dry_run)
    keep = reachable_digests(context, pins, dead if dry_run else set())
    swept = _gc.sweep(context.repo.store, context.repo.gitdir, keep, grace_seconds, dry_run)
    pruned = 0 if dry_run else _gc.prune_sums(context.repo.statcache, context.repo.git, pins)
    repacked = repack.repack(context.repo.gitdir, dry_run=dry_run)
    return GcResult(expired, swept.removed, swept.freed_bytes, swept.kept_young, len(keep), swept.leftovers, repacked,
                    swept.rewritten_packs, swept.kept_busy, pruned)
