"""``artvcs hash-object``: blake3 digests of files, optionally stored.

Each output record is a valid ``mktree`` input record, so a script builds a
manifest by hashing files and rewriting the paths.
"""
from __future__ import annotations

import sys

import click

from artvcs.plumbing.errors import NotFoundError
from artvcs.plumbing.hashing import hash_bytes, hash_file

from .options import emit, repo, z_option


@click.command("hash-object")
@click.option("-w", "write", is_flag=True, help="Store the content in the content store.")
@click.option("--policy", type=click.Choice(["mutable", "immutable"]), default="mutable", show_default=True,
              help="mutable copies the bytes; immutable hard-links the file into the store where it can.")
@click.option("--stdin", "from_stdin", is_flag=True, help="Hash (and with -w store) standard input, named '-'.")
@z_option
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
def hash_object(write: bool, policy: str, from_stdin: bool, nul: bool, files: tuple[str, ...]) -> None:
    """Compute the blake3 digest of files, and store them with -w."""
    if not files and not from_stdin:
        raise click.UsageError("give FILE arguments or --stdin")
    store = repo().store if write else None
    records = []
    if from_stdin:
        data = sys.stdin.buffer.read()
        digest = store.put_bytes(data) if store else hash_bytes(data)
        records.append((digest, len(data), "-"))
    for path in files:
        try:
            digest, size = store.put_file(path, policy) if store else hash_file(path)
        except FileNotFoundError:
            raise NotFoundError(f"cannot hash {path!r}: no such file") from None
        records.append((digest, size, path))
    if store:
        from artvcs.plumbing.durability import sync_filesystem

        sync_filesystem(store.root)
    emit(records, nul)
