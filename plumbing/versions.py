"""Version commits and the protocol that numbers them.

A version is a git commit whose tree holds ``artifact.json`` (the immutable
facts) and ``manifest`` (the manifest tree). Its first parent is the previous
version of the same collection, so ``git log refs/collections/...`` lists
the versions. A portfolio link is the same kind of commit in the portfolio's
chain, with the source version as second parent and ``kind: "link"``.

Numbering: read the tip (version N-1), write the commit for N, then create
``v<N>`` with "fail if it exists", then move the tip. A writer that finds
``v<N>`` already taken first helps move the tip to it and tries again, so
numbers are unique and gapless whatever the number of writers, and a writer
killed between the two ref updates only leaves a tip that lags behind.
"""
from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pygit2

from . import identity, refs
from . import durability
from .errors import ArtvcsError, ConflictError, CorruptObjectError, NotFoundError, UsageError
from .objectbatch import loose_path
from .records import parse_facts, time_of
from .manifest import canonical_json
from .refs import CollectionId

FACTS = "artifact.json"
MANIFEST = "manifest"
FORMAT = 1
MAX_ATTEMPTS = 1000


def utcnow() -> str:
    """Now, as the ISO-8601 UTC string artvcs stores."""
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> _dt.datetime:
    return time_of(value).replace(tzinfo=_dt.timezone.utc)


@dataclass(frozen=True, slots=True)
class Version:
    """A committed version (or link) as read back from its commit."""

    collection: CollectionId
    number: int
    commit: pygit2.Oid
    facts: dict[str, Any]
    manifest: pygit2.Oid

    @property
    def kind(self) -> str:
        return self.facts.get("kind", "version")


def read_version(repo: pygit2.Repository, commit_oid: pygit2.Oid | str) -> Version:
    """Read a version commit; refuse anything that is not one."""
    try:
        commit = repo[commit_oid if isinstance(commit_oid, pygit2.Oid) else pygit2.Oid(hex=str(commit_oid))]
    except (KeyError, ValueError):
        raise NotFoundError(f"no object {commit_oid} in the repository") from None
    if not isinstance(commit, pygit2.Commit):
        raise UsageError(f"object {commit_oid} is a {commit.type_str}, not a version commit")
    tree = commit.tree
    if FACTS not in tree or MANIFEST not in tree:
        raise UsageError(f"commit {commit_oid} is not an artvcs version (no {FACTS} or {MANIFEST})")
    if tree[FACTS].type != pygit2.GIT_OBJECT_BLOB or tree[MANIFEST].type != pygit2.GIT_OBJECT_TREE:
        raise CorruptObjectError(f"version commit {commit_oid}: {FACTS} must be a blob and {MANIFEST} a tree")
    facts = parse_facts(repo[tree[FACTS].id].data, f"{FACTS} of {commit_oid}", FORMAT)
    coll = CollectionId(facts["entity"], facts["project"], facts["name"])
    return Version(coll, facts["version"], commit.id, facts, tree[MANIFEST].id)


def version_facts(
    type_: str,
    digest: str,
    size: int,
    file_count: int,
    *,
    run: dict[str, Any] | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    ttl: float | str | None = "inherit",
    tags: list[str] | None = None,
    created_at: str | None = None,
) -> dict[str, Any]:
    """The facts of a new version (``artifact.json`` less what commit_version fills in)."""
    return {
        "kind": "version",
        "type": type_,
        "created_at": created_at or utcnow(),
        "digest": digest,
        "size": size,
        "file_count": file_count,
        "run": run,
        "attrs": {"description": description, "metadata": metadata or {}, "ttl": ttl, "tags": list(tags or [])},
    }


def version_commit(repo: pygit2.Repository, coll: CollectionId, number: int) -> pygit2.Oid | None:
    return refs.read(repo, coll.version_ref(number))


def collection_tip(repo: pygit2.Repository, coll: CollectionId) -> Version | None:
    """The newest version of ``coll``.

    A writer killed between creating ``v<N>`` and moving the tip leaves the
    tip one behind; this follows ``v<N+1>`` refs forward and moves the tip
    (compare-and-swap) so that the lag never outlives the next reader.
    """
    tip_oid = refs.read(repo, coll.collection_ref)
    if tip_oid is None:
        first = version_commit(repo, coll, 0)
        if first is None:
            return None
        v = version_at(repo, coll, coll.version_ref(0), first, 0)
    else:
        v = version_at(repo, coll, coll.collection_ref, tip_oid)
    # Each step must reach exactly the next number: a v<N+1> naming an older commit would loop.
    while (nxt := version_commit(repo, coll, v.number + 1)) is not None:
        v = version_at(repo, coll, coll.version_ref(v.number + 1), nxt, v.number + 1)
    if v.commit != tip_oid:
        try:
            refs.update(repo, coll.collection_ref, v.commit, tip_oid, f"repair tip to v{v.number}")
        except ConflictError:
            pass
    return v


def _signature(facts: dict[str, Any]) -> pygit2.Signature:
    """Who logged the version (the person, not the namespace), at created_at."""
    when = parse_time(facts["created_at"])
    who = identity.current()
    return pygit2.Signature(who.name, who.email, int(when.timestamp()), 0)


def commit_version(
    repo: pygit2.Repository,
    coll: CollectionId,
    manifest_tree: pygit2.Oid,
    facts: dict[str, Any],
    *,
    extra_parents: tuple[pygit2.Oid, ...] = (),
    sync_path: str | None = None,
) -> Version:
    """Commit a new version of ``coll`` and give it the next free number.

    ``facts`` holds everything but ``version`` (filled in here); its ``type``
    must match the collection's. ``sync_path`` names a folder on the
    repository's file system to flush before the version becomes visible.
    """
    if not isinstance(repo.get(manifest_tree), pygit2.Tree):
        raise NotFoundError(f"manifest tree {manifest_tree} does not exist: write it first (artvcs mktree)")
    for attempt in range(MAX_ATTEMPTS):
        refs.backoff(attempt)
        tip = collection_tip(repo, coll)
        if tip is not None:
            if tip.facts.get("type") != facts.get("type"):
                raise UsageError(
                    f"collection {coll} holds artifacts of type {tip.facts.get('type')!r}, not {facts.get('type')!r}: "
                    "use another name or the same type"
                )
            if tip.kind != facts.get("kind", "version"):
                raise UsageError(f"{coll} is a {'portfolio' if tip.kind == 'link' else 'collection'}; it cannot hold a {facts.get('kind')}")
        number = tip.number + 1 if tip else 0
        body = dict(facts, format=FORMAT, version=number, entity=coll.entity, project=coll.project, name=coll.name)
        tb = repo.TreeBuilder()
        facts_oid = repo.create_blob(canonical_json(body))
        tb.insert(FACTS, facts_oid, pygit2.GIT_FILEMODE_BLOB)
        tb.insert(MANIFEST, manifest_tree, pygit2.GIT_FILEMODE_TREE)
        sig = _signature(body)
        parents = ([tip.commit] if tip else []) + list(extra_parents)
        message = f"{coll.name} v{number}\n\ndigest {body.get('digest', '')}\n"
        tree = tb.write()
        oid = repo.create_commit(None, sig, sig, message, tree, parents)
        if sync_path:
            # Every attempt writes a new commit: flush it (and what the manifest and content
            # writers named) before a ref names it. After the first, little is left to flush.
            named = (manifest_tree, facts_oid, tree, oid)  # the manifest's root: an empty one is written apart
            durability.make_durable(sync_path, tuple(loose_path(repo.path, o) for o in named),
                                    (os.path.join(repo.path, "objects"),))
        try:
            refs.update(repo, coll.version_ref(number), oid, None, f"version v{number}")
        except ConflictError:
            continue  # somebody took v<number>; collection_tip will see it
        old_tip = tip.commit if tip else None
        try:
            refs.update(repo, coll.collection_ref, oid, old_tip, f"version v{number}")
        except ConflictError:
            pass  # another writer already advanced the tip past or to us
        return read_version(repo, oid)
    raise ConflictError(f"could not allocate a version number for {coll} after {MAX_ATTEMPTS} attempts")


def iter_versions(repo: pygit2.Repository, coll: CollectionId) -> list[Version]:
    """Every version of ``coll`` whose ``v<N>`` ref exists, oldest first."""
    out = []
    for name, target in refs.iter_refs(repo, coll.versions_prefix):
        leaf = name.rsplit("/", 1)[1]
        if leaf.startswith("v") and leaf[1:].isdigit():
            out.append(read_version(repo, target))
    out.sort(key=lambda v: v.number)
    return out


def chain(repo: pygit2.Repository, coll: CollectionId) -> list[Version]:
    """Every version ever committed to ``coll`` (deleted ones too), oldest first."""
    tip = collection_tip(repo, coll)
    out = list(walk_back(repo, tip)) if tip is not None else []
    out.reverse()
    return out


def version_at(repo: pygit2.Repository, coll: CollectionId, ref: str, oid: pygit2.Oid | str,
               number: int | None = None) -> Version:
    """The version ``ref`` names, refused unless it is one of ``coll`` (numbered ``number`` when given)."""
    v = read_version(repo, oid)
    if v.collection != coll or (number is not None and v.number != number):
        raise CorruptObjectError(
            f"ref {ref} names commit {v.commit}, which is {v.collection}:v{v.number}, not "
            f"{coll}:{'v' + str(number) if number is not None else 'a version'}: the ref is damaged or forged"
        )
    return v


def walk_back(repo: pygit2.Repository, start: Version) -> Iterator[Version]:
    """``start`` and its predecessors by first parent, newest first, down to v0.

    Bounded: each step must reach exactly the previous number of the same
    collection (a portfolio's v0 ends the walk: its parent is its source),
    so at most ``start.number + 1`` versions are read, and a history that
    does not count down is an error naming the commit, never a loop.
    """
    v = start
    while True:
        yield v
        if v.number <= 0:
            return
        parents = repo[v.commit].parent_ids
        if not parents:
            raise CorruptObjectError(
                f"{v.collection}:v{v.number} (commit {v.commit}) has no parent: version v{v.number - 1} is missing from its history"
            )
        try:
            prev = read_version(repo, parents[0])
        except ArtvcsError as e:
            raise CorruptObjectError(f"{v.collection}:v{v.number} (commit {v.commit}): its first parent is not a version ({e})") from None
        if prev.collection != v.collection or prev.number != v.number - 1:
            raise CorruptObjectError(
                f"{v.collection}:v{v.number} (commit {v.commit}) has first parent {prev.commit}, which is "
                f"{prev.collection}:v{prev.number}, not v{v.number - 1}: version numbers must count down by one; refused"
            )
        v = prev


def iter_collections(repo: pygit2.Repository, entity: str | None = None, project: str | None = None) -> list[CollectionId]:
    """Every collection (and portfolio) with a tip or a version ref, optionally in one project.

    Version refs count too: a writer killed before it first moved the tip
    leaves a collection with a v0 and no tip yet.
    """
    found: set[CollectionId] = set()
    # refs/versions/E/P/C/vN names C once per version: parse each folder once, not each ref.
    folders = set(refs.iter_ref_names(repo, "refs/collections/"))
    folders.update(f + "/v0" for f in refs.iter_ref_folders(repo, "refs/versions/", 3))
    for name in folders:
        _, coll, _ = refs.parse_ref(name)
        if coll and (entity is None or coll.entity == entity) and (project is None or coll.project == project):
            found.add(coll)
    return sorted(found, key=str)


def live_numbers(repo: pygit2.Repository, coll: CollectionId) -> list[int]:
    """Numbers of the versions of ``coll`` whose ``v<N>`` ref exists, ascending (refs only, no objects read)."""
    out = []
    for name in refs.iter_ref_names(repo, coll.versions_prefix):
        leaf = name.rsplit("/", 1)[1]
        if leaf.startswith("v") and leaf[1:].isdigit():
            out.append(int(leaf[1:]))
    return sorted(out)


def newest(repo: pygit2.Repository, coll: CollectionId) -> Version | None:
    """The newest live version."""
    tip = collection_tip(repo, coll)
    if tip is not None and version_commit(repo, coll, tip.number) == tip.commit:
        return tip  # the tip is the highest number ever given: live, it is the newest (no listing of every ref)
    nums = live_numbers(repo, coll)
    if not nums:
        return None
    return read_version(repo, refs.read(repo, coll.version_ref(nums[-1])))


def latest(repo: pygit2.Repository, coll: CollectionId) -> Version | None:
    """What the managed alias ``latest`` names: the newest live version, unless content equal to
    an older live version was logged again since the newest was made (``refs/latest``)."""
    tip = collection_tip(repo, coll)
    if tip is not None:
        oid = refs.read(repo, coll.latest_ref(tip.number))
        if oid is not None:
            try:
                v = read_version(repo, oid)
            except ArtvcsError:
                v = None  # not a version commit: fsck names it; latest falls back
            if v is not None and v.collection == coll and version_commit(repo, coll, v.number) == oid:
                return v
    return newest(repo, coll)


def move_latest(repo: pygit2.Repository, coll: CollectionId, version: Version) -> None:
    """Point ``latest`` at ``version``, whose content was just logged again, until a newer
    version is made: the ref is named for the collection's tip number, so a newer tip
    leaves it unread. Refs named for older tips are removed."""
    tip = collection_tip(repo, coll)
    if tip is None:
        return
    name = coll.latest_ref(tip.number)
    refs.move(repo, name, version.commit, f"latest: v{version.number} logged again")
    for other, oid in refs.iter_refs(repo, coll.latest_prefix):
        if other != name:
            try:
                refs.update(repo, other, None, oid, "latest: superseded")
            except ArtvcsError:
                pass  # moved or removed meanwhile: harmless, it is never read


def author(repo: pygit2.Repository, version: Version) -> identity.Author:
    """Who logged ``version`` (the author of its commit; for a link, who linked it)."""
    sig = repo[version.commit].author
    return identity.Author(sig.name, sig.email)
