"""``artvcs link``, ``unlink`` and ``delete``."""
from __future__ import annotations

import click

from artvcs.porcelain.app import artifact, ref_argument


@click.command("link")
@click.option("--alias", "aliases", multiple=True, help="Alias for the version inside the portfolio.")
@ref_argument()
@click.argument("target")
def link(aliases: tuple[str, ...], ref: str, target: str) -> None:
    """Link version REF into portfolio TARGET ([[entity/]project/]portfolio, or model-registry/NAME)."""
    a = artifact(ref)
    a.link(target, list(aliases))
    click.echo(f"{a.name} linked into {target}" + (f" as {', '.join(aliases)}" if aliases else ""))


@click.command("unlink")
@ref_argument()
def unlink(ref: str) -> None:
    """Remove portfolio membership REF (a portfolio:alias or portfolio:vN)."""
    a = artifact(ref)
    a.unlink()
    click.echo(f"{a.name} unlinked")


@click.command("delete")
@click.option("--delete-aliases", is_flag=True, help="Also remove the version's aliases (otherwise refused if it has any).")
@ref_argument()
def delete(delete_aliases: bool, ref: str) -> None:
    """Delete version REF; its number is never reused and gc reclaims its content."""
    a = artifact(ref)
    a.delete(delete_aliases=delete_aliases)
    click.echo(f"{a.name} deleted")
