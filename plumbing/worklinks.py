"""Symbolic links in a workspace where a version names a regular file: not the file it names.

:func:`checkout.verify_folder` judges a file by what ``stat`` sees, so a link
whose target happens to hold the right bytes passed as clean, while
checkout (:mod:`checkplan`) replaces every such link. Status, verify and
diff share :func:`verify_workspace`, which reports those links as ``not a
file``, so all of them agree with what checkout would do. The one link left
alone is the one ``checkout --link symlink`` makes: to the store's own file
of the entry's digest (what checkout itself takes as current).
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from .checkout import verify_folder
from .hashing import is_digest
from .manifest import Entry
from .statcache import StatCache
from .store import ContentStore

NOT_A_FILE = "not a file"


def linked_files(entries: Iterable[Entry], root: str, store: ContentStore) -> list[tuple[str, str]]:
    """``(path, "not a file")`` for each entry of ``entries`` that is a symbolic link under ``root``,
    other than a link to the store's file of the entry's own digest; sorted.

    One directory listing per folder of the version (its d_type tells a link without a stat), and a
    ``readlink`` per link found: a folder without links costs no more than its listing."""
    folders: dict[str, dict[str, Entry]] = {}
    for e in entries:
        folder, _, name = e.path.rpartition("/")
        folders.setdefault(folder, {})[name] = e
    found: list[tuple[str, str]] = []
    for folder, named in folders.items():
        where = os.path.join(root, *folder.split("/")) if folder else root
        try:
            with os.scandir(where) as it:
                links = [d for d in it if d.name in named and d.is_symlink()]
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue  # verify_folder says what is missing or in the way
        for d in links:
            e = named[d.name]
            if is_store_link(d.path, e, store):
                continue
            found.append((e.path, NOT_A_FILE))
    found.sort()
    return found


def is_store_link(path: str, e: Entry, store: ContentStore) -> bool:
    """True when the link ``path`` is the one a symlink checkout makes for entry ``e`` (to the store's file)."""
    if e.ref is not None or not is_digest(e.digest):
        return False  # a reference: fetched as a file of its own, never linked to the store
    try:
        return os.readlink(path) == store.path_of(e.digest)
    except OSError:
        return False


def verify_workspace(entries: list[Entry], root: str, store: ContentStore,
                     statcache: StatCache | None = None) -> list[tuple[str, str]]:
    """:func:`checkout.verify_folder`, with a link where a file belongs reported as ``not a file``
    (instead of judged by the bytes it leads to, or called missing when it dangles); sorted
    ``(path, problem)``."""
    problems = verify_folder(entries, root, statcache)
    links = dict(linked_files(entries, os.path.abspath(root), store))
    if not links:
        return problems
    # a link is named as such whatever its target holds (or whether it dangles: "missing" would say
    # nothing is there); a path reached through a link out of the root stays "outside root"
    kept = [(p, what) for p, what in problems if p not in links or what == "outside root"]
    taken = {p for p, _ in kept}
    return sorted(kept + [(p, what) for p, what in links.items() if p not in taken])
