"""push: send the remote what it lacks — content, then git objects, then refs — and nothing else.

Each attempt reads the remote's refs, reconciles (a version number taken
meanwhile renumbers the local versions on top, see :mod:`artvcs.sync.rebase`),
and works out which refs differ. Only then does it look for what to send:
the commits reachable from the refs it sends but not from the remote's, the
trees and listings those commits changed, and the content their manifests
name that the remote does not hold. Version refs are created with
``If-None-Match`` (a number is never given twice); every other ref moves by
compare-and-swap on the tag it was read with. A lost condition starts the
attempt again; anything sent before stays valid, so an interrupted push
leaves the remote consistent and a re-run finishes it. A push that sends
anything announces itself first (:mod:`artvcs.plumbing.remote.inflight`): a
``gc --remote`` beside it then removes nothing, or, if the gc was first, the
push waits for it and sends again what it removed before any ref names it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import pygit2

from artvcs.sync import rebase
from artvcs.plumbing import refs, versions
from artvcs.plumbing.errors import ArtvcsError
from artvcs.plumbing.manifest import diff_manifests, iter_entries
from artvcs.plumbing.gc import reachable_digests
from artvcs.plumbing.remote import chunks, content, inflight, packs, steps
from artvcs.plumbing.remote.layout import CONTENT
from artvcs.plumbing.remote.errors import RemoteConflictError
from artvcs.plumbing.remote.layout import RemoteRepo
from artvcs.plumbing.remote.state import RemoteState
from artvcs.plumbing.repository import Repository
from artvcs.sync.remotes import stored_digest
from artvcs.sync.sync import OURS, Selection, View, integrate, read_view

MAX_ATTEMPTS = 20
_ORDER = {"versions": 0, "collections": 1, "attrs": 2, "aliases": 3, "runs": 4}


@dataclass
class PushResult:
    """What a push sent: content objects and bytes, packs, refs written, and what it renumbered or refused."""

    objects: int = 0
    bytes: int = 0
    packs: int = 0
    pack_bytes: int = 0
    refs: list[str] = field(default_factory=list)
    attempts: int = 0
    integration: rebase.Integration = field(default_factory=rebase.Integration)


def _local_refs(git: pygit2.Repository, selection: Selection) -> dict[str, str]:
    return {n: str(o) for n, o in refs.iter_refs(git, "refs/") if n.split("/")[1] in OURS and selection.ref(n)}


def _number(git: pygit2.Repository, oid: str | None) -> int:
    try:
        return versions.read_version(git, oid).number if oid else -1
    except ArtvcsError:
        return -1


def plan(git: pygit2.Repository, local: dict[str, str], view: View, refused: dict[str, str]) -> list[tuple[str, str | None, str | None]]:
    """``(ref, new, old)`` for every ref the remote must change, in the order they must land."""
    out = []
    for name in sorted(set(local) | set(view.refs)):
        if name in refused:
            continue
        new, old = local.get(name), view.refs.get(name)
        if new == old:
            continue
        ns = name.split("/")[1]
        if ns == "collections" and (new is None or _number(git, new) <= _number(git, old)):
            continue  # a tip only moves forward; the remote's may lag, never ours
        out.append((name, new, old))

    def key(item):
        name, new, _ = item
        ns = name.split("/")[1]
        leaf = name.rsplit("/", 1)[1]
        num = int(leaf[1:]) if ns == "versions" and leaf[1:].isdigit() else 0
        return (_ORDER.get(ns, 9), new is None, name.rsplit("/", 1)[0], num, name)

    return sorted(out, key=key)


def content_to_send(git: pygit2.Repository, commits: list[pygit2.Oid], published: set[str] | None = None) -> set[str]:
    """Stored digests named by the new version commits and not by their parents' manifests.

    With ``published`` (the commits the remote's version and alias refs name), a parent counts only
    if it is one of those or one of ``commits``: the content of a version deleted from the remote
    may be gone from it (gc --remote), so a child of such a version sends all it names (less what
    the remote holds, which the upload asks)."""
    out: set[str] = set()
    sent = {str(c) for c in commits}
    for oid in commits:
        try:
            v = versions.read_version(git, oid)
        except ArtvcsError:
            continue  # attribute or run commits name no content
        parents = []
        for p in git[oid].parent_ids:
            if published is not None and str(p) not in published and str(p) not in sent:
                continue
            try:
                parents.append(versions.read_version(git, p).manifest)
            except ArtvcsError:
                continue
        if not parents:
            out.update(d for e in iter_entries(git, v.manifest) if (d := stored_digest(e)))
            continue
        fresh: set[str] | None = None
        for pm in parents:
            if pm == v.manifest:
                fresh = set()
                break
            side = {d for _, _, new in diff_manifests(git, pm, v.manifest) if new is not None and (d := stored_digest(new))}
            fresh = side if fresh is None else fresh & side
        out.update(fresh or ())
    return out


def push(repo: Repository, remote: RemoteRepo, selection: Selection = Selection()) -> PushResult:
    """Send the selected collections (and every run record) to ``remote``; see the module docstring."""
    git = repo.git
    selection = selection.with_link_sources(git)
    remote.check_format(create=True)
    state = RemoteState(repo.gitdir, remote.name)
    result = PushResult()
    marker: list[inflight.Pushing] = []
    try:
        return _attempts(repo, remote, selection, state, result, marker)
    finally:
        for m in marker:
            m.end()  # a failure only warns (inflight._Marker.end)


def _attempts(repo: Repository, remote: RemoteRepo, selection: Selection, state: RemoteState, result: PushResult,
              marker: list[inflight.Pushing]) -> PushResult:
    git = repo.git
    for attempt in range(MAX_ATTEMPTS):
        refs.backoff(attempt * 3)
        result.attempts = attempt + 1
        view, updates = _look(repo, remote, selection, result)
        if not updates:
            return result
        if not marker:  # something to send: record what clones will take as their default (first push wins)
            remote.offer_namespace(repo.recorded_namespace()[0])
            # before it looks at the remote's content: a gc beside it sees it (inflight.py)
            marker.append(inflight.Pushing(remote))
            # the refs were read before the marker: a gc that ran wholly in between is seen by neither
            # side, so what counts as published (and what to send) comes from refs read after it
            view, updates = _look(repo, remote, selection, result)
            if not updates:
                return result
        tips = [pygit2.Oid(hex=new) for _, new, _ in updates if new is not None]
        known = [pygit2.Oid(hex=o) for o in view.refs.values()]
        oids = packs.new_objects(git, tips, known)
        commits = [o for o in oids if git[o].type == pygit2.GIT_OBJECT_COMMIT]
        published = {o for n, o in view.refs.items() if n.split("/")[1] in ("versions", "aliases")}
        n, size = content.upload(remote, repo.store, content_to_send(git, commits, published))
        result.objects += n
        result.bytes += size
        work = os.path.join(repo.gitdir, "remotes", "tmp")
        os.makedirs(work, exist_ok=True)
        name, sent = packs.push_pack(remote, git, oids, work)
        if sent:
            result.packs += 1
            result.pack_bytes += sent
        if name:
            state.add_packs({name})
        marker[0].settle(lambda: _resend_gone(repo, remote, updates))
        steps.step("push-publish")
        if _write_refs(remote, state, view, updates, result):
            return result
    raise RemoteConflictError(
        f"push to {remote.name} kept losing to concurrent writers ({MAX_ATTEMPTS} attempts): try again in a moment"
    )


def _look(repo: Repository, remote: RemoteRepo, selection: Selection, result: PushResult):
    """Read the remote's refs, reconcile, and plan: the view and the ref updates."""
    steps.step("push-view")
    view = read_view(repo, remote, selection)
    step = integrate(repo, remote, view, selection, push=True)
    _merge(result.integration, step)
    return view, plan(repo.git, _local_refs(repo.git, selection), view, step.refused)


def _resend_gone(repo: Repository, remote: RemoteRepo, updates) -> None:
    """Send again the content that the versions and aliases about to be written name and the remote
    no longer holds (a gc removed it while this push ran): one listing each of content/ and
    chunklists/, not a request per file."""
    git = repo.git
    manifests = set()
    for name, new, _ in updates:
        if new is None or name.split("/")[1] not in ("versions", "aliases"):
            continue
        try:
            manifests.add(versions.read_version(git, new).manifest)
        except ArtvcsError:
            continue
    needed = reachable_digests(git, manifests, stored_only=True)
    if not needed:
        return
    there = {s.key[len(CONTENT):].replace("/", "") for s in remote.list_content()}
    there |= {s.key[len(chunks.LISTS):].replace("/", "") for s in remote.backend.list(chunks.LISTS)}
    gone = needed - there
    if gone:
        content.upload(remote, repo.store, gone)


def _write_refs(remote: RemoteRepo, state: RemoteState, view: View, updates, result: PushResult) -> bool:
    """Write the ref updates in order; False at the first lost condition (the caller starts again)."""
    base = state.refs("base")
    try:
        for name, new, old in updates:
            if old is None:
                ok = remote.create_ref(name, new)
            else:
                tag = view.tags.get(name)
                ok = tag is not None and remote.swap_ref(name, new, tag)
            if not ok:
                return False
            result.refs.append(name)
            if new is None:
                base.pop(name, None)
            else:
                base[name] = new
    finally:
        state.save_refs(base)
    return True


def _merge(total: rebase.Integration, step: rebase.Integration) -> None:
    total.mapping.update(step.mapping)
    total.renumbered += [r for r in step.renumbered if r not in total.renumbered]
    total.updated += step.updated
    total.notes += [n for n in step.notes if n not in total.notes]
    total.refused = dict(step.refused)
