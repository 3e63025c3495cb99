"""``artvcs download``, ``checkout`` and ``verify``: an artifact's files on disk."""
from __future__ import annotations

import os

import click

from artvcs.errors import UsageError
from artvcs.logged import folders, materialize
from artvcs.plumbing.checkout import MODES
from artvcs.porcelain.app import artifact, context, ref_argument
from artvcs.porcelain.output import emit_json, json_option

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
    path = materialize.download(a, directory or a._default_root(), allow_missing_references, None, prefix,
                                verify=not no_verify)
    emit_json({"name": a.name, "path": path}) if as_json else click.echo(path)


@click.command("checkout")
@click.option("--force", is_flag=True, help="Also delete files whose content is not in the store.")
@link_option
@no_verify_option
@json_option
@ref_argument(required=False)
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def checkout(force: bool, link_mode: str | None, no_verify: bool, as_json: bool, ref: str | None, directory: str | None) -> None:
    """Make DIRECTORY exactly the version: write its files and delete every other file.

    Without REF, put every tracked path of the enclosing git work tree at its
    pin (as dvc checkout does): what to run when git switched the code but a
    hook refused to switch the data. Without --force a file that would be
    deleted and is not in the store (work that exists nowhere else) stops the
    checkout before anything changes.
    """
    if ref is None:
        return _checkout_pins(force, link_mode, as_json)
    a = artifact(ref)
    root = directory or a._default_root()
    result = materialize.checkout(a, root, force=force, mode=link_mode, verify=not no_verify)
    data = {"name": a.name, "path": os.path.abspath(root), "mode": result.mode, "written": result.written,
            "up_to_date": result.up_to_date, "removed": result.removed}
    if as_json:
        emit_json(data)
    else:
        click.echo(f"{a.name} -> {data['path']}: {result.written} written, {result.up_to_date} up to date, "
                   f"{result.removed} removed ({result.mode})")


def _checkout_pins(force: bool, link_mode: str | None, as_json: bool) -> None:
    from artvcs.git import tracking

    done = tracking.sync(context(), force=force, mode=link_mode)
    if as_json:
        emit_json(done)
    elif not done:
        click.echo(f"nothing tracked: no pins in {tracking.LOCK} ('artvcs track PATH' versions a folder)", err=True)
    for d in [] if as_json else done:
        what = "up to date" if d["up_to_date"] else f"{d['written']} written, {d['removed']} removed"
        click.echo(f"{d['path']} -> {d['version']}: {what}")


@click.command("verify")
@json_option
@ref_argument()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def verify(as_json: bool, ref: str, directory: str | None) -> None:
    """Check that DIRECTORY holds exactly the version's files, unchanged (exit 1 if not)."""
    a = artifact(ref)
    root = directory or a._default_root()
    if not as_json:
        a.verify(directory)
        click.echo(f"{root}: matches {a.name}")
        return
    if not os.path.isdir(root):
        raise UsageError(f"verify: {root!r} is not a folder; download the artifact there first")
    ctx = context()
    found = folders.problems(ctx, folders.entries_of(ctx, a.commit_hash), root)
    emit_json({"name": a.name, "path": os.path.abspath(root), "ok": not found,
               "problems": [{"path": p, "problem": what} for p, what in found]})
    if found:
        click.get_current_context().exit(1)
