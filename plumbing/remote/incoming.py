"""Checking what a remote's refs name before any local ref may name it.

Everything a remote says is untrusted. For each ref whose value is new to
this repository (it differs from the local ref of that name and from the
remote's value at the last sync), :func:`check_incoming` refuses, with an
error naming the ref and the rule:

- a ref name artvcs would not write, or an alias named ``vN`` or ``latest``;
- a value that is not a commit, or not a version of the collection the ref
  names (``vN`` must be version N of it);
- a version history that does not count down by one to v0 (bounded walk),
  or that gives a number this repository has already seen published with
  another commit (:func:`.state.seen_versions`);
- a manifest that cannot be read, holds a path the entry-path rules refuse,
  the same path twice, or a path that is both a file and a folder;
- ``artifact.json`` facts (digest, size, file count) that differ from what
  the manifest gives (:mod:`artvcs.plumbing.facts`).

It returns the ``file:`` reference URIs of the manifests it read, for
:func:`.provenance.record_references`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pygit2

from .. import refs, versions
from ..errors import ArtvcsError, UsageError
from ..facts import facts_of, mismatch
from ..hashing import all_digests
from ..manifest import check_entry, iter_entries
from ..names import decode_component, encode_component
from .errors import RemoteFormatError
from .provenance import is_local_reference

RESERVED_ALIAS = "latest"


def check_ref_name(name: str, where: str) -> None:
    """Refuse a remote ref name that this artvcs would not write itself."""
    parts = name.split("/")
    try:
        ns, _, leaf = refs.parse_ref(name)
        ok = len(parts) <= 7 and all(p and encode_component(decode_component(p)) == p for p in parts[2:])
    except (UsageError, ValueError):
        ok, ns, leaf = False, None, None
    if not ok or ns in ("latest", "drafts") or any(p in ("", ".", "..") for p in parts):  # both local only
        raise RemoteFormatError(f"remote {where}: ref {name!r} is not a valid artvcs ref name: refused")
    expected = {"runs": 5, "collections": 5, "attrs": 5, "versions": 6, "aliases": 6}[ns]
    if len(parts) != expected:
        raise RemoteFormatError(f"remote {where}: ref {name!r} has {len(parts)} components, not {expected}: refused")
    if ns == "versions" and not _is_number_leaf(leaf):
        raise RemoteFormatError(f"remote {where}: version ref {name!r} does not end in v<N>: refused")
    if ns == "aliases" and (leaf == RESERVED_ALIAS or _is_number_leaf(leaf)):
        raise RemoteFormatError(
            f"remote {where}: alias ref {name!r} is named {leaf!r}; 'latest' and v<N> are reserved and never aliases: refused"
        )


def _is_number_leaf(leaf: str | None) -> bool:
    return bool(leaf) and leaf[0] == "v" and leaf[1:].isdigit() and (leaf == "v0" or leaf[1] != "0")


@dataclass
class Checked:
    """What the check read: manifests checked, and the file: reference URIs found in them."""

    manifests: set[pygit2.Oid] = field(default_factory=set)
    commits: set[pygit2.Oid] = field(default_factory=set)
    references: set[str] = field(default_factory=set)


def check_incoming(git: pygit2.Repository, incoming: dict[str, str], seen: dict[str, str], where: str) -> Checked:
    """Check every ref of ``incoming`` (name → oid) against ``git`` (a view holding the quarantined
    objects) and ``seen`` (published version refs → commit); raise RemoteFormatError naming the
    first ref that breaks a rule."""
    done = Checked()
    for name in sorted(incoming):
        check_ref_name(name, where)
    for name, oid in sorted(incoming.items()):
        try:
            _check_ref(git, name, pygit2.Oid(hex=oid), seen, done)
        except RemoteFormatError:
            raise
        except (ArtvcsError, KeyError, ValueError, RecursionError) as e:
            what = "nests folders too deeply to read" if isinstance(e, RecursionError) else str(e)
            raise RemoteFormatError(f"remote {where}: ref {name} ({oid}): {what}: refused") from None
    return done


def _check_ref(git: pygit2.Repository, name: str, oid: pygit2.Oid, seen: dict[str, str], done: Checked) -> None:
    obj = git.get(oid)
    if obj is None:
        raise RemoteFormatError(f"names commit {oid}, which no pack of the remote holds (a push may be in flight; retry)")
    if not isinstance(obj, pygit2.Commit):
        raise RemoteFormatError(f"names a {obj.type_str}, not a commit")
    ns, coll, leaf = refs.parse_ref(name)
    if ns in ("runs", "attrs"):
        return
    number = int(leaf[1:]) if ns == "versions" else None
    v = versions.version_at(git, coll, name, oid, number)
    if v.kind == "link":
        src = (v.facts.get("source") or {}).get("commit")
        if not isinstance(src, str) or not isinstance(git.get(src), pygit2.Commit):
            raise RemoteFormatError(f"link source {src!r} is not a commit the remote holds")
    _check_version(git, v, done)
    if ns != "aliases":
        _check_history(git, v, seen)


def _check_version(git: pygit2.Repository, v: versions.Version, done: Checked) -> None:
    """Manifest rules and recomputed facts, once per commit (manifests once per tree)."""
    if v.commit in done.commits:
        return
    entries = list(iter_entries(git, v.manifest))  # every path passes the entry-path rules here
    if not all_digests([e.digest for e in entries if e.ref is None]):
        for e in entries:
            check_entry(e)  # names the entry and the rule
    for e in entries:
        if e.ref is not None:
            check_entry(e)
            if is_local_reference(e.ref):
                done.references.add(e.ref)
    paths = {e.path for e in entries}
    if len(paths) != len(entries):
        seen: set[str] = set()
        twice = next(e.path for e in entries if e.path in seen or seen.add(e.path))
        raise RemoteFormatError(f"{v.collection}:v{v.number}: manifest holds entry path {twice!r} twice")
    folders = {p.rpartition("/")[0] for p in paths}
    for folder in folders:
        while folder:  # every distinct folder and its ancestors (folders are few beside files)
            if folder in paths:
                raise RemoteFormatError(f"{v.collection}:v{v.number}: manifest entry path {folder!r} is both a file and a folder")
            folder = folder.rpartition("/")[0]
    done.manifests.add(v.manifest)
    wrong = mismatch(v.facts, facts_of(entries))
    if wrong is not None:
        raise RemoteFormatError(f"{v.collection}:v{v.number} (commit {v.commit}): {wrong}: the version's facts lie")
    done.commits.add(v.commit)


def _check_history(git: pygit2.Repository, v: versions.Version, seen: dict[str, str]) -> None:
    """Walk ``v``'s history down (bounded): every number this repository saw published must keep its commit."""
    for u in versions.walk_back(git, v):
        ref = u.collection.version_ref(u.number)
        known = seen.get(ref)
        if known == str(u.commit):
            return  # seen whole before: its own history was checked then
        if known is not None:
            raise RemoteFormatError(
                f"{u.collection}:v{u.number} is {known} here but the remote now names {u.commit}: a published "
                "version never changes its commit; refused"
            )
