"""``artvcs download``, ``checkout`` and ``verify``: an artifact's files on disk."""
from __future__ import annotations

import os

import click

from artvcs.logged import materialize
from artvcs.plumbing.checkout import MODES
from artvcs.porcelain.app import artifact, ref_argument
from artvcs.porcelain.output import emit_json, json_option, progress_bar

no_verify_option = click.option("--no-verify", is_flag=True,
                                 help="Trust the store: copy without hashing what is handed over (copies are then not recorded in the stat cache).")
link_option = click.option("--link", "link_mode", type=click.Choice(MODES), default=None,
                           help="How files are placed (default: $ARTVCS_LINK_MODE or auto: reflink, else copy).")


@click.command("download")
@click.option("--prefix", default=None, help="Only entries whose path starts with PREFIX.")
@click.option("--allow-missing-references", is_flag=True, help="Skip references that cannot be fetched.")
@no_verify_option
@json_option
@ref_argument()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def download(prefix: str | None, allow_missing_references: bool, no_verify: bool, as_json: bool, ref: str,
             directory: str | None) -> None:
    """Write a version's files into DIRECTORY (default ./artifacts/NAME:vN); other files stay."""
    a = artifact(ref)
    with progress_bar():
        path = materialize.download(a, directory or a._default_root(), allow_missing_references, None, prefix,
                                    verify=not no_verify)
    emit_json({"name": a.name, "path": path}) if as_json else click.echo(path)


@click.command("checkout")
@click.option("--force", is_flag=True, help="Also delete files whose content is not in the store.")
@link_option
@no_verify_option
@json_option
@ref_argument()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def checkout(force: bool, link_mode: str | None, no_verify: bool, as_json: bool, ref: str, directory: str | None) -> None:
    """Make DIRECTORY exactly the version: write its files and delete every other file.

    Without --force a file that would be deleted and is not in the store
    (work that exists nowhere else) stops the checkout before anything changes.
    """
    a = artifact(ref)
    root = directory or a._default_root()
    with progress_bar():
        result = materialize.checkout(a, root, force=force, mode=link_mode, verify=not no_verify)
    data = {"name": a.name, "path": os.path.abspath(root), "mode": result.mode, "written": result.written,
            "up_to_date": result.up_to_date, "removed": result.removed}
    if as_json:
        emit_json(data)
    else:
        click.echo(f"{a.name} -> {data['path']}: {result.written} written, {result.up_to_date} up to date, "
                   f"{result.removed} removed ({result.mode})")


@click.command("verify")
@ref_argument()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def verify(ref: str, directory: str | None) -> None:
    """Check that DIRECTORY holds exactly the version's files, unchanged (exit 1 if not)."""
    a = artifact(ref)
    a.verify(directory)
    click.echo(f"{directory or a._default_root()}: matches {a.name}")
