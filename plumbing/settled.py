"""Folders of a re-log whose files the stat cache vouches for, held as bytes, not entries.

A re-logged folder is mostly the files it held before: :func:`settle` (C, ``_native/scan.c``)
reads a folder and keeps each regular file whose stat-cache record vouches for it (same
stat, not racily clean, seen stored under the current sweep generation, below the large-file
size) as one record in a bytes object; everything else is named for the per-file path.
:func:`render` turns a folder's records and its other files into its listing blob, folder
sum lines and artifact-digest lines in one C pass, so that logging 20,000 unchanged files
makes no Python object per file. Where the C extension is not built, :data:`NATIVE` is
False and callers stage every file one by one (same results, tests compare).
"""
from __future__ import annotations

import os
import re
import struct
import sys
from dataclasses import dataclass

from .manifest import Entry
from .native import fresh
from .paths import check_entry_path, check_entry_paths, suspect

try:
    from . import _scan
except ImportError:  # built without a compiler: every file goes one by one
    _scan = None
_scan = fresh(_scan)  # a build its source has moved past is not used (plumbing/native.py)
_render, _settle, _settle_many = (getattr(_scan, n, None) for n in ("render", "settle", "settle_many"))

# the C names are the on-disk bytes, which os.fsdecode gives back unchanged only on a UTF-8 file system
NATIVE = (_settle is not None and _settle_many is not None and _render is not None
          and os.environ.get("ARTVCS_NATIVE", "1") != "0"
          and sys.getfilesystemencoding() == "utf-8")
_DRIVE_ANY = re.compile(r"(?:^|/)[A-Za-z]:")  # a drive letter opening any of the "/"-joined names


@dataclass(slots=True)
class Settled:
    """The vouched files of one folder: ``records`` (C layout, sorted by name), their count and
    total size, their names joined by "/" and digests joined by newlines; ``local`` is the
    folder on disk, ``folder`` its entry path ('' for the artifact's root)."""

    local: str
    folder: str
    records: bytes
    count: int
    size: int
    names: str
    digests: str


def settle(local: str, folder: str, row: bytes | None, gen: int, large: int) -> tuple[list[str], list[str], list[str], Settled | None]:
    """``(subfolder names, regular files to stage one by one, other names to look at, vouched
    files)`` of folder ``local``."""
    dirs, files, rest, records, count, size, names, digests = _settle(local, row, gen, large)
    return dirs, files, rest, Settled(local, folder, records, count, size, names, digests) if count else None


def settle_many(locals_: list[str], folders: list[str], rows: list[bytes | None], gen: int,
                large: int) -> list[tuple[list[str], list[str], list[str], Settled | None]]:
    """:func:`settle` of each folder ``locals_[i]`` (entry path ``folders[i]``, stat-cache row
    ``rows[i]``), in one C call that settles them on threads of its own without the GIL; an
    OSError of the first folder in the list that could not be read."""
    out = []
    for local, folder, (dirs, files, rest, records, count, size, names, digests) in zip(
            locals_, folders, _settle_many(locals_, rows, gen, large)):
        out.append((dirs, files, rest, Settled(local, folder, records, count, size, names, digests) if count else None))
    return out


def _suspect(names: str, root: bool) -> bool:
    """True when the "/"-joined ``names`` might hold a name git or the OS gives meaning to (a
    superset of what _SUSPECT, and at the root _DRIVE_ANY, find: the exact check then decides);
    see :func:`paths.suspect`."""
    return suspect(names) or (root and ":" in names)


def check_names(s: Settled) -> None:
    """Refuse (with the entry path and the rule) a vouched name that is not a valid entry path
    component: the C side already left control characters, backslashes and quotes to Python."""
    if _suspect(s.names, not s.folder):
        check_entry_paths([f"{s.folder}/{n}" if s.folder else n for n in s.names.split("/")])
    if s.folder:
        check_entry_path(s.folder)  # a folder git or the OS gives meaning to (".git"): refused before anything is stored


_HEAD = struct.Struct("=I")
_TAIL = struct.Struct("=64sq")


def entries(s: Settled) -> list[tuple[Entry, str]]:
    """Each vouched file as ``(entry, local path)``, sorted by name: a settled folder made entries
    (for a draft that is read, a gc that began, a folder too large for one listing)."""
    base = f"{s.folder}/" if s.folder else ""
    return [(Entry(base + n, d, size), os.path.join(s.local, n)) for n, d, size in records(s)]


def records(s: Settled) -> list[tuple[str, str, int]]:
    """``(name, digest, size)`` of each vouched file, sorted by name (for a draft that is read)."""
    out = []
    blob, at, end = s.records, 0, len(s.records)
    while at < end:
        (n,) = _HEAD.unpack_from(blob, at)
        name = blob[at + 4 : at + 4 + n].decode()
        digest, size = _TAIL.unpack_from(blob, at + 4 + n)
        out.append((name, digest.decode("ascii"), size))
        at += 4 + n + _TAIL.size
    return out


def render(s: Settled, extras: list[tuple[bytes, bytes, bytes]], cuts: list[bytes], prefix: bytes) -> tuple[bytes, bytes, list[bytes]]:
    """``(listing blob, folder-sum lines, artifact-digest pieces)`` of the folder holding ``s``
    and ``extras`` (see ``_native/scan.c``)."""
    return _render(s.records, extras, cuts, prefix)
