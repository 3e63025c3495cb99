"""``artvcs link``, ``unlink`` and ``delete``: portfolio membership and the end of a version."""
from __future__ import annotations

import click

from artvcs.logged import lifecycle
from artvcs.api import load_artifact
from artvcs.porcelain.app import artifact, ref_argument
from artvcs.porcelain.output import emit_json, json_option


@click.command("link")
@click.option("--alias", "aliases", multiple=True, help="Alias for the version inside the portfolio.")
@json_option
@ref_argument()
@click.argument("target")
def link(aliases: tuple[str, ...], as_json: bool, ref: str, target: str) -> None:
    """Link version REF into portfolio TARGET ([[entity/]project/]portfolio, or model-registry/NAME).

    Linking a version that is already a member only adds the aliases.
    """
    a = artifact(ref)
    member = load_artifact(a._context, str(lifecycle.link(a._context, a._source, target, list(aliases)).commit))
    if as_json:
        emit_json({"name": a.name, "link": member.qualified_name, "aliases": member.aliases})
    else:
        click.echo(f"{a.name} linked as {member.qualified_name}" + (f" ({', '.join(member.aliases)})" if member.aliases else ""))


@click.command("unlink")
@ref_argument()
def unlink(ref: str) -> None:
    """Remove portfolio membership REF (a portfolio:alias or portfolio:vN); the source version stays."""
    a = artifact(ref)
    a.unlink()
    click.echo(f"{a.qualified_name} unlinked (its source {a.source_qualified_name} stays)")


@click.command("delete")
@click.option("--delete-aliases", is_flag=True, help="Also remove the version's aliases (otherwise refused if it has any).")
@ref_argument()
def delete(delete_aliases: bool, ref: str) -> None:
    """Delete version REF and its portfolio links; its number is never reused and gc reclaims its content."""
    a = artifact(ref)
    a.delete(delete_aliases=delete_aliases)
    click.echo(f"{a.qualified_name} deleted; 'artvcs gc' frees its content")
