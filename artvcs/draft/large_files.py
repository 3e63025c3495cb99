"""Large files of a new version: chunked once they have an earlier version.

A large file (``CHUNK_THRESHOLD`` bytes or more) is staged whole, as fast as a
copy: a file with no earlier version shares no chunks with anything, and
chunking it would cost three times the work for nothing. (Staging stores it
straight as chunks when the stat cache remembers the same local file holding a
large file before: it is a new version, see staging._earlier_large.) When a version is
logged whose large file replaces a large file at the same path of the version
it follows (the version its draft was based on, else the collection's latest),
both are converted to chunks (:func:`chunkstore.convert`): the earlier one
first, so the new one's unchanged chunks are found stored and only its changed
chunks are written. Conversion runs last, after the version and its aliases
are committed, and changes only how content is stored, never what: a failure
leaves the files whole (a warning says why) and the version logged.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing.errors import ArtvcsError
from artvcs.plumbing.repository import Repository
from artvcs.plumbing.store import CHUNK_THRESHOLD

LOOKUPS = 64  # more large files than this: the earlier manifest is read once, not a folder per file


def replaced_pairs(repo: Repository, previous_tree: Any, entries: Iterable[Any]) -> list[tuple[str, str]]:
    """``(earlier digest, new digest)`` of every stored large entry of ``entries`` whose path held a
    different stored large file in the manifest ``previous_tree`` (None: no earlier version)."""
    if previous_tree is None:
        return []
    large = [e for e in entries if getattr(e, "ref", None) is None and (e.size or 0) >= CHUNK_THRESHOLD]
    if not large:
        return []
    git = repo.git
    if len(large) > LOOKUPS:
        earlier = _manifest.read_manifest(git, previous_tree)
        find = earlier.get
    else:
        find = lambda path: _manifest.lookup(git, previous_tree, path)  # noqa: E731
    pairs = []
    for e in large:
        old = find(e.path)
        if old is not None and old.ref is None and (old.size or 0) >= CHUNK_THRESHOLD and old.digest != e.digest:
            pairs.append((old.digest, e.digest))
    return pairs


def chunk_replaced(repo: Repository, pairs: list[tuple[str, str]]) -> int:
    """Convert each pair's earlier file, then its new one, to chunks (those stored whole); the
    number converted. A conversion that fails is warned about and leaves that file whole."""
    store = repo.store
    done = 0
    for old, new in pairs:
        for digest in (old, new):
            try:
                done += store.convert_to_chunks(digest)
            except (OSError, ArtvcsError) as e:
                warnings.warn(f"content {digest} stays stored whole (not converted to chunks): {e}", stacklevel=2)
    return done
