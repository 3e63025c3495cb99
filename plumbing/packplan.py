"""gc of chunk packs, local or on a remote: which packs go, which are rewritten with their live chunks,
and the runs of neighbouring chunks a rewrite reads at once (each chunk hashed)."""
from __future__ import annotations

from dataclasses import dataclass

import blake3


def runs(rows: list[tuple[str, int, int]], limit: int) -> list[list[tuple[str, int, int]]]:
    """``(digest, offset, size)`` rows of one pack, in pack order, grouped into runs of neighbours of at
    most ``limit`` bytes each: what one read (or one range request) fetches."""
    out: list[list[tuple[str, int, int]]] = []
    for row in rows:
        if out and out[-1][-1][1] + out[-1][-1][2] == row[1] and row[1] + row[2] - out[-1][0][1] <= limit:
            out[-1].append(row)
        else:
            out.append([row])
    return out


def read_run(read, run: list[tuple[str, int, int]]) -> bytes | None:
    """The bytes of ``run`` (one of :func:`runs`), read by ``read(offset, length)`` with every chunk
    checked against its digest; None when the read is short or a chunk is corrupt."""
    start = run[0][1]
    length = run[-1][1] + run[-1][2] - start
    data = read(start, length)
    if len(data) != length:
        return None
    view = memoryview(data)
    for d, off, n in run:
        if blake3.blake3(view[off - start:off - start + n]).hexdigest() != d:
            return None
    return data


REWRITE_DEAD_FRACTION = 0.25  # a pack this dead (by bytes) or more is rewritten with its live chunks


@dataclass
class PackPlan:
    """What gc does with each pack: ``drop`` (no live chunk it alone holds), ``rewrite`` (pack ->
    the ``(digest, offset, size)`` of the live chunks to copy out of it), the rest stay whole."""

    drop: list[str]
    rewrite: dict[str, list[tuple[str, int, int]]]
    dead_bytes: dict[str, int]  # per pack dropped or rewritten: the bytes that go


def plan(packs: dict[str, list[tuple[str, int]]], live: set[str], young: set[str],
         threshold: float = REWRITE_DEAD_FRACTION) -> PackPlan:
    """Decide the fate of each pack from the chunks in ``live``; packs in ``young`` stay whole.

    Each live chunk has one home: a young pack first (it cannot go), else the pack with the most
    live bytes (then the fewest dead ones); in every other pack it is a dead duplicate. So a
    rewrite's new pack, left beside its old one by a killed gc, takes its chunks' homes and the
    old pack is then wholly dead. A pack whose dead bytes are at least ``threshold`` of its
    bytes is rewritten; one with no live chunk of its own is dropped.
    """
    live_bytes = {p: sum(n for d, n in rows if d in live) for p, rows in packs.items()}
    total = {p: sum(n for _, n in rows) for p, rows in packs.items()}
    order = sorted(packs, key=lambda p: (p not in young, -live_bytes[p], total[p] - live_bytes[p], p))
    home: dict[str, str] = {}
    for p in order:
        for d, _ in packs[p]:
            if d in live:
                home.setdefault(d, p)
    out = PackPlan([], {}, {})
    for p in order:
        if p in young:
            continue
        keep, off = [], 0
        for d, n in packs[p]:
            if home.get(d) == p:
                keep.append((d, off, n))
                home[d] = ""  # a chunk twice in one pack is copied once
            off += n
        dead = total[p] - sum(n for _, _, n in keep)
        if not keep:
            out.drop.append(p)
        elif dead and dead >= threshold * total[p]:
            out.rewrite[p] = keep
        else:
            continue
        out.dead_bytes[p] = dead
    return out
