"""``artvcs mktree``: write a manifest from a listing on standard input."""
from __future__ import annotations

import sys

import click

from artvcs.plumbing.errors import ObjectMissingError, UsageError
from artvcs.plumbing.hashing import is_digest
from artvcs.plumbing.listing import parse_listing
from artvcs.plumbing.manifest import check_entry, write_manifest

from .options import repo, z_option


@click.command("mktree")
@z_option
@click.option("--long", "long_form", is_flag=True, help="Read the long form: DIGEST, SIZE, REF, EXTRA-JSON, PATH.")
def mktree(nul: bool, long_form: bool) -> None:
    """Write a manifest read from standard input; print its tree id.

    Every record is checked before anything is written; a stored entry's
    digest must name content present in the store.
    """
    r = repo()
    entries = parse_listing(sys.stdin.buffer.read(), nul, long_form)
    for n, e in enumerate(entries, 1):
        check_entry(e)
        if e.ref is None:
            if not is_digest(e.digest):
                raise UsageError(f"record {n}: digest {e.digest!r} of {e.path!r} is not a blake3 hex digest")
            if not r.store.has(e.digest):
                raise ObjectMissingError(f"record {n}: content {e.digest} of {e.path!r} is not in the store: hash-object -w it first")
    click.echo(str(write_manifest(r.git, entries)))
