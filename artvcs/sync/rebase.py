"""Bringing a remote's refs into the local repository without losing anything on either side.

Each collection is reconciled on its own, against three states of every
ref: local (L), remote (R), and the remote as of the last pull or push (the
*base*, B).

Versions: the remote's version chain is taken as it is. Local versions the
remote does not have (unpushed) are kept; if the remote has meanwhile
numbered versions of its own past the point where the two chains fork, the
local ones are rewritten on top of the remote's newest version with the
next free numbers (the version number lives in the commit's
``artifact.json``, so the commit is rewritten; its manifest, facts and run
stay). Local aliases, attributes, portfolio links and run records that
named a rewritten commit are moved to its new commit. A version deleted
here stays deleted; a version deleted there is deleted here if it was not
changed here.

Aliases: L==B takes R; R==B keeps L; both moved elsewhere is a conflict,
which a pull settles for the local move (applied after the remote's) and a
push refuses (asking for a pull). Attribute edits and run records are
merged: a merge commit takes the remote's chain plus the local changes.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

import pygit2

from artvcs.plumbing import refs, versions
from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.manifest import canonical_json
from artvcs.plumbing.refs import CollectionId
from artvcs.plumbing.runs import RUN_FILE

_SIG = pygit2.Signature("artvcs", "artvcs@localhost")


@dataclass
class Integration:
    """What reconciling did: renumbered versions, refs changed here, conflicts refused, notes for people."""

    mapping: dict[pygit2.Oid, pygit2.Oid] = field(default_factory=dict)
    renumbered: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _oid(value: str | pygit2.Oid | None) -> pygit2.Oid | None:
    if value is None:
        return None
    return value if isinstance(value, pygit2.Oid) else pygit2.Oid(hex=str(value))


def _set(git: pygit2.Repository, name: str, new: pygit2.Oid | None, why: str, result: Integration) -> None:
    """Move local ref ``name`` to ``new`` (None: delete) from whatever it holds now."""
    if refs.move(git, name, new, why, attempts=50):
        result.updated.append(name)


def _version(git: pygit2.Repository, oid) -> versions.Version | None:
    try:
        return versions.read_version(git, oid)
    except ArtvcsError:
        return None


def _head(git: pygit2.Repository, coll: CollectionId, view: dict[str, str]) -> versions.Version | None:
    """The remote's newest version of ``coll`` (its tip may lag behind its version refs, or name a deleted one)."""
    best = None
    candidates = [v for k, v in view.items() if k.startswith(coll.versions_prefix)]
    if coll.collection_ref in view:
        candidates.append(view[coll.collection_ref])
    for oid in candidates:
        v = _version(git, oid)
        if v is not None and v.collection == coll and (best is None or v.number > best.number):
            best = v
    return best


def _chain_set(git: pygit2.Repository, head: versions.Version | None) -> set[pygit2.Oid]:
    out: set[pygit2.Oid] = set()
    v = head
    while v is not None:
        out.add(v.commit)
        if v.number == 0:
            break
        parents = git[v.commit].parent_ids
        v = _version(git, parents[0]) if parents else None
        if v is not None and v.collection != head.collection:
            break
    return out


def _unpushed(git: pygit2.Repository, coll: CollectionId, remote_chain: set[pygit2.Oid]) -> tuple[list[versions.Version], versions.Version | None]:
    """Local versions above the fork with the remote chain (oldest first), and the fork version."""
    tip = versions.collection_tip(git, coll)
    out = []
    v = tip
    while v is not None and v.commit not in remote_chain:
        out.append(v)
        if v.number == 0:
            v = None
            break
        parents = git[v.commit].parent_ids
        v = _version(git, parents[0]) if parents else None
        if v is not None and v.collection != coll:
            v = None
    out.reverse()
    return out, v


def _rewrite(git: pygit2.Repository, u: versions.Version, number: int, parent: pygit2.Oid | None,
             mapping: dict[pygit2.Oid, pygit2.Oid]) -> pygit2.Oid:
    """A copy of version ``u`` numbered ``number`` on top of ``parent``, its link source mapped."""
    commit = git[u.commit]
    facts = json.loads(json.dumps(u.facts))
    facts["version"] = number
    extra = [mapping.get(p, p) for p in commit.parent_ids[1:]]
    src = facts.get("source")
    if isinstance(src, dict) and src.get("commit"):
        old = _oid(src["commit"])
        if old in mapping:
            src["commit"] = str(mapping[old])
            nv = _version(git, mapping[old])
            if nv is not None:
                src["version"] = nv.number
    tb = git.TreeBuilder(commit.tree)
    tb.insert(versions.FACTS, git.create_blob(canonical_json(facts)), pygit2.GIT_FILEMODE_BLOB)
    message = f"{u.collection.name} v{number}\n\ndigest {facts.get('digest', '')}\n"
    parents = ([parent] if parent is not None else []) + extra
    return git.create_commit(None, commit.author, commit.committer, message, tb.write(), parents)


def integrate_collection(git: pygit2.Repository, coll: CollectionId, view: dict[str, str], base: dict[str, str],
                         result: Integration, push: bool) -> None:
    """Reconcile the versions, tip, aliases and attributes of ``coll`` with the remote's ``view``."""
    head = _head(git, coll, view)
    unpushed, fork = _unpushed(git, coll, _chain_set(git, head))
    live_local = {n: refs.read(git, coll.version_ref(n)) for n in versions.live_numbers(git, coll)}
    if head is not None and unpushed and head.facts.get("type") != unpushed[0].facts.get("type"):
        raise UsageError(
            f"{coll} holds type {head.facts.get('type')!r} on the remote but {unpushed[0].facts.get('type')!r} here: "
            "rename the local collection, or delete its unpushed versions"
        )
    mapped_source = any(_oid((u.facts.get("source") or {}).get("commit")) in result.mapping for u in unpushed)
    forked = head is not None and unpushed and (fork is None or fork.commit != head.commit)
    new_numbers: dict[int, pygit2.Oid] = {}
    new_head = None
    if unpushed and (forked or mapped_source):
        parent = head if forked else fork
        number = parent.number + 1 if parent is not None else 0
        prev = parent.commit if parent is not None else None
        for u in unpushed:
            new = _rewrite(git, u, number, prev, result.mapping)
            result.mapping[u.commit] = new
            if live_local.get(u.number) == u.commit:
                new_numbers[number] = new
            if u.number != number:
                result.renumbered.append(f"{coll}:v{u.number} -> v{number}")
            prev, number = new, number + 1
        new_head = prev
    else:
        for u in unpushed:
            if live_local.get(u.number) == u.commit:
                new_numbers[u.number] = u.commit
        new_head = unpushed[-1].commit if unpushed else None

    # version refs: the remote's, less those deleted here, plus ours
    remote_nums = {int(k.rsplit("/v", 1)[1]): _oid(v) for k, v in view.items()
                   if k.startswith(coll.versions_prefix) and k.rsplit("/", 1)[1][1:].isdigit()}
    wanted: dict[int, pygit2.Oid | None] = {}
    for n, r in remote_nums.items():
        l, b = live_local.get(n), base.get(coll.version_ref(n))
        # absent here but known at the last sync: deleted here, stays deleted (push deletes it there)
        wanted[n] = None if (l is None and b == str(r)) else r
    for n, l in live_local.items():
        if n in remote_nums:
            continue
        if l in result.mapping:
            wanted[n] = None  # renumbered: it lives on under its new number
        elif base.get(coll.version_ref(n)) == str(l):
            wanted[n] = None  # deleted on the remote since the last sync, unchanged here
        else:
            wanted[n] = l
    wanted.update(new_numbers)
    for n in sorted(set(live_local) | set(wanted)):
        if live_local.get(n) != wanted.get(n):
            _set(git, coll.version_ref(n), wanted.get(n), f"sync v{n}", result)
    # the tip: the newest of the remote's head and ours
    tips = [c for c in (new_head, head.commit if head else None, refs.read(git, coll.collection_ref)) if c is not None]
    best = max((v for c in tips if (v := _version(git, c)) is not None and v.collection == coll), key=lambda v: v.number, default=None)
    if best is not None:
        _set(git, coll.collection_ref, best.commit, f"sync tip v{best.number}", result)
    _aliases(git, coll, view, base, result, push)
    _attrs(git, coll, view, base, result)


def _three_way(local, remote, base_value) -> str:
    if local == remote:
        return "same"
    if local == base_value:
        return "take"
    if remote == base_value:
        return "keep"
    return "conflict"


def _aliases(git, coll: CollectionId, view, base, result: Integration, push: bool) -> None:
    prefix = coll.aliases_prefix
    local = {n: o for n, o in refs.iter_refs(git, prefix)}
    names = set(local) | {k for k in view if k.startswith(prefix)} | {k for k in base if k.startswith(prefix)}
    for name in sorted(names):
        l = local.get(name)
        if l is not None and l in result.mapping:
            _set(git, name, result.mapping[l], "follow renumbered version", result)
            l = result.mapping[l]
        r, b = _oid(view.get(name)), _oid(base.get(name))
        how = _three_way(l, r, b)
        if how == "take":
            _set(git, name, r, "sync alias from remote", result)
        elif how == "conflict":
            alias = name[len(prefix):]
            theirs = _describe(git, r)
            ours = _describe(git, l)
            if push:
                result.refused[name] = (
                    f"alias {alias!r} of {coll} moved on the remote to {theirs} and here to {ours} since the last sync: "
                    "run 'artvcs pull' (it keeps yours and shows theirs), then push again"
                )
            else:
                result.notes.append(f"alias {alias!r} of {coll}: the remote moved it to {theirs}; keeping yours ({ours}), push to apply it")


def _describe(git, oid) -> str:
    if oid is None:
        return "nothing (removed)"
    v = _version(git, oid)
    return f"v{v.number}" if v is not None else str(oid)[:12]


def _attrs(git, coll: CollectionId, view, base, result: Integration) -> None:
    name = coll.attrs_ref
    renames = {}
    for old, new in result.mapping.items():
        ov, nv = _version(git, old), _version(git, new)
        if ov is not None and nv is not None and ov.collection == coll and ov.number != nv.number:
            renames[ov.number] = nv.number
    l = refs.read(git, name)
    if l is not None and renames:
        tree = git[l].tree
        tb = git.TreeBuilder(tree)
        moved = False
        for old in sorted(renames, reverse=True):
            blob = f"v{old}.json"
            if blob in tree:
                tb.remove(blob)
                moved = True
        for old, new in renames.items():
            blob = f"v{old}.json"
            if blob in tree:
                tb.insert(f"v{new}.json", tree[blob].id, pygit2.GIT_FILEMODE_BLOB)
        if moved:
            msg = "renumbered " + ", ".join(f"v{o}->v{n}" for o, n in sorted(renames.items()))
            oid = git.create_commit(None, _SIG, _SIG, msg + "\n", tb.write(), [l])
            _set(git, name, oid, msg, result)
            l = oid
    r, b = _oid(view.get(name)), _oid(base.get(name))
    how = _three_way(l, r, b)
    if how == "take":
        _set(git, name, r, "sync attributes from remote", result)
    elif how == "conflict":
        if git.descendant_of(r, l):
            _set(git, name, r, "sync attributes from remote", result)
        elif not git.descendant_of(l, r):
            merged = _merge_trees(git, b, l, r)
            oid = git.create_commit(None, _SIG, _SIG, "merge attribute edits from the remote\n", merged, [r, l])
            _set(git, name, oid, "merge attributes", result)


def _merge_trees(git, base, ours, theirs) -> pygit2.Oid:
    """Their tree with every blob we changed since ``base`` applied (ours wins per version)."""
    bt = git[base].tree if base is not None and base in git else None
    ot, tt = git[ours].tree, git[theirs].tree
    tb = git.TreeBuilder(tt)
    names = {e.name for e in ot} | ({e.name for e in bt} if bt is not None else set())
    for n in names:
        mine = ot[n].id if n in ot else None
        was = bt[n].id if bt is not None and n in bt else None
        if mine == was:
            continue
        if mine is None:
            if n in tt:
                tb.remove(n)
        else:
            tb.insert(n, mine, pygit2.GIT_FILEMODE_BLOB)
    return tb.write()


def integrate_runs(git: pygit2.Repository, view: dict[str, str], base: dict[str, str], result: Integration,
                   selected: Iterable[str] | None = None) -> None:
    """Map run records to renumbered versions, then reconcile each run's chain with the remote's."""
    local = dict(refs.iter_refs(git, "refs/runs/"))
    names = set(local) | {k for k in view if k.startswith("refs/runs/")}
    for name in sorted(names):
        l = local.get(name)
        if l is not None and result.mapping:
            l = _map_run(git, name, l, result)
        r, b = _oid(view.get(name)), _oid(base.get(name))
        how = _three_way(l, r, b)
        if how == "take" and r is not None:
            _set(git, name, r, "sync run from remote", result)
        elif how == "conflict" and r is not None and l is not None:
            if git.descendant_of(r, l):
                _set(git, name, r, "sync run from remote", result)
            elif not git.descendant_of(l, r):
                mine, theirs = _run(git, l), _run(git, r)
                merged = dict(theirs)
                for key in ("used", "logged"):
                    items = list(theirs.get(key) or [])
                    items += [i for i in mine.get(key) or [] if i not in items]
                    merged[key] = items
                for k, v in mine.items():
                    if k not in ("used", "logged") and merged.get(k) in (None, "", {}):
                        merged[k] = v
                tb = git.TreeBuilder()
                tb.insert(RUN_FILE, git.create_blob(canonical_json(merged)), pygit2.GIT_FILEMODE_BLOB)
                oid = git.create_commit(None, _SIG, _SIG, "merge run record from the remote\n", tb.write(), [r, l])
                _set(git, name, oid, "merge run", result)


def _run(git, oid) -> dict:
    return json.loads(git[git[oid].tree[RUN_FILE].id].data)


def _map_run(git, name: str, tip: pygit2.Oid, result: Integration) -> pygit2.Oid:
    rec = _run(git, tip)
    changed = False
    for key in ("used", "logged"):
        for item in rec.get(key) or []:
            old = _oid(item.get("commit")) if isinstance(item, dict) and item.get("commit") else None
            if old in result.mapping:
                item["commit"] = str(result.mapping[old])
                v = _version(git, result.mapping[old])
                if v is not None:
                    item["version"] = v.number
                changed = True
    if not changed:
        return tip
    tb = git.TreeBuilder()
    tb.insert(RUN_FILE, git.create_blob(canonical_json(rec)), pygit2.GIT_FILEMODE_BLOB)
    oid = git.create_commit(None, _SIG, _SIG, "follow renumbered versions\n", tb.write(), [tip])
    _set(git, name, oid, "follow renumbered versions", result)
    return oid
