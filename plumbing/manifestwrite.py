"""Writing a manifest from entries and settled folders, with its digest, size, count and folder sums.

A re-log gives most of its files as :class:`settled.Settled` folders (bytes, no entry per
file) and the rest as entries. :func:`write` writes the manifest trees exactly as
:func:`manifest.write_manifest` would for the same files (same blobs, same tree ids: an
unchanged folder's listing is the object it was) and computes in the same pass what the
log needs besides: the artifact digest (ARTIFACT DIGEST: lines sorted by entry path,
assembled folder by folder, each subfolder's lines put between its parent's files where
the sort puts them), the total size, the count and the folder sums (:mod:`foldersums`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

import pygit2
from blake3 import blake3

from . import foldersums
from .errors import UsageError
from .manifest import (BLOB, LISTING, SHARD_THRESHOLD, TREE, Entry, _row, _write_folder, check_folder, empty_tree,
                       escape_name, group_folders)
from .objectbatch import ObjectBatch
from .settled import Settled, entries, render


@dataclass(slots=True)
class Written:
    """A written manifest: its tree, artifact digest, total size, entry count, and folder sums
    (None for a manifest with references or more than foldersums.MAX_ENTRIES entries)."""

    tree: pygit2.Oid
    digest: str
    size: int
    count: int
    sums: dict[str, bytes] | None


def _ancestors(folders: dict, folder: str) -> None:
    while folder:
        folder = folder.rpartition("/")[0]
        folders.setdefault(folder, {})


def write(repo: pygit2.Repository, entries: Iterable[Entry], settled: Iterable[Settled]) -> Written:
    """Write the manifest of ``entries`` and the ``settled`` folders (one per folder, names
    checked when they were settled); refused, before anything is written, as write_manifest
    refuses (a duplicate path, a path that is both a file and a folder, a bad entry)."""
    folders = group_folders(entries)
    bulk: dict[str, Settled] = {}
    seen: set[str] = set()
    for s in settled:
        if s.folder in seen:
            raise UsageError(f"two settled listings of folder {s.folder!r}: one per folder")
        seen.add(s.folder)
        files = folders.setdefault(s.folder, {})
        _ancestors(folders, s.folder)
        names = set(s.names.split("/")) if files else ()
        dup = next((n for n in files if n in names), None)
        if dup is not None:
            raise UsageError(f"duplicate entry path {s.folder + '/' + dup if s.folder else dup!r} in manifest")
        if s.count + len(files) > SHARD_THRESHOLD:  # a sharded folder: its entries the usual way
            for e, _ in entries(s):
                files[e.path.rpartition("/")[2]] = e
        else:
            bulk[s.folder] = s
    for folder, files in folders.items():
        check_folder(folder, files)
    subs: dict[str, list[str]] = {}
    for folder in folders:
        if folder:
            parent, _, name = folder.rpartition("/")
            subs.setdefault(parent, []).append(name)
    for parent, names in subs.items():  # refuse before writing anything: no stray objects
        held = folders[parent].keys() | (set(bulk[parent].names.split("/")) if parent in bulk else set())
        clash = next((n for n in names if n in held), None)
        if clash is not None:
            raise UsageError(f"entry path {parent + '/' + clash if parent else clash!r} is both a file and a folder")

    batch = ObjectBatch(repo)
    oids: dict[str, pygit2.Oid | None] = {}
    pieces: dict[str, list[bytes]] = {}
    order: dict[str, list[str]] = {}
    sums: dict[str, bytes] | None = {}
    size = count = 0
    for folder in sorted(folders, key=lambda f: f.count("/") + (1 if f else 0), reverse=True):
        files = folders[folder]
        kids = sorted(subs.get(folder, ()), key=lambda n: (n + "/").encode())
        order[folder] = kids
        cuts = [(n + "/").encode() for n in kids]
        prefix = (folder + "/").encode() if folder else b""
        subtrees = {n: oids[f"{folder}/{n}" if folder else n] for n in kids}
        subtrees = {n: o for n, o in subtrees.items() if o is not None}
        s = bulk.get(folder)
        if s is not None:
            extras = sorted((n.encode(), e.digest.encode(), _row_json(e, n)) for n, e in files.items())
            listing, lines, pieces[folder] = render(s, extras, cuts, prefix)
            items = [(LISTING, batch.blob(listing), BLOB)] + [(escape_name(n), o, TREE) for n, o in subtrees.items()]
            oids[folder] = batch.tree(items)
            size += s.size
            count += s.count
        else:
            oids[folder] = _write_folder(batch, folder, files, subtrees)
            names = sorted(files, key=lambda n: n.encode())
            lines = b"\n".join(f"{n}\0{files[n].digest}".encode("utf-8", "surrogatepass") for n in names)
            pieces[folder] = _pieces(prefix, [(n.encode(), files[n].digest.encode()) for n in names], cuts)
        size += sum(e.size or 0 for e in files.values())
        count += len(files)
        if sums is not None and (files or s is not None):
            if any(e.ref is not None for e in files.values()):
                sums = None
            else:
                sums[folder] = blake3(lines).digest()
    batch.write()
    h = blake3()
    stack = [("", 0)]
    while stack:  # the lines in entry-path order: a folder's files, cut by its subfolders' lines
        folder, i = stack.pop()
        h.update(pieces[folder][i])
        kids = order[folder]
        if i < len(kids):
            stack.append((folder, i + 1))
            stack.append((f"{folder}/{kids[i]}" if folder else kids[i], 0))
    if count > foldersums.MAX_ENTRIES:
        sums = None
    return Written(oids[""] or empty_tree(repo), h.hexdigest(), size, count, sums)


def _row_json(e: Entry, name: str) -> bytes:
    return json.dumps(_row(e, name), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def _pieces(prefix: bytes, files: list[tuple[bytes, bytes]], cuts: list[bytes]) -> list[bytes]:
    """The digest lines ``prefix name NUL digest NUL`` of ``files`` (sorted by name), split before
    each cut (as render splits them)."""
    out: list[bytes] = []
    cur: list[bytes] = []
    k = 0
    for name, digest in files:
        while k < len(cuts) and cuts[k] <= name:
            out.append(b"".join(cur))
            cur = []
            k += 1
        cur.append(prefix + name + b"\0" + digest + b"\0")
    out.append(b"".join(cur))
    out.extend(b"" for _ in range(len(cuts) - k))
    return out
