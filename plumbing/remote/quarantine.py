"""Packs fetched from a remote, held apart from the object database until everything in them is checked.

As git's receive quarantine does, a fetch downloads its packs into a
temporary objects folder (``.artifacts/remotes/.incoming/q-<pid>-<hex>/``),
re-hashes every object there, and hands the caller a repository view that
sees the local objects *and* the quarantined ones. Only when the caller has
checked what the remote's refs name is :meth:`Quarantine.install` called,
which renames the packs into ``objects/pack/``. A refused fetch discards the
folder: nothing it brought can be named by a local ref later, and the next
fetch downloads and checks the packs again.
"""
from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterable

import pygit2

from .. import durability
from ..drafts import process_alive
from ..errors import ArtvcsError, CorruptObjectError
from .content import parallel
from .errors import RemoteFormatError
from .layout import PACKS, RemoteRepo
from .packs import verify_pack
from .state import DIRNAME

INCOMING = ".incoming"  # never a remote's name: those start with a letter or digit


class Quarantine:
    """One fetch's packs, downloaded and re-hashed, not yet part of the repository."""

    def __init__(self, gitdir: str) -> None:
        self.gitdir = gitdir
        self.folder = os.path.join(gitdir, DIRNAME, INCOMING, f"q-{os.getpid()}-{secrets.token_hex(6)}")
        self.packdir = os.path.join(self.folder, "pack")
        os.makedirs(self.packdir)
        self.names: list[str] = []
        self.refused: dict[str, ArtvcsError] = {}  # damaged packs, left out: name -> why
        self.bytes = 0

    def __enter__(self) -> "Quarantine":
        return self

    def __exit__(self, *exc) -> None:
        self.discard()

    def fetch(self, remote: RemoteRepo, names: Iterable[str]) -> None:
        """Download the packs ``names`` and re-hash every object in each.

        A damaged pack (unreadable, truncated, or holding an object whose bytes hash to another
        id) is left out and noted in :attr:`refused`: one bad pack on a shared remote must not
        block the objects the others hold, and the caller names it if what it needed is missing.
        """
        names = list(names)

        def one(name: str) -> int:
            try:
                return checked(name)
            except (RemoteFormatError, CorruptObjectError) as e:
                self.refused[name] = e
                for ext in ("pack", "idx"):
                    try:
                        os.unlink(os.path.join(self.packdir, f"pack-{name}.{ext}"))
                    except FileNotFoundError:
                        pass
                return 0

        def checked(name: str) -> int:
            pack = os.path.join(self.packdir, f"pack-{name}.pack")
            idx = os.path.join(self.packdir, f"pack-{name}.idx")
            remote.backend.download(f"{PACKS}{name}.pack", pack)
            remote.backend.download(f"{PACKS}{name}.idx", idx)
            one_dir = os.path.join(self.folder, f"check-{name}")
            os.makedirs(os.path.join(one_dir, "pack"))
            try:  # each pack checked on its own, so the error names the pack that is bad
                os.link(pack, os.path.join(one_dir, "pack", os.path.basename(pack)))
                os.link(idx, os.path.join(one_dir, "pack", os.path.basename(idx)))
                verify_pack(one_dir, f"{remote.name}/{PACKS}{name}")
            finally:
                shutil.rmtree(one_dir, ignore_errors=True)
            return os.path.getsize(pack) + os.path.getsize(idx)

        self.bytes += sum(parallel(one, names, stage="fetching packs"))
        self.names += [n for n in names if n not in self.refused]

    def view(self, git: pygit2.Repository) -> pygit2.Repository:
        """A repository that reads ``git``'s objects and the quarantined ones (for checking, never for writing refs)."""
        seen = pygit2.Repository(git.path)
        if self.names:
            seen.odb.add_disk_alternate(self.folder)
        return seen

    def install(self) -> None:
        """Move the checked packs into ``objects/pack/`` (each under its own checksum, index last)."""
        final_dir = os.path.join(self.gitdir, "objects", "pack")
        if self.names:  # not flushed here: the next log of a version flushes the whole file system
            durability.wrote_unnamed(self.gitdir)
        for name in self.names:
            pack = os.path.join(self.packdir, f"pack-{name}.pack")
            idx = os.path.join(self.packdir, f"pack-{name}.idx")
            with open(pack, "rb") as f:
                f.seek(-20, os.SEEK_END)
                checksum = f.read(20).hex()
            final = os.path.join(final_dir, f"pack-{checksum}")
            if not os.path.exists(final + ".idx"):
                os.replace(pack, final + ".pack")
                os.replace(idx, final + ".idx")  # last: libgit2 finds a pack through its index

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def sweep(gitdir: str) -> None:
    """Remove quarantine folders of fetches whose process is gone (a killed fetch leaves one)."""
    base = os.path.join(gitdir, DIRNAME, INCOMING)
    try:
        names = os.listdir(base)
    except FileNotFoundError:
        return
    for name in names:
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "q" and parts[1].isdigit() and not process_alive(int(parts[1])):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
