"""``artvcs cat-object``: the raw bytes of stored content, verified before any byte goes out."""
from __future__ import annotations

import sys

import click

from .options import repo


@click.command("cat-object")
@click.argument("digest")
def cat_object(digest: str) -> None:
    """Write the content stored under DIGEST to standard output.

    The bytes are hashed first; content that does not hash to DIGEST is an
    error and nothing is written."""
    repo().store.write_to(digest, sys.stdout.buffer, "standard output")
    sys.stdout.buffer.flush()
