"""A hostile writer of a remote: crafts commits, manifests, packs and refs that no honest artvcs writes.

It works through the remote's own backend (a folder or the SeaweedFS bucket), as anyone with write
access to the bucket could: it uploads packs and content, and writes ref objects directly, skipping
every check an honest push makes. A :class:`Snapshot` of a victim repository (its refs, its stored
content, its object count, the files around it) is what each test compares after the attack.
"""
from __future__ import annotations

import hashlib
import os
import struct
import zlib

import pygit2

from artvcs.plumbing import refs
from artvcs.plumbing.facts import manifest_facts
from artvcs.plumbing.manifest import LISTING, canonical_json, write_manifest, Entry
from artvcs.plumbing.refs import CollectionId
from artvcs.plumbing.remote import content, packs
from artvcs.plumbing.remote.layout import PACKS, RemoteRepo, open_backend, ref_body
from artvcs.plumbing.repository import Repository
from artvcs.plumbing.versions import FACTS, MANIFEST, FORMAT, version_facts

COLL = CollectionId("me", "proj", "mnist")
SIG = pygit2.Signature("me", "me@artvcs", 1_700_000_000, 0)


class Attacker:
    """A repository of its own where hostile objects are made, and raw access to the remote."""

    def __init__(self, folder: str, url: str, options: dict) -> None:
        from artvcs.sync import sync

        self.repo: Repository = sync.clone(url, folder, options)[0]  # the honest history, to build on
        self.git = self.repo.git
        self.remote = RemoteRepo(open_backend(url, options), "attacker")
        self.work = os.path.join(folder, "work")
        os.makedirs(self.work, exist_ok=True)

    # -- objects -------------------------------------------------------------------------------
    def manifest(self, files: dict[str, bytes]) -> pygit2.Oid:
        """An honest manifest of ``files`` (their bytes stored here)."""
        entries = [Entry(p, self.repo.store.put_bytes(b), len(b)) for p, b in files.items()]
        return write_manifest(self.git, entries)

    def raw_tree(self, layout: dict) -> pygit2.Oid:
        """A manifest tree exactly as given: ``{tree name: sub-layout, "%files": rows}``, names unescaped."""
        tb = self.git.TreeBuilder()
        for name, value in layout.items():
            if name.startswith(LISTING):
                tb.insert(name, self.git.create_blob(canonical_json(value)), pygit2.GIT_FILEMODE_BLOB)
            else:
                tb.insert(name, self.raw_tree(value), pygit2.GIT_FILEMODE_TREE)
        return tb.write()

    def deep_tree(self, depth: int, digest: str) -> pygit2.Oid:
        """A manifest ``depth`` folders deep holding one file at the bottom (built bottom-up, no recursion)."""
        tb = self.git.TreeBuilder()
        tb.insert(LISTING, self.git.create_blob(canonical_json([["f", digest, 1]])), pygit2.GIT_FILEMODE_BLOB)
        oid = tb.write()
        for _ in range(depth):
            tb = self.git.TreeBuilder()
            tb.insert("d", oid, pygit2.GIT_FILEMODE_TREE)
            oid = tb.write()
        return oid

    def version(self, manifest: pygit2.Oid, number: int, parent: pygit2.Oid | None = None,
                coll: CollectionId = COLL, **lies) -> pygit2.Oid:
        """A version commit numbered ``number`` whose facts are computed honestly, then overridden by ``lies``."""
        try:
            digest, size, count = manifest_facts(self.git, manifest)
        except Exception:  # a manifest the checks refuse: its facts are whatever the attacker says
            digest, size, count = "0" * 64, 0, 0
        facts = version_facts("dataset", digest, size, count, created_at="2026-11-02T09:15:30.123456Z")
        facts.update(format=FORMAT, version=number, entity=coll.entity, project=coll.project, name=coll.name)
        facts.update(lies)
        tb = self.git.TreeBuilder()
        tb.insert(FACTS, self.git.create_blob(canonical_json(facts)), pygit2.GIT_FILEMODE_BLOB)
        tb.insert(MANIFEST, manifest, pygit2.GIT_FILEMODE_TREE)
        parents = [parent] if parent is not None else []
        return self.git.create_commit(None, SIG, SIG, f"{coll.name} v{number}\n", tb.write(), parents)

    # -- publishing ----------------------------------------------------------------------------
    def upload(self, *commits: pygit2.Oid) -> str | None:
        """Send a pack of the objects reachable from ``commits`` and not from the remote's refs, and
        the content this repository holds; return the pack's name. Walks without recursion, so a
        manifest of any depth can be sent."""
        known = {pygit2.Oid(hex=o) for n in self.remote.list_refs() if (o := self.ref(n))}
        oids, stack, seen = [], list(commits), set()
        while stack:
            oid = stack.pop()
            if oid in seen or oid in known:
                continue
            seen.add(oid)
            oids.append(oid)
            obj = self.git[oid]
            if isinstance(obj, pygit2.Commit):
                stack += [obj.tree_id, *obj.parent_ids]
            elif isinstance(obj, pygit2.Tree):
                stack += [e.id for e in obj]
        content.upload(self.remote, self.repo.store, list(self.repo.store.iter_digests()))
        name, _ = packs.push_pack(self.remote, self.git, oids, self.work)
        return name

    def set_ref(self, name: str, oid: pygit2.Oid | str | None) -> None:
        """Write (or delete) a remote ref object directly, as only a hostile writer would."""
        if oid is None:
            self.remote.backend.remove(name)
        else:
            self.remote.backend.write(name, ref_body(str(oid)))

    def ref(self, name: str) -> str | None:
        found = self.remote.read_ref(name)
        return found[0] if found else None

    def forged_pack(self, objects: list[tuple[str, int, bytes]]) -> str:
        """Upload a pack whose index names each object ``claimed`` oid while its bytes are others; return its name."""
        name = hashlib.sha1(repr(objects).encode()).hexdigest()
        pack, idx = forge_pack(objects)
        self.remote.backend.write(f"{PACKS}{name}.pack", pack)
        self.remote.backend.write(f"{PACKS}{name}.idx", idx)
        return name


def forge_pack(objects: list[tuple[str, int, bytes]]) -> tuple[bytes, bytes]:
    """A version-2 pack and index holding ``(claimed oid hex, type, bytes)`` objects, undeltified.

    The index names each object by the claimed id whatever its bytes hash to: what a remote that
    swaps content would serve.
    """
    body = b"PACK" + struct.pack(">II", 2, len(objects))
    offsets = []
    for claimed, kind, data in objects:
        offsets.append((bytes.fromhex(claimed), len(body)))
        size = len(data)
        first = (kind << 4) | (size & 0x0F)
        size >>= 4
        header = bytearray()
        while size:
            header.append(first | 0x80)
            first = size & 0x7F
            size >>= 7
        header.append(first)
        body += bytes(header) + zlib.compress(data)
    pack = body + hashlib.sha1(body).digest()
    offsets.sort()
    fan = [0] * 256
    for oid, _ in offsets:
        fan[oid[0]] += 1
    total, fanout = 0, b""
    for n in fan:
        total += n
        fanout += struct.pack(">I", total)
    idx = b"\xfftOc" + struct.pack(">I", 2) + fanout
    idx += b"".join(oid for oid, _ in offsets)
    idx += b"".join(struct.pack(">I", zlib.crc32(pack[off:off + 1])) for _, off in offsets)  # CRCs: unchecked by readers
    idx += b"".join(struct.pack(">I", off) for _, off in offsets)
    idx += pack[-20:]
    idx += hashlib.sha1(idx).digest()
    return pack, idx


class Snapshot:
    """A victim repository's refs, stored content and git objects, and the files beside it."""

    def __init__(self, repo: Repository, around: str, skip: tuple[str, ...] = ()) -> None:
        self.refs = {n: str(o) for n, o in refs.iter_refs(repo.git, "refs/")}
        self.content = sorted(repo.store.iter_digests())
        self.packs = sorted(os.listdir(os.path.join(repo.gitdir, "objects", "pack")))
        self.around = _tree(around, skip=(repo.gitdir, *skip))

    def same_as(self, repo: Repository, around: str, skip: tuple[str, ...] = ()) -> None:
        later = Snapshot(repo, around, skip)
        assert later.refs == self.refs, "local refs moved"
        assert later.content == self.content, "the content store changed"
        assert later.packs == self.packs, "a pack was installed"
        assert later.around == self.around, "something was written outside the repository"
        incoming = os.path.join(repo.gitdir, "remotes", ".incoming")
        assert not os.path.isdir(incoming) or os.listdir(incoming) == [], "a quarantine was left behind"


def _tree(root: str, skip: tuple[str, ...]) -> list[str]:
    """Every file under ``root`` but those under the ``skip`` folders (the repository, the remote...)."""
    skip = tuple(os.path.abspath(p) for p in skip)
    out = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if os.path.abspath(os.path.join(folder, d)) not in skip)
        out += [os.path.relpath(os.path.join(folder, f), root) for f in files]
    return sorted(out)
