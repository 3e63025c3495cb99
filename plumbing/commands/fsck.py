"""``artvcs fsck``: check refs, versions, manifests and content; report, never repair."""
from __future__ import annotations

import sys

import click

from artvcs.plumbing.fsck import fsck as run_fsck

from .options import emit, repo


@click.command("fsck")
@click.option("--full/--quick", default=True,
              help="--full (the default) re-hashes every stored file a version names; --quick only checks that it is present.")
def fsck(full: bool) -> None:
    """Check refs, versions, manifests and stored content; report each problem."""
    problems = run_fsck(repo(), full=full)
    emit((p.kind, p.object, p.message) for p in problems)
    if problems:
        sys.exit(1)
