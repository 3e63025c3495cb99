"""``artvcs cat-object``: the raw bytes of stored content."""
from __future__ import annotations

import shutil
import sys

import click

from .options import repo


@click.command("cat-object")
@click.argument("digest")
def cat_object(digest: str) -> None:
    """Write the content stored under DIGEST to standard output."""
    with repo().store.open(digest) as f:
        shutil.copyfileobj(f, sys.stdout.buffer, 1024 * 1024)
    sys.stdout.buffer.flush()
