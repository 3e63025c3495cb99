"""What this repository last saw of each remote: ``.artifacts/remotes/<name>/``.

``base``    — ``<oid> TAB <ref name>`` per line, sorted: the remote's refs as
of the last pull or push, the common base of three-way decisions (did the
alias move here, there, or both?).

``fetched`` — the same, as of the last fetch: what ``fetch`` saw and ``pull``
has not taken yet. Both let a listing's tags be matched to known values
without reading each ref.

``packs`` — names of the remote packs already fetched and installed.

Both are rewritten whole, through a temporary file and a rename.
"""
from __future__ import annotations

import os
import re
import secrets

from ..errors import UsageError

DIRNAME = "remotes"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_remote_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith(".lock"):
        raise UsageError(f"invalid remote name {name!r}: use letters, digits, '.', '_' or '-' (at most 64), starting with a letter or digit")
    return name


class RemoteState:
    """The per-remote records kept under ``.artifacts/remotes/<name>/``."""

    def __init__(self, gitdir: str, name: str) -> None:
        self.folder = os.path.join(gitdir, DIRNAME, check_remote_name(name))

    def _path(self, what: str) -> str:
        return os.path.join(self.folder, what)

    def _lines(self, what: str) -> list[str]:
        try:
            with open(self._path(what), encoding="utf-8") as f:
                return [line.rstrip("\n") for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def _save(self, what: str, lines: list[str]) -> None:
        os.makedirs(self.folder, exist_ok=True)
        tmp = self._path(f".{what}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("".join(line + "\n" for line in lines))
        os.replace(tmp, self._path(what))

    def refs(self, which: str = "base") -> dict[str, str]:
        out = {}
        for line in self._lines(which):
            oid, _, name = line.partition("\t")
            if len(oid) == 40 and name.startswith("refs/"):
                out[name] = oid
        return out

    def save_refs(self, refs: dict[str, str], which: str = "base") -> None:
        self._save(which, [f"{oid}\t{name}" for name, oid in sorted(refs.items())])

    def packs(self) -> set[str]:
        return set(self._lines("packs"))

    def add_packs(self, names: set[str]) -> None:
        if names - self.packs():
            self._save("packs", sorted(self.packs() | names))

    def forget(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)
