"""``gc --remote`` of chunked files: dead chunk lists, dead and partly dead chunk packs.

A remote has no lock a push would take, so a pack goes in steps that a push
running beside gc, or a gc killed at any instant, cannot turn into a list
naming a chunk that no complete pack holds (artvcs-remote-format(5),
GARBAGE COLLECTION):

1. lists of unreachable files older than the grace period are removed;
2. the live chunks of each pack to be rewritten (:func:`packplan.plan`)
   are read (from this repository's own packs where it holds them, else
   back from the remote), each hashed, and uploaded in new packs, pack then
   index;
3. the index of every pack that goes is removed (the pack is hidden: no new
   reader or push counts on it);
4. the lists are listed again: a pack holding a chunk that a list written
   since step 1 names, and that no pack left holds, gets its index back
   (canonical, so the same bytes); every other hidden pack is removed.

A push checks, after writing its lists, that every pack it counted on still
has its index, and uploads again the chunks of any that lost it (see
:func:`chunks.upload`): it either ran late enough to see a pack hidden, or
early enough that gc's second listing sees its lists. A pack left without
an index (a killed push, or a gc killed between 3 and 4) is removed only
when every chunk every list names is in a complete pack; when one is not,
its index is put back from this repository's cache of indexes if it has it.
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from .. import chunkpacks, packplan
from ..chunkpacks import encode_idx, idx_name, parse_idx
from ..errors import CorruptObjectError
from ..store import _unlink_quiet
from .chunks import CHUNKS, LISTS, RANGE_BYTES, idx_key, index, pack_key, read_remote_list
from .layout import RemoteRepo


@dataclass
class RemoteChunkSweep:
    removed: list[str] = field(default_factory=list)
    freed_bytes: int = 0
    kept_young: int = 0
    rewritten_packs: int = 0
    restored: list[str] = field(default_factory=list)  # hidden packs given their index back (a push beside gc)
    out_of_time: bool = False  # stopped removing: its time budget was spent (inflight.GC_BUDGET)


def _digest_of(key: str) -> str:
    return key[len(LISTS):].replace("/", "")


def sweep_remote(remote: RemoteRepo, gitdir: str, keep: set[str], grace_seconds: float, now: float,
                 dry_run: bool, threshold: float = packplan.REWRITE_DEAD_FRACTION,
                 may_remove: Callable[[], bool] = lambda: True) -> RemoteChunkSweep:
    """Collect the remote's chunk lists and packs under ``keep`` (the reachable file digests); once
    ``may_remove()`` says False, remove nothing more (a hidden pack gets its index back)."""

    def allowed() -> bool:
        if dry_run or may_remove():
            return True
        out.out_of_time = True
        return False

    lists = {s.key: s for s in remote.backend.list(LISTS)}
    files = {s.key: s for s in remote.backend.list(CHUNKS)}
    out = RemoteChunkSweep()
    live: set[str] = set()

    def old(st) -> bool:
        return st is not None and st.mtime is not None and now - st.mtime >= grace_seconds

    for key, st in lists.items():
        d = _digest_of(key)
        if d in keep or not old(st) or not allowed():
            out.kept_young += d not in keep
            lst = read_remote_list(remote, d)
            if lst is not None:
                live.update(c for c, _ in lst.chunks)
            continue
        out.removed.append(d)  # lists first: a list never names a removed chunk
        out.freed_bytes += st.size
        if not dry_run:
            remote.backend.remove(key)
    idx = index(remote, gitdir).load()
    young = {p for p in idx.packs if not (old(files.get(pack_key(p))) and old(files.get(idx_key(p))))}
    out.kept_young += len(young)
    decided = packplan.plan(idx.packs, live, young, threshold)
    going = {p: files[pack_key(p)].size + files[idx_key(p)].size for p in decided.drop}
    for p in decided.rewrite:
        going[p] = decided.dead_bytes[p]
    if not dry_run:
        for p in _rewrite(remote, idx, decided.rewrite, gitdir):  # a live chunk does not read back: it stays
            going.pop(p)
        if not allowed():
            going.clear()  # nothing hidden: every pack stays (a rewritten one's chunks are then in two)
    out.rewritten_packs = len([p for p in decided.rewrite if p in going])
    staying = index(remote, gitdir)  # the packs complete once this gc is done
    if dry_run:
        for p, rows in idx.packs.items():
            if p not in going:
                staying.add(p, rows)
    else:
        for p in going:
            remote.backend.remove(idx_key(p))  # hidden: no new reader or push counts on it
        late = _late_chunks(remote, lists)
        staying.load()
        for p in sorted(going):
            if not allowed() or any(c in late and c not in staying.where for c, _ in idx.packs[p]):
                remote.backend.write(idx_key(p), encode_idx(idx.packs[p]))  # a push counted on it
                staying.add(p, idx.packs[p])
                out.restored.append(p)
                going.pop(p)
                continue
            remote.backend.remove(pack_key(p))
    for p in sorted(going):
        out.removed.append(f"{CHUNKS}{p}")
        out.freed_bytes += going[p]
    _orphans(remote, files, live, staying, old, dry_run, out, allowed)
    return out


def _late_chunks(remote: RemoteRepo, seen: dict) -> set[str]:
    """The chunks named by lists that were written since ``seen`` was listed."""
    out: set[str] = set()
    for st in remote.backend.list(LISTS):
        if st.key not in seen or st.mtime != seen[st.key].mtime:
            lst = read_remote_list(remote, _digest_of(st.key))
            if lst is not None:
                out.update(c for c, _ in lst.chunks)
    return out


def _rewrite(remote: RemoteRepo, idx, rewrite: dict[str, list[tuple[str, int, int]]], gitdir: str) -> list[str]:
    """Upload new packs of the live chunks ``rewrite`` names, each hashed: read from this repository's
    packs where it holds them, else back from the remote by range; return the packs whose chunks
    could not be read whole (they stay)."""
    work = os.path.join(gitdir, "remotes", "tmp")
    os.makedirs(work, exist_ok=True)
    damaged: list[str] = []
    rows: list[tuple[str, int]] = []
    tmp = os.path.join(work, f"chunkpack-gc-{os.getpid()}-{secrets.token_hex(6)}")
    f = open(tmp, "wb")
    try:
        for p, live_rows in rewrite.items():
            mark, got = f.tell(), []
            local = _local_packs(gitdir)  # held while this pack's chunks are read, not across uploads
            try:
                for run in packplan.runs(live_rows, RANGE_BYTES):
                    data = _read_local(local, run)
                    if data is None:
                        data = packplan.read_run(
                            lambda start, length: remote.backend.read_range(pack_key(p), start, length), run)
                    if data is None:
                        raise CorruptObjectError(f"chunk pack {p}: a live chunk is short or corrupt")
                    f.write(data)
                    got += [(c, n) for c, _, n in run]
            except (CorruptObjectError, FileNotFoundError):
                f.seek(mark)
                f.truncate()
                damaged.append(p)
                continue
            finally:
                if local is not None:
                    local.close()  # a local gc waits for the shared lock no longer than one pack's reads
            rows += got
            if f.tell() >= chunkpacks.PACK_BYTES:
                f.close()
                _send(remote, idx, tmp, rows)
                rows, f = [], open(tmp, "wb")
        f.close()
        if rows:
            _send(remote, idx, tmp, rows)
    finally:
        f.close()
        _unlink_quiet(tmp)
    return damaged


def _local_packs(gitdir: str) -> chunkpacks.LocalPacks | None:
    """This repository's chunk packs (held under the shared chunk lock, so a local gc removes none
    while they are read), or None when it has none or they cannot be read (an OSError: a speed-up
    only, the chunks are then read from the remote)."""
    folder = chunkpacks.folder_of(gitdir)
    try:
        return chunkpacks.LocalPacks(folder) if os.path.isdir(folder) else None
    except OSError:
        return None


def _read_local(local: chunkpacks.LocalPacks | None, run: list[tuple[str, int, int]]) -> bytes | None:
    """The bytes of ``run`` (live chunks of a remote pack) read from the local packs, each chunk hashed
    against its digest; None unless every chunk is there, of its size, and reads back right (the
    run is then read from the remote)."""
    if local is None:
        return None
    parts = []
    for d, _, n in run:
        try:
            loc = local.where.get(d)  # (may read a pack's index)
            if loc is None or loc.size != n:
                return None
            data, wrong = local.read_checked(loc, d)
        except OSError:
            return None
        if wrong:
            return None
        parts.append(data)
    return b"".join(parts)


def _send(remote: RemoteRepo, idx, path: str, rows: list[tuple[str, int]]) -> None:
    data = encode_idx(rows)
    name = idx_name(data)
    remote.backend.upload(pack_key(name), path)
    remote.backend.write(idx_key(name), data)  # last: a listed index means a whole pack
    idx.remember(name, data)


def _orphans(remote: RemoteRepo, files: dict, live: set[str], staying, old, dry_run: bool,
             out: RemoteChunkSweep, allowed: Callable[[], bool]) -> None:
    """Packs left without an index: put one back from the cache when a list names a chunk no complete
    pack holds, else remove them once older than the grace period."""
    orphans = [k for k in files if k.endswith(".pack") and idx_key(k[len(CHUNKS):-len(".pack")]) not in files]
    if not orphans:
        return
    missing = live - set(staying.where)
    for key in orphans:
        name = key[len(CHUNKS):-len(".pack")]
        if missing:
            rows = _cached_rows(staying.cache_dir, name)
            if rows and {c for c, _ in rows} & missing:
                if not dry_run:
                    remote.backend.write(idx_key(name), encode_idx(rows))
                out.restored.append(name)
                missing -= {c for c, _ in rows}
            continue  # never remove a pack that may hold a chunk a list names
        if old(files[key]) and allowed():
            out.removed.append(key)
            out.freed_bytes += files[key].size
            if not dry_run:
                remote.backend.remove(key)


def _cached_rows(cache_dir: str, name: str) -> list[tuple[str, int]] | None:
    try:
        with open(os.path.join(cache_dir, name), "rb") as f:
            return parse_idx(f.read(chunkpacks.MAX_IDX_BYTES + 1), name)
    except (OSError, CorruptObjectError):
        return None
