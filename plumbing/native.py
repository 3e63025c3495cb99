"""Refusing a C extension built from other source than the one beside it.

``pip install -e .`` builds plumbing/_native/*.c once; an edit or a ``git checkout`` of a C file
afterwards leaves the built module behind. Such a module either lacks a name its Python side
imports (and every caller silently took its slower pure-Python path: round 11 found main's own
venv re-logging 3× slower so) or, worse, has the names and runs old code. Each module carries
``SOURCE_ID``, ``"crc32:size:mtime_ns"`` of the source it was built from (setup.py); where that
source is beside this package (an editable install, a source tree), a module built from other
bytes is not used, and one warning says how to rebuild. Where no source is (a plain install),
the module is what was installed with it and is used as is.
"""
from __future__ import annotations

import os
import warnings
from types import ModuleType

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_native")
_checked: dict[str, bool] = {}  # module name -> fresh, so that a module is looked at (and warned of) once


class StaleBuildWarning(RuntimeWarning):
    """A C extension older (or newer) than its source: the pure-Python path is used."""


def fresh(module: ModuleType | None) -> ModuleType | None:
    """``module`` (``artvcs.plumbing._<name>``, or None where it was not built) if it was built from
    ``_native/<name>.c`` as it is now, or where that source is not here; otherwise None."""
    if module is None:
        return None
    name = module.__name__.rpartition(".")[2]
    ok = _checked.get(name)
    if ok is None:
        ok = _checked[name] = matches(getattr(module, "SOURCE_ID", ""), os.path.join(HERE, name.lstrip("_") + ".c"))
        if not ok:
            warnings.warn(f"artvcs: the C extension {module.__name__} was built from other source than "
                          f"{os.path.join(HERE, name.lstrip('_') + '.c')}; using the slower pure-Python path. "
                          "Run 'pip install -e .' again to rebuild it.", StaleBuildWarning, stacklevel=2)
    return module if ok else None


def matches(source_id: str, source: str) -> bool:
    """Whether ``source_id`` (``"crc32:size:mtime_ns"``) was made from file ``source`` as it is now;
    True where there is no such file. The usual case costs one stat: same size and mtime as at
    the build. Otherwise (a checkout touched it, or it changed) its bytes decide."""
    try:
        st = os.stat(source)
    except OSError:
        return True  # a plain install ships no source: nothing to be stale against
    try:
        crc, size, mtime = (int(x) for x in source_id.split(":"))
    except ValueError:
        return False  # built before modules carried SOURCE_ID, or by hand: stale
    if st.st_size != size:
        return False
    if st.st_mtime_ns == mtime:
        return True
    import zlib  # only here: status imports nothing it does not need

    try:
        with open(source, "rb") as f:
            return zlib.crc32(f.read()) == crc
    except OSError:
        return True
