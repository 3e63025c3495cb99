"""Which files of one folder the stat cache vouches for: one lstat each, compared with the folder's row.

:func:`scan` is the C loop of ``_scan`` (built by ``pip install -e .`` from
``_native/scan.c``) where it was built, else :func:`scan_python`, the same
loop in Python; tests run both on the same folders and compare. For each
name it gives None (nothing there), False (look at it in Python: not a
regular file, no usable record, a stat that differs, racily clean, an
error, or with ``solo`` a file with more than one link) or ``(digest,
size, sweep_gen)`` of a regular file whose record still holds.
"""
from __future__ import annotations

import os
import stat as _stat

from .statcache import RACY_NS, unpack

try:
    from ._scan import scan as _native
except ImportError:  # built without a compiler: the Python loop below does the same
    _native = None

NATIVE = _native is not None and os.environ.get("ARTVCS_NATIVE", "1") != "0"


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
            if r is None or not _stat.S_ISREG(st.st_mode) or (solo and st.st_nlink > 1):
                out.append(False)
                continue
            if (r[0], r[1], r[2], r[3], r[4]) != (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns):
                out.append(False)
                continue
            stamp = r[3] if r[3] > r[4] else r[4]
            ok = stamp < r[5] if r[6] is not None and r[6] == r[0] else stamp + RACY_NS <= r[5]
            out.append((r[8], r[2], r[7]) if ok and r[8].isascii() else False)
    finally:
        os.close(dfd)
    return out


scan = _native if NATIVE else scan_python
