"""Garbage collection: expire versions past their ttl, then delete unreachable content.

Content is kept when a live version, alias or link names it, when a draft in
progress holds it, when a pin in the host repository's lock file names a
version that has it, or when it is younger than the grace period (work in
flight). Only the content store is collected; git objects are tiny and keep
the history of deleted versions.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from artvcs import lifecycle
from artvcs.context import Context
from artvcs.plumbing import drafts, manifest, refs, versions

GRACE_SECONDS = 3600.0


@dataclass
class GcResult:
    expired: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    kept_young: int = 0
    reachable: int = 0


def reachable_digests(context: Context, extra_commits: list[str] = ()) -> set[str]:
    """Digests named by every live version ref and alias (links share manifests), plus ``extra_commits``."""
    git = context.repo.git
    trees = set()
    for prefix in ("refs/versions/", "refs/aliases/"):
        for _, oid in refs.iter_refs(git, prefix):
            trees.add(versions.read_version(git, oid).manifest)
    for c in extra_commits:
        try:
            trees.add(versions.read_version(git, c).manifest)
        except Exception:  # a pin naming a commit this repository does not have protects nothing here
            continue
    out: set[str] = set()
    for t in trees:
        out.update(e.digest for e in manifest.iter_entries(git, t) if e.ref is None)
    return out


def gc(context: Context, dry_run: bool = False, grace_seconds: float = GRACE_SECONDS, pins: list[str] = ()) -> GcResult:
    """Expire, then remove unreachable content older than the grace period."""
    result = GcResult()
    git = context.repo.git
    for coll in versions.iter_collections(git):
        if dry_run:
            result.expired += [f"{coll}:v{v.number}" for v in versions.iter_versions(git, coll) if v.kind == "version" and lifecycle.expired(context, v)]
        else:
            result.expired += [f"{coll}:v{n}" for n in lifecycle.expire(context, coll)]
    keep = reachable_digests(context, list(pins)) | drafts.protected_digests(context.repo.gitdir, grace_seconds)
    result.reachable = len(keep)
    store = context.repo.store
    now = time.time()
    doomed: list[tuple[str, int]] = []
    for digest in store.iter_digests():
        if digest in keep:
            continue
        try:
            st = os.stat(store.path_of(digest))
        except FileNotFoundError:
            continue
        if now - st.st_mtime < grace_seconds:
            result.kept_young += 1
        else:
            doomed.append((digest, st.st_size))
    # A draft may have claimed some of them while the store was walked: ask again,
    # and look at each file's age once more right before it goes.
    late = drafts.protected_digests(context.repo.gitdir, grace_seconds)
    for digest, size in doomed:
        if digest in late:
            continue
        try:
            if time.time() - os.stat(store.path_of(digest)).st_mtime < grace_seconds:
                continue
        except FileNotFoundError:
            continue
        result.removed.append(digest)
        result.freed_bytes += size
        if not dry_run:
            store.remove(digest)
    if not dry_run:
        scratch = os.path.join(context.repo.gitdir, "tmp")  # new_file leftovers of killed processes
        leftovers = [os.path.join(scratch, n) for n in os.listdir(scratch)] if os.path.isdir(scratch) else []
        for tmp in list(store.iter_tmp()) + leftovers:
            try:
                if now - os.stat(tmp).st_mtime > grace_seconds:
                    os.unlink(tmp)
            except FileNotFoundError:
                pass
    return result
