"""Logging a draft: from entries in memory to a committed version.

Order matters for crash safety: content is already in the store (staged at
add time, or stored here for ``skip_cache`` entries), then the manifest
objects, then one file-system flush, then the version ref (numbered by the
plumbing), then aliases, then the conversion to chunks of large files that
replace an earlier version's (:mod:`large_files`: storage only, and last, so a
crash during it leaves the version and its aliases complete). A logged digest
that equals an existing live version's creates nothing: that version is
returned and the requested aliases and ``latest`` move onto it.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from artvcs.artifact_manifest import ArtifactManifestEntry
from artvcs.core import aliases as _aliases
from artvcs.core.aliases import check_user_aliases
from artvcs.plumbing import config as _config
from artvcs.plumbing import durability as _durability
from artvcs.plumbing import foldersums as _foldersums
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing import manifestwrite as _manifestwrite
from artvcs.plumbing import versions as _versions
from artvcs.plumbing.errors import CorruptObjectError, UsageError
from artvcs.plumbing.refs import CollectionId
from artvcs.core.validation import check_metadata, ttl_to_record
from artvcs.draft import large_files

if TYPE_CHECKING:
    from artvcs.artifact import Artifact
    from artvcs.core.context import Context


def _store_deferred(context: "Context", artifact: "Artifact") -> None:
    """Store content that ``skip_cache`` left in place, checking it did not change since it was added."""
    if not artifact._deferred:
        return
    store = context.repo.store
    entries = artifact._entry_map()
    for path, local in artifact._deferred.items():
        e = entries.get(path)
        if e is None or e.ref is not None or store.has(e.digest):
            continue
        digest, _ = store.put_file(local, "mutable")
        if digest != e.digest:
            raise CorruptObjectError(f"{local!r} changed after it was added as {path!r}: add it again, then log")


def _bring_staged(context: "Context", artifact: "Artifact") -> None:
    """Copy into this repository the content a draft stored in another one (it was added before
    ``init`` chose this project's repository); each object is re-hashed on the way in."""
    src = artifact._staged_in
    if src is None or os.path.realpath(src.gitdir) == os.path.realpath(context.repo.gitdir):
        return
    store = context.repo.store
    for e in artifact._entry_map().values():
        if e.ref is None and not store.has(e.digest) and src.store.has(e.digest):
            if src.store.is_chunked(e.digest):  # no single file there: rebuilt (and checked) on the way
                with src.store.open(e.digest) as f:
                    digest, _ = store.put_stream(f)
            else:
                digest, _ = store.put_file(src.store.path_of(e.digest), "mutable")
            if digest != e.digest:
                raise CorruptObjectError(f"stored object {e.digest} in {src.gitdir} does not match its name: run 'artvcs fsck' there")


def check_loggable(context: "Context | None", name: str, type_: str | None, aliases: list[str]) -> tuple[CollectionId, Any, str]:
    """Refuse what logging ``name`` (of ``type_``, with ``aliases``) would refuse for its names
    alone, before anything is written: reserved or malformed aliases, a type other than the
    collection's, a portfolio, a config.yaml whose retention cannot be read. Without a context
    (no repository yet) only the aliases are checked. Returns (collection, tip, type)."""
    check_user_aliases(aliases)
    if context is None:
        return None, None, type_ or "unspecified"
    coll = CollectionId(context.entity, context.project, name)
    tip = _versions.collection_tip(context.repo.git, coll)
    type_ = type_ or (tip.facts["type"] if tip else "unspecified")
    if tip is not None and tip.facts.get("type") != type_:
        # W&B's words exactly (a ValueError; its tests/system_tests/test_artifacts/test_misc.py at v0.17.9)
        raise UsageError(
            f"Artifact {name} already exists with type {tip.facts.get('type')!r}; cannot create another with type {type_!r}"
        )
    if tip is not None and tip.kind == "link":
        raise UsageError(f"{coll} is a portfolio: artifacts are linked into it (artifact.link), not logged")
    _config.project_ttl(context.repo.config_path, context.project)  # retention runs after the commit: read it now
    return coll, tip, type_


def log(context: "Context", artifact: "Artifact", run_ref: dict[str, Any] | None, aliases: list[str], tags: list[str] | None) -> _versions.Version:
    """Commit ``artifact`` (a draft) as a version in ``context``'s project (the caller then
    applies the collection's retention: ``lifecycle.expire``)."""
    repo = context.repo
    # ``latest`` is tolerated as in W&B (it moves onto the logged version anyway); the loop that
    # moves the requested aliases runs after the version is committed, so it must not see it
    wanted = [a for a in dict.fromkeys(list(artifact._aliases) + list(aliases)) if a != _aliases.LATEST]
    artifact._metadata = check_metadata(artifact._metadata)  # it may have been changed in place since it was set
    coll, _tip, type_ = check_loggable(context, artifact._name, artifact._type, wanted)
    artifact._type = type_
    artifact._context = context
    _bring_staged(context, artifact)
    _store_deferred(context, artifact)
    flushed = _durability.flush_ahead(repo.gitdir)  # the content's flush, beside the manifest's write
    try:
        return _commit(context, artifact, coll, type_, run_ref, wanted, tags)
    finally:
        flushed()


def _commit(context: "Context", artifact: "Artifact", coll: CollectionId, type_: str, run_ref: dict[str, Any] | None,
            wanted: list[str], tags: list[str] | None) -> _versions.Version:
    """:func:`log`'s second half: the manifest, the version (or the equal one), its aliases."""
    repo = context.repo
    git = repo.git
    newest = _versions.latest(git, coll)
    based_here = artifact._base_tree is not None and getattr(artifact, "_draft_of", None) == coll
    previous_tree = artifact._base_tree if based_here else (newest.manifest if newest is not None else None)
    if artifact._pending:  # an add_dir to an empty draft: its settled folders written as bytes
        entries = [s.entry for p in artifact._pending for s in p.staged]
        written = _manifestwrite.write(git, entries, [s for p in artifact._pending for s in p.settled])
        tree, digest, size, count, sums = written.tree, written.digest, written.size, written.count, written.sums
    else:
        tree, digest, size, count, entries = _write(git, artifact, newest, based_here)
        sums = _foldersums.sums_of(entries)

    existing = _same_digest(git, coll, digest)
    if existing is not None:
        version = existing
        # what staging named is durable before a ref moves, even with no new version (and this
        # process's marker goes, so others' flushes need not be whole)
        _durability.make_durable(repo.gitdir)
        _versions.move_latest(git, coll, version)  # as in W&B: the version just logged is the latest
    else:
        facts = _versions.version_facts(
            type_, digest, size, count, run=run_ref, description=artifact._description,
            metadata=artifact._metadata, ttl=ttl_to_record(artifact._ttl), tags=list(tags or artifact._tags),
        )
        version = _versions.commit_version(git, coll, tree, facts, sync_path=repo.gitdir)
    # the folder this was logged from holds it now: its status needs no manifest read (quickstatus)
    _foldersums.keep_sums(repo.statcache, str(version.commit), version.facts.get("digest", ""), sums)
    for alias in wanted:
        _aliases.move_alias(git, coll, alias, version.commit, f"log {coll.name}:v{version.number}")
    if existing is None:  # a large file with an earlier version: both now stored as chunks (only changes cost)
        large_files.chunk_replaced(repo, large_files.replaced_pairs(repo, previous_tree, entries))
    artifact._bind(version, version)
    artifact._created = existing is None  # False: equal content, no new version (the CLI says "unchanged")
    artifact._release()  # a version now names the content: gc sees it through refs
    return version


def _write(git, artifact: "Artifact", newest, based_here: bool) -> tuple[Any, str, int, int, list]:
    """The manifest of a draft's entries: ``(tree, digest, size, count, entries)``; only the
    changed folders are written for an incremental draft or one made by ``new_draft``."""
    current = artifact._entry_map()
    tree = None
    if artifact._incremental and newest is not None:
        for e in _manifest.iter_entries(git, newest.manifest):
            if e.path not in current and artifact._changes.get(e.path, 1) is not None:
                current[e.path] = _entry_view(e, artifact)
        tree = _manifest.update_manifest(git, newest.manifest, artifact._changes)
    elif based_here:
        tree = _manifest.update_manifest(git, artifact._base_tree, artifact._changes)
    entries = list(current.values())  # entry-shaped already: no conversion per entry
    if tree is None:
        tree = _manifest.write_manifest(git, entries)
    digest, size, count = _manifest.summarize(entries)
    return tree, digest, size, count, entries


def _entry_view(e, artifact):
    return ArtifactManifestEntry._of(e, None, artifact)


def _same_digest(git, coll: CollectionId, digest: str) -> _versions.Version | None:
    """The live version of ``coll`` with this digest, newest first, if any. Each version's commit
    message names its digest (commit_version): that is read first, and the facts only of a match or
    of a message that names none (a re-log reads every version: 0.23 ms each by their facts, ~0.06
    by their messages). A match is confirmed by its facts; a forged message can only hide an equal
    version, and then the log makes a new one."""
    line = f"\ndigest {digest}\n"
    for n in reversed(_versions.live_numbers(git, coll)):
        oid = _versions.version_commit(git, coll, n)
        if oid is None:
            continue
        try:
            message = git[oid].message
        except (KeyError, ValueError, AttributeError):  # no such object, or not a commit: read_version says so
            message = line
        if line not in message and "\ndigest " in message:
            continue
        v = _versions.read_version(git, oid)
        if v.facts.get("digest") == digest:
            return v
    return None
