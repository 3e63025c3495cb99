"""``artvcs clone``: a new repository from a remote."""
from __future__ import annotations

import os

import click

from artvcs.sync import sync
from artvcs.plumbing.remote.layout import parse_url
from artvcs.porcelain.output import emit_json, human_size, json_option, progress_bar


def default_folder(url: str) -> str:
    _, root = parse_url(url)
    return os.path.basename(root.rstrip("/")) or "artifacts"


@click.command("clone")
@click.option("--only", "only", multiple=True, metavar="NAME",
              help="Only this collection (repeatable); its content is fetched when a checkout needs it.")
@click.option("--endpoint-url", default=None, help="S3-compatible server to talk to instead of AWS (http://host:port).")
@click.option("--region", default=None, help="Region of the bucket (S3).")
@json_option
@click.argument("url")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
def clone(only: tuple[str, ...], endpoint_url: str | None, region: str | None, as_json: bool, url: str, directory: str | None) -> None:
    """Make DIRECTORY (default: the URL's last component) a repository with URL as remote origin, and pull it.

    Without --only, every collection and the content of its live versions
    is fetched; with --only, just the named collections' refs and manifests.
    """
    folder = directory or default_folder(url)
    with progress_bar():
        repo, result = sync.clone(url, folder, {"endpoint_url": endpoint_url, "region": region}, only)
    if as_json:
        emit_json({"path": os.path.abspath(folder), "packs": result.packs, "objects": result.objects, "bytes": result.bytes,
                   "refs": len(set(result.integration.updated))})
        return
    click.echo(f"cloned {url} into {os.path.abspath(folder)}: {len(set(result.integration.updated))} refs, "
               f"{result.objects} objects ({human_size(result.bytes)})")
