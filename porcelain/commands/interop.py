"""``artvcs export`` and ``artvcs import``: trade a version with W&B as a downloaded artifact folder."""
from __future__ import annotations

import click

from artvcs.porcelain.app import artifact, ref_argument
from artvcs.porcelain.output import emit_json, human_size, json_option, progress_bar

format_option = click.option("--format", "fmt", type=click.Choice(["wandb"]), required=True,
                             help="The other system's layout: wandb (files, wandb_manifest.json, wandb_artifact.json).")


@click.command("export")
@format_option
@json_option
@ref_argument()
@click.argument("directory", type=click.Path(file_okay=False))
def export(fmt: str, as_json: bool, ref: str, directory: str) -> None:
    """Write a version into DIRECTORY (new or empty) as W&B lays out a downloaded artifact."""
    from artvcs.interop.wandb_export import export as run_export

    a = artifact(ref)
    with progress_bar():
        done = run_export(a, directory)
    if as_json:
        emit_json({"name": a.qualified_name, **done.to_json()})
    else:
        click.echo(f"{a.qualified_name} -> {done.folder}: {done.files} files ({human_size(done.size)}), "
                   f"{done.references} references, W&B digest {done.digest}")


@click.command("import")
@format_option
@click.option("--name", default=None, help="Artifact name (default: 'name' in wandb_artifact.json).")
@click.option("--type", "type_", default=None, help="Artifact type (default: 'type' in wandb_artifact.json).")
@click.option("--alias", "aliases", multiple=True, help="Alias to point at the new version (besides the folder's).")
@click.option("--description", default=None, help="Description (default: the folder's wandb_artifact.json).")
@click.option("--metadata", multiple=True, metavar="KEY=VALUE", help="Metadata entry, VALUE read as YAML; replaces the folder's.")
@json_option
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
def import_(fmt: str, name: str | None, type_: str | None, aliases: tuple[str, ...], description: str | None,
            metadata: tuple[str, ...], as_json: bool, directory: str) -> None:
    """Log the W&B artifact downloaded in DIRECTORY as the next version, every file checked against its MD5."""
    from artvcs.interop.wandb_import import import_folder
    from artvcs.porcelain.commands.log import parse_metadata

    meta = parse_metadata(metadata, None) if metadata else None
    with progress_bar():
        done = import_folder(directory, name, type_, description, meta, list(aliases))
    a = done.artifact
    if as_json:
        emit_json(done.to_json())
    else:
        click.echo(f"{a.qualified_name}: {done.files} files, {done.references} references"
                   + (f", {done.ignored} files not in the manifest left out" if done.ignored else "")
                   + f"; aliases: {', '.join(a.aliases)}")
