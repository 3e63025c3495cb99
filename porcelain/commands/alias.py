"""``artvcs alias``: add, remove and list aliases."""
from __future__ import annotations

import click

from artvcs.porcelain.app import artifact, ref_argument
from artvcs.porcelain.output import emit_json, json_option


@click.group("alias")
def alias() -> None:
    """Add, remove or list the aliases of a version."""


@alias.command("add")
@ref_argument()
@click.argument("names", nargs=-1, required=True)
def add(ref: str, names: tuple[str, ...]) -> None:
    """Point aliases NAMES at version REF (moving them from any other version)."""
    a = artifact(ref)
    a.aliases = list(dict.fromkeys(a.aliases + list(names)))
    a.save()
    click.echo(f"{a.name}: {', '.join(a.aliases)}")


@alias.command("rm")
@ref_argument()
@click.argument("names", nargs=-1, required=True)
def rm(ref: str, names: tuple[str, ...]) -> None:
    """Remove aliases NAMES from version REF."""
    a = artifact(ref)
    missing = [n for n in names if n not in a.aliases]
    if missing:
        from artvcs.errors import UsageError

        raise UsageError(f"{a.name} has no alias {missing[0]!r} (its aliases: {', '.join(a.aliases) or 'none'})")
    a.aliases = [x for x in a.aliases if x not in names]
    a.save()
    click.echo(f"{a.name}: {', '.join(a.aliases) or '-'}")


@alias.command("ls")
@json_option
@ref_argument()
def ls(as_json: bool, ref: str) -> None:
    """List the aliases of version REF."""
    a = artifact(ref)
    if as_json:
        emit_json({"name": a.name, "aliases": a.aliases})
    else:
        for n in a.aliases:
            click.echo(n)
