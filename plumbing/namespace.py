"""The repository's default namespace (entity and project), recorded once, with history.

A repository's default entity and project are chosen at ``artvcs init`` (or
carried by ``clone``) and recorded in the repository, so they never drift
with the folder's name or with who is typing. The record is a chain of
commits at ``refs/namespace``: each commit's tree holds one blob,
``namespace.json`` (canonical JSON ``{"entity", "project"}``), its author is
who set it, and its message says why (``init``, ``clone``, ``pin``, ``set``).
A repository made before the record existed is pinned from the old
derivation (:func:`derive`) the first time it is opened for writing.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

import pygit2

from . import identity, refs
from .errors import ConflictError, UsageError
from .manifest import canonical_json
from .names import check_name, slug

REF = "refs/namespace"
FILE = "namespace.json"
MAX_ATTEMPTS = 100


@dataclass(frozen=True)
class Namespace:
    """A default entity and project."""

    entity: str
    project: str

    def __str__(self) -> str:
        return f"{self.entity}/{self.project}"


def parse(data: bytes, where: str) -> Namespace:
    """A ``namespace.json`` body (local or from a remote: untrusted), checked against the name rules."""
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise UsageError(f"{where} is not a JSON object {{\"entity\", \"project\"}}") from None
    if not isinstance(obj, dict):
        raise UsageError(f"{where} is not a JSON object {{\"entity\", \"project\"}}")
    return Namespace(check_name(obj.get("entity"), f"entity in {where}"), check_name(obj.get("project"), f"project in {where}"))


def encode(ns: Namespace) -> bytes:
    return canonical_json({"entity": ns.entity, "project": ns.project})


def read(git: pygit2.Repository) -> Namespace | None:
    """The recorded default namespace, or None for a repository made before it was recorded."""
    tip = refs.read(git, REF)
    if tip is None:
        return None
    commit = git[tip]
    if not isinstance(commit, pygit2.Commit) or FILE not in commit.tree:
        raise UsageError(f"{REF} in {git.path} does not hold {FILE}: the repository is damaged (artvcs fsck)")
    return parse(git[commit.tree[FILE].id].data, f"{REF}:{FILE}")


def record(git: pygit2.Repository, ns: Namespace, reason: str, only_if_absent: bool = False) -> Namespace:
    """Record ``ns`` as the default (a new commit on the chain, author: who is acting); returns what is recorded.

    With ``only_if_absent`` an existing record wins (pinning races another
    pinning process). Recording what is already recorded writes nothing.
    """
    check_name(ns.entity, "entity")
    check_name(ns.project, "project")
    author = identity.current()
    for attempt in range(MAX_ATTEMPTS):
        refs.backoff(attempt)
        tip = refs.read(git, REF)
        if tip is not None:
            current = read(git)
            if only_if_absent or current == ns:
                return current  # type: ignore[return-value]
        tb = git.TreeBuilder()
        tb.insert(FILE, git.create_blob(encode(ns)), pygit2.GIT_FILEMODE_BLOB)
        sig = pygit2.Signature(author.name, author.email, int(time.time()), 0)
        oid = git.create_commit(None, sig, sig, f"{reason}: {ns}\n", tb.write(), [tip] if tip else [])
        try:
            refs.update(git, REF, oid, tip, f"{reason}: {ns}")
            return ns
        except ConflictError:
            continue
    raise ConflictError(f"could not record the namespace {ns} after {MAX_ATTEMPTS} attempts: retry")


def history(git: pygit2.Repository) -> list[dict[str, Any]]:
    """Every recorded default, oldest first: entity, project, author, email, time (unix), message."""
    tip = refs.read(git, REF)
    out = []
    while tip is not None:
        c = git[tip]
        ns = parse(git[c.tree[FILE].id].data, f"{REF}:{FILE}") if FILE in c.tree else None
        out.append({"entity": ns.entity if ns else None, "project": ns.project if ns else None,
                    "author": c.author.name, "email": c.author.email, "time": c.author.time,
                    "message": c.message.strip()})
        tip = c.parent_ids[0] if c.parent_ids else None
    return out[::-1]


def derive(worktree: str, settings: dict[str, Any] | None = None) -> Namespace:
    """The derivation of the previous release: ``$ARTVCS_ENTITY``, ``entity`` in config.yaml, git's
    ``user.name``, the OS user; ``$ARTVCS_PROJECT``, ``project`` in config.yaml, the folder's name.
    Used once: at init without options, and to pin a repository made before the record existed."""
    settings = settings or {}

    def named(env: str, key: str, what: str) -> str | None:
        if os.environ.get(env):
            return check_name(os.environ[env], f"{what} (${env})")
        if settings.get(key):
            return check_name(str(settings[key]), f"{what} (config.yaml)")
        return None

    entity = named("ARTVCS_ENTITY", "entity", "entity")
    if not entity:
        git_name, _ = identity.git_user()
        entity = slug(git_name or identity.os_user() or "") or "local"
    project = named("ARTVCS_PROJECT", "project", "project")
    if not project:
        project = slug(os.path.basename(os.path.abspath(worktree))) or "default"
    return Namespace(entity, project)


def with_overrides(ns: Namespace) -> Namespace:
    """``ns`` with ``$ARTVCS_ENTITY``/``$ARTVCS_PROJECT`` in place of its parts, for one command."""
    entity = os.environ.get("ARTVCS_ENTITY")
    project = os.environ.get("ARTVCS_PROJECT")
    if not entity and not project:
        return ns
    return Namespace(check_name(entity, "entity ($ARTVCS_ENTITY)") if entity else ns.entity,
                     check_name(project, "project ($ARTVCS_PROJECT)") if project else ns.project)


def pin_notice(ns: Namespace) -> str:
    """What to tell the user, once, when a repository of the previous release gets its namespace pinned."""
    return (f"artvcs: this repository's default namespace is now recorded as {ns} (before, it was derived from who "
            "was typing and the folder's name); change it with 'artvcs config set project NAME'")
