"""Checking a repository: refs, version commits, manifests and content.

Each problem is reported, none is fixed: a check must be safe to run on a
repository another process is writing. Content is re-hashed once per
distinct digest, in a thread pool.
"""
from __future__ import annotations


import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pygit2

from . import refs, versions
from .errors import ArtvcsError
from .manifest import iter_entries
from .repository import Repository

STALE_SECONDS = 3600
WORKERS = 8


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: a kind (a word), the object it concerns, and what is wrong."""

    kind: str
    object: str
    message: str


def fsck(repo: Repository, full: bool = True) -> list[Problem]:
    """Every problem found; ``full`` re-hashes content, otherwise only checks presence."""
    git = repo.git
    problems: list[Problem] = []
    digests: dict[str, str] = {}  # digest -> one path naming it, for messages
    seen_manifests: set[pygit2.Oid] = set()
    highest: dict[refs.CollectionId, int] = {}
    for name, oid in refs.iter_refs(git, "refs/"):
        try:
            ns, coll, leaf = refs.parse_ref(name)
        except ArtvcsError:
            continue  # not ours
        obj = git.get(oid)
        if obj is None:
            problems.append(Problem("missing-object", name, f"points at {oid}, which does not exist"))
            continue
        if not isinstance(obj, pygit2.Commit):
            problems.append(Problem("bad-ref", name, f"points at a {obj.type_str}, not a commit"))
            continue
        if ns == "runs":
            if "run.json" not in obj.tree:
                problems.append(Problem("bad-run", name, "commit has no run.json"))
            continue
        if ns == "attrs":
            continue
        try:
            v = versions.read_version(git, oid)
        except ArtvcsError as e:
            problems.append(Problem("bad-version", name, str(e)))
            continue
        if ns in ("versions", "aliases") and v.collection != coll:
            problems.append(Problem("bad-version", name, f"names a version of {v.collection}, not of {coll}"))
        if ns == "versions":
            if leaf != f"v{v.number}":
                problems.append(Problem("bad-version", name, f"commit says it is v{v.number}"))
            highest[coll] = max(highest.get(coll, -1), v.number)
            if v.kind == "link":
                src = v.facts.get("source", {}).get("commit")
                if not src or git.get(src) is None:
                    problems.append(Problem("missing-source", name, f"link source {src} does not exist"))
            if v.manifest not in seen_manifests:
                seen_manifests.add(v.manifest)
                try:
                    for e in iter_entries(git, v.manifest):
                        if e.ref is None:
                            digests.setdefault(e.digest, f"{name}:{e.path}")
                except ArtvcsError as e:
                    problems.append(Problem("bad-manifest", name, str(e)))
    for coll, top in highest.items():
        tip = refs.read(git, coll.collection_ref)
        if tip is None or versions.read_version(git, tip).number < top:
            problems.append(Problem("lagging-tip", coll.collection_ref, f"behind v{top}: the next write repairs it"))
    problems.extend(_check_content(repo, digests, full))
    problems.extend(_stale_files(repo))
    return problems


def _check_content(repo: Repository, digests: dict[str, str], full: bool) -> list[Problem]:
    store = repo.store

    def one(item: tuple[str, str]) -> Problem | None:
        digest, where = item
        try:
            if full:
                store.verify(digest)
            elif not store.has(digest):
                return Problem("missing-content", digest, f"needed by {where}")
        except ArtvcsError as e:
            kind = "missing-content" if "missing" in str(e) else "corrupt-content"
            return Problem(kind, digest, f"needed by {where}")
        return None

    with ThreadPoolExecutor(WORKERS) as pool:
        return [p for p in pool.map(one, sorted(digests.items())) if p is not None]


def _stale_files(repo: Repository) -> list[Problem]:
    now = time.time()
    out = []
    for path in repo.store.iter_tmp():
        try:
            if now - os.stat(path).st_mtime > STALE_SECONDS:
                out.append(Problem("stale-temp", path, "left by an interrupted writer; safe to delete"))
        except FileNotFoundError:
            pass
    for folder, _, files in os.walk(os.path.join(repo.gitdir, "refs")):
        for f in files:
            if f.endswith(".lock"):
                p = os.path.join(folder, f)
                try:
                    if now - os.stat(p).st_mtime > STALE_SECONDS:
                        out.append(Problem("stale-lock", p, "left by an interrupted writer; delete it to unblock the ref"))
                except FileNotFoundError:
                    pass
    return out




