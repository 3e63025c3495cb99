"""gc of the local chunk packs: drop dead packs, rewrite partly dead ones, safe beside writers.

Two steps, so that a crash at any instant loses no live chunk and a reader or
writer at work is never left without a chunk it counts on:

1. :func:`prepare`, without the lock: decide each pack's fate
   (:func:`packplan.plan`) and copy the live chunks of every pack to be
   rewritten into new packs, each chunk hashed as it is read; the new packs
   and their indexes are fsynced before anything goes. A killed gc leaves
   new packs that duplicate live chunks; the next gc finds the old packs
   wholly dead (the new ones are the chunks' homes) and drops them.
2. :func:`finish`, under the exclusive ``chunks/lock`` (so no process that
   read the pack indexes, or decided not to write a chunk because a pack
   had it, is still at work): read the chunk lists written since gc began,
   and remove a pack (index first, then the pack) only if every chunk of it
   that any list now names is in a pack that stays; then write the
   multi-pack index (:mod:`chunkmidx`) of the packs that stay.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import chunkmidx, chunkpacks, packplan
from .chunkpacks import TMP_PREFIX, LocalPacks, PackWriter, split_name
from .durability import fsync_dir
from .store import _unlink_quiet

if TYPE_CHECKING:
    from .store import ContentStore

RUN_BYTES = 8 * 1024 * 1024  # neighbouring live chunks are copied in reads of up to this many bytes
LOCK_WAIT_SECONDS = 30.0  # how long gc waits for readers and writers of chunks before it removes no pack


@dataclass
class Prepared:
    """The packs gc means to remove (and how many bytes each frees), how many it rewrote, how many it kept young."""

    folder: str
    goes: dict[str, int] = field(default_factory=dict)  # pack -> its bytes that are freed
    young: int = 0
    rewritten: int = 0


def _age(path: str, now: float) -> float | None:
    try:
        return now - os.stat(path).st_mtime
    except FileNotFoundError:
        return None


def prepare(store: "ContentStore", live: set[str], grace_seconds: float, dry_run: bool,
            threshold: float = packplan.REWRITE_DEAD_FRACTION) -> Prepared:
    """Plan the collection of the packs under ``live``, and (unless ``dry_run``) write the new packs
    of the live chunks of those to be rewritten. Packs younger than the grace period stay whole."""
    from .chunkstore import packs_dir

    folder = packs_dir(store)
    packs = LocalPacks(folder, shared_lock=False, every_index=True)
    out = Prepared(folder)
    try:
        now = time.time()
        young = set()
        for name in packs.packs:
            ages = [_age(packs.path(name, "idx"), now), _age(packs.path(name), now)]
            if any(a is not None and a < grace_seconds for a in ages):  # a writer reuses it, or just wrote it
                young.add(name)
        out.young = len(young)
        decided = packplan.plan(packs.packs, live, young, threshold)
        out.goes = {p: decided.dead_bytes[p] for p in decided.drop}
        if dry_run:
            out.goes |= {p: decided.dead_bytes[p] for p in decided.rewrite}
            out.rewritten = len(decided.rewrite)
            return out
        writer = PackWriter(folder, durable=True)
        try:
            for name, rows in decided.rewrite.items():
                filled = writer.filled
                if not _copy_live(packs, name, rows, writer):
                    continue  # a live chunk does not read back: the pack stays, for fsck to name
                out.goes[name] = decided.dead_bytes[name] - (writer.filled - filled)  # net of the fillers added
                out.rewritten += 1
            writer.close()
        except BaseException:
            writer.abort()
            raise
    finally:
        packs.close()
    return out


def _copy_live(packs: LocalPacks, name: str, rows: list[tuple[str, int, int]], writer: PackWriter) -> bool:
    """Append the chunks ``rows`` of pack ``name`` to ``writer``, each checked against its digest;
    False when one is short or corrupt (the pack then stays)."""
    try:
        fd = packs.fd(name)
    except FileNotFoundError:
        return False
    for run in packplan.runs(rows, RUN_BYTES):
        data = packplan.read_run(lambda start, length: os.pread(fd, length, start), run)
        if data is None:
            return False
        writer.add_run(data, [(d, n) for d, _, n in run], run[0][1])  # keeps its page phase
    return True


def _rebuild_index(folder: str, packs: dict[str, list[tuple[str, int]]]) -> None:
    """Write the multi-pack index of the packs that stay (none: no index). Under the exclusive
    lock; a gc killed before this leaves an index naming removed packs, which readers ignore."""
    try:
        if packs:
            chunkmidx.write(folder, chunkmidx.parts(sorted(packs.items())))
        else:
            chunkmidx.remove(folder)
    except OSError:
        pass  # a cache: the next reader rebuilds it


def finish(store: "ContentStore", prep: Prepared, named_now: set[str], grace_seconds: float,
           dry_run: bool) -> tuple[list[str], int]:
    """Remove the packs ``prep`` decided on whose chunks named by a list now (``named_now``) are all in
    packs that stay, then leftovers of killed writers older than the grace period; return
    ``(removed, bytes freed)``. Called under the exclusive ``chunks/lock`` (or for a dry run)."""
    packs = LocalPacks(prep.folder, shared_lock=False, every_index=True)  # every pack now, those written since included
    try:
        going = {p for p in prep.goes if p in packs.packs}
        changed = True
        while changed:  # a pack kept for a late list holds chunks that other packs then need not
            staying = {d for p, rows in packs.packs.items() if p not in going for d, _ in rows}
            changed = False
            for p in sorted(going):
                if any(d in named_now and d not in staying for d, _ in packs.packs[p]):
                    going.discard(p)
                    changed = True
        removed, freed = [], 0
        for p in sorted(going):
            removed.append(f"{chunkpacks.DIRNAME}/{p}")
            freed += prep.goes[p]
            if not dry_run:
                _unlink_quiet(packs.path(p, "idx"))  # the index first: a pack without one is ignored
                _unlink_quiet(packs.path(p))
        now = time.time()
        try:
            names = os.listdir(prep.folder)
        except FileNotFoundError:
            names = []
        for n in names:
            parts = split_name(n)
            orphan = parts is not None and parts[1] == "pack" and parts[0] not in packs.packs
            if n.startswith(TMP_PREFIX) or orphan:
                a = _age(os.path.join(prep.folder, n), now)
                if a is not None and a > grace_seconds:
                    removed.append(f"{chunkpacks.DIRNAME}/{n}")
                    if not dry_run:
                        _unlink_quiet(os.path.join(prep.folder, n))
        if removed and not dry_run:
            fsync_dir(prep.folder)
        if not dry_run:
            _rebuild_index(prep.folder, {p: rows for p, rows in packs.packs.items() if p not in going})
        return removed, freed
    finally:
        packs.close()
