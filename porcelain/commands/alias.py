"""``artvcs alias``: add, remove and list the aliases of a version."""
from __future__ import annotations

import click

from artvcs.errors import UsageError
from artvcs.porcelain.app import api, artifact, complete_alias, ref_argument
from artvcs.porcelain.output import emit_json, json_option
from artvcs.porcelain.vocabulary import Group


@click.group("alias", cls=Group)
def alias() -> None:
    """Add, remove or list the aliases of a version.

    Each verb has both spellings: ls or list, rm or remove.
    """


def holders(collection: str, names: list[str]) -> dict[str, str | None]:
    """Which version (vN) of ``collection`` (entity/project/name) each alias names now; None if none."""
    from artvcs.errors import ArtvcsError

    found: dict[str, str | None] = {}
    for n in names:
        try:
            found[n] = api().artifact(f"{collection}:{n}").version
        except ArtvcsError:
            found[n] = None
    return found


def moves(before: dict[str, str | None], version: str) -> list[dict[str, str | None]]:
    """``{alias, from, to}`` for each alias that now names ``version`` and named another one (or none)."""
    return [{"alias": n, "from": old, "to": version} for n, old in before.items() if old != version]


def say_moves(moved: list[dict[str, str | None]], err: bool = False) -> None:
    """``prod: v1 -> v0`` for a moved alias, ``prod: -> v0`` for a new one, ``prod: v0 -> (removed)``."""
    for m in moved:
        old = f" {m['from']}" if m["from"] else ""
        click.echo(f"{m['alias']}:{old} -> {m['to'] or '(removed)'}", err=err)


def _report(a, as_json: bool, moved: list | None = None) -> None:
    if as_json:
        emit_json({"name": a.name, "aliases": a.aliases, **({"moved": moved} if moved is not None else {})})
    else:
        say_moves(moved or [])
        click.echo(f"{a.name}: {', '.join(a.aliases) or '-'}")


def collection_of(a) -> str:
    """``entity/project/name`` of a version's collection (or portfolio)."""
    return a.qualified_name.rpartition(":")[0]


@alias.command("add")
@json_option
@ref_argument()
@click.argument("names", nargs=-1, required=True)
def add(as_json: bool, ref: str, names: tuple[str, ...]) -> None:
    """Point aliases NAMES at version REF, moving them from any other version of its collection.

    Each alias that moves is shown as ALIAS: OLD -> NEW.
    """
    a = artifact(ref)
    before = holders(collection_of(a), list(dict.fromkeys(names)))
    a.aliases = list(dict.fromkeys(a.aliases + list(names)))
    a.save()
    _report(a, as_json, moves(before, a.version))


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
    version = a.version
    a.aliases = [x for x in a.aliases if x not in names]
    a.save()
    _report(a, as_json, [{"alias": n, "from": version, "to": None} for n in dict.fromkeys(names)])


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
