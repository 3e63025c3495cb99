"""Merging many packs of git objects into one, as ``git gc`` does past ``gc.autoPackLimit``.

Every large manifest write adds a pack (:mod:`objectbatch`), and each object
lookup that misses asks every pack's index, so lookups slow down as packs
pile up. Past PACK_LIMIT packs, gc writes one pack holding every object of
them (libgit2's pack builder, with deltas: versions of a listing differ a
little) and then removes the old indexes, which hides the old packs from new
readers. The old ``.pack`` files stay until a later gc finds them older than
its grace period, so a reader that loaded an old index before it went can
still read from its pack. Objects are only ever copied, never dropped.
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import time

import pygit2

from .objectbatch import TMP_PREFIXES

PACK_LIMIT = 50  # git's gc.autoPackLimit


def packs(gitdir: str) -> list[str]:
    """The visible packs (those with an index), as paths without the extension."""
    return sorted(p[: -len(".idx")] for p in glob.glob(os.path.join(gitdir, "objects", "pack", "pack-*.idx")))


def hidden_packs(gitdir: str, older_than: float) -> list[str]:
    """``.pack`` files without an index (hidden by a repack, or a killed write) older than ``older_than`` seconds."""
    now, out = time.time(), []
    for path in glob.glob(os.path.join(gitdir, "objects", "pack", "pack-*.pack")):
        if os.path.exists(path[: -len(".pack")] + ".idx"):
            continue
        try:
            if now - os.stat(path).st_mtime > older_than:
                out.append(path)
        except FileNotFoundError:
            continue
    return out


def repack(gitdir: str, limit: int = PACK_LIMIT, dry_run: bool = False) -> int:
    """If more than ``limit`` packs are visible, merge them into one; return how many were
    merged (or, dry, would be). The pack is built in a ``tmp_pack_`` folder beside them."""
    old = packs(gitdir)
    if len(old) <= limit:
        return 0
    if dry_run:
        return len(old)
    repo = pygit2.Repository(gitdir)
    objects_dir = os.path.join(gitdir, "objects")
    builder = pygit2.PackBuilder(repo)
    for oid in pygit2.OdbBackendPack(objects_dir):
        builder.add(oid)
    work = os.path.join(objects_dir, "pack", f"{TMP_PREFIXES[0]}repack-{os.getpid()}-{secrets.token_hex(6)}")
    os.makedirs(work)
    try:
        builder.write(work)
        (built,) = glob.glob(os.path.join(work, "*.pack"))
        name = os.path.join(objects_dir, "pack", os.path.basename(built)[: -len(".pack")])
        os.replace(built, name + ".pack")
        os.replace(built[: -len(".pack")] + ".idx", name + ".idx")  # last: now the objects are visible
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for base in old:
        if base != name:
            os.unlink(base + ".idx")  # its .pack stays for readers that already read this index
    return len(old)
