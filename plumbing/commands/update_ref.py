"""``artvcs update-ref``: move, create or delete a ref by compare-and-swap."""
from __future__ import annotations

import click

from artvcs.plumbing import refs, revparse
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.names import check_alias

from .options import namespace, namespace_options, repo


def _target(r, value: str, entity: str | None, project: str | None):
    if value == refs.ZERO:
        return None
    if len(value) == 40 and all(c in "0123456789abcdef" for c in value):
        return value
    e, p = namespace(r, entity, project)
    return revparse.resolve(r.git, value, e, p).commit


@click.command("update-ref")
@click.option("-d", "delete", is_flag=True, help="Delete REFNAME (it must hold OLD).")
@click.option("--create", is_flag=True, help="REFNAME must not exist yet (same as OLD of forty zeros).")
@click.option("-m", "message", default="update-ref", help="Reflog message.")
@namespace_options
@click.argument("refname")
@click.argument("values", nargs=-1)
def update_ref(delete: bool, create: bool, message: str, entity: str | None, project: str | None, refname: str, values: tuple[str, ...]) -> None:
    """Create, move or delete a ref by compare-and-swap: update-ref REFNAME NEW OLD.

    Every move is a compare-and-swap: give OLD (forty zeros: must not exist)
    or --create. With -d: update-ref -d REFNAME OLD.
    """
    ns, coll, leaf = refs.parse_ref(refname)
    if ns == "aliases":
        check_alias(leaf)
    r = repo()
    if delete:
        if len(values) != 1:
            raise click.UsageError("-d takes REFNAME OLD")
        refs.update(r.git, refname, None, _target(r, values[0], entity, project), message)
        return
    if len(values) == 1 and create:
        new, old = values[0], None
    elif len(values) == 2 and not create:
        new, old = values
    else:
        raise click.UsageError("give REFNAME NEW OLD, or --create REFNAME NEW")
    new_oid = _target(r, new, entity, project)
    if new_oid is None:
        raise UsageError("NEW may not be forty zeros: use -d to delete")
    refs.update(r.git, refname, new_oid, _target(r, old, entity, project) if old else None, message)
