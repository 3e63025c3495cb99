"""Tracking workspace paths of a git repository as artifact versions.

Two YAML files at the git work tree's root, both committed with the code:
``artvcs.yaml`` declares each tracked path and the artifact it is versioned
as; ``artvcs.lock`` pins each path to one version (name, version, digest,
commit). Keys are sorted and every file starts with a comment, so that git
diffs of them stay small and readable.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from artvcs.context import Context
from artvcs.plumbing import config
from artvcs.plumbing.errors import ArtvcsError, NotFoundError, UsageError
from artvcs.plumbing.names import slug

DECLARATIONS = "artvcs.yaml"
LOCK = "artvcs.lock"
_DECL_HEADER = "# artvcs: paths of this repository tracked as artifacts (artvcs track PATH).\n# Commit this file; artvcs.lock pins each path to a version.\n"
_LOCK_HEADER = "# artvcs lock file: the artifact version each tracked path holds.\n# Written by 'artvcs track'; commit it. Hooks check out these versions on git checkout.\n"


def git_root(start: str | None = None) -> str:
    """The work tree root of the git repository around ``start`` (or the current folder)."""
    import pygit2

    found = pygit2.discover_repository(start or os.getcwd())
    if not found:
        raise UsageError(f"{start or os.getcwd()} is not inside a git repository: run 'git init' first")
    repo = pygit2.Repository(found)
    if repo.is_bare or not repo.workdir:
        raise UsageError("tracking needs a git work tree, not a bare repository")
    return repo.workdir.rstrip(os.sep)


def _load(path: str, key: str) -> dict[str, Any]:
    section = config.load(path).get(key) or {}
    if not isinstance(section, dict):
        raise UsageError(f"{path}: '{key}' must be a mapping; fix it or restore it from git")
    return section


def _save(path: str, header: str, key: str, value: dict[str, Any]) -> None:
    config.save(path, {key: value}, header)


def rel_path(root: str, path: str) -> str:
    """``path`` relative to the git root, with '/' and a trailing '/' for folders."""
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute, root)
    if rel.startswith(".."):
        raise UsageError(f"{path!r} is outside the git repository at {root}")
    rel = rel.replace(os.sep, "/")
    return rel + "/" if os.path.isdir(absolute) else rel


def declarations(root: str) -> dict[str, Any]:
    return _load(os.path.join(root, DECLARATIONS), "tracked")


def pins(root: str) -> dict[str, Any]:
    return _load(os.path.join(root, LOCK), "pins")


@dataclass
class Pin:
    path: str
    name: str
    version: str
    digest: str
    commit: str


def track(context: Context, path: str, name: str | None, type_: str | None, aliases: list[str]) -> Pin:
    """Log ``path`` as the next version of its artifact and pin it."""
    import artvcs
    from artvcs.session import init

    root = git_root(os.path.dirname(os.path.abspath(path)))
    rel = rel_path(root, path)
    decl = declarations(root)
    known = decl.get(rel, {})
    name = name or known.get("name") or slug(os.path.basename(rel.rstrip("/")))
    type_ = type_ or known.get("type") or "dataset"
    art = artvcs.Artifact(name, type_)
    if rel.endswith("/"):
        art.add_dir(os.path.join(root, rel))
    else:
        art.add_file(os.path.join(root, rel))
    with init(job_type="track", entity=context.entity, project=context.project, dir=context.repo.worktree) as run:
        run.log_artifact(art, aliases=aliases)
    decl[rel] = {"name": name, "type": type_}
    _save(os.path.join(root, DECLARATIONS), _DECL_HEADER, "tracked", decl)
    pin = Pin(rel, f"{art.entity}/{art.project}/{art._source.collection.name}", art.version, art.digest, art.commit_hash)
    all_pins = pins(root)
    all_pins[rel] = {"name": pin.name, "version": pin.version, "digest": pin.digest, "commit": pin.commit}
    _save(os.path.join(root, LOCK), _LOCK_HEADER, "pins", all_pins)
    _ignore(root, rel)
    return pin


def _ignore(root: str, rel: str) -> None:
    """Add ``/rel`` to the root .gitignore once: git tracks the pin, artvcs the content."""
    gi = os.path.join(root, ".gitignore")
    line = "/" + rel
    try:
        with open(gi, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    if line not in lines:
        with open(gi, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def resolve_pin(context: Context, rel: str, pin: dict[str, Any]):
    """The logged artifact a pin names; refuses a pin whose commit or digest does not match."""
    from artvcs.api import resolve_artifact

    try:
        art = resolve_artifact(context, f"{pin['name']}:{pin['version']}")
    except (ArtvcsError, KeyError) as e:
        raise NotFoundError(f"pin of {rel!r} ({pin.get('name')}:{pin.get('version')}) does not resolve: {e}") from None
    if art.commit_hash != pin.get("commit") or art.digest != pin.get("digest"):
        raise UsageError(f"pin of {rel!r} names {art.name} but its commit or digest differs from the lock file: re-run 'artvcs track {rel}'")
    return art


def status(context: Context) -> list[dict[str, Any]]:
    """Each tracked path: its pin and whether the workspace matches it."""
    from artvcs.plumbing.checkout import verify_folder

    root = git_root(context.repo.worktree)
    out = []
    decl = declarations(root)
    all_pins = pins(root)
    for rel in sorted(set(decl) | set(all_pins)):
        pin = all_pins.get(rel)
        row: dict[str, Any] = {"path": rel, "pin": f"{pin['name']}:{pin['version']}" if pin else None}
        if pin is None:
            row["state"] = "not pinned"
            out.append(row)
            continue
        try:
            art = resolve_pin(context, rel, pin)
        except ArtvcsError as e:
            row["state"], row["detail"] = "unresolvable", str(e)
            out.append(row)
            continue
        target = os.path.join(root, rel)
        if not os.path.exists(target):
            row["state"] = "missing"
        elif rel.endswith("/"):
            problems = verify_folder([e.to_entry() for e in art.manifest.entries.values()], target, context.repo.statcache)
            row["state"] = "clean" if not problems else "modified"
            row["changes"] = [{"path": p, "problem": what} for p, what in problems]
        else:
            from artvcs.plumbing.hashing import hash_file

            (entry,) = art.manifest.entries.values()
            row["state"] = "clean" if hash_file(target)[0] == entry.digest else "modified"
        out.append(row)
    return out


def sync(context: Context, force: bool = False) -> list[str]:
    """Bring every tracked path to its pinned version (what the git hooks run)."""
    from artvcs import materialize

    root = git_root(context.repo.worktree)
    done = []
    resolved = {rel: resolve_pin(context, rel, pin) for rel, pin in pins(root).items()}  # all or nothing
    for rel, art in sorted(resolved.items()):
        target = os.path.join(root, rel)
        if rel.endswith("/"):
            materialize.checkout(art, target, force=force)
        else:
            (entry,) = art.manifest.entries.values()
            materialize.place_single(art, entry.path, target, force=force)
        done.append(f"{rel} -> {art.name}")
    return done


def pinned_commits(context: Context) -> list[str]:
    """Commits named by the lock file of the enclosing git repository, if there is one (for gc)."""
    try:
        root = git_root(context.repo.worktree)
    except UsageError:
        return []
    return [p.get("commit") for p in pins(root).values() if p.get("commit")]
