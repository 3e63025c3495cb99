"""Garbage-collection mechanics: what version refs reach, and sweeping the content store.

Which versions count as live is the binding's decision (``artvcs.logged.gc``): this
module walks manifests and deletes files. Three rules make it safe to run
beside writers:

- every manifest tree and listing blob is read once, however many versions
  share it, and a corrupt one stops the collection (nothing is deleted on a
  guess);
- a stored file younger than the grace period is kept (work in flight
  writes content before any ref names it), and so is every digest a draft
  of a live process lists;
- the draft lists are read again after the store has been walked, and each
  file's age is checked again right before it goes;
- the sweep generation (``sweepgen``) says "sweeping" before the draft lists
  are first read, and changes when the sweep ends, so a writer that trusts
  its stat cache for "this content is stored" learns that it must look again.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pygit2

from . import chunkpacks, chunkprune, chunkstore, drafts, refs, repack, sweepgen, versions
from .errors import ArtvcsError
from .manifest import ARTIFACT_SCHEME, LISTING, _load_rows
from .objectbatch import TMP_PREFIXES as PACK_TMP_PREFIXES
from .progress import report
from .store import ContentStore, _unlink_quiet

# Refs that hold versions. refs/collections tips may still point at a deleted
# version, refs/attrs and refs/runs point at records, not versions.
NOT_VERSIONS = ("refs/collections/", "refs/attrs/", "refs/runs/")
SCRATCH = "tmp"  # new_file's folder inside .artifacts
CACHE = "cache"


def version_refs(repo: pygit2.Repository) -> Iterator[tuple[str, versions.Version]]:
    """``(ref, version)`` for every ref that points at a version commit (versions, aliases, links, and
    any namespace added later, such as remote-tracking refs); other refs are skipped."""
    for name, oid in refs.iter_refs(repo, "refs/"):
        if name.startswith(NOT_VERSIONS):
            continue
        try:
            yield name, versions.read_version(repo, oid)
        except ArtvcsError:
            continue  # not a version commit: protects nothing


def reachable_digests(repo: pygit2.Repository, manifests: Iterable[pygit2.Oid], stored_only: bool = False) -> set[str]:
    """Every digest the manifests name; with ``stored_only``, only those whose bytes the store
    holds (stored files and ``artvcs-artifact://`` references). Shared subtrees are read once."""
    seen: set[pygit2.Oid] = set()
    out: set[str] = set()
    stack = [m for m in manifests]
    while stack:
        oid = stack.pop()
        if oid in seen:
            continue
        seen.add(oid)
        for obj in repo[oid]:
            if obj.type == pygit2.GIT_OBJECT_TREE:
                stack.append(obj.id)
            elif obj.name.startswith(LISTING) and obj.id not in seen:
                seen.add(obj.id)
                for row in _load_rows(repo, obj.id, ""):
                    if len(row) < 2 or not isinstance(row[1], str):
                        continue
                    ref = row[3].get("ref") if len(row) == 4 and isinstance(row[3], dict) else None
                    if not stored_only or ref is None or str(ref).startswith(ARTIFACT_SCHEME):
                        out.add(row[1])
    return out


def prune_sums(cache, repo: pygit2.Repository, pins: Iterable[str] = ()) -> int:
    """Forget the folder sums the stat cache ``cache`` keeps for versions that no version, alias or
    link ref and no pin names any more (deleted, expired); return how many went.

    The kept commits are read before the refs, so the sums of a version logged meanwhile (its ref
    is made before its sums are kept) are never among those dropped.
    """
    kept = cache.sums_commits()
    if not kept:
        return 0
    live = {str(v.commit) for _, v in version_refs(repo)} | {str(p) for p in pins}
    return cache.drop_sums(kept - live)


@dataclass
class Sweep:
    """What a sweep removed (or, dry, would remove) and what it kept for being young."""

    removed: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    kept_young: int = 0
    leftovers: int = 0
    rewritten_packs: int = 0  # partly dead chunk packs replaced by a pack of their live chunks
    kept_busy: int = 0  # chunk lists and packs left for the next gc: readers or writers held the lock


def _age(path: str, now: float) -> float | None:
    try:
        return now - os.stat(path).st_mtime
    except FileNotFoundError:
        return None


PROGRESS_EVERY = 256  # stored files between two progress reports


def sweep(store: ContentStore, gitdir: str, keep: set[str], grace_seconds: float, dry_run: bool = False) -> Sweep:
    """Delete stored files outside ``keep`` and older than the grace period; then temporary leftovers.

    A real sweep runs inside :class:`sweepgen.Sweeping`, so that no stat cache record
    vouches for a stored file across it.
    """
    if dry_run:
        return _sweep(store, gitdir, keep, grace_seconds, True, None)
    with sweepgen.Sweeping(os.path.join(gitdir, CACHE)) as marker:
        return _sweep(store, gitdir, keep, grace_seconds, False, marker)


def _keep_chunks(store: ContentStore, keep: set[str], grace_seconds: float, now: float,
                 seen: set[str]) -> list[str]:
    """Add to ``keep`` the chunks of every chunk list that stays (its file is kept, or the list is
    young: a writer is at work), and to ``seen`` every list; return the lists that go. A chunk
    shared by a list that goes and one that stays stays."""
    doomed = []
    for digest in chunkstore.iter_lists(store):
        seen.add(digest)
        age = _age(chunkstore.list_path(store, digest), now)
        if digest in keep or age is None or age < grace_seconds:
            keep.update(chunkstore.chunk_digests(store, digest))
        else:
            doomed.append(digest)
    return doomed


def _sweep_chunks(store: ContentStore, keep: set[str], late: set[str], doomed_lists: list[str], listed: set[str],
                  grace_seconds: float, dry_run: bool, result: Sweep) -> None:
    """Remove the chunk lists that go, then collect the chunk packs (:mod:`chunkprune`): new packs
    of the live chunks of partly dead packs are written first; lists and packs are removed only
    under the exclusive chunk lock, which waits for every reader and writer of chunks."""
    doomed = []
    for digest in doomed_lists:
        if digest in late:
            late.update(chunkstore.chunk_digests(store, digest))
        else:
            doomed.append(digest)
    live = keep | late  # the chunks of the lists that stay, and every other kept digest
    prep = chunkprune.prepare(store, live, grace_seconds, dry_run)
    result.kept_young += prep.young
    result.rewritten_packs += prep.rewritten
    folder = chunkstore.packs_dir(store)
    if dry_run or not os.path.isdir(folder):  # no packs: no reader or writer of one to wait for
        lock = contextlib.nullcontext(True)
    else:
        lock = chunkpacks.exclusive(folder, chunkprune.LOCK_WAIT_SECONDS)
    with lock as held:
        if not held:
            result.kept_busy += len(doomed) + len(prep.goes)
            return
        named_now: set[str] = set()
        for digest in doomed:  # lists before packs: a crash between leaves chunks, never a list without them
            path = chunkstore.list_path(store, digest)
            age = _age(path, time.time())
            if age is None or age < grace_seconds:  # a writer reused it since
                named_now.update(chunkstore.chunk_digests(store, digest))
                continue
            result.removed.append(digest)
            if not dry_run:
                _unlink_quiet(path)
        for digest in chunkstore.iter_lists(store):  # lists written since gc read them
            if digest not in listed:
                named_now.update(chunkstore.chunk_digests(store, digest))
        gone, freed = chunkprune.finish(store, prep, named_now | live, grace_seconds, dry_run)
    result.removed += gone
    result.freed_bytes += freed


def _sweep(store: ContentStore, gitdir: str, keep: set[str], grace_seconds: float, dry_run: bool, marker) -> Sweep:
    result = Sweep()
    keep = keep | drafts.protected_digests(gitdir, grace_seconds)
    now = time.time()
    listed: set[str] = set()
    doomed_lists = _keep_chunks(store, keep, grace_seconds, now, listed)
    doomed: list[tuple[str, int]] = []
    for seen, digest in enumerate(store.iter_digests(), 1):
        if seen % PROGRESS_EVERY == 0:
            report("scanning store", seen, 0)
        if digest in keep:
            continue
        path = store.path_of(digest)
        age = _age(path, now)
        if age is None:
            continue
        if age < grace_seconds:
            result.kept_young += 1
        else:
            try:
                doomed.append((digest, os.stat(path).st_size))
            except FileNotFoundError:
                continue
    if marker is not None:
        marker.begin()  # in case the marker was deleted meanwhile: it holds before the drafts are read
    late = drafts.protected_digests(gitdir, grace_seconds)  # drafts that claimed content meanwhile
    _sweep_chunks(store, keep, late, doomed_lists, listed, grace_seconds, dry_run, result)
    for i, (digest, size) in enumerate(doomed, 1):
        if i % PROGRESS_EVERY == 0 or i == len(doomed):
            report("checking" if dry_run else "removing", i, len(doomed), result.freed_bytes)
        age = _age(store.path_of(digest), time.time())
        if digest in late or age is None or age < grace_seconds:
            continue
        result.removed.append(digest)
        result.freed_bytes += size
        if not dry_run:
            store.remove(digest)
    scratch = os.path.join(gitdir, SCRATCH)
    leftovers = [os.path.join(scratch, n) for n in os.listdir(scratch)] if os.path.isdir(scratch) else []
    pack_dir = os.path.join(gitdir, "objects", "pack")
    if os.path.isdir(pack_dir):  # packs a killed write or repack left half-written (objectbatch, repack)
        leftovers += [os.path.join(pack_dir, n) for n in os.listdir(pack_dir) if n.startswith(PACK_TMP_PREFIXES)]
    for tmp in list(store.iter_tmp()) + list(chunkstore.iter_list_tmp(store)) + leftovers:
        age = _age(tmp, now)
        if age is not None and age > grace_seconds:
            result.leftovers += 1
            if not dry_run:
                try:
                    if os.path.isdir(tmp) and not os.path.islink(tmp):
                        shutil.rmtree(tmp)
                    else:
                        os.unlink(tmp)
                except (FileNotFoundError, PermissionError):
                    pass
    # packs a repack hid (their index removed) once no reader can still be using them
    for pack in repack.hidden_packs(gitdir, grace_seconds):
        result.leftovers += 1
        if not dry_run:
            try:
                os.unlink(pack)
            except FileNotFoundError:
                pass
    return result
