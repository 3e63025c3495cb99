"""Manifests: the list of an artifact's entries, stored as git trees and blobs.

Each folder of the artifact is a git tree. Its files are listed in one blob
named ``%files`` (or, above SHARD_THRESHOLD files, in up to 256 blobs
``%files.XX`` bucketed by the blake3 of the file name), and each subfolder is
a subtree. So a version that changes one file rewrites that file's listing
and the trees above it; everything else is shared with the previous version,
and a folder of many small files costs one object, not one per file.

A listing blob is canonical JSON (sorted, compact, UTF-8), one array per file
ordered by name: ``[name, digest, size]`` or ``[name, digest, size, {"ref":
uri, "extra": {...}}]``. Subfolder names are escaped (``%``, ``~`` and a
leading ``.`` become ``%XX``) so that no name can look like ``.git`` to git.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter
from typing import Any

import blake3
import pygit2

from .documents import load_json, short
from .errors import CorruptObjectError, UsageError
from .hashing import all_digests, is_digest
from .objectbatch import ObjectBatch
from .paths import _DRIVE, check_entry_path, check_entry_paths, suspect

LISTING = "%files"
_FIRST = itemgetter(0)
SHARD_THRESHOLD = 4096
BLOB = pygit2.GIT_FILEMODE_BLOB
TREE = pygit2.GIT_FILEMODE_TREE
# A reference to an entry of another logged artifact: its bytes are in the store under the entry's digest.
ARTIFACT_SCHEME = "artvcs-artifact://"


class _NoExtra(dict):
    """The one empty ``extra`` that entries read from a manifest share (most have none): an
    empty dict per entry is 64 bytes, a fifth of an entry of a million-entry checkout. It
    refuses changes, so one entry's edit cannot reach the others: copy it (``dict(e.extra)``)."""

    __slots__ = ()

    def _refuse(self, *_a, **_k):
        raise TypeError("an entry's empty extra read from a manifest is shared: copy it (dict(e.extra)) to change it")

    __setitem__ = __delitem__ = setdefault = update = pop = popitem = clear = __ior__ = _refuse


NO_EXTRA: dict[str, Any] = _NoExtra()


@dataclass(slots=True)
class Entry:
    """One manifest entry: a stored file (``ref`` is None) or a reference."""

    path: str
    digest: str
    size: int | None
    ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def row(self, name: str) -> list:
        r: list = [name, self.digest, self.size]
        tail: dict[str, Any] = {}
        if self.ref is not None:
            tail["ref"] = self.ref
        if self.extra:
            tail["extra"] = self.extra
        if tail:
            r.append(tail)
        return r

    @classmethod
    def from_row(cls, folder: str, row: Any) -> "Entry":
        if not isinstance(row, list) or len(row) not in (3, 4) or not isinstance(row[0], str) or not isinstance(row[1], str):
            raise CorruptObjectError(f"malformed manifest row {short(row)} in folder {folder or '.'!r}")
        tail = row[3] if len(row) == 4 else {}
        size = row[2]
        if not isinstance(tail, dict) or "/" in row[0] or not row[0] or (size is not None and (type(size) is not int or size < 0)):
            raise CorruptObjectError(f"malformed manifest row {short(row)} in folder {folder or '.'!r}")
        ref, extra = tail.get("ref"), tail.get("extra")
        if (ref is not None and type(ref) is not str) or (extra is not None and type(extra) is not dict):
            raise CorruptObjectError(f"malformed manifest row {short(row)} in folder {folder or '.'!r}: 'ref' must be a string, 'extra' an object")
        path = f"{folder}/{row[0]}" if folder else row[0]
        return cls(path, row[1], row[2], ref, extra or NO_EXTRA)

    @classmethod
    def from_rows(cls, folder: str, rows: list[list]) -> "list[Entry]":
        """``from_row`` of each of one listing's ``rows`` (each a list whose first item is a string,
        as :func:`parse_listing_blob` gives them). The plain rows of a folder of stored files,
        ``[name, digest, size]``, are checked a column at a time; any other goes row by row,
        which raises the error that names it."""
        if not rows:
            return []
        if set(map(len, rows)) == {3}:
            names, digests, sizes = zip(*rows)
            if (set(map(type, names)) == {str} and all(names) and "/" not in "".join(names)
                    and set(map(type, digests)) == {str}
                    and set(map(type, sizes)) == {int} and min(sizes) >= 0):
                paths = [f"{folder}/{n}" for n in names] if folder else names
                return list(map(cls, paths, digests, sizes, repeat(None), repeat(NO_EXTRA)))
        return [cls.from_row(folder, row) for row in rows]


def escape_name(name: str) -> str:
    """Tree-entry name for a folder called ``name``.

    ``%`` and ``~`` are escaped everywhere, and the first character too when it
    is a dot or not ASCII: git's fsck folds HFS-ignorable code points
    (U+200C...) away, so a zero-width character before ``.git`` would read to
    it as ``.git``.
    """
    out = name.replace("%", "%25").replace("~", "%7E")
    first = out[0]
    if first == "." or ord(first) > 127:
        return "".join(f"%{b:02X}" for b in first.encode()) + out[1:]
    return out


def unescape_name(name: str) -> str:
    from urllib.parse import unquote

    return unquote(name)


def canonical_json(obj: Any) -> bytes:
    """The one JSON encoding artvcs hashes and stores."""
    return (json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n").encode()


def _shard(name: str) -> str:
    return blake3.blake3(name.encode()).hexdigest()[:2]


def check_entry(e: Entry) -> None:
    """Refuse an entry that cannot be stored faithfully."""
    check_entry_path(e.path)
    if not isinstance(e.digest, str) or not e.digest or "\x00" in e.digest or "\n" in e.digest:
        raise UsageError(f"invalid digest {e.digest!r} for entry {e.path!r}: must be a non-empty single-line string")
    if e.size is not None and (not isinstance(e.size, int) or isinstance(e.size, bool) or e.size < 0):
        raise UsageError(f"invalid size {e.size!r} for entry {e.path!r}: must be a non-negative integer")
    if e.ref is None and not is_digest(e.digest):
        raise UsageError(f"invalid digest {e.digest!r} for stored file {e.path!r}: must be 64 lowercase hex characters (blake3)")


def check_folder(folder: str, files: Mapping[str, Entry]) -> None:
    """``check_entry`` for every entry of one folder (``files``: name → entry), in bulk.

    The folder is checked once and the names, digests and sizes together, so
    the cost per entry is a few C-level operations; anything odd is handed
    to ``check_entry`` one by one, so the error is the same.
    """
    try:
        if folder:
            check_entry_path(folder)
        names = "/".join(files)
        values = files.values()
        ok = (
            not _BAD_NAME.search(names)
            and not suspect(names)  # a name git gives meaning to, or a near miss: the careful way
            and "//" not in f"/{names}/"
            and "." not in files
            and ".." not in files
            and (folder or not any(_DRIVE.match(n) for n in files if len(n) > 1 and n[1] == ":"))
            and all(e.ref is None and type(e.size) is int and e.size >= 0 for e in values)
        )
        if ok and files:
            ok = all_digests([e.digest for e in values])
    except (UsageError, TypeError, AttributeError):
        ok = False
    if not ok:  # references, None sizes, or an error: the careful way
        for e in files.values():
            check_entry(e)


_BAD_NAME = re.compile(r"[\x00-\x1f\\]")


# -- writing ------------------------------------------------------------------
def _row(e: Entry, name: str) -> list:
    if e.ref is None and not e.extra:
        return [name, e.digest, e.size]
    return Entry.row(e, name)


def _write_folder(batch: ObjectBatch, folder: str, files: dict[str, Entry], subtrees: dict[str, pygit2.Oid]) -> pygit2.Oid | None:
    if not files and not subtrees:
        return None
    items: list[tuple[str, pygit2.Oid, int]] = []
    names = sorted(files)
    if names:
        if len(names) <= SHARD_THRESHOLD:
            buckets = {LISTING: names}
        else:
            buckets = {}
            for n in names:
                buckets.setdefault(f"{LISTING}.{_shard(n)}", []).append(n)
        for blob_name, bucket in buckets.items():
            items.append((blob_name, batch.blob(canonical_json([_row(files[n], n) for n in bucket])), BLOB))
    for name, oid in subtrees.items():
        items.append((escape_name(name), oid, TREE))
    return batch.tree(items)


def empty_tree(repo: pygit2.Repository) -> pygit2.Oid:
    return repo.TreeBuilder().write()


def group_folders(entries: Iterable[Entry]) -> dict[str, dict[str, Entry]]:
    """``{folder: {name: entry}}``, with every ancestor folder present so that a bottom-up pass
    reaches the root; a duplicate path or an absolute one is refused."""
    folders: dict[str, dict[str, Entry]] = {"": {}}
    for e in entries:
        if type(e.path) is not str:
            check_entry(e)
        folder, sep, name = e.path.rpartition("/")
        if sep and not folder:
            check_entry(e)  # an absolute path: refused
        bucket = folders.get(folder)
        if bucket is None:
            bucket = folders[folder] = {}
            parent = folder
            while parent:
                parent = parent.rpartition("/")[0]
                folders.setdefault(parent, {})
        if name in bucket:
            check_entry(e)
            raise UsageError(f"duplicate entry path {e.path!r} in manifest")
        bucket[name] = e
    return folders


def write_manifest(repo: pygit2.Repository, entries: Iterable[Entry]) -> pygit2.Oid:
    """Write a manifest tree holding exactly ``entries``; return its oid.

    An entry is anything with Entry's five attributes (the binding passes
    its own entry objects, so that nothing is converted per entry).
    """
    folders = group_folders(entries)
    for folder, files in folders.items():
        check_folder(folder, files)
    for folder in folders:  # refuse before writing anything: no stray objects
        parent, _, name = folder.rpartition("/")
        if folder and name in folders.get(parent, {}):
            raise UsageError(f"entry path {folder!r} is both a file and a folder")
    batch = ObjectBatch(repo)
    root = _build(batch, folders)
    batch.write()
    return root or empty_tree(repo)


def _build(batch: ObjectBatch, folders: dict[str, dict[str, Entry]]) -> pygit2.Oid | None:
    children: dict[str, dict[str, pygit2.Oid]] = {}
    for folder in sorted(folders, key=lambda f: f.count("/") + (1 if f else 0), reverse=True):
        oid = _write_folder(batch, folder, folders[folder], children.get(folder, {}))
        if folder == "":
            return oid
        if oid is not None:
            parent, _, name = folder.rpartition("/")
            children.setdefault(parent, {})[name] = oid
    return None


def update_manifest(repo: pygit2.Repository, base: pygit2.Oid | None, changes: Mapping[str, Entry | None]) -> pygit2.Oid:
    """Apply ``changes`` (path → new entry, or None to remove) to tree ``base``.

    Only the folders on the changed paths are read and rewritten, so the cost
    follows the size of the change, not of the manifest. The folders are
    read top-down and written bottom-up, without recursion, so no depth of
    folders exhausts the stack.
    """
    if not changes:  # nothing to apply (an unchanged new_draft): the base as it is
        return base if base is not None else empty_tree(repo)
    by_folder: dict[str, dict[str, Entry | None]] = {}
    for path, e in changes.items():
        if e is not None:
            check_entry(e)
        folder, _, name = path.rpartition("/")
        by_folder.setdefault(folder, {})[name] = e
    touched: set[str] = set()
    for folder in by_folder:
        f = folder
        while f not in touched:
            touched.add(f)
            if not f:
                break
            f = f.rpartition("/")[0]
    order = sorted(touched, key=lambda f: f.count("/") + (1 if f else 0))
    loaded: dict[str, tuple[dict[str, Entry], dict[str, pygit2.Oid]]] = {}
    children: dict[str, list[str]] = {}
    for folder in order:  # top-down: what each touched folder holds in the base
        if not folder:
            tree = repo[base] if base is not None else None
        else:
            parent, _, name = folder.rpartition("/")
            children.setdefault(parent, []).append(folder)
            oid = loaded[parent][1].get(name)
            tree = repo[oid] if oid is not None else None
        loaded[folder] = _read_folder(repo, tree, folder)
    batch = ObjectBatch(repo)
    written: dict[str, pygit2.Oid | None] = {}
    for folder in reversed(order):  # bottom-up: each folder once its touched subfolders are written
        files, subtrees = loaded.pop(folder)
        for name, e in by_folder.get(folder, {}).items():
            _place(files, subtrees, name, e, "{!r} is a folder in the base manifest", e.path if e else "")
        for sub in children.get(folder, ()):
            _place(subtrees, files, sub.rpartition("/")[2], written.pop(sub), "{!r} is both a file and a folder", sub)
        written[folder] = _write_folder(batch, folder, files, subtrees)
    batch.write()
    return written[""] or empty_tree(repo)


def _place(into: dict, other: dict, name: str, value, clash: str, path: str) -> None:
    """Set ``into[name]`` to ``value`` (None: remove it), refusing a name ``other`` holds (a file
    where a folder is, or the reverse)."""
    if value is None:
        into.pop(name, None)
    elif name in other:
        raise UsageError("entry path " + clash.format(path))
    else:
        into[name] = value


# -- reading ------------------------------------------------------------------
def parse_listing_blob(data: bytes, what: str) -> list:
    """The rows of a listing blob (``what`` names it in errors): a JSON array of rows, each an
    array whose first item is the file's name, strictly sorted by name."""
    rows = load_json(data, what)
    # (a column at a time: JSON makes exactly list and str, and a non-empty list is true)
    if type(rows) is not list or set(map(type, rows)) - {list} or not all(rows) \
            or set(map(type, names := list(map(_FIRST, rows)))) - {str}:
        raise CorruptObjectError(f"{what} is not a JSON array of rows")
    if names != sorted(names) or len(set(names)) != len(names):
        raise CorruptObjectError(f"{what} is not sorted by unique name")
    return rows


def _load_rows(repo: pygit2.Repository, oid: pygit2.Oid, folder: str) -> list:
    # The database's read, not repo[oid].data: no Blob object made (half the time of a read).
    kind, data = repo.odb.read(oid)  # (KeyError where there is no such object, as repo[oid])
    what = f"manifest listing {oid} of folder {folder or '.'!r}"
    if kind != pygit2.GIT_OBJECT_BLOB:
        raise CorruptObjectError(f"{what} is not a blob but a git object of type {kind}: the manifest is damaged")
    return parse_listing_blob(data, what)


def subfolder_name(raw: str, folder: str) -> str:
    """The name of the subfolder stored as tree entry ``raw``; refused unless ``raw`` is exactly
    its escaped form, so that no other spelling (``%2egit``, ``a%2Fb``) can reach a path."""
    name = unescape_name(raw)
    if escape_name(name) != raw:
        raise CorruptObjectError(
            f"manifest folder {folder or '.'!r} has a subfolder entry {raw!r} that is not a canonically escaped name "
            f"(it decodes to {name!r}, stored as {escape_name(name)!r})"
        )
    return name


def _read_folder(repo: pygit2.Repository, tree: pygit2.Tree | None, folder: str) -> tuple[dict[str, Entry], dict[str, pygit2.Oid]]:
    """``({file name: entry}, {subfolder name: tree oid})`` of one folder tree (None: an empty folder)."""
    files: dict[str, Entry] = {}
    subs: dict[str, pygit2.Oid] = {}
    if tree is None:
        return files, subs
    for obj in tree:
        if obj.type == pygit2.GIT_OBJECT_TREE:
            subs[subfolder_name(obj.name, folder)] = obj.id
        elif obj.name.startswith(LISTING):
            for row in _load_rows(repo, obj.id, folder):
                files[row[0]] = Entry.from_row(folder, row)
    return files, subs


def iter_entries(repo: pygit2.Repository, tree_oid: pygit2.Oid, prefix: str = "") -> Iterator[Entry]:
    """Every entry of the manifest ``tree_oid`` (folder by folder, in tree order).

    The walk keeps its own stack, so any depth of folders can be read.
    """
    stack: list[tuple[Iterator, str]] = [(iter(repo[tree_oid]), "")]
    while stack:
        it, folder = stack[-1]
        obj = next(it, None)
        if obj is None:
            stack.pop()
            continue
        if obj.type == pygit2.GIT_OBJECT_TREE:
            sub = subfolder_name(obj.name, folder)
            sub = f"{folder}/{sub}" if folder else sub
            if prefix and not (sub.startswith(prefix) or prefix.startswith(sub + "/") or prefix == sub):
                continue
            stack.append((iter(obj), sub))
        elif obj.name.startswith(LISTING):
            entries = Entry.from_rows(folder, _load_rows(repo, obj.id, folder))
            if prefix:
                entries = [e for e in entries if e.path.startswith(prefix)]
            check_entry_paths([e.path for e in entries])  # in bulk: one scan per listing
            yield from entries


def read_manifest(repo: pygit2.Repository, tree_oid: pygit2.Oid) -> dict[str, Entry]:
    """The whole manifest as ``{path: Entry}``."""
    return {e.path: e for e in iter_entries(repo, tree_oid)}


def lookup(repo: pygit2.Repository, tree_oid: pygit2.Oid, path: str) -> Entry | None:
    """One entry, reading only the listing of its folder."""
    folder, _, name = path.rpartition("/")
    tree = _folder_tree(repo, tree_oid, folder)
    if tree is None:
        return None
    names = [o.name for o in tree if o.name.startswith(LISTING)]
    blob = LISTING if LISTING in names else f"{LISTING}.{_shard(name)}"
    if blob not in names:
        return None
    for row in _load_rows(repo, tree[blob].id, folder):
        if row[0] == name:
            return Entry.from_row(folder, row)
    return None


def _folder_tree(repo: pygit2.Repository, tree_oid: pygit2.Oid, folder: str) -> pygit2.Tree | None:
    tree = repo[tree_oid]
    for part in folder.split("/") if folder else ():
        key = escape_name(part) if part else ""
        if not key or key not in tree or tree[key].type != pygit2.GIT_OBJECT_TREE:
            return None
        tree = repo[tree[key].id]
    return tree


@dataclass(frozen=True, slots=True)
class FolderListing:
    """One folder of a manifest: its subfolder names (sorted) and the names of its listing blobs
    (``%files``, or the ``%files.XX`` shards of a large folder); rows are read per blob."""

    folder: str
    subfolders: list[str]
    listings: list[str]


def list_folder(repo: pygit2.Repository, tree_oid: pygit2.Oid, folder: str) -> FolderListing | None:
    """What folder ``folder`` (``""``: the root) holds, reading only the trees on its path; None if absent."""
    tree = _folder_tree(repo, tree_oid, folder)
    if tree is None:
        return None
    subs = sorted(unescape_name(o.name) for o in tree if o.type == pygit2.GIT_OBJECT_TREE)
    blobs = sorted(o.name for o in tree if o.type != pygit2.GIT_OBJECT_TREE and o.name.startswith(LISTING))
    return FolderListing(folder, subs, blobs)


def read_listing(repo: pygit2.Repository, tree_oid: pygit2.Oid, folder: str, listing: str) -> list[Entry]:
    """The entries of one listing blob of ``folder`` (see :func:`list_folder`), sorted by name; [] if absent."""
    tree = _folder_tree(repo, tree_oid, folder)
    if tree is None or not listing.startswith(LISTING) or listing not in tree:
        return []
    entries = Entry.from_rows(folder, _load_rows(repo, tree[listing].id, folder))
    check_entry_paths([e.path for e in entries])
    return entries


# -- digest and diff ----------------------------------------------------------
def manifest_digest(entries: Iterable[Entry]) -> str:
    """blake3 over the canonical listing: ``path NUL digest NUL`` per entry, sorted by path bytes."""
    # "path\0digest\0" strings sort as their paths do: NUL is below every other code point,
    # and UTF-8 preserves code-point order, so sorting str sorts the bytes.
    lines = sorted([f"{e.path}\0{e.digest}\0" for e in entries])
    h = blake3.blake3()
    for i in range(0, len(lines), 8192):  # in slices: memory stays that of the list
        h.update("".join(lines[i : i + 8192]).encode())
    return h.hexdigest()


def summarize(entries: Iterable[Entry]) -> tuple[str, int, int]:
    """``(digest, total size, file count)`` of a list of entries."""
    entries = list(entries)
    return manifest_digest(entries), sum(e.size or 0 for e in entries), len(entries)


def diff_manifests(repo: pygit2.Repository, a: pygit2.Oid | None, b: pygit2.Oid | None) -> Iterator[tuple[str, Entry | None, Entry | None]]:
    """``(path, old, new)`` for every entry that differs; equal subtrees are skipped by oid.

    Folder by folder (files first, then subfolders by name), with a stack of its own.
    """
    stack: list[tuple[pygit2.Oid | None, pygit2.Oid | None, str]] = [(a, b, "")]
    while stack:
        oa, ob, folder = stack.pop()
        if oa == ob:
            continue
        fa, sa = _read_folder(repo, repo[oa] if oa is not None else None, folder)
        fb, sb = _read_folder(repo, repo[ob] if ob is not None else None, folder)
        for name in sorted(fa.keys() | fb.keys()):
            ea, eb = fa.get(name), fb.get(name)
            if ea is None or eb is None or ea.row("") != eb.row(""):
                yield (ea or eb).path, ea, eb
        for name in sorted(sa.keys() | sb.keys(), reverse=True):
            stack.append((sa.get(name), sb.get(name), f"{folder}/{name}" if folder else name))
