"""Distributed artifacts: W&B's ``Run.upsert_artifact`` and ``Run.finish_artifact``.

Several runs (processes) write into one draft version of a collection, named by a
``distributed_id`` that they share; one of them finishes it into a version. As in W&B
(wandb/sdk/wandb_run.py and artifacts/artifact_saver.py at v0.17.9), each upsert adds its
entries to the draft (a "patch": a later write of a path replaces an earlier one), and a
finish commits the draft with the finisher's entries; an upsert after the finish starts the
next version's draft.

The draft lives in the repository, so processes share it and a crash loses nothing: the
ref ``refs/drafts/<E>/<P>/<C>/<D>`` names a commit whose tree holds ``draft.json`` (the
record) and ``manifest`` (the entries so far), with the previous state as its parent. Each
upsert is a compare-and-swap of that ref, retried on conflict, so concurrent writers never
lose each other's entries. A finish first swaps in a "finishing" state (its process and the
final digest), so that writers arriving meanwhile wait rather than add entries the version
would miss; then logs the version; then deletes the ref. A finisher that died before its
version was made leaves a draft that the next writer continues; one that died after leaves a
ref whose digest names the version, which the next writer drops.
"""
from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any

import pygit2

from artvcs.artifact_manifest import ArtifactManifestEntry
from artvcs.draft import commit
from artvcs.plumbing import durability, refs
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing import runs as _runs
from artvcs.plumbing.documents import load_json
from artvcs.plumbing.errors import ConflictError, CorruptObjectError, UsageError
from artvcs.plumbing.manifest import Entry, canonical_json
from artvcs.plumbing.objectbatch import loose_path
from artvcs.plumbing.refs import CollectionId

if TYPE_CHECKING:
    from artvcs.artifact import Artifact
    from artvcs.core.context import Context

PREFIX = "refs/drafts/"
RECORD = refs.DRAFT_FILE
MANIFEST = "manifest"
FORMAT = 1
MAX_ID = 128
ATTEMPTS = 200  # compare-and-swap retries (refs.backoff grows to 0.2 s)
FINISH_WAIT = 300.0  # seconds a writer waits for a live finisher before it reports a conflict


def check_distributed_id(value: object) -> str:
    """``value`` if it can name a distributed draft: a string of 1-128 characters without control
    characters (W&B's run group names are free text; the ref name percent-encodes it)."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise UsageError(f"invalid distributed_id {value!r:.80}: use 1-{MAX_ID} characters without control characters")
    return value


def draft_ref(coll: CollectionId, distributed_id: str) -> str:
    return coll.draft_ref(distributed_id)


class Pending:
    """One state of a distributed draft, as read from its ref."""

    def __init__(self, oid: pygit2.Oid, record: dict[str, Any], manifest: pygit2.Oid) -> None:
        self.oid, self.record, self.manifest = oid, record, manifest

    @property
    def finishing(self) -> dict[str, Any] | None:
        return self.record.get("finishing")


def read(git: pygit2.Repository, ref: str) -> Pending | None:
    """The draft's current state, or None when there is no draft. A ref that names anything but a
    commit holding draft.json (a record of the shape artvcs-format(5) gives) and a manifest tree
    is CorruptObjectError."""
    oid = refs.read(git, ref)
    if oid is None:
        return None
    commit_ = git.get(oid)
    tree = commit_.tree if isinstance(commit_, pygit2.Commit) else None
    record_obj = tree[RECORD] if tree is not None and RECORD in tree else None
    manifest_obj = tree[MANIFEST] if tree is not None and MANIFEST in tree else None
    if not isinstance(record_obj, pygit2.Blob) or not isinstance(manifest_obj, pygit2.Tree):
        raise CorruptObjectError(f"{ref} names {oid}, not a commit with a {RECORD} blob and a {MANIFEST} tree: "
                                 "not a distributed draft")
    record = load_json(record_obj.data, f"{RECORD} of {oid} ({ref})")
    problem = _record_problem(record)
    if problem:
        raise CorruptObjectError(f"{RECORD} of {oid} ({ref}) is not a draft record: {problem}")
    return Pending(oid, record, manifest_obj.id)


def _record_problem(record: object) -> str:
    """What makes ``record`` other than a draft record (the fields this module reads), or ''."""
    if not isinstance(record, dict):
        return "not an object"
    if not isinstance(record.get("type"), str):
        return "'type' is not a string"
    for key in ("aliases", "runs"):
        value = record.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"{key!r} is not an array of strings"
    finishing = record.get("finishing")
    if finishing is not None and not (isinstance(finishing, dict) and isinstance(finishing.get("digest", ""), str)):
        return "'finishing' is not an object with a string digest"
    return ""


def iter_manifests(git: pygit2.Repository) -> list[pygit2.Oid]:
    """The manifest of every distributed draft: gc keeps their content."""
    out = []
    for name, oid in refs.iter_refs(git, PREFIX):
        try:
            out.append(git[oid].tree[MANIFEST].id)
        except (KeyError, AttributeError):
            continue
    return out


def _write(git: pygit2.Repository, gitdir: str, ref: str, old: Pending | None, record: dict[str, Any],
           manifest: pygit2.Oid, message: str) -> pygit2.Oid | None:
    """Swap the draft's ref from ``old`` to a new state; None if somebody moved it first."""
    tb = git.TreeBuilder()
    blob = git.create_blob(canonical_json(dict(record, format=FORMAT)))
    tb.insert(RECORD, blob, pygit2.GIT_FILEMODE_BLOB)
    tb.insert(MANIFEST, manifest, pygit2.GIT_FILEMODE_TREE)
    tree = tb.write()
    sig = pygit2.Signature("artvcs", "artvcs@localhost", int(time.time()), 0)
    oid = git.create_commit(None, sig, sig, message + "\n", tree, [old.oid] if old else [])
    durability.make_durable(gitdir, tuple(loose_path(git.path, o) for o in (manifest, blob, tree, oid)),
                            (os.path.join(git.path, "objects"),))
    try:
        refs.update(git, ref, oid, old.oid if old else None, message)
    except ConflictError:
        return None
    return oid


def _settle(context: "Context", coll: CollectionId, ref: str, found: Pending | None, waited_since: float) -> Pending | None | bool:
    """What a writer may build on: ``found`` itself, None (no draft: a finished one's ref is
    dropped), or False to wait for a live finisher and read again."""
    if found is None or found.finishing is None:
        return found
    git = context.repo.git
    done = commit._same_digest(git, coll, found.finishing.get("digest", ""))
    if done is not None:  # the finish made its version; only the ref's removal was missed
        try:
            refs.update(git, ref, None, found.oid, f"drop finished draft (v{done.number})")
        except ConflictError:
            return False
        return None
    if _runs.state_of(dict(found.finishing)) == "crashed":
        return Pending(found.oid, {k: v for k, v in found.record.items() if k != "finishing"}, found.manifest)
    if time.monotonic() - waited_since > FINISH_WAIT:
        f = found.finishing
        raise ConflictError(f"distributed draft {ref} is being finished by process {f.get('pid')} on {f.get('host')} "
                            "(still running): try again when it has finished")
    return False


def _entries(context: "Context", artifact: "Artifact") -> dict[str, Entry]:
    """The draft's entries, their content in this repository's store."""
    commit._bring_staged(context, artifact)
    commit._store_deferred(context, artifact)
    return {p: e.to_entry() for p, e in artifact._entry_map().items()}


def _check_type(record: dict[str, Any], artifact: "Artifact", distributed_id: str) -> None:
    if record.get("type") != artifact._type:
        # W&B's words for a type clash (Run._assert_can_log_artifact at v0.17.9)
        raise UsageError(f"Artifact {artifact._name} already exists with type {record.get('type')!r} (distributed draft "
                         f"{distributed_id!r}); cannot create another with type {artifact._type!r}")


def upsert(context: "Context", artifact: "Artifact", run_id: str, distributed_id: str, aliases: list[str]) -> None:
    """Add ``artifact``'s entries (and ``aliases``) to the distributed draft ``distributed_id``
    of its collection, creating the draft if there is none."""
    coll, _, type_ = commit.check_loggable(context, artifact._name, artifact._type, aliases)
    artifact._type = type_
    git, ref = context.repo.git, draft_ref(coll, distributed_id)
    mine = _entries(context, artifact)
    since = time.monotonic()
    for attempt in range(ATTEMPTS):
        refs.backoff(attempt)
        found = _settle(context, coll, ref, read(git, ref), since)
        if found is False:
            continue
        record = dict(found.record) if found else {"type": type_, "entity": coll.entity, "project": coll.project,
                                                    "name": coll.name, "distributed_id": distributed_id}
        _check_type(record, artifact, distributed_id)
        record["aliases"] = list(dict.fromkeys(list(record.get("aliases") or []) + list(aliases)))
        record["runs"] = list(dict.fromkeys(list(record.get("runs") or []) + [run_id]))
        record.pop("finishing", None)
        if found is None:
            tree = _manifest.write_manifest(git, mine.values())
        else:
            tree = _manifest.update_manifest(git, found.manifest, mine)
        if _write(git, context.repo.gitdir, ref, found or None, record, tree, f"upsert (run {run_id})") is not None:
            artifact._release()  # the draft's ref names the content now: gc sees it
            return
    raise ConflictError(f"could not add to distributed draft {ref} after {ATTEMPTS} attempts: too many writers at once")


def take(context: "Context", artifact: "Artifact", run_id: str, distributed_id: str) -> tuple[str, Pending | None, list[str]]:
    """Begin finishing draft ``distributed_id``: merge its entries into ``artifact`` (the
    artifact's own entries win) and mark the draft as being finished by this process.
    Returns (ref, the finishing state or None when there was no draft, the draft's aliases)."""
    coll, _, type_ = commit.check_loggable(context, artifact._name, artifact._type, [])
    artifact._type = type_
    git, ref = context.repo.git, draft_ref(coll, distributed_id)
    mine = _entries(context, artifact)
    since = time.monotonic()
    for attempt in range(ATTEMPTS):
        refs.backoff(attempt)
        found = _settle(context, coll, ref, read(git, ref), since)
        if found is False:
            continue
        if found is None:
            return ref, None, []
        _check_type(found.record, artifact, distributed_id)
        merged = {e.path: e for e in _manifest.iter_entries(git, found.manifest)}
        merged.update(mine)
        tree = _manifest.update_manifest(git, found.manifest, mine)
        digest, _, _ = _manifest.summarize(merged.values())
        record = dict(found.record, finishing={**_runs.this_process(), "run": run_id, "digest": digest})
        oid = _write(git, context.repo.gitdir, ref, found, record, tree, f"finish (run {run_id})")
        if oid is None:
            continue
        artifact._entries = {p: ArtifactManifestEntry._of(e, None, artifact) for p, e in merged.items()}
        return ref, Pending(oid, record, tree), list(record.get("aliases") or [])
    raise ConflictError(f"could not finish distributed draft {ref} after {ATTEMPTS} attempts: too many writers at once")


def drop(context: "Context", ref: str, state: Pending) -> None:
    """After the version is made: remove the draft (unless a writer already dropped it)."""
    try:
        refs.update(context.repo.git, ref, None, state.oid, "finished")
    except ConflictError:
        pass  # a writer saw the version and dropped it first


def release(context: "Context", ref: str, state: Pending) -> None:
    """A finish that failed before its version: the draft goes back to accepting upserts."""
    git = context.repo.git
    record = {k: v for k, v in state.record.items() if k != "finishing"}
    _write(git, context.repo.gitdir, ref, state, record, state.manifest, "finish failed")
