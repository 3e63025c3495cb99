"""fetch, pull and clone: the remote's refs, git objects and content brought here.

Reading a remote costs one listing of ``refs/`` (values are matched to known
ones by their tags; only unknown refs are read), then, only when a ref
names a commit this repository lacks, one listing of ``packs/`` and a
download of each pack not fetched before. Content is fetched for the live
versions pulled (or not at all: a partial clone fetches it on demand, see
:func:`artvcs.sync.remotes.fetch_missing`).
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import pygit2

from artvcs.sync import rebase
from artvcs.plumbing import refs, versions
from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.gc import reachable_digests
from artvcs.plumbing.manifest import iter_entries
from artvcs.plumbing.refs import CollectionId
from artvcs.plumbing.remote import content, packs
from artvcs.plumbing.remote.errors import RemoteFormatError
from artvcs.plumbing.remote.layout import RemoteRepo, value_from_listing
from artvcs.plumbing.remote.state import RemoteState
from artvcs.plumbing.repository import Repository

OURS = ("collections", "versions", "aliases", "attrs", "runs")


# -- which collections ----------------------------------------------------------------------
@dataclass(frozen=True)
class Selection:
    """Collections named on the command line (``name``, ``project/name`` or ``entity/project/name``, a ``:selector`` ignored); None: all."""

    names: tuple[str, ...] | None = None

    @classmethod
    def of(cls, specs: Iterable[str] | None) -> "Selection":
        specs = [s.split(":", 1)[0] for s in (specs or []) if s]
        return cls(tuple(specs) if specs else None)

    def matches(self, coll: CollectionId) -> bool:
        if self.names is None:
            return True
        full = str(coll)
        return any(full == n or full.endswith("/" + n) for n in self.names)

    def ref(self, name: str) -> bool:
        """True when ref ``name`` belongs to the selection (runs always do)."""
        parts = name.split("/")
        if len(parts) < 3 or parts[1] not in OURS:
            return False
        if parts[1] == "runs":
            return True
        try:
            _, coll, _ = refs.parse_ref(name)
        except (UsageError, ValueError):
            return False
        return coll is not None and self.matches(coll)

    def with_link_sources(self, git: pygit2.Repository) -> "Selection":
        """Add the collections that selected portfolios link to (a link is useless without its source)."""
        if self.names is None:
            return self
        extra = []
        for coll in versions.iter_collections(git):
            if not self.matches(coll):
                continue
            for v in versions.chain(git, coll):
                src = v.facts.get("source") or {}
                if src.get("name"):
                    extra.append(f"{src['entity']}/{src['project']}/{src['name']}")
        return Selection(tuple(dict.fromkeys(self.names + tuple(extra))))


# -- the remote's refs -----------------------------------------------------------------------
@dataclass
class View:
    """The remote's refs (name → oid) and the tag each was seen with (for compare-and-swap)."""

    refs: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str | None] = field(default_factory=dict)
    empty: bool = False
    packs_fetched: int = 0
    pack_bytes: int = 0


def read_view(repo: Repository, remote: RemoteRepo, selection: Selection = Selection()) -> View:
    """List the remote's refs, resolve their values, and fetch the packs holding any commit missing here."""
    if not remote.check_format():
        return View(empty=True)
    state = RemoteState(repo.gitdir, remote.name)
    known = [state.refs("fetched"), state.refs("base")]
    listing = {n: s for n, s in remote.list_refs().items() if selection.ref(n)}
    view = View()
    unknown: list[str] = []
    for name, stat in listing.items():
        local = refs.read(repo.git, name)
        value = value_from_listing(stat, [k.get(name) for k in known] + [str(local) if local else None])
        if value is None:
            unknown.append(name)
        else:
            view.refs[name], view.tags[name] = value, stat.tag
    for name, found in zip(unknown, content.parallel(remote.read_ref, unknown)):
        if found is not None:
            view.refs[name], view.tags[name] = found
    _check_names(view)
    missing = [o for o in view.refs.values() if pygit2.Oid(hex=o) not in repo.git]
    if missing:
        names = [n for n in remote.list_packs() if n not in state.packs()]
        sizes = content.parallel(lambda n: packs.fetch_pack(remote, repo.gitdir, n), names, stage="fetching packs")
        state.add_packs(set(names))
        view.packs_fetched, view.pack_bytes = len(names), sum(sizes)
        still = [o for o in missing if pygit2.Oid(hex=o) not in repo.git]
        if still:
            raise RemoteFormatError(
                f"remote {remote.name} has refs naming {len(still)} commits that no pack holds (first {still[0]}): "
                "a push may be in flight; retry in a moment"
            )
        check_manifests(repo.git, missing, remote.name)
    state.save_refs({**state.refs("fetched"), **view.refs}, "fetched")
    return view


def check_manifests(git: pygit2.Repository, commits: Iterable[str], where: str) -> None:
    """Refuse fetched versions whose manifests are malformed or hold a path that escapes its folder.

    Every entry path goes through check_entry_path (inside iter_entries) before
    any local ref can name the version, so no checkout ever meets it.
    """
    seen: set[pygit2.Oid] = set()
    for oid in commits:
        try:
            v = versions.read_version(git, oid)
        except ArtvcsError:
            continue  # attribute and run commits hold no manifest
        if v.manifest in seen:
            continue
        seen.add(v.manifest)
        try:
            for _ in iter_entries(git, v.manifest):
                pass
        except (ArtvcsError, KeyError, ValueError) as e:
            raise RemoteFormatError(f"remote {where}: {v.collection}:v{v.number} has an unsafe or malformed manifest ({e}): refused") from None


def _check_names(view: View) -> None:
    """Remote ref names are untrusted: each must be one this artvcs would write itself."""
    from artvcs.plumbing.names import decode_component, encode_component

    for name in view.refs:
        try:
            refs.parse_ref(name)
            parts = name.split("/")
            ok = len(parts) <= 7 and all(p and encode_component(decode_component(p)) == p for p in parts[2:])
        except (UsageError, ValueError):
            ok = False
        if not ok or any(p in ("", ".", "..") for p in name.split("/")):
            raise RemoteFormatError(f"remote ref {name!r} is not a valid artvcs ref name: refused")


# -- integrating ----------------------------------------------------------------------------------
def _collections(git: pygit2.Repository, view: dict[str, str], selection: Selection) -> list[CollectionId]:
    found = {c for c in versions.iter_collections(git) if selection.matches(c)}
    for name in view:
        ns, coll, _ = refs.parse_ref(name)
        if coll is not None and ns != "runs":
            found.add(coll)

    def is_portfolio(coll: CollectionId) -> bool:
        oid = refs.read(git, coll.collection_ref) or view.get(coll.collection_ref) or next(
            (v for k, v in view.items() if k.startswith(coll.versions_prefix)), None)
        try:
            return oid is not None and versions.read_version(git, oid).kind == "link"
        except ArtvcsError:
            return False

    return sorted(found, key=lambda c: (is_portfolio(c), str(c)))


def integrate(repo: Repository, remote: RemoteRepo, view: View, selection: Selection, push: bool) -> rebase.Integration:
    """Reconcile local refs of the selection with ``view`` (see :mod:`artvcs.sync.rebase`); record the new base."""
    git = repo.git
    state = RemoteState(repo.gitdir, remote.name)
    base = state.refs("base")
    result = rebase.Integration()
    for coll in _collections(git, view.refs, selection):
        rebase.integrate_collection(git, coll, view.refs, base, result, push)
    rebase.integrate_runs(git, view.refs, base, result)
    new_base = {k: v for k, v in base.items() if not selection.ref(k) or k in result.refused}
    new_base.update({k: v for k, v in view.refs.items() if k not in result.refused})
    state.save_refs(new_base)
    return result


# -- content of versions ------------------------------------------------------------------------
def live_manifests(git: pygit2.Repository, selection: Selection) -> set[pygit2.Oid]:
    out = set()
    for coll in versions.iter_collections(git):
        if selection.matches(coll):
            out.update(v.manifest for v in versions.iter_versions(git, coll))
    return out


# -- the commands -----------------------------------------------------------------------------------
@dataclass
class PullResult:
    """What a pull (or clone) did."""

    integration: rebase.Integration
    packs: int = 0
    pack_bytes: int = 0
    objects: int = 0
    bytes: int = 0
    empty: bool = False


def fetch(repo: Repository, remote: RemoteRepo, selection: Selection = Selection()) -> tuple[View, list[str]]:
    """Bring the remote's git objects here and note its refs; change no local ref. Returns the view and
    the refs that differ from the local ones."""
    view = read_view(repo, remote, selection)
    differ = sorted(n for n, o in view.refs.items() if str(refs.read(repo.git, n) or "") != o)
    return view, differ


def pull(repo: Repository, remote: RemoteRepo, selection: Selection = Selection(), with_content: bool = True) -> PullResult:
    """fetch, reconcile local refs with the remote's, then fetch the content of the live versions pulled."""
    view = read_view(repo, remote, selection)
    result = PullResult(rebase.Integration(), view.packs_fetched, view.pack_bytes, empty=view.empty)
    if view.empty:
        return result
    result.integration = integrate(repo, remote, view, selection, push=False)
    if with_content:
        digests = reachable_digests(repo.git, live_manifests(repo.git, selection), stored_only=True)
        result.objects, result.bytes = content.download(remote, repo.store, digests)
    return result


def clone(url: str, folder: str, options: dict | None = None, only: Iterable[str] = ()) -> tuple[Repository, PullResult]:
    """A new repository in ``folder`` with ``url`` as its remote ``origin``, pulled (content only without ``only``)."""
    from artvcs.sync import remotes
    from artvcs.plumbing.repository import DIRNAME, init_repository

    only = list(only)
    if os.path.exists(os.path.join(folder, DIRNAME)):
        raise UsageError(f"{folder} already holds an artvcs repository: clone into a new folder")
    probe = remotes.open_url(url, options)
    if not probe.check_format():
        raise UsageError(f"{url} holds no artvcs remote (no artvcs-remote record): check the URL, or push to it first")
    repo = init_repository(folder)
    remotes.add_remote(repo, "origin", url, options, only)
    remote = remotes.open_remote(repo, "origin")
    return repo, pull(repo, remote, Selection.of(only), with_content=not only)
