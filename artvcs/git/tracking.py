"""Tracking workspace paths of a git repository as artifact versions.

Two YAML files at the git work tree's root, both committed with the code:
``artvcs.yaml`` declares each tracked path and the artifact it is versioned
as; ``artvcs.lock`` pins each path to one version (name, version, digest,
commit). Keys are sorted and every file starts with a comment, so that git
diffs of them stay small and readable. Paths are relative to the root, with
'/', and end in '/' for folders. A tracked path is ignored by git: git
versions the pin, artvcs the content.
"""
from __future__ import annotations

import os
import stat
from dataclasses import asdict, dataclass
from typing import Any

from artvcs.api import resolve_artifact
from artvcs.artifact import Artifact
from artvcs.core.context import Context
from artvcs.plumbing import config, foldersums
from artvcs.plumbing.errors import ArtvcsError, NotFoundError, UsageError
from artvcs.plumbing.names import slug
from artvcs.session import init
from artvcs.git.lockfile import DECLARATIONS, LOCK, declarations, parse_lock, pins, place  # noqa: F401 (re-exported)

_DECL_HEADER = (
    "# artvcs: paths of this git repository versioned as artifacts (written by 'artvcs track PATH').\n"
    "# tracked: PATH -> the artifact it is logged as (name, type). Commit this file;\n"
    "# artvcs.lock pins each path to one version.\n"
)
_LOCK_HEADER = (
    "# artvcs lock file: the artifact version each tracked path holds (written by 'artvcs track').\n"
    "# pins: PATH -> name (entity/project/name), version, digest, commit. Commit this file;\n"
    "# the hooks of 'artvcs hooks install' check these versions out on git checkout and merge.\n"
)


def _git(start: str | None = None):
    import pygit2

    found = pygit2.discover_repository(start or os.getcwd())
    if not found:
        raise UsageError(f"{start or os.getcwd()} is not inside a git repository: run 'git init' first")
    repo = pygit2.Repository(found)
    if repo.is_bare or not repo.workdir:
        raise UsageError("tracking needs a git work tree, not a bare repository")
    return repo


def git_root(start: str | None = None) -> str:
    """The work tree root of the git repository around ``start`` (or the current folder)."""
    return os.path.realpath(_git(start).workdir)


def _save(path: str, header: str, key: str, value: dict[str, Any], parsed: config.ParsedCache | None = None) -> None:
    config.save(path, {key: value}, header, parsed)


def rel_path(root: str, path: str) -> str:
    """``path`` relative to the git root, with '/' and a trailing '/' for folders."""
    absolute = os.path.realpath(path)
    rel = os.path.relpath(absolute, root).replace(os.sep, "/")
    if rel == ".." or rel.startswith("../"):
        raise UsageError(f"{path!r} is outside the git repository at {root}")
    if rel == ".":
        raise UsageError(f"{path!r} is the root of the git repository: track a folder or file inside it")
    if {".git", ".artifacts"} & set(rel.split("/")):
        raise UsageError(f"{path!r} is inside a repository's own folder (.git or .artifacts): track your data instead")
    return rel + "/" if os.path.isdir(absolute) else rel


def staged_pins(root: str) -> dict[str, Any] | None:
    """The pins of the lock file in the index git is about to commit (None when not staged).

    Honours ``$GIT_INDEX_FILE``, which git sets for ``commit -a`` and ``commit PATH``.
    """
    import pygit2

    repo = _git(root)
    env = os.environ.get("GIT_INDEX_FILE")
    index = pygit2.Index(env if os.path.isabs(env) else os.path.join(root, env)) if env else repo.index
    try:
        entry = index[LOCK]
    except KeyError:
        return None
    return parse_lock(repo[entry.id].data, f"{LOCK} (staged)")


def _overlap(rel: str, others: set[str]) -> str | None:
    for other in others:
        if other != rel and (other.startswith(rel) and rel.endswith("/") or rel.startswith(other) and other.endswith("/")):
            return other
    return None


@dataclass
class Pin:
    """One line of the lock file: the version a path holds."""

    path: str
    name: str
    version: str
    digest: str
    commit: str

    def to_json(self) -> dict[str, str]:
        return asdict(self)


def track(context: Context, path: str, name: str | None, type_: str | None, aliases: list[str]) -> Pin:
    """Log ``path`` as the next version of its artifact, declare it, pin it, and make git ignore it."""
    if not os.path.exists(path):
        raise UsageError(f"{path!r} does not exist: track an existing folder or file")
    root = git_root(os.path.dirname(os.path.realpath(path)))
    rel = rel_path(root, path)
    _refuse_linked_ignore(root)  # before anything is logged, declared or pinned
    parsed = context.repo.statcache  # the files' parses kept by content: a re-log imports no YAML parser
    decl = declarations(root, parsed)
    all_pins = pins(root, parsed)
    clash = _overlap(rel, set(decl) | set(all_pins))
    if clash:
        raise UsageError(f"{rel!r} overlaps the tracked path {clash!r}: track folders that do not contain each other")
    known = decl.get(rel, {})
    name = name or known.get("name") or slug(os.path.basename(rel.rstrip("/")))
    type_ = type_ or known.get("type") or "dataset"
    art = Artifact(name, type_)
    if rel.endswith("/"):
        art.add_dir(os.path.join(root, rel))
    else:
        art.add_file(os.path.join(root, rel))
    run = init(job_type="track", entity=context.entity, project=context.project, dir=context.repo.worktree)
    try:
        run.log_artifact(art, aliases=aliases)
    except BaseException:
        run.discard()  # a failed track leaves no run behind (nor anything else)
        raise
    run.finish()
    decl[rel] = {"name": name, "type": type_}
    _save(os.path.join(root, DECLARATIONS), _DECL_HEADER, "tracked", decl, parsed)
    pin = Pin(rel, f"{art.entity}/{art.project}/{art._source.collection.name}", art.version, art.digest, art.commit_hash)
    all_pins[rel] = {k: v for k, v in pin.to_json().items() if k != "path"}
    _save(os.path.join(root, LOCK), _LOCK_HEADER, "pins", all_pins, parsed)
    _ignore(root, rel)
    store = os.path.realpath(context.repo.gitdir)
    if store.startswith(root + os.sep):  # the artifact repository itself is no business of git's
        _ignore(root, os.path.relpath(store, root).replace(os.sep, "/") + "/")
    return pin


def _refuse_linked_ignore(root: str) -> None:
    """Refuse a root .gitignore that is a symbolic link: git can check one out of a commit, and
    appending through it would write outside the work tree."""
    gi = os.path.join(root, ".gitignore")
    if os.path.islink(gi):
        raise UsageError(f"{gi} is a symbolic link: artvcs appends to .gitignore and writes nothing through a link; "
                         "replace it with a regular file")


def _ignore(root: str, rel: str) -> None:
    """Add ``/rel`` to the root .gitignore once: git tracks the pin, artvcs the content.

    Opened with O_NOFOLLOW (a link swapped in after :func:`_refuse_linked_ignore` is refused too)."""
    gi = os.path.join(root, ".gitignore")
    line = "/" + rel
    nofollow = os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(gi, os.O_RDWR | os.O_APPEND | os.O_CREAT | nofollow, 0o666)
    except OSError as e:
        if os.path.islink(gi):
            _refuse_linked_ignore(root)
        raise
    with open(fd, "r+", encoding="utf-8") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UsageError(f"{gi} is not a regular file: artvcs appends to .gitignore; replace it with a regular file")
        text = f.read()
        if line not in text.splitlines():
            f.write(("" if not text or text.endswith("\n") else "\n") + line + "\n")


def known_to_git(root: str, rel: str) -> bool:
    """True if git's index still holds files under ``rel`` (ignoring does not untrack them)."""
    repo = _git(root)
    return any(e.path == rel or e.path.startswith(rel) and rel.endswith("/") for e in repo.index)


def resolve_pin(context: Context, rel: str, pin: Any, strict: bool = False):
    """The logged artifact a pin names; refuses a pin whose commit or digest does not match.

    A push that found the version number taken on the remote renumbers the
    local version, so ``name:vN`` can go stale; unless ``strict`` (pre-commit,
    where re-tracking fixes the pin), a version of the collection with the
    pin's digest, which names the same content, is accepted.
    """
    if not isinstance(pin, dict) or not all(isinstance(pin.get(k), str) for k in ("name", "version", "digest", "commit")):
        raise UsageError(f"pin of {rel!r} in {LOCK} needs name, version, digest and commit: re-run 'artvcs track {rel}'")
    try:
        art = resolve_artifact(context, f"{pin['name']}:{pin['version']}")
    except ArtvcsError as e:
        art, why = None, str(e)
    if art is not None and art.commit_hash == pin["commit"] and art.digest == pin["digest"]:
        return art
    moved = None if strict else _by_digest(context, pin)
    if moved is not None:
        return moved
    if art is None:
        raise NotFoundError(
            f"pin of {rel!r} ({pin['name']}:{pin['version']}) does not resolve: {why} "
            f"(pull it with 'artvcs pull', or re-pin with 'artvcs track {rel}')"
        )
    raise UsageError(f"pin of {rel!r} names {art.name} but its commit or digest differs from {LOCK}: re-run 'artvcs track {rel}'")


def _by_digest(context: Context, pin: dict[str, str]):
    """The version of the pin's collection whose digest is the pin's, or None."""
    try:
        art = resolve_artifact(context, f"{pin['name']}:{pin['digest']}")
    except ArtvcsError:
        return None
    return art if art.digest == pin["digest"] else None


def check_pins(context: Context, pinned: dict[str, Any], strict: bool = False) -> list:
    """Resolve every pin, all or nothing: the first that does not resolve raises."""
    return [resolve_pin(context, rel, pin, strict) for rel, pin in sorted(pinned.items())]


def _state(context: Context, root: str, rel: str, art) -> tuple[str, list[dict[str, str]]]:
    from artvcs.plumbing.hashing import hash_file
    from artvcs.plumbing.worklinks import verify_workspace

    target = place(root, rel)
    if not os.path.lexists(target):
        return "missing", []
    entries = [e.to_entry() for e in art.manifest.entries.values()]
    if rel.endswith("/"):
        if not os.path.isdir(target):
            return "modified", [{"path": "", "problem": "not a folder"}]
        problems = verify_workspace(entries, target, context.repo.store, context.repo.statcache)
        if not problems:  # the next status of this folder needs no manifest read (quickstatus)
            foldersums.keep(context.repo.statcache, art.commit_hash, art.digest, entries)
        return ("modified" if problems else "clean"), [{"path": p, "problem": what} for p, what in problems]
    if not os.path.isfile(target) or len(entries) != 1:
        return "modified", [{"path": "", "problem": "not a file"}]
    return ("clean" if hash_file(target)[0] == entries[0].digest else "modified"), []


def status(context: Context, start: str | None = None) -> list[dict[str, Any]]:
    """Each tracked path of the git work tree around ``start`` (default: the current folder): its pin,
    and whether the workspace holds exactly the pinned version.

    States: clean, modified (``changes`` lists the files), missing, unresolvable
    (``detail`` says why), not pinned (declared but never logged).
    """
    root = git_root(start)
    out = []
    parsed = context.repo.statcache  # the files' parses kept by content (config.parse)
    decl = declarations(root, parsed)
    all_pins = pins(root, parsed)
    for rel in sorted(set(decl) | set(all_pins)):
        pin = all_pins.get(rel)
        row: dict[str, Any] = {"path": rel, "pin": f"{pin.get('name')}:{pin.get('version')}" if isinstance(pin, dict) else None,
                               "state": "not pinned", "changes": []}
        if pin is not None:
            try:
                row["state"], row["changes"] = _state(context, root, rel, resolve_pin(context, rel, pin))
            except ArtvcsError as e:
                row["state"], row["detail"] = "unresolvable", str(e)
        out.append(row)
    return out


def sync(context: Context, start: str | None = None, force: bool = False, mode: str | None = None) -> list[dict[str, Any]]:
    """Bring every tracked path of the git work tree around ``start`` to its pinned version (what
    the git hooks run, and ``artvcs checkout`` without a version); return, per path, {path,
    version, written, removed, up_to_date}.

    Every pin is resolved before any path changes; a path whose files are
    not in the store (unlogged work) is refused unless ``force``, and a path
    through a symbolic link always (:func:`lockfile.place`).
    """
    from artvcs.logged import materialize  # the checkout path: not loaded for a log

    root = git_root(start)
    pinned = pins(root, context.repo.statcache)  # kept by the track that wrote it: no YAML parser
    places = {rel: place(root, rel) for rel in pinned}  # every path checked before any changes
    done = []
    for rel, art in zip(sorted(pinned), check_pins(context, pinned)):
        target = places[rel]
        if rel.endswith("/"):
            result = materialize.checkout(art, target, force=force, mode=mode)
            written, removed = result.written, result.removed
        else:
            from artvcs.plumbing.hashing import hash_file

            (entry,) = art.manifest.entries.values()
            written, removed = 0, 0
            if not (os.path.isfile(target) and hash_file(target)[0] == entry.digest):
                materialize.place_single(art, entry.path, target, force=force)
                written = 1
        done.append({"path": rel, "version": art.qualified_name, "written": written, "removed": removed,
                     "up_to_date": not (written or removed)})
    return done


def _lock_blobs(repo) -> list[tuple[str, bytes]]:
    """The lock file as committed at HEAD and at the tip of every branch and tag, and as staged."""
    import pygit2

    found: dict[str, tuple[str, bytes]] = {}
    tips = ["HEAD"] + sorted(r for r in repo.references if r.startswith(("refs/heads/", "refs/tags/")))
    for name in tips:
        try:
            entry = repo.revparse_single(name).peel(pygit2.Commit).tree[LOCK]
        except (KeyError, ValueError, pygit2.GitError):
            continue
        found.setdefault(str(entry.id), (f"{LOCK} at {name}", repo[entry.id].data))
    try:
        entry = repo.index[LOCK]
        found.setdefault(str(entry.id), (f"{LOCK} (staged)", repo[entry.id].data))
    except (KeyError, pygit2.GitError):
        pass
    return list(found.values())


def pinned_commits(context: Context) -> list[str]:
    """Commits pinned by the enclosing git repository's lock files, in the work tree and on every
    branch and tag (gc keeps their content, so switching branches never finds it gone)."""
    try:
        root = git_root(context.repo.worktree)
        repo = _git(root)
    except UsageError:
        return []
    sources = [pins(root)] if os.path.exists(os.path.join(root, LOCK)) else []
    for where, data in _lock_blobs(repo):
        try:
            sources.append(parse_lock(data, where))
        except UsageError:
            continue  # a broken lock on some branch protects nothing but must not stop gc
    return sorted({p["commit"] for s in sources for p in s.values() if isinstance(p, dict) and isinstance(p.get("commit"), str)})
