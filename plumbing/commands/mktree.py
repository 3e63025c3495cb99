"""``artvcs mktree``: write a manifest from a listing on standard input.

The listing is the one ``hash-object`` and ``ls-manifest`` print, so a
script can build or edit a manifest with text tools. Every record is
checked before a single object is written: a refused listing leaves the
repository as it was.
"""
from __future__ import annotations

import sys

import click

from artvcs.plumbing.errors import ObjectMissingError, UsageError
from artvcs.plumbing.hashing import is_digest
from artvcs.plumbing.listing import parse_listing
from artvcs.plumbing.manifest import Entry, check_entry, write_manifest
from artvcs.plumbing.repository import Repository

from .options import repo, z_option


def check_records(r: Repository, entries: list[Entry]) -> None:
    """Refuse the first bad record, naming its number; fill in unknown sizes of stored files.

    A stored file (no reference) must be named by a blake3 digest of content
    present in the store, and a size given for it must be the stored size.
    """
    for n, e in enumerate(entries, 1):
        try:
            check_entry(e)
        except UsageError as err:
            raise UsageError(f"record {n}: {err}") from None
        if e.ref is not None:
            continue
        if not is_digest(e.digest):
            raise UsageError(f"record {n}: digest {e.digest!r} of {e.path!r} is not a blake3 hex digest")
        try:
            stored = r.store.size(e.digest)
        except FileNotFoundError:
            raise ObjectMissingError(
                f"record {n}: content {e.digest} of {e.path!r} is not in the store: store it with hash-object -w first"
            ) from None
        if e.size is None:
            e.size = stored
        elif e.size != stored:
            raise UsageError(f"record {n}: size {e.size} of {e.path!r} differs from the stored content's {stored} bytes")


@click.command("mktree")
@z_option
@click.option("--long", "long_form", is_flag=True,
              help="Require every record in the long form (DIGEST, SIZE, REF, EXTRA-JSON, PATH).")
def mktree(nul: bool, long_form: bool) -> None:
    """Write a manifest read from standard input; print its tree id.

    Each record is DIGEST TAB SIZE TAB PATH, or in the long form DIGEST TAB
    SIZE TAB REF TAB EXTRA-JSON TAB PATH; both forms may be mixed. Every
    record is checked before anything is written.
    """
    r = repo()
    entries = parse_listing(sys.stdin.buffer.read(), nul, True if long_form else None)
    check_records(r, entries)
    click.echo(str(write_manifest(r.git, entries)))
