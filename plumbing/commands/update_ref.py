"""``artvcs update-ref``: create, move or delete a ref by compare-and-swap.

Unlike ``git update-ref``, an unconditional update is refused: every move
names the value it replaces (OLD, or ``--create`` for "must not exist"), so
a script can never silently overwrite another writer's move. The new target
must be the kind of object the namespace holds, so fsck stays clean.
"""
from __future__ import annotations

import re

import click
import pygit2

from artvcs.plumbing import refs, revparse, runs, versions
from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.names import VERSION_RE, check_alias, check_name, decode_component, encode_component
from artvcs.plumbing.repository import Repository

from .options import namespace, namespace_options, repo

_OID = re.compile(r"[0-9a-f]{40}")
# components after refs/<namespace>/ in each namespace
_DEPTH = {"collections": 3, "versions": 4, "aliases": 4, "attrs": 3, "runs": 3}


def check_refname(name: str) -> tuple[str, refs.CollectionId | None, str | None]:
    """Parse an artvcs ref name, refusing any that is not in canonical (percent-encoded) form."""
    try:
        ns, coll, leaf = refs.parse_ref(name)
        parts = name.split("/")[2:]
        canonical = "/".join(["refs", ns] + [encode_component(decode_component(p)) for p in parts])
    except ValueError as e:  # UsageError, or a bad %-escape
        raise UsageError(str(e) if isinstance(e, ArtvcsError) else f"invalid ref name {name!r}: bad %-escape") from None
    if len(parts) != _DEPTH[ns]:
        raise UsageError(f"invalid ref name {name!r}: refs/{ns}/ takes {_DEPTH[ns]} components (see artvcs-format(5))")
    if canonical != name:
        raise UsageError(f"invalid ref name {name!r}: components must be percent-encoded; write {canonical!r}")
    if coll is not None:
        for part, what in zip((coll.entity, coll.project, coll.name), ("entity", "project", "artifact name")):
            check_name(part, what)
    if ns == "versions" and not (leaf and VERSION_RE.fullmatch(leaf)):
        raise UsageError(f"invalid ref name {name!r}: a version ref ends in v<number>")
    if ns == "aliases":
        check_alias(leaf)
    return ns, coll, leaf


def _target(r: Repository, value: str, entity: str | None, project: str | None) -> str | None:
    """A commit id from forty hex digits or a version spec; None for forty zeros."""
    if value == refs.ZERO:
        return None
    if _OID.fullmatch(value):
        return value
    e, p = namespace(r, entity, project)
    return str(revparse.resolve(r.git, value, e, p).commit)


def _check_new(r: Repository, name: str, ns: str, coll: refs.CollectionId | None, leaf: str | None, oid: str) -> None:
    """Refuse a target that is not the kind of object ``name``'s namespace holds."""
    obj = r.git.get(oid)
    if not isinstance(obj, pygit2.Commit):
        what = "nothing" if obj is None else f"a {obj.type_str}"
        raise UsageError(f"cannot point {name} at {oid}: it is {what}, not a commit")
    if ns == "runs" and runs.RUN_FILE not in obj.tree:
        raise UsageError(f"cannot point {name} at {oid}: it is not a run record (no run.json)")
    if ns in ("runs", "attrs"):
        return
    v = versions.read_version(r.git, oid)
    if v.collection != coll:
        raise UsageError(f"cannot point {name} at {oid}: it is a version of {v.collection}, not of {coll}")
    if ns == "versions" and leaf != f"v{v.number}":
        raise UsageError(f"cannot point {name} at {oid}: that commit is v{v.number}")


@click.command("update-ref", short_help="Create, move or delete a ref by compare-and-swap.")
@click.option("-d", "delete", is_flag=True, help="Delete REFNAME; it must hold OLD (given as the second argument).")
@click.option("--create", is_flag=True, help="REFNAME must not exist yet (the same as OLD of forty zeros).")
@click.option("-m", "message", default="update-ref", show_default=True, metavar="MESSAGE", help="Reflog message.")
@namespace_options
@click.argument("refname")
@click.argument("new", required=False)
@click.argument("old", required=False)
def update_ref(delete: bool, create: bool, message: str, entity: str | None, project: str | None,
               refname: str, new: str | None, old: str | None) -> None:
    """Set REFNAME to NEW if it now holds OLD; with -d, delete REFNAME if it holds OLD.

    OLD is always required (forty zeros, or --create, for a ref that must
    not exist yet).
    """
    ns, coll, leaf = check_refname(refname)
    r = repo()
    if delete:
        if new is None or old is not None or create:
            raise click.UsageError("-d takes REFNAME OLD")
        expected = _target(r, new, entity, project)
        if expected is None:
            raise UsageError(f"cannot delete {refname}: give the commit it holds as OLD, not forty zeros")
        refs.update(r.git, refname, None, expected, message)
        return
    if new is None or (old is None) != create:
        raise click.UsageError("give REFNAME NEW OLD, or --create REFNAME NEW")
    new_oid = _target(r, new, entity, project)
    if new_oid is None:
        raise UsageError("NEW may not be forty zeros: use -d to delete")
    _check_new(r, refname, ns, coll, leaf, new_oid)
    refs.update(r.git, refname, new_oid, _target(r, old, entity, project) if old else None, message)
