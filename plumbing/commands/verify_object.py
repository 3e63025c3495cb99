"""``artvcs verify-object``: re-hash stored content."""
from __future__ import annotations

import sys

import click

from artvcs.plumbing.errors import CorruptObjectError, ObjectMissingError

from .options import emit, repo


@click.command("verify-object")
@click.argument("digests", nargs=-1, required=True)
def verify_object(digests: tuple[str, ...]) -> None:
    """Re-hash stored objects and report ok, missing or corrupt."""
    store = repo().store
    bad = False
    rows = []
    for d in digests:
        try:
            store.verify(d)
            rows.append(("ok", d))
        except ObjectMissingError:
            rows.append(("missing", d))
            bad = True
        except CorruptObjectError:
            rows.append(("corrupt", d))
            bad = True
    emit(rows)
    if bad:
        sys.exit(1)
