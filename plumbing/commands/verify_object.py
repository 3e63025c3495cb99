"""``artvcs verify-object``: re-hash stored content.

Reports every digest (one record each, in argument order) rather than
stopping at the first bad one, so a script sees all the damage at once.
"""
from __future__ import annotations

import sys

import click

from artvcs.plumbing.errors import CorruptObjectError, ObjectMissingError, UsageError
from artvcs.plumbing.hashing import is_digest

from .options import emit, repo


@click.command("verify-object")
@click.argument("digests", nargs=-1, required=True)
def verify_object(digests: tuple[str, ...]) -> None:
    """Re-hash stored objects and report ok, missing or corrupt."""
    for d in digests:
        if not is_digest(d):
            raise UsageError(f"invalid digest {d!r}: expected 64 lowercase hex characters")
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
