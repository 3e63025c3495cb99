"""Which files of one folder the stat cache vouches for: one lstat each, compared with the folder's row.

:func:`scan` is the C loop of ``_scan`` (built by ``pip install -e .`` from
``_native/scan.c``) where it was built, else :func:`scan_python`, the same
loop in Python; tests run both on the same folders and compare. For each
name it gives None (nothing there), False (look at it in Python: not a
regular file, no usable record, a stat that differs, racily clean, an
error, or with ``solo`` a file with more than one link) or ``(digest,
size, sweep_gen)`` of a regular file whose record still holds.

:func:`tree` is the loop of a whole folder at once, for :mod:`foldersums`:
it walks ``root`` without following links and gives, for each folder that
holds files, its lines ``name NUL digest`` (names as ``os.fsdecode`` gives
them, encoded "surrogatepass"; sorted by name; joined by newlines) when the
stat cache vouches for every file, or None when anything is not a file the
cache vouches for or a folder (a link, an error). The C one makes no Python
object per file and walks folders on up to four threads.
"""
from __future__ import annotations

import os
import stat as _stat
import sys

from .native import fresh
from .statcache import RACY_NS, unpack

try:
    from . import _scan
except ImportError:  # built without a compiler: the Python loops below do the same
    _scan = None
_scan = fresh(_scan)  # a build its source has moved past is not used (plumbing/native.py)
_native = getattr(_scan, "scan", None)
_native_tree = getattr(_scan, "tree", None)

NATIVE = _native is not None and os.environ.get("ARTVCS_NATIVE", "1") != "0"
# the C tree decodes names as UTF-8 with surrogateescape, which is what os.fsdecode does here
_TREE_NATIVE = NATIVE and _native_tree is not None and sys.getfilesystemencoding() == "utf-8"


def scan_python(folder: str, names: list[str], row: bytes | None, solo: bool) -> list:
    """The loop of ``_native/scan.c``, in Python."""
    recs = unpack(row)
    try:
        dfd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except (FileNotFoundError, NotADirectoryError):
        return [None] * len(names)
    except OSError:
        return [False] * len(names)
    out: list = []
    try:
        for n in names:
            b = os.fsencode(n)
            if b"\0" in b:
                out.append(False)
                continue
            try:
                st = os.stat(b, dir_fd=dfd, follow_symlinks=False)
            except (FileNotFoundError, NotADirectoryError):
                out.append(None)
                continue
            except OSError:
                out.append(False)
                continue
            r = recs.get(b)
            out.append((r[8], r[2], r[7]) if _vouches(r, st) and not (solo and st.st_nlink > 1) else False)
    finally:
        os.close(dfd)
    return out


def _vouches(r: tuple | None, st: os.stat_result) -> bool:
    """Whether record ``r`` (:func:`statcache.unpack`) vouches for the regular file of stat ``st``."""
    if r is None or not _stat.S_ISREG(st.st_mode):
        return False
    if (r[0], r[1], r[2], r[3], r[4]) != (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns):
        return False
    stamp = r[3] if r[3] > r[4] else r[4]
    ok = stamp < r[5] if r[6] is not None and r[6] == r[0] else stamp + RACY_NS <= r[5]
    return ok and r[8].isascii()


def tree_python(root: str, rows: dict[str, bytes], solo: bool = False) -> dict[str, bytes] | None:
    """The loop of ``_native/scan.c``'s ``tree``, in Python: ``{folder relative to root ('' for
    root itself): lines}`` for every folder holding files, or None when it cannot tell (with
    ``solo``, also for a file with more than one link). ``rows``: absolute folder path
    (``os.path.join(root, folder)``) → its stat-cache row."""
    out: dict[str, bytes] = {}
    stack = [""]
    while stack:
        rel = stack.pop()
        where = os.path.join(root, rel) if rel else root
        try:
            dfd = os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC | (os.O_NOFOLLOW if rel else 0))
        except OSError:
            return None
        try:
            names = sorted(os.listdir(dfd))
            recs = unpack(rows.get(where))
            lines = []
            for n in names:
                st = os.stat(n, dir_fd=dfd, follow_symlinks=False)
                if _stat.S_ISDIR(st.st_mode):
                    stack.append(f"{rel}/{n}" if rel else n)
                    continue
                r = recs.get(os.fsencode(n))
                if not _vouches(r, st) or (solo and st.st_nlink > 1):
                    return None
                lines.append(n.encode("utf-8", "surrogatepass") + b"\0" + r[8].encode())
        except OSError:
            return None
        finally:
            os.close(dfd)
        if lines:
            out[rel] = b"\n".join(lines)
    return out


scan = _native if NATIVE else scan_python
tree = _native_tree if _TREE_NATIVE else tree_python
