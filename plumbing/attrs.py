"""Mutable attributes of committed versions, with their history.

Description, metadata, ttl and tags change after a version is committed, but
its commit and manifest never do. Each collection has a chain of commits at
``refs/attrs/<E>/<P>/<C>``; the tree of each holds ``v<N>.json`` with the
current attributes of version N, and every edit is a new commit whose message
says what changed. A version with no ``v<N>.json`` yet has the attributes it
was committed with (``attrs`` in its ``artifact.json``).
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pygit2

from . import identity, refs
from .errors import ConflictError
from .manifest import canonical_json
from .refs import CollectionId

MAX_ATTEMPTS = 1000


def _blob_name(number: int) -> str:
    return f"v{number}.json"


def read_attrs(repo: pygit2.Repository, coll: CollectionId, number: int) -> dict[str, Any] | None:
    """The recorded attributes of version ``number``, or None if never edited."""
    tip = refs.read(repo, coll.attrs_ref)
    if tip is None:
        return None
    tree = repo[tip].tree
    name = _blob_name(number)
    if name not in tree:
        return None
    return json.loads(repo[tree[name].id].data)


def edit_attrs(
    repo: pygit2.Repository,
    coll: CollectionId,
    number: int,
    initial: dict[str, Any],
    edit: Callable[[dict[str, Any]], dict[str, Any]],
    message: str,
) -> dict[str, Any]:
    """Apply ``edit`` to version ``number``'s attributes and record it (compare-and-swap, retried)."""
    for attempt in range(MAX_ATTEMPTS):
        refs.backoff(attempt)
        tip = refs.read(repo, coll.attrs_ref)
        tree = repo[tip].tree if tip is not None else None
        name = _blob_name(number)
        current = json.loads(repo[tree[name].id].data) if tree is not None and name in tree else dict(initial)
        new = edit(json.loads(json.dumps(current)))
        if new == current:
            return current
        tb = repo.TreeBuilder(tree) if tree is not None else repo.TreeBuilder()
        tb.insert(name, repo.create_blob(canonical_json(new)), pygit2.GIT_FILEMODE_BLOB)
        who = identity.current()
        sig = pygit2.Signature(who.name, who.email, int(time.time()), 0)
        oid = repo.create_commit(None, sig, sig, f"v{number}: {message}\n", tb.write(), [tip] if tip else [])
        try:
            refs.update(repo, coll.attrs_ref, oid, tip, f"v{number}: {message}")
            return new
        except ConflictError:
            continue
    raise ConflictError(f"could not record the edit of {coll}:v{number} after {MAX_ATTEMPTS} attempts")


def history(repo: pygit2.Repository, coll: CollectionId, number: int) -> list[dict[str, Any]]:
    """Every recorded edit of version ``number``, oldest first: time, message, attributes after, who."""
    tip = refs.read(repo, coll.attrs_ref)
    out = []
    name = _blob_name(number)
    commit = repo[tip] if tip else None
    while commit is not None:
        parent = commit.parents[0] if commit.parents else None
        mine = commit.tree[name].id if name in commit.tree else None
        before = parent.tree[name].id if parent is not None and name in parent.tree else None
        if mine is not None and mine != before:
            out.append(
                {
                    "time": commit.commit_time,
                    "message": commit.message.strip().split(": ", 1)[-1],
                    "attrs": json.loads(repo[mine].data),
                    "commit": str(commit.id),
                    "author": commit.author.name,
                    "email": commit.author.email,
                }
            )
        commit = parent
    out.reverse()
    return out
