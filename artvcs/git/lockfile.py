"""The two YAML files of a git work tree that say what artvcs tracks there, read without git.

``artvcs.yaml`` declares each tracked path and the artifact it is versioned
as; ``artvcs.lock`` pins each path to one version (name, version, digest,
commit). Both come from git, so from whoever wrote the commit: every path in
them is checked before anything uses it. Kept apart from :mod:`tracking` so
that reading them (``artvcs status``) imports neither git nor the binding.
"""
from __future__ import annotations

import os

from artvcs.plumbing import config
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.paths import normalize_entry_path

TYPE_CHECKING = False  # typing is not imported: it costs an up-to-date status's start-up
if TYPE_CHECKING:
    from typing import Any

DECLARATIONS = "artvcs.yaml"
LOCK = "artvcs.lock"


def _section(data: Any, key: str, where: str) -> dict[str, Any]:
    """``data[key]``, a mapping of tracked paths, each checked: the files come from git, so from
    whoever wrote the commit, and a path names where checkout writes."""
    section = (data or {}).get(key) if isinstance(data, dict) else None
    if section is None and isinstance(data, dict):
        return {}
    if not isinstance(section, dict):
        raise UsageError(f"{where}: '{key}' must be a mapping; fix it or restore it from git")
    for rel in section:
        _check_tracked_path(rel, where)
    return section


def _check_tracked_path(rel: Any, where: str) -> None:
    """A tracked path is relative to the git root, normal, inside it, and not in a repository's own folder."""
    try:
        plain = rel[:-1] if isinstance(rel, str) and rel.endswith("/") else rel
        ok = isinstance(rel, str) and normalize_entry_path(plain) == plain
    except UsageError as e:
        raise UsageError(f"{where}: tracked path {rel!r}: {e}; fix it or restore it from git") from None
    if not ok:
        raise UsageError(f"{where}: tracked path {rel!r} is not a normal relative path (like data/ or model.pt); "
                         "fix it or restore it from git")
    if ".artifacts" in plain.split("/"):
        raise UsageError(f"{where}: tracked path {rel!r} is inside the .artifacts repository; fix it or restore it from git")


def place(root: str, rel: str) -> str:
    """Where tracked path ``rel`` is in the work tree at ``root``, refused (UsageError) when it or a
    folder on the way is a symbolic link: git checks links out of commits, and one named like a
    tracked path (``data -> /home/me``) would have a checkout write, and delete, outside the work tree."""
    here = root
    for part in rel.rstrip("/").split("/"):
        here = os.path.join(here, part)
        if os.path.islink(here):
            raise UsageError(f"tracked path {rel!r}: {here!r} is a symbolic link (to {os.readlink(here)!r}); a tracked "
                             "path is written only inside the git work tree, never through a link: remove the link "
                             "(a git commit may have made it) and run again")
    return os.path.join(root, rel)


def _load(path: str, key: str, parsed: config.ParsedCache | None) -> dict[str, Any]:
    return _section(config.load(path, parsed), key, path)


def declarations(root: str, parsed: config.ParsedCache | None = None) -> dict[str, Any]:
    """``artvcs.yaml``'s tracked paths: path → {name, type} (``parsed``: see :func:`config.parse`)."""
    return _load(os.path.join(root, DECLARATIONS), "tracked", parsed)


def pins(root: str, parsed: config.ParsedCache | None = None) -> dict[str, Any]:
    """``artvcs.lock``'s pins in the work tree: path → {name, version, digest, commit} (``parsed``:
    see :func:`config.parse`)."""
    return _load(os.path.join(root, LOCK), "pins", parsed)


def parse_lock(text: bytes | str, where: str) -> dict[str, Any]:
    """The pins of lock-file text (as stored in a git commit or the index)."""
    data = config.parse(text.encode("utf-8") if isinstance(text, str) else bytes(text), where)
    return _section(data, "pins", where)
