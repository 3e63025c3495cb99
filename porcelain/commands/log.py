"""``artvcs log``: make a new version from files and folders."""
from __future__ import annotations

import os

import click

import artvcs
from artvcs.errors import UsageError
from artvcs.porcelain.app import load_yaml_mapping, parse_value, summary
from artvcs.porcelain.output import emit_json, human_size, json_option, progress_bar


def parse_metadata(pairs: tuple[str, ...], path: str | None) -> dict:
    """KEY=VALUE pairs (VALUE read as YAML: numbers, booleans, lists) over an optional YAML file."""
    data = load_yaml_mapping(path, "--metadata-file") if path else {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--metadata {pair!r}: expected KEY=VALUE, e.g. --metadata rows=60000")
        data[key] = parse_value(value, f"--metadata {key}=")
    return data


def _collection_type(name: str) -> str | None:
    """The type of the existing collection ``name``, or None when there is none."""
    from artvcs.errors import ArtvcsError
    from artvcs.porcelain.app import api

    try:
        return api().collection(name).type
    except ArtvcsError:  # no repository yet, or no such collection
        return None


@click.command("log")
@click.option("--name", required=True, help="Artifact (collection) name.")
@click.option("--type", "type_", default=None, help="Artifact type, e.g. dataset or model; needed for a new artifact, else the collection's.")
@click.option("--alias", "aliases", multiple=True, help="Alias to point at the new version.")
@click.option("--description", default=None, help="Description of the version.")
@click.option("--metadata", "metadata", multiple=True, metavar="KEY=VALUE", help="Metadata entry; VALUE is read as YAML.")
@click.option("--metadata-file", type=click.Path(exists=True, dir_okay=False), help="YAML file of metadata.")
@click.option("--incremental", is_flag=True, help="Log the union with the latest version.")
@click.option("--policy", type=click.Choice(["mutable", "immutable"]), default="mutable", show_default=True,
              help="mutable copies files into the store; immutable hard-links them (do not change them afterwards).")
@json_option
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
def log(name: str, type_: str | None, aliases: tuple[str, ...], description: str | None, metadata: tuple[str, ...],
        metadata_file: str | None, incremental: bool, policy: str, as_json: bool, paths: tuple[str, ...]) -> None:
    """Log files and folders as the next version of artifact NAME.

    A single folder becomes the artifact's root; with several paths each goes
    under its own name.
    """
    meta = parse_metadata(metadata, metadata_file)
    type_ = type_ or _collection_type(name)
    if type_ is None:
        raise UsageError(f"{name!r} is a new artifact: give its type with --type (e.g. dataset or model)")
    art = artvcs.Artifact(name, type_, description=description, metadata=meta, incremental=incremental)
    with progress_bar():
        for p in paths:
            under = None if len(paths) == 1 else os.path.basename(os.path.abspath(p))
            if os.path.isdir(p):
                art.add_dir(p, name=under, policy=policy)
            else:
                art.add_file(p, name=under, policy=policy)
        with artvcs.init(job_type="cli") as run:
            run.log_artifact(art, aliases=list(aliases))
    if as_json:
        emit_json(summary(art))
    else:
        click.echo(f"{art.qualified_name}  {art.file_count} files, {human_size(art.size)}  digest {art.digest[:12]}  "
                   f"aliases: {', '.join(art.aliases) or '-'}")
