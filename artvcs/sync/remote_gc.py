"""``gc --remote``: delete remote content that no ref, alias, link or pin reaches.

Reachable: the manifests of every version the remote's version, alias and
link refs name (a link is a version of its portfolio), and of every version
pinned by the lock files of the enclosing git repository. Content younger
than the grace period is kept whatever names it: a push uploads content
before the refs that make it reachable, and may be doing so right now.
Packs (git objects) are never removed, as git objects are not locally.
Chunked files: the chunk lists of unreachable files go, then the chunk packs
none of whose chunks a remaining list names, and partly dead packs are
rewritten with their live chunks (:mod:`artvcs.plumbing.remote.chunkgc`).
Nothing is removed while a push is under way, and a push that started after
this gc waits for it and checks what it counts on
(:mod:`artvcs.plumbing.remote.inflight`).
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pygit2

from artvcs.plumbing import versions
from artvcs.plumbing.errors import ArtvcsError
from artvcs.plumbing.remote import chunkgc, inflight, steps
from artvcs.plumbing.remote.layout import CONTENT, RemoteRepo
from artvcs.plumbing.repository import Repository
from artvcs.plumbing.gc import reachable_digests
from artvcs.sync.sync import Selection, read_view

GRACE_SECONDS = 3600.0


@dataclass
class RemoteGcResult:
    removed: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    kept_young: int = 0
    reachable: int = 0
    rewritten_packs: int = 0  # partly dead chunk packs replaced by a pack of their live chunks
    busy_pushes: int = 0  # pushes under way when it looked: it removed nothing
    out_of_time: bool = False  # it stopped removing once its time budget was spent (inflight.GC_BUDGET)


def remote_gc(repo: Repository, remote: RemoteRepo, grace_seconds: float = GRACE_SECONDS, dry_run: bool = False,
              pins: Iterable[str] = ()) -> RemoteGcResult:
    """Remove unreachable remote content older than ``grace_seconds`` (nothing with ``dry_run``).

    A real collection runs under its marker (:mod:`inflight`): it removes nothing when a push is
    under way, and nothing once its time budget is spent.
    """
    if dry_run:
        return _collect(repo, remote, grace_seconds, True, pins, lambda: False)
    marker = inflight.Collecting(remote)
    try:
        busy = marker.pushes()
        if busy:
            return RemoteGcResult(busy_pushes=len(busy))
        return _collect(repo, remote, grace_seconds, False, pins, marker.may_remove)
    finally:
        marker.end()


def _collect(repo: Repository, remote: RemoteRepo, grace_seconds: float, dry_run: bool, pins: Iterable[str],
             may_remove: Callable[[], bool]) -> RemoteGcResult:
    steps.step("gc-list")
    view = read_view(repo, remote, Selection())
    git = repo.git
    manifests: set[pygit2.Oid] = set()
    for name, oid in view.refs.items():
        if name.split("/")[1] not in ("versions", "aliases"):
            continue
        try:
            manifests.add(versions.read_version(git, oid).manifest)
        except ArtvcsError:
            continue
    for commit in pins:
        try:
            manifests.add(versions.read_version(git, commit).manifest)
        except ArtvcsError:
            continue
    keep = reachable_digests(git, manifests, stored_only=True)
    result = RemoteGcResult(reachable=len(keep))
    now = time.time()
    swept = chunkgc.sweep_remote(remote, repo.gitdir, keep, grace_seconds, now, dry_run, may_remove=may_remove)
    result.removed += swept.removed
    result.freed_bytes += swept.freed_bytes
    result.kept_young += swept.kept_young
    result.rewritten_packs = swept.rewritten_packs
    result.out_of_time = swept.out_of_time
    steps.step("gc-remove")
    for stat in remote.list_content():
        digest = stat.key[len(CONTENT):].replace("/", "")
        if digest in keep:
            continue
        if stat.mtime is None or now - stat.mtime < grace_seconds:
            result.kept_young += 1
            continue
        if not dry_run:
            if not may_remove():
                result.out_of_time = True
                break
            remote.backend.remove(stat.key)
        result.removed.append(digest)
        result.freed_bytes += stat.size
    return result
