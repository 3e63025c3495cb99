"""``artvcs alias``: add, remove and list the aliases of a version."""
from __future__ import annotations

import click

from artvcs.errors import UsageError
from artvcs.porcelain.app import artifact, complete_alias, ref_argument
from artvcs.porcelain.output import emit_json, json_option


@click.group("alias")
def alias() -> None:
    """Add, remove or list the aliases of a version."""


def _report(a, as_json: bool) -> None:
    if as_json:
        emit_json({"name": a.name, "aliases": a.aliases})
    else:
        click.echo(f"{a.name}: {', '.join(a.aliases) or '-'}")


@alias.command("add")
@json_option
@ref_argument()
@click.argument("names", nargs=-1, required=True)
def add(as_json: bool, ref: str, names: tuple[str, ...]) -> None:
    """Point aliases NAMES at version REF, moving them from any other version of its collection."""
    a = artifact(ref)
    a.aliases = list(dict.fromkeys(a.aliases + list(names)))
    a.save()
    _report(a, as_json)


@alias.command("rm")
@json_option
@ref_argument()
@click.argument("names", nargs=-1, required=True, shell_complete=complete_alias)
def rm(as_json: bool, ref: str, names: tuple[str, ...]) -> None:
    """Remove aliases NAMES from version REF."""
    a = artifact(ref)
    missing = [n for n in names if n not in a.aliases]
    if missing:
        raise UsageError(f"{a.name} has no alias {missing[0]!r} (its aliases: {', '.join(a.aliases) or 'none'})")
    a.aliases = [x for x in a.aliases if x not in names]
    a.save()
    _report(a, as_json)


@alias.command("ls")
@json_option
@ref_argument()
def ls(as_json: bool, ref: str) -> None:
    """List the aliases of version REF, one a line."""
    a = artifact(ref)
    if as_json:
        emit_json({"name": a.name, "aliases": a.aliases})
    else:
        for n in a.aliases:
            click.echo(n)
