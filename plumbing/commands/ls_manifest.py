"""``artvcs ls-manifest``: list a manifest's entries.

The listing is the one ``mktree`` reads back, sorted by the bytes of the
path (as git sorts), so two listings can be compared with ``diff`` or
``comm``.
"""
from __future__ import annotations

import re

import click
import pygit2

from artvcs.plumbing import revparse
from artvcs.plumbing.errors import NotFoundError
from artvcs.plumbing.listing import format_entry
from artvcs.plumbing.manifest import iter_entries
from artvcs.plumbing.repository import Repository
from artvcs.plumbing.versions import read_version

from .options import emit, namespace, namespace_options, repo, z_option

_HEX = re.compile(r"[0-9a-f]{7,40}")


def _lookup(r: Repository, obj: str) -> pygit2.Object | None:
    if not _HEX.fullmatch(obj):
        return None
    try:
        return r.git.get(obj) if len(obj) == 40 else r.git.git_object_lookup_prefix(obj)
    except (ValueError, KeyError, pygit2.GitError):
        return None


def manifest_tree(r: Repository, obj: str, entity: str | None, project: str | None) -> pygit2.Oid:
    """A manifest tree id from a tree id, a version commit id, or a version spec."""
    found = _lookup(r, obj)
    if isinstance(found, pygit2.Tree):
        return found.id
    if isinstance(found, pygit2.Commit):
        return read_version(r.git, found.id).manifest
    e, p = namespace(r, entity, project)
    try:
        return revparse.resolve(r.git, obj, e, p).manifest
    except NotFoundError:
        raise NotFoundError(f"{obj!r} is neither a manifest tree, a version commit nor a version name") from None


@click.command("ls-manifest")
@z_option
@click.option("--long", "long_form", is_flag=True, help="Also print each entry's reference URI and extra JSON.")
@namespace_options
@click.argument("object")
@click.argument("prefix", required=False)
def ls_manifest(nul: bool, long_form: bool, entity: str | None, project: str | None, object: str, prefix: str | None) -> None:
    """List the entries of a manifest (under PREFIX), sorted by path."""
    r = repo()
    tree = manifest_tree(r, object, entity, project)
    entries = sorted(iter_entries(r.git, tree, prefix or ""), key=lambda e: e.path.encode())
    emit((format_entry(e, long_form) for e in entries), nul)
