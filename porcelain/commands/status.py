"""``artvcs status``: which version each folder holds, and which of its files differ."""
from __future__ import annotations

import click

from artvcs.git import status as workspace_status
from artvcs.porcelain import launch, statustext
from artvcs.porcelain.output import emit_json, json_option


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
    rows = None if launch.declined else workspace_status.quick(list(paths))
    if rows is None:  # something is not up to date, or cannot be told so from files alone
        from artvcs.porcelain.app import context_near

        rows = workspace_status.status(context_near(paths), list(paths))
    if as_json:
        emit_json(rows)
    elif not rows:
        click.echo(statustext.NOTHING, err=True)
    else:
        for line in statustext.lines(rows):
            click.echo(line)
    if exit_code and workspace_status.differs(rows):
        click.get_current_context().exit(1)
