"""The structural rules of a manifest tree (artvcs-format(5), MANIFEST ENCODING), for fsck.

Readers check what they must to stay safe (entry paths, row shapes, the
escaping of folder names); this checks everything else the format states
about how a manifest is stored, so that fsck can report a tree no artvcs
would have written: a tree entry that is neither a listing blob nor a
subfolder, both listing forms in one folder, a file in the wrong bucket,
a listing that is not canonical JSON, a name listed twice, a name that is
both a file and a folder, an empty folder, a bad digest. The walk keeps its
own stack, so any depth of folders can be checked.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import pygit2

from .errors import ArtvcsError
from .hashing import is_digest
from .manifest import LISTING, SHARD_THRESHOLD, Entry, _shard, canonical_json, check_entry, parse_listing_blob, subfolder_name

_BUCKET = re.compile(r"%files\.([0-9a-f]{2})")


def manifest_problems(git: pygit2.Repository, tree_oid: pygit2.Oid, sizes: dict[str, set[int]] | None = None) -> Iterator[str]:
    """A sentence per broken rule in the manifest ``tree_oid``; the recorded size of every stored
    file goes into ``sizes`` (digest → sizes), so the caller can compare them with the store."""
    stack: list[tuple[pygit2.Oid, str]] = [(tree_oid, "")]
    while stack:
        oid, folder = stack.pop()
        where = f"folder {folder or '.'!r}"
        listings: dict[str, pygit2.Oid] = {}
        subfolders: dict[str, pygit2.Oid] = {}
        tree = git[oid]
        for obj in tree:
            if obj.type == pygit2.GIT_OBJECT_TREE:
                try:
                    subfolders[subfolder_name(obj.name, folder)] = obj.id
                except ArtvcsError:
                    continue  # every reader refuses it: fsck reports that reader's error
            elif obj.type == pygit2.GIT_OBJECT_BLOB and (obj.name == LISTING or _BUCKET.fullmatch(obj.name)):
                if obj.filemode != pygit2.GIT_FILEMODE_BLOB:
                    yield f"{where}: listing blob {obj.name!r} has mode {obj.filemode:o}, not 100644"
                listings[obj.name] = obj.id
            else:
                yield f"{where}: tree entry {obj.name!r} ({obj.type_str}) is neither a listing blob nor a subfolder"
        if folder and not listings and not subfolders:
            yield f"{where} is empty: a folder with no files and no subfolders is not stored"
        names = yield from _listings(git, where, folder, listings, sizes)
        for name in sorted(subfolders.keys() & names):
            path = f"{folder}/{name}" if folder else name
            yield f"entry path {path!r} is both a file and a folder"
        stack.extend(sorted(((soid, f"{folder}/{name}" if folder else name) for name, soid in subfolders.items()), reverse=True))


def _listings(git, where: str, folder: str, listings: dict[str, pygit2.Oid], sizes) -> Iterator[str]:
    """Check one folder's listing blobs; return (as the generator's value) the file names they hold."""
    names: set[str] = set()
    if LISTING in listings and len(listings) > 1:
        yield f"{where} has both a {LISTING} blob and {LISTING}.XX buckets: a folder has one form or the other"
    total = 0
    for blob_name in sorted(listings):
        data = git[listings[blob_name]].data
        what = f"listing {blob_name!r} of {where}"
        try:
            rows = parse_listing_blob(data, what)
            entries = Entry.from_rows(folder, rows)
        except ArtvcsError:
            continue  # the readers refuse it too, and fsck reports their error with the manifest
        total += len(rows)
        if canonical_json(rows) != data:
            yield f"{what} is not canonical JSON (sorted keys, no spaces, UTF-8, one final line feed)"
        bucket = _BUCKET.fullmatch(blob_name)
        for row, e in zip(rows, entries):
            name = row[0]
            if name in names:
                yield f"duplicate entry path {e.path!r}: listed twice in {where}"
            names.add(name)
            if bucket and _shard(name) != bucket.group(1):
                yield f"{what} holds {name!r}, whose bucket is {LISTING}.{_shard(name)}"
            if len(row) == 4 and (not row[3] or row[3].get("extra") == {}):
                yield f"{what}: the row of {name!r} has an empty tail or extra object (absent when empty)"
            if e.ref is not None:  # stored files' digests and all paths: fsck reports the reader's check
                try:
                    check_entry(e)
                except ArtvcsError as err:
                    yield str(err)
            if sizes is not None and e.ref is None and e.size is not None and is_digest(e.digest):
                sizes.setdefault(e.digest, set()).add(e.size)
    if listings and (total > SHARD_THRESHOLD) != (LISTING not in listings):
        form = f"{LISTING}.XX buckets" if total > SHARD_THRESHOLD else f"one {LISTING} blob"
        yield f"{where} has {total} files: it must be listed in {form} (the threshold is {SHARD_THRESHOLD})"
    return names
