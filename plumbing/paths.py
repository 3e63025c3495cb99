"""Entry paths: the artifact-relative names of files.

An entry path is POSIX-style, relative, and can never leave the folder it is
materialised into. It is checked when added and again before any write,
because a manifest fetched from elsewhere is untrusted input.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable

from .errors import PathEscapeError

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\\]")


def _utf8(value: str) -> bool:
    """Whether ``value`` is Unicode text that UTF-8 can hold: a file name that is not valid UTF-8
    comes from the OS as lone surrogates (os.fsdecode), which no manifest can store."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_utf8(value: str) -> None:
    if not _utf8(value):
        raise PathEscapeError(
            f"invalid entry path {value!r}: file names must be valid UTF-8 (this one holds bytes that are not; rename it)"
        )


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
    if not raw.isascii():
        _check_utf8(raw)
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
    if _SUSPECT.search(s):
        check_components(parts, raw)
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
        and not _SUSPECT.search(value)
        and all(part != "." and part != ".." for part in value.split("/"))
        and (value.isascii() or _utf8(value))
    ):
        return value
    if not isinstance(value, str) or _CONTROL.search(value):
        raise PathEscapeError(f"invalid entry path {value!r}: backslashes and control characters are not allowed")
    _check_utf8(value)
    if normalize_entry_path(value) != value:
        raise PathEscapeError(f"invalid entry path {value!r}: not in normal form (relative, no '.', '..' or '//')")
    if _DRIVE.match(value):
        raise PathEscapeError(f"invalid entry path {value!r}: drive letters are not allowed")
    return value  # normalize_entry_path checked the components git gives meaning to


# -- components git or the OS give meaning to --------------------------------------------------
# Git refuses these in trees (verify_path, fsck): checked out into a git work tree they would
# write into its .git folder (config, hooks: code that git runs). The rules follow git's
# is_ntfs_dotgit (path.c) and is_hfs_dotgit (utf8.c).
HFS_IGNORABLE = "\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u206a\u206b\u206c\u206d\u206e\u206f\ufeff"
_IGNORABLE_SET = frozenset(HFS_IGNORABLE)
# Every path with a component that might break those rules matches this (and many harmless
# ones, such as .github/, which the exact check then lets through).
_SUSPECT = re.compile(r"(?i)(?:^|/)(?:\.git|git~1)|[" + HFS_IGNORABLE + "]", re.M)
_NTFS_DOTGIT = re.compile(r"(?is)(\.git|git~1)[. ]*(?::.*)?")
# Files git refuses as symbolic links (a link would make git read any file as them).
GIT_SYMLINK_NAMES = (("gitmodules", "gi7eba"), ("gitattributes", "gi7d29"), ("gitignore", "gi250a"), ("mailmap", "maba30"))


def _hfs_fold(name: str) -> str:
    """``name`` as HFS+ compares it for git's purposes: ignorable code points dropped, ASCII lower-cased."""
    if any(c in _IGNORABLE_SET for c in name):
        name = "".join(c for c in name if c not in _IGNORABLE_SET)
    return name.lower() if name.isascii() else "".join(c.lower() if c.isascii() else c for c in name)


def git_component_rule(name: str) -> str | None:
    """Why git or the OS would take path component ``name`` for ``.git``, or None."""
    if name.lower() == ".git":
        return "'.git' in any case is git's own folder"
    m = _NTFS_DOTGIT.fullmatch(name)
    if m:
        if m.group(1).lower() == "git~1":
            return "'git~1' is the NTFS short name of '.git'"
        return "'.git' followed by dots, spaces or ':' is '.git' on NTFS"
    if _hfs_fold(name) == ".git":
        return "'.git' with code points HFS+ ignores (U+200C...) is '.git' on HFS+"
    return None


def _ntfs_dot_generic(name: str, needle: str, short: str) -> bool:
    """git's is_ntfs_dot_generic: ``.<needle>`` or an NTFS short name of it, then only dots/spaces/':'."""
    def tail_ok(rest: str) -> bool:
        return re.fullmatch(r"(?s)[. ]*(?::.*)?", rest) is not None

    low = name.lower()
    if low.startswith("." + needle) and tail_ok(name[len(needle) + 1:]):
        return True
    if low[:6] == needle[:6] and len(name) > 7 and name[6] == "~" and name[7] in "1234" and tail_ok(name[8:]):
        return True
    m = re.match(r"([^~]{0,6})~([1-9][0-9]*)", name[:8] + ("\0" if len(name) < 8 else ""))
    if m and len(m.group(0)) == 8 and m.group(1).isascii() and m.group(1).lower() == short[: len(m.group(1))]:
        return tail_ok(name[8:])
    return False


def git_symlink_rule(name: str) -> str | None:
    """Why git refuses a symbolic link named ``name`` (.gitmodules and its kin, any alias), or None."""
    folded = _hfs_fold(name)
    for needle, short in GIT_SYMLINK_NAMES:
        if folded == "." + needle or _ntfs_dot_generic(name, needle, short):
            return f"git refuses '.{needle}' (or an NTFS or HFS+ alias of it) as a symbolic link"
    return None


_SYMLINK_SUSPECT = re.compile(r"(?i)git|mailmap|~|[" + HFS_IGNORABLE + "]")


def refuse_git_symlinks(paths: Iterable[str]) -> None:
    """Before a checkout that makes symbolic links: refuse any file git refuses as one."""
    for path in paths:
        name = path.rpartition("/")[2]
        if _SYMLINK_SUSPECT.search(name):
            rule = git_symlink_rule(name)
            if rule:
                raise PathEscapeError(f"entry path {path!r} cannot be checked out as a symbolic link: {rule}; use --link copy")


def check_components(parts: list[str], raw: str) -> None:
    """Refuse a path whose components git or the OS give meaning to (see git_component_rule)."""
    for part in parts:
        rule = git_component_rule(part)
        if rule:
            raise PathEscapeError(f"invalid entry path {raw!r}: component {part!r}: {rule}")


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
_CONTROL_OR_BACKSLASH = re.compile(r"[\x00-\x09\x0b-\x1f\\]")
_DRIVE_LINE = re.compile(r"^[A-Za-z]:", re.M)


def _any_bad(joined: str) -> bool:
    """True wherever ``_ANY_BAD`` finds something in ``joined`` (and perhaps elsewhere), about 20×
    faster: that regex tries six alternatives at every character (~45 ms on 20,000 paths, each
    re-log's and each manifest read's). Each path's separators and the newlines between paths
    all become "/", with one more at each end: an empty path or component, a leading or trailing
    "/" becomes "//", a "." or ".." component "/./" or "/../"; the rest are one character
    class, and the drive-letter regex only where there is a ":"."""
    s = "/" + joined.replace("\n", "/") + "/"
    return ("//" in s or "/./" in s or "/../" in s or _CONTROL_OR_BACKSLASH.search(joined) is not None
            or (":" in joined and _DRIVE_LINE.search(joined) is not None))


def suspect(joined: str) -> bool:
    """True wherever ``_SUSPECT`` finds something in ``joined`` (and perhaps elsewhere). ASCII text,
    nearly all, is looked at with plain substring tests (the case-insensitive regex costs ~25 µs on
    a folder of 100 names); other text keeps the regex (its case-insensitive match also pairs
    "i" with the dotless "ı")."""
    if not joined.isascii():
        return _SUSPECT.search(joined) is not None
    low = joined.lower()
    return ".git" in low or "git~1" in low


def check_entry_paths(values: list[str]) -> None:
    """``check_entry_path`` for many paths at once: one scan of them all, and the one-by-one
    check (and its error) only if that scan finds something."""
    try:
        joined = "\n".join(values)
    except TypeError:
        joined = None
    if (
        joined is None
        or _any_bad(joined)
        or suspect(joined)
        or (values and joined.count("\n") != len(values) - 1)
        or not (joined.isascii() or _utf8(joined))
    ):
        for v in values:
            check_entry_path(v)

