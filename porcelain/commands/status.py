"""``artvcs status``: which version each folder holds, and which of its files differ."""
from __future__ import annotations

import click

from artvcs.git import status as workspace_status
from artvcs.porcelain.output import emit_json, json_option, table

SHOWN = 10  # changed files listed per folder


@click.command("status")
@click.option("--exit-code", is_flag=True, help="Exit 1 when a folder is not exactly its version, as git diff --exit-code does.")
@json_option
@click.argument("paths", nargs=-1, type=click.Path())
def status(exit_code: bool, as_json: bool, paths: tuple[str, ...]) -> None:
    """Show the version each folder holds and its modified, missing and extra files.

    Without PATH: every tracked path of the enclosing git work tree (against its
    pin) and every folder at or below the current one that a checkout, download
    or log recorded. Works outside git too.
    """
    rows = workspace_status.quick(list(paths))
    if rows is None:  # something is not up to date, or cannot be told so from files alone
        from artvcs.porcelain.app import context_near

        rows = workspace_status.status(context_near(paths), list(paths))
    if as_json:
        emit_json(rows)
    elif not rows:
        click.echo("nothing to show: no tracked path here, and no checkout, download or log of a folder below "
                   "this one ('artvcs status PATH' asks about one folder)", err=True)
    else:
        _print(rows)
    if exit_code and workspace_status.differs(rows):
        click.get_current_context().exit(1)


def _print(rows: list[dict]) -> None:
    def state(r: dict) -> str:
        n = len(r["changes"])
        return r["state"] + (f" ({n} file{'s' if n != 1 else ''})" if n else "")

    table(["path", "version", "state"],
          [[r["path"], (r["version"] or "-") + (f" ({r['how']})" if r.get("how") else ""), state(r)] for r in rows])
    for r in rows:
        for c in r["changes"][:SHOWN]:
            click.echo(f"  {c['problem']:>10}  {r['path']}{c['path']}")
        if len(r["changes"]) > SHOWN:
            click.echo(f"  {'':>10}  ... and {len(r['changes']) - SHOWN} more")
        if r.get("detail"):
            click.echo(f"  {r['detail']}")
