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
from artvcs.plumbing.drafts import process_alive
from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.gc import reachable_digests
from artvcs.plumbing.manifest import iter_entries
from artvcs.plumbing.namespace import Namespace, derive
from artvcs.plumbing.refs import CollectionId
from artvcs.plumbing.remote import content, incoming, provenance, quarantine
from artvcs.plumbing.remote.errors import RemoteFormatError
from artvcs.plumbing.remote.layout import RemoteRepo, check_listed_ref, value_from_listing
from artvcs.plumbing.remote.state import RemoteState, seen_versions
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
    """List the remote's refs, resolve their values, fetch the packs holding any commit missing here
    into a quarantine, and check everything the new values name before the packs are installed.

    Checked on every fetch (:func:`artvcs.plumbing.remote.incoming.check_incoming`): each ref whose
    value is new here (it differs from the local ref and from the remote's value at the last sync),
    whether or not its objects were already present. A refusal installs nothing and records nothing.
    """
    if not remote.check_format():
        return View(empty=True)
    state = RemoteState(repo.gitdir, remote.name)
    base = state.refs("base")
    known = [state.refs("fetched"), base]
    listing = {n: s for n, s in remote.list_refs().items() if selection.ref(n)}
    view = View()
    unknown: list[str] = []
    for name, stat in listing.items():
        check_listed_ref(name, stat, remote.name)
        local = refs.read(repo.git, name)
        value = value_from_listing(stat, [k.get(name) for k in known] + [str(local) if local else None])
        if value is None:
            unknown.append(name)
        else:
            view.refs[name], view.tags[name] = value, stat.tag
    for name, found in zip(unknown, content.parallel(remote.read_ref, unknown)):
        if found is not None:
            view.refs[name], view.tags[name] = found
    for name in view.refs:
        incoming.check_ref_name(name, remote.name)
    new = {n: o for n, o in view.refs.items() if str(refs.read(repo.git, n) or "") != o and base.get(n) != o}
    quarantine.sweep(repo.gitdir)
    with quarantine.Quarantine(repo.gitdir) as q:
        if any(pygit2.Oid(hex=o) not in repo.git for o in view.refs.values()):
            q.fetch(remote, [n for n in remote.list_packs() if n not in state.packs()])
        seen = q.view(repo.git)
        still = sorted(o for o in set(view.refs.values()) if pygit2.Oid(hex=o) not in seen)
        if still and q.refused:
            raise next(iter(q.refused.values()))
        if still:
            raise RemoteFormatError(
                f"remote {remote.name} has refs naming {len(still)} commits that no pack holds (first {still[0]}): "
                "a push may be in flight; retry in a moment"
            )
        checked = incoming.check_incoming(seen, new, seen_versions(repo.gitdir), remote.name)
        provenance.record_references(repo.gitdir, checked.references, remote.name)
        q.install()
        state.add_packs(set(q.names))
        view.packs_fetched, view.pack_bytes = len(q.names), q.bytes
    state.save_refs({**state.refs("fetched"), **view.refs}, "fetched")
    return view


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
    """fetch, fetch the content of the live versions (local ones and the remote's), then reconcile
    local refs with the remote's: content comes first, so that no ref moves when content is refused."""
    view = read_view(repo, remote, selection)
    result = PullResult(rebase.Integration(), view.packs_fetched, view.pack_bytes, empty=view.empty)
    if view.empty:
        return result
    if with_content:
        wanted = live_manifests(repo.git, selection) | incoming_manifests(repo, remote, view)
        digests = reachable_digests(repo.git, wanted, stored_only=True)
        result.objects, result.bytes = content.download(remote, repo.store, digests)
    result.integration = integrate(repo, remote, view, selection, push=False)
    return result


def remote_namespace(remote: RemoteRepo) -> Namespace | None:
    """The default namespace a clone of ``remote`` takes: the one it records; for a remote written before
    that record, the only entity/project its collections live in (None if there are several, or none)."""
    recorded = remote.read_namespace()
    if recorded is not None:
        return recorded
    seen = set()
    for key in remote.list_refs():
        try:
            ns, coll, _ = refs.parse_ref(key)
        except ValueError:
            continue  # not a name artvcs writes; read_view refuses it later
        if ns == "collections" and coll is not None:
            seen.add(Namespace(coll.entity, coll.project))
    return seen.pop() if len(seen) == 1 else None


def incoming_manifests(repo: Repository, remote: RemoteRepo, view: View) -> set[pygit2.Oid]:
    """Manifests of the remote's version refs that a pull takes (not those deleted here since the last sync)."""
    base = RemoteState(repo.gitdir, remote.name).refs("base")
    out = set()
    for name, oid in view.refs.items():
        if name.split("/")[1] != "versions" or (refs.read(repo.git, name) is None and base.get(name) == oid):
            continue
        out.add(versions.read_version(repo.git, oid).manifest)
    return out


def clone(url: str, folder: str, options: dict | None = None, only: Iterable[str] = (),
          entity: str | None = None, project: str | None = None) -> tuple[Repository, PullResult]:
    """A new repository in ``folder`` with ``url`` as its remote ``origin``, pulled (content only without ``only``).

    Its default namespace is the remote's (see :func:`remote_namespace`), with ``entity``/``project`` in place
    of its parts where given; a remote that names none leaves the derivation of ``artvcs init`` for ``folder``.
    All or nothing: the repository is built in ``folder/.artvcs-clone-<pid>-<hex>/`` and its
    ``.artifacts`` renamed into place only once the pull succeeded, so a failed clone leaves no
    repository (and no folder it created), and can simply be run again.
    """
    import secrets
    import shutil

    from artvcs.sync import remotes
    from artvcs.plumbing.repository import DIRNAME, init_repository

    only = list(only)
    final = os.path.join(os.path.abspath(folder), DIRNAME)
    if os.path.exists(final):
        raise UsageError(f"{folder} already holds an artvcs repository: clone into a new folder")
    probe = remotes.open_url(url, options)
    if not probe.check_format():
        raise UsageError(f"{url} holds no artvcs remote (no artvcs-remote record): check the URL, or push to it first")
    carried = remote_namespace(probe) or derive(folder)
    ns = Namespace(entity or carried.entity, project or carried.project)
    created = not os.path.exists(folder)
    os.makedirs(folder, exist_ok=True)
    _sweep_clones(folder)
    work = os.path.join(folder, f"{CLONE_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")
    taken = False
    try:
        repo = init_repository(work, ns.entity, ns.project, reason="clone")
        remotes.add_remote(repo, "origin", url, options, only)
        result = pull(repo, remotes.open_remote(repo, "origin"), Selection.of(only), with_content=not only)
        try:
            os.mkdir(final)  # rename(2) replaces only an empty folder: take the name first
            taken = True
        except FileExistsError:
            raise UsageError(f"{folder} gained an artvcs repository while cloning: clone into a new folder") from None
        os.rename(os.path.join(work, DIRNAME), final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if taken and os.path.isdir(final) and not os.listdir(final):
            os.rmdir(final)
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    os.rmdir(work)
    return Repository(final), result


CLONE_PREFIX = ".artvcs-clone-"


def _sweep_clones(folder: str) -> None:
    """Remove the work folders of clones into ``folder`` whose process is gone (killed mid-clone)."""
    import shutil

    for name in os.listdir(folder):
        pid = name[len(CLONE_PREFIX):].split("-")[0]
        if name.startswith(CLONE_PREFIX) and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
