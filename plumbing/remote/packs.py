"""Git objects on a remote: packs of what the remote lacks, built, sent, fetched and verified.

A push packs the commits reachable from the refs it sends but not from the
refs the remote already has, and of their trees only what differs from the
same place in a parent's tree (so a version that changes one file sends
that file's listing and the folders above it, not the manifest). The pack's
name is the blake3 of its sorted object ids, so re-running an interrupted
push finds the pack already there.

A fetched pack is untrusted: :mod:`.quarantine` downloads it into a folder
of its own, :func:`verify_pack` re-hashes every object in it (type, size and
bytes, as git names objects), and only after what the refs name is checked
is it moved into ``objects/pack/`` under its own checksum.
"""
from __future__ import annotations

import glob
import hashlib
import os
import secrets
import shutil
from collections.abc import Iterable

import blake3
import pygit2

from ..errors import CorruptObjectError
from .errors import RemoteFormatError
from .layout import PACKS, RemoteRepo

_TYPES = {1: b"commit", 2: b"tree", 3: b"blob", 4: b"tag"}


def new_objects(git: pygit2.Repository, tips: Iterable[pygit2.Oid], known: Iterable[pygit2.Oid]) -> list[pygit2.Oid]:
    """Objects reachable from ``tips`` and not from ``known`` (commits the remote has), trees pruned by parent."""
    tips = [t for t in dict.fromkeys(tips) if t in git]
    if not tips:
        return []
    walker = git.walk(tips[0], pygit2.enums.SortMode.TOPOLOGICAL | pygit2.enums.SortMode.REVERSE)
    for t in tips[1:]:
        walker.push(t)
    for k in dict.fromkeys(known):
        if k in git:
            walker.hide(k)
    out: list[pygit2.Oid] = []
    seen: set[pygit2.Oid] = set()
    for commit in walker:
        out.append(commit.id)
        seen.add(commit.id)
        bases = [p.tree for p in commit.parents]
        _tree(git, commit.tree, bases, seen, out)
    return out


def _tree(git: pygit2.Repository, tree: pygit2.Tree, bases: list[pygit2.Tree], seen: set, out: list) -> None:
    if tree.id in seen or any(b.id == tree.id for b in bases):
        return
    seen.add(tree.id)
    out.append(tree.id)
    maps = [{e.name: e for e in b} for b in bases]
    for e in tree:
        if e.id in seen:
            continue
        same, sub = False, []
        for m in maps:
            be = m.get(e.name)
            if be is None:
                continue
            if be.id == e.id:
                same = True
                break
            if be.type == pygit2.GIT_OBJECT_TREE:
                sub.append(git[be.id])
        if same:
            continue
        if e.type == pygit2.GIT_OBJECT_TREE:
            _tree(git, git[e.id], sub, seen, out)
        else:
            seen.add(e.id)
            out.append(e.id)


def pack_name(oids: Iterable[pygit2.Oid]) -> str:
    """The remote name of a pack: blake3 of its sorted object ids, 40 hex."""
    return blake3.blake3("".join(sorted(str(o) + "\n" for o in oids)).encode()).hexdigest()[:40]


def push_pack(remote: RemoteRepo, git: pygit2.Repository, oids: list[pygit2.Oid], workdir: str) -> tuple[str | None, int]:
    """Pack ``oids`` and upload the pack, then its index; return ``(name, bytes sent)`` (None: nothing to send)."""
    if not oids:
        return None, 0
    name = pack_name(oids)
    have = {s.key for s in remote.backend.list(f"{PACKS}{name}")}
    if {f"{PACKS}{name}.pack", f"{PACKS}{name}.idx"} <= have:
        return name, 0
    folder = os.path.join(workdir, f"pack-out-{os.getpid()}-{secrets.token_hex(4)}")
    os.makedirs(folder)
    try:
        pb = pygit2.PackBuilder(git)
        for o in oids:
            pb.add(o)
        pb.write(folder)
        (pack,) = glob.glob(os.path.join(folder, "*.pack"))
        idx = pack[: -len(".pack")] + ".idx"
        remote.backend.upload(f"{PACKS}{name}.pack", pack)
        remote.backend.upload(f"{PACKS}{name}.idx", idx)  # last: a listed .idx means the pack is whole
        return name, os.path.getsize(pack) + os.path.getsize(idx)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def verify_pack(objects_dir: str, what: str) -> int:
    """Re-hash every object of the pack(s) under ``objects_dir/pack``; return how many there are."""
    try:
        backend = pygit2.OdbBackendPack(objects_dir)
        oids = list(backend)
    except (pygit2.GitError, OSError, ValueError) as e:
        raise RemoteFormatError(f"pack {what} is unreadable ({e}): refused") from None
    for oid in oids:
        try:
            kind, data = backend.read(oid)
        except (pygit2.GitError, KeyError, ValueError) as e:
            raise RemoteFormatError(f"pack {what} is damaged at object {oid} ({e}): refused") from None
        name = _TYPES.get(kind)
        if name is None:
            raise RemoteFormatError(f"pack {what} holds object {oid} of unknown type {kind}: refused")
        actual = hashlib.sha1(name + b" " + str(len(data)).encode() + b"\0" + data).hexdigest()
        if actual != str(oid):
            raise CorruptObjectError(f"pack {what} holds object {oid} whose bytes hash to {actual}: refused")
    return len(oids)
