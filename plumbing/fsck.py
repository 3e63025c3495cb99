"""Checking a repository: refs, version commits, manifests and content.

Each problem is reported, none is fixed: a check must be safe to run on a
repository another process is writing. Content is re-hashed once per
distinct digest, in a thread pool. Problems come out in a fixed order (refs
by name, then tips, content by digest, then stale files by path), so two
runs over the same damage print the same report.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pygit2

from . import chunkmidx, chunkpacks, chunkstore, namespace, refs, runs, sweepgen, versions
from .errors import ArtvcsError, CorruptObjectError, ObjectMissingError
from .facts import facts_of, mismatch
from .gc import CACHE
from .hashing import is_digest
from .manifest import iter_entries
from .progress import report
from .manifest_check import manifest_problems
from .names import VERSION_RE
from .repository import Repository

STALE_SECONDS = 3600
WORKERS = 8
PROGRESS_EVERY = 64  # stored files between two progress reports
_VERSION_NAMESPACES = ("collections", "versions", "aliases")


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding: a kind (a word), the object it concerns, and what is wrong."""

    kind: str
    object: str
    message: str


class _Walk:
    """State of one check: problems so far, content to verify, manifests already read."""

    def __init__(self, repo: Repository) -> None:
        self.repo = repo
        self.git = repo.git
        self.problems: list[Problem] = []
        self.digests: dict[str, str] = {}  # digest -> one "ref:path" naming it, for messages
        self.manifests: dict[pygit2.Oid, tuple[str, int, int] | None] = {}  # tree -> its facts (None: unreadable)
        self.facts: dict[pygit2.Oid, str | None] = {}  # version commit -> what its facts get wrong
        self.highest: dict[refs.CollectionId, int] = {}

    def add(self, kind: str, obj: object, message: str) -> None:
        self.problems.append(Problem(kind, str(obj), message))

    def ref(self, name: str, oid: pygit2.Oid) -> None:
        """Check one ref and what it points at."""
        parts = name.split("/")
        if name == namespace.REF:
            try:
                namespace.read(self.git)
            except ArtvcsError as e:
                self.add("bad-namespace", name, str(e))
            return
        if len(parts) < 2 or parts[1] not in refs.NAMESPACES:
            return  # not ours
        try:
            ns, coll, leaf = refs.parse_ref(name)
        except ValueError as e:  # UsageError, or a bad %-escape
            self.add("bad-ref", name, f"not a valid artvcs ref name: {e}")
            return
        obj = self.git.get(oid)
        if obj is None:
            self.add("missing-object", name, f"points at {oid}, which does not exist")
            return
        if not isinstance(obj, pygit2.Commit):
            self.add("bad-ref", name, f"points at a {obj.type_str}, not a commit")
            return
        if ns == "runs":
            if runs.RUN_FILE not in obj.tree:
                self.add("bad-run", name, f"commit {oid} has no {runs.RUN_FILE}")
            return
        if ns == "attrs":
            return
        if ns == "drafts":  # a distributed draft: its record and the manifest its content is checked through
            tree = obj.tree
            if refs.DRAFT_FILE not in tree or "manifest" not in tree or tree["manifest"].type != pygit2.GIT_OBJECT_TREE:
                self.add("bad-draft", name, f"commit {oid} has no {refs.DRAFT_FILE} or no manifest tree")
            else:
                self.manifest(name, tree["manifest"].id)
            return
        if ns == "aliases" and (leaf == "latest" or VERSION_RE.match(leaf or "")):
            self.add("bad-alias", name, f"alias {leaf!r} is reserved: 'latest' and v<N> are managed by artvcs, never alias refs")
        try:
            v = versions.read_version(self.git, oid)
        except ArtvcsError as e:
            self.add("bad-version", name, str(e))
            return
        if v.collection != coll:
            self.add("bad-version", name, f"names a version of {v.collection}, not of {coll}")
        if ns == "latest":
            # Read only while it names a live version, whose own ref is checked; a stale one may
            # name a deleted version whose content gc took, so its manifest is not walked.
            return
        if ns == "versions":
            if leaf != f"v{v.number}":
                self.add("bad-version", name, f"commit {oid} says it is v{v.number}")
            self.highest[coll] = max(self.highest.get(coll, -1), v.number)
            if v.kind == "link":
                src = v.facts.get("source", {}).get("commit")
                if not src or not isinstance(self.git.get(src), pygit2.Commit):
                    self.add("missing-source", name, f"link source {src} does not exist")
        computed = self.manifest(name, v.manifest)
        if computed is not None and ns in ("versions", "collections"):
            if v.commit not in self.facts:
                self.facts[v.commit] = mismatch(v.facts, computed)
            if self.facts[v.commit] is not None:
                self.add("bad-facts", name, f"commit {v.commit}: {self.facts[v.commit]}")

    def manifest(self, name: str, tree: pygit2.Oid) -> tuple[str, int, int] | None:
        """Check entry paths and collect stored digests, once per manifest tree; return the facts
        the entries give (digest, size, file count), or None when the manifest is unreadable."""
        if tree in self.manifests:
            return self.manifests[tree]
        self.manifests[tree] = None
        entries = []
        try:
            for e in iter_entries(self.git, tree):
                entries.append(e)
                if e.ref is not None:
                    continue
                if not is_digest(e.digest):
                    self.add("bad-manifest", name, f"entry {e.path!r} names {e.digest!r}, not a blake3 digest")
                else:
                    self.digests.setdefault(e.digest, f"{name}:{e.path}")
        except (ArtvcsError, KeyError, ValueError) as e:
            self.add("bad-manifest", name, f"manifest {tree}: {e}")
            return None
        self.manifests[tree] = facts_of(entries)
        return self.manifests[tree]

    def tips(self) -> None:
        """A collection tip behind its highest v<N> (a writer died between the two ref moves)."""
        for coll, top in sorted(self.highest.items(), key=lambda kv: str(kv[0])):
            tip = refs.read(self.git, coll.collection_ref)
            try:
                number = versions.read_version(self.git, tip).number if tip is not None else -1
            except ArtvcsError:
                continue  # already reported with the ref
            if number < top:
                self.add("lagging-tip", coll.collection_ref, f"behind v{top}: the next write repairs it")


def fsck(repo: Repository, full: bool = True) -> list[Problem]:
    """Every problem found; ``full`` re-hashes content, otherwise only checks presence."""
    walk = _Walk(repo)
    for name, oid in refs.iter_refs(repo.git, "refs/"):
        walk.ref(name, oid)
    walk.tips()
    sizes: dict[str, set[int]] = {}
    for tree in sorted(walk.manifests, key=str):
        walk.problems += [Problem("bad-manifest", str(tree), m) for m in manifest_problems(repo.git, tree, sizes)]
    index = _check_chunk_index(repo)  # first: a chunked read below rewrites an index it cannot use
    content = _check_content(repo, walk.digests, full)
    damaged = {p.object for p in content}
    content += _check_sizes(repo, {d: s for d, s in sizes.items() if d not in damaged}, walk.digests)
    if content:
        # Removed or damaged other than by gc: the stat cache must stop vouching that digests
        # are stored, so that logging the files again stores them again.
        sweepgen.renew(os.path.join(repo.gitdir, CACHE))
    return walk.problems + content + index + _stale_files(repo)


def _check_content(repo: Repository, digests: dict[str, str], full: bool) -> list[Problem]:
    store = repo.store

    def one(item: tuple[str, str]) -> tuple[Problem | None, int]:
        digest, where = item
        try:
            if full:
                store.verify(digest)
                return None, store.size(digest)
            elif not store.has(digest):
                raise ObjectMissingError(digest)
            elif store.is_chunked(digest):
                chunkstore.check_chunks(store, digest)
        except ObjectMissingError as e:
            return Problem("missing-content", digest, f"needed by {where}" + _chunk_detail(store, digest, e)), 0
        except CorruptObjectError as e:
            return Problem("corrupt-content", digest, f"needed by {where}: its bytes hash to another digest"
                           + _chunk_detail(store, digest, e) + _linked(store, digest)), 0
        except OSError as e:
            return Problem("unreadable-content", digest, f"needed by {where}: {e.strerror or e}"), 0
        return None, 0

    problems, nbytes, total = [], 0, len(digests)
    with ThreadPoolExecutor(WORKERS) as pool:
        for done, (problem, size) in enumerate(pool.map(one, sorted(digests.items())), 1):
            nbytes += size
            if done % PROGRESS_EVERY == 0 or done == total:
                report("checking content", done, total, nbytes if full else None)
            if problem is not None:
                problems.append(problem)
    return problems


def _linked(store, digest: str) -> str:
    """The likely cause of damage to a stored file that has other hard links, in words ('' if none)."""
    try:
        links = os.stat(store.path_of(digest)).st_nlink
    except OSError:
        return ""
    if links < 2:
        return ""
    return (f"; the stored file has {links} hard links: a checkout with --link hardlink shares it, and an edit of "
            "the checked-out file (root ignores its read-only mode) changes the store; check out with copy or reflink")


def _check_sizes(repo: Repository, sizes: dict[str, set[int]], where: dict[str, str]) -> list[Problem]:
    """A stored file whose recorded size is not the size of its stored content (the content itself
    may hash right: the entry lies)."""
    out = []
    for digest in sorted(sizes):
        try:
            actual = os.stat(repo.store.path_of(digest)).st_size
        except OSError:
            continue  # missing or unreadable: reported by _check_content
        for size in sorted(sizes[digest] - {actual}):
            out.append(Problem("bad-size", digest, f"needed by {where.get(digest, '?')}: recorded as {size} bytes, stored content has {actual}{_linked(repo.store, digest)}"))
    return out


def _chunk_detail(store, digest: str, e: Exception) -> str:
    """For a chunked file, which chunk is at fault (the error says)."""
    return f" ({e})" if store.is_chunked(digest) else ""


def _check_chunk_index(repo: Repository) -> list[Problem]:
    """The multi-pack index of the chunk packs, against the pack indexes it caches (a reader never
    trusts it over them; gc, or a chunked read for a damaged one, writes it anew)."""
    folder = chunkstore.packs_dir(repo.store)
    path = os.path.join(folder, chunkmidx.FILENAME)
    fix = "; artvcs gc writes it anew"
    if not os.path.lexists(path):
        return []  # (no pack index need be read)
    packs = chunkpacks.LocalPacks(folder, every_index=True)  # the shared lock first: no gc replaces
    try:                                                    # the index and removes packs between the two
        try:
            midx = chunkmidx.open_index(folder)
        except CorruptObjectError as e:
            return [Problem("bad-chunk-index", path, f"{e}{fix}")]
        except OSError as e:
            return [Problem("bad-chunk-index", path, f"unreadable: {e.strerror or e}{fix}")]
        if midx is None:
            return []
        try:
            wrong = chunkmidx.disagreement(midx, dict(packs.packs.items()))
        except CorruptObjectError as e:
            wrong = str(e)
        finally:
            midx.close()
    finally:
        packs.close()
    return [] if wrong is None else [Problem("bad-chunk-index", path, f"the multi-pack index {wrong}{fix}")]


def _stale_files(repo: Repository) -> list[Problem]:
    """Temporary files and ref locks older than STALE_SECONDS: their writer is gone."""
    cutoff = time.time() - STALE_SECONDS
    temps = list(repo.store.iter_tmp()) + list(chunkstore.iter_list_tmp(repo.store)) + chunkstore.pack_files(repo.store)
    found = [(p, "stale-temp", "left by an interrupted writer; safe to delete") for p in temps]
    for folder, _, files in os.walk(os.path.join(repo.gitdir, "refs")):
        found += [(os.path.join(folder, f), "stale-lock", "left by an interrupted writer; delete it to unblock the ref")
                  for f in files if f.endswith(".lock")]
    out = []
    for path, kind, message in sorted(found):
        try:
            if os.stat(path).st_mtime < cutoff:
                out.append(Problem(kind, path, message))
        except FileNotFoundError:
            pass  # its writer finished meanwhile
    return out
