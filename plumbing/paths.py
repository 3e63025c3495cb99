"""Entry paths: the artifact-relative names of files.

An entry path is POSIX-style, relative, and can never leave the folder it is
materialised into. It is checked when added and again before any write,
because a manifest fetched from elsewhere is untrusted input.
"""
from __future__ import annotations

import os
import re

from .errors import PathEscapeError

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\\]")


def normalize_entry_path(value: object) -> str:
    """Normalise ``value`` (``a//b`` → ``a/b``, ``./x`` → ``x``, ``\\`` → ``/``) or refuse it.

    Refused: empty, ``.``, absolute, a ``..`` component, a drive letter or UNC
    anchor, a NUL or other control character.
    """
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise PathEscapeError(f"invalid entry path {value!r}: must be a string")
    raw = value
    if "\x00" in raw:
        raise PathEscapeError(f"invalid entry path {raw!r}: NUL characters are not allowed")
    if raw.startswith("\\\\") or raw.startswith("//"):
        raise PathEscapeError(f"invalid entry path {raw!r}: UNC paths are not allowed; use a relative path")
    s = raw.replace("\\", "/")
    if _DRIVE.match(s):
        raise PathEscapeError(f"invalid entry path {raw!r}: drive letters are not allowed; use a relative path")
    if s.startswith("/"):
        raise PathEscapeError(f"invalid entry path {raw!r}: absolute paths are not allowed; use a relative path")
    parts = [p for p in s.split("/") if p not in ("", ".")]
    if not parts:
        raise PathEscapeError(f"invalid entry path {raw!r}: the path is empty")
    if ".." in parts:
        raise PathEscapeError(f"invalid entry path {raw!r}: '..' components are not allowed")
    return "/".join(parts)




def check_entry_path(value: str) -> str:
    """Accept only an already-normal entry path (as stored in manifests) or raise.

    Backslashes are refused here rather than converted: a stored path must
    mean the same thing on every system. This runs once per entry on every
    manifest read and write, so the common case is a few string checks.
    """
    if (
        isinstance(value, str)
        and value
        and value[0] != "/"
        and value[-1] != "/"
        and "//" not in value
        and not _CONTROL.search(value)
        and not _DRIVE.match(value)
        and all(part != "." and part != ".." for part in value.split("/"))
    ):
        return value
    if not isinstance(value, str) or _CONTROL.search(value):
        raise PathEscapeError(f"invalid entry path {value!r}: backslashes and control characters are not allowed")
    if normalize_entry_path(value) != value:
        raise PathEscapeError(f"invalid entry path {value!r}: not in normal form (relative, no '.', '..' or '//')")
    raise PathEscapeError(f"invalid entry path {value!r}: drive letters are not allowed")


def safe_join(root: str, entry_path: str) -> str:
    """Join ``entry_path`` under ``root``, refusing anything that would escape it."""
    check_entry_path(entry_path)
    target = os.path.join(root, *entry_path.split("/"))
    real_root = os.path.realpath(root)
    # A symlinked parent folder inside root could point anywhere: resolve it.
    parent = os.path.realpath(os.path.dirname(target))
    if parent != real_root and not parent.startswith(real_root.rstrip(os.sep) + os.sep):
        raise PathEscapeError(f"entry path {entry_path!r} leads outside {root!r} through a symbolic link")
    return target


# Anything that could make one of many "\n"-joined paths abnormal: a control character other
# than the separator, a backslash, an empty, "." or ".." component, a leading or trailing "/",
# an empty path, a drive letter.
_ANY_BAD = re.compile(r"[\x00-\x09\x0b-\x1f\\]|//|^/|/$|^$|(?:^|/)\.\.?(?:/|$)|^[A-Za-z]:", re.M)


def check_entry_paths(values: list[str]) -> None:
    """``check_entry_path`` for many paths at once: one scan of them all, and the one-by-one
    check (and its error) only if that scan finds something."""
    try:
        joined = "\n".join(values)
    except TypeError:
        joined = None
    if joined is None or _ANY_BAD.search(joined) or (values and joined.count("\n") != len(values) - 1):
        for v in values:
            check_entry_path(v)

