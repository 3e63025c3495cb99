"""A version's folders in brief: one sum per folder of its files' names and digests.

An up-to-date folder is found to hold exactly a version with a stat per
file and no manifest read: the sums of the version (computed from its
entries when it is logged, or when a full check found a folder clean) are
kept in the stat cache's database under the version commit, which never
changes, so a row never goes stale. :func:`holds` walks the folder without
following links in one call (:func:`scan.tree`: in C, on a few threads, no
Python object per file), which gives each folder's lines from the digests
the stat cache vouches for, and compares each folder's sum. ``artvcs
status`` and a checkout onto an up-to-date folder both ask it. Anything it
cannot vouch for (a file the cache does not know, a link,
a folder too many or too few) makes it answer False, "cannot tell": the
caller then does the full check. Versions with references have no sums
(a reference is checked by existing, not by digest).
"""
from __future__ import annotations

import os
import struct

from blake3 import blake3

from .scan import tree

TYPE_CHECKING = False  # typing is not imported: it costs an up-to-date status's start-up
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from typing import Any

SUM = 32
MAX_ENTRIES = 250_000  # larger versions get no sums: their status reads the manifest
_COUNT = struct.Struct("<I")


def _sum_lines(lines: list[str]) -> bytes:
    """The sum of one folder from its files' lines ``name NUL digest`` (any order: sorting the
    lines sorts by name, NUL sorting before any character of a name)."""
    lines.sort()
    return blake3("\n".join(lines).encode("utf-8", "surrogatepass")).digest()


def sums_of(entries: Iterable[Any]) -> dict[str, bytes] | None:
    """``{folder: sum}`` of manifest entries (anything with ``path``, ``digest`` and ``ref``; a
    folder is its entry-path prefix, '' for the top), or None when an entry is a reference or
    there are more than MAX_ENTRIES (their lines are held at once: a million-entry checkout
    must not grow by them)."""
    groups: dict[str, list[str]] = {}
    for n, e in enumerate(entries):  # one pass, a line per entry: it runs on every log
        if e.ref is not None or n == MAX_ENTRIES:
            return None
        folder, _, name = e.path.rpartition("/")
        lines = groups.get(folder)
        if lines is None:
            lines = groups[folder] = []
        lines.append(f"{name}\0{e.digest}")
    return {folder: _sum_lines(lines) for folder, lines in groups.items()}


def pack(sums: Mapping[str, bytes]) -> bytes:
    """The stored form: a 4-byte little-endian count n, n 32-byte sums, then the n folder paths
    (UTF-8) in the same order, each followed by a NUL."""
    folders = sorted(sums)
    return (_COUNT.pack(len(folders)) + b"".join(sums[f] for f in folders)
            + b"".join(f.encode("utf-8", "surrogatepass") + b"\0" for f in folders))


def unpack(blob: bytes | None) -> dict[str, bytes] | None:
    """The inverse of :func:`pack`; None for anything that does not parse (the cache is advisory)."""
    if not blob or len(blob) < _COUNT.size:
        return None
    (n,) = _COUNT.unpack_from(blob)
    end = _COUNT.size + n * SUM
    if len(blob) < end:
        return None
    names = blob[end:].split(b"\0")
    if len(names) != n + 1 or names[-1]:
        return None
    try:
        folders = [f.decode("utf-8", "surrogatepass") for f in names[:-1]]
    except UnicodeDecodeError:
        return None
    return {f: blob[_COUNT.size + i * SUM : _COUNT.size + (i + 1) * SUM] for i, f in enumerate(folders)}


def holds(root: str, sums: Mapping[str, bytes], rows: dict[str, bytes]) -> bool:
    """True when folder ``root`` (absolute, as the stat cache keys it) holds exactly the files that
    ``sums`` describe, each vouched for by the stat cache (``rows``: folder → its row); False when
    it does not or cannot tell. Links are not followed; empty folders do not count."""
    return files_held(root, sums, rows) is not None


def files_held(root: str, sums: Mapping[str, bytes], rows: dict[str, bytes], solo: bool = False) -> int | None:
    """How many files ``root`` holds when it holds exactly ``sums`` (as :func:`holds`; with ``solo``
    no file may have another link, and no folder, empty or not, may be there that ``sums`` does not
    lead to: what a checkout that prunes would leave), else None. One walk of the whole folder
    (:func:`scan.tree`, in C where built), then a hash per folder."""
    lines = tree(root, rows, solo)
    if lines is None or len(lines) != len(sums):
        return None
    if not all(blake3(text).digest() == sums.get(rel) for rel, text in lines.items()):
        return None
    if solo and not _only_folders(root, sums):
        return None
    return sum(text.count(b"\0") for text in lines.values())  # a NUL per line (names may hold newlines)


def _only_folders(root: str, rels: Iterable[str]) -> bool:
    """True when the folders under ``root`` are exactly ``rels`` (relative, '' for root) and their
    parents, told by each one's link count (2 + its subfolders, as ext4, xfs and tmpfs keep it):
    :func:`scan.tree` reports folders holding files only, so an empty one is seen here. False at
    any doubt (a file system that counts otherwise, a folder gone)."""
    folders = {""}
    for rel in rels:
        while rel not in folders:
            folders.add(rel)
            rel = rel.rpartition("/")[0]
    subs = dict.fromkeys(folders, 0)
    for rel in folders - {""}:
        subs[rel.rpartition("/")[0]] += 1
    try:
        return all(os.stat(os.path.join(root, rel) if rel else root, follow_symlinks=False).st_nlink == 2 + n
                   for rel, n in subs.items())
    except OSError:
        return False


def version_held(cache: Any, commit: str, digest: str, root: str, solo: bool = False) -> int | None:
    """How many files folder ``root`` (absolute) holds when it holds exactly version ``commit``
    (digest ``digest``) by the sums the stat cache ``cache`` keeps for it (:func:`files_held`);
    None when it does not, or no sums of that version are kept."""
    kept = cache.sums(commit)
    sums = unpack(kept[1]) if kept is not None and kept[0] == digest else None
    if sums is None:
        return None
    return files_held(root, sums, dict(cache.rows_below(root)), solo)


def keep_sums(cache: Any, commit: str, digest: str, sums: Mapping[str, bytes] | None) -> None:
    """Keep in the stat cache ``cache`` the folder sums ``sums`` (:func:`sums_of`) of version
    ``commit`` (digest ``digest``); nothing for None (references), or when kept already."""
    if sums is not None and cache.sums(commit) is None:
        cache.keep_sums(commit, digest, pack(sums))


def keep(cache: Any, commit: str, digest: str, entries: Iterable[Any]) -> None:
    """Keep in the stat cache ``cache`` the sums of version ``commit`` (digest ``digest``) made of
    ``entries``; nothing for a version with references, or whose sums are kept already."""
    if cache.sums(commit) is None:
        keep_sums(cache, commit, digest, sums_of(entries))


class SumsAlong:
    """Entries passed through unchanged, gathering the lines of :func:`sums_of` as they pass, so a
    streamed checkout keeps its version's sums without reading the manifest again. Each iteration
    starts afresh; :meth:`sums` is None unless one ran to the end."""

    def __init__(self, entries: Iterable[Any]) -> None:
        self._entries = entries
        self._groups: dict[str, list[str]] | None = None
        self._done = False

    def __iter__(self) -> Iterator[Any]:
        self._done = False
        groups: dict[str, list[str]] | None = {}
        self._groups = groups
        for n, e in enumerate(self._entries):
            if groups is not None:
                if e.ref is not None or n == MAX_ENTRIES:  # no sums (as sums_of): the lines are dropped
                    groups = self._groups = None
                else:
                    folder, _, name = e.path.rpartition("/")
                    lines = groups.get(folder)
                    if lines is None:
                        lines = groups[folder] = []
                    lines.append(f"{name}\0{e.digest}")
            yield e
        self._done = True

    def sums(self) -> dict[str, bytes] | None:
        """The sums of the entries of the last full iteration (:func:`sums_of`'s answer), or None."""
        if not self._done or self._groups is None:
            return None
        return {folder: _sum_lines(lines) for folder, lines in self._groups.items()}
