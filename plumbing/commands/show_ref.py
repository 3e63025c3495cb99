"""``artvcs show-ref``: list refs and what they point at."""
from __future__ import annotations

import click

from artvcs.plumbing import refs

from .options import emit, repo


@click.command("show-ref")
@click.argument("prefix", default="refs/")
def show_ref(prefix: str) -> None:
    """List refs under PREFIX and what they point at."""
    emit(((oid, name) for name, oid in refs.iter_refs(repo().git, prefix)))
