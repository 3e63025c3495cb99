"""A ref's value read from the files backend alone, without libgit2 (a fast path's check).

git's files backend keeps a ref as a loose file ``<gitdir>/<name>`` holding
40 hex digits, or as a line ``<hex> <name>`` of ``packed-refs``; a loose file
hides a packed line of the same name. :func:`peek` reads exactly that and
raises :class:`CannotTell` for anything else (a symbolic ref, a damaged
file, another backend), so that its caller falls back to :mod:`refs`.
"""
from __future__ import annotations

import os

_HEX = frozenset("0123456789abcdef")


class CannotTell(Exception):
    """The ref's value cannot be read this way: ask libgit2 (:mod:`refs`)."""


class RefPeek:
    """Reads refs of one git directory; ``packed-refs`` is read once, when first needed."""

    def __init__(self, gitdir: str) -> None:
        self.gitdir = gitdir
        self._packed: dict[str, str] | None = None
        if not os.path.isdir(os.path.join(gitdir, "refs")):
            raise CannotTell(f"{gitdir} has no files backend")

    def peek(self, name: str) -> str | None:
        """The 40-hex value of direct ref ``name`` (``refs/...``), or None when there is no such ref."""
        if not name.startswith("refs/") or "\0" in name or ".." in name:
            raise CannotTell(name)
        try:
            with open(os.path.join(self.gitdir, name), "rb") as f:
                return _hex(f.read(100).strip(), name)
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError:  # a folder of that name, no permission: not a plain answer
            raise CannotTell(name) from None
        value = self._packed_refs().get(name)
        return None if value is None else _hex(value.encode("ascii", "replace"), name)

    def _packed_refs(self) -> dict[str, str]:
        if self._packed is None:
            try:
                with open(os.path.join(self.gitdir, "packed-refs"), "rb") as f:
                    text = f.read().decode("utf-8", "surrogateescape")
            except FileNotFoundError:
                text = ""
            self._packed = {}
            for line in text.splitlines():
                if line[:1] not in ("#", "^") and " " in line:
                    value, name = line.split(" ", 1)
                    self._packed[name] = value
        return self._packed


def _hex(text: bytes, name: str) -> str:
    value = text.decode("ascii", "replace")
    if len(value) != 40 or not _HEX.issuperset(value):
        raise CannotTell(f"{name} is not a direct ref")
    return value
