"""``artvcs fsck``: check refs, versions, manifests and content."""
from __future__ import annotations

import sys

import click

from artvcs.plumbing.fsck import fsck as run_fsck

from .options import emit, repo


@click.command("fsck")
@click.option("--quick", is_flag=True, help="Check that content is present without re-hashing it.")
def fsck(quick: bool) -> None:
    """Check refs, versions, manifests and stored content; report each problem."""
    problems = run_fsck(repo(), full=not quick)
    emit((p.kind, p.object, p.message) for p in problems)
    if problems:
        sys.exit(1)
