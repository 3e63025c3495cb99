"""``artvcs fsck``: check refs, versions, manifests and content."""
from __future__ import annotations

import sys

import click

from artvcs.plumbing.fsck import fsck as run_fsck

from .options import emit, repo


@click.command("fsck")
@click.option("--quick", is_flag=True, help="Check that content is present without re-hashing it.")
def fsck(quick: bool) -> None:
    """Print KIND<TAB>OBJECT<TAB>MESSAGE for each problem; exit 1 if there is any."""
    problems = run_fsck(repo(), full=not quick)
    emit((p.kind, p.object, p.message) for p in problems)
    if problems:
        sys.exit(1)
