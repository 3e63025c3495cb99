"""What this repository last saw of each remote: ``.artifacts/remotes/<name>/``.

``base``    — ``<oid> TAB <ref name>`` per line, sorted: the remote's refs as
of the last pull or push, the common base of three-way decisions (did the
alias move here, there, or both?).

``fetched`` — the same, as of the last fetch: what ``fetch`` saw and ``pull``
has not taken yet. Both let a listing's tags be matched to known values
without reading each ref.

``packs`` — names of the remote packs already fetched and installed.

These are rewritten whole, through a temporary file and a rename.

``.artifacts/remotes/.seen`` — every version ref this repository has
exchanged with any remote (pushed, pulled, fetched, cloned), as ``<commit
oid> TAB <ref name>`` lines, appended (before the base or fetch record that
names them) and never rewritten. A published version keeps its number and
commit for ever (version refs are create-only on a remote, and a number is
never given twice), so a remote that later names another commit for one of
them is lying, and is refused. Its name starts with a dot, which no remote
name does.
"""
from __future__ import annotations

import os
import re
import secrets

from .. import durability
from ..errors import UsageError

DIRNAME = "remotes"
SEEN = ".seen"
_VERSION_REF = re.compile(r"^refs/versions/[^/]+/[^/]+/[^/]+/v(0|[1-9][0-9]*)$")
_OID = re.compile(r"^[0-9a-f]{40}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_remote_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name) or name.endswith(".lock"):
        raise UsageError(f"invalid remote name {name!r}: use letters, digits, '.', '_' or '-' (at most 64), starting with a letter or digit")
    return name


class RemoteState:
    """The per-remote records kept under ``.artifacts/remotes/<name>/``."""

    def __init__(self, gitdir: str, name: str) -> None:
        self.gitdir = gitdir
        self.folder = os.path.join(gitdir, DIRNAME, check_remote_name(name))

    def _path(self, what: str) -> str:
        return os.path.join(self.folder, what)

    def _lines(self, what: str) -> list[str]:
        return [line for line in read_lines(self._path(what)) if line.strip()]

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
            if _OID.match(oid) and name.startswith("refs/"):
                out[name] = oid  # anything else is damage: not a value this repository saw
        return out

    def save_refs(self, refs: dict[str, str], which: str = "base") -> None:
        record_seen(self.gitdir, refs)
        self._save(which, [f"{oid}\t{name}" for name, oid in sorted(refs.items())])

    def packs(self) -> set[str]:
        return set(self._lines("packs"))

    def add_packs(self, names: set[str]) -> None:
        if names - self.packs():
            self._save("packs", sorted(self.packs() | names))

    def forget(self) -> None:
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)


# -- records shared by all remotes ----------------------------------------------------------------
def record_path(gitdir: str, what: str) -> str:
    return os.path.join(gitdir, DIRNAME, what)


def read_lines(path: str) -> list[str]:
    """The lines of a record (undecodable bytes replaced: such a line matches nothing)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    return [line for line in data.decode("utf-8", "replace").split("\n") if line]


def append_lines(path: str, lines: list[str]) -> None:
    """Add ``lines`` with one write (O_APPEND: concurrent writers interleave whole writes, not bytes)."""
    if not lines:
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        end = os.lseek(fd, 0, os.SEEK_END)
        torn = end > 0 and os.pread(fd, 1, end - 1) != b"\n"  # a writer killed mid-line: start a new one
        os.write(fd, ("\n" if torn else "").encode() + "".join(line + "\n" for line in lines).encode())
        if durability.enabled():
            os.fsync(fd)
    finally:
        os.close(fd)


def is_version_ref(name: str) -> bool:
    return bool(_VERSION_REF.match(name))


def seen_versions(gitdir: str) -> dict[str, str]:
    """Version ref name → the commit this repository saw it name on a remote.

    The record, completed by every remote's last base and fetch records
    (which repositories made before the record existed hold). A malformed
    line is skipped: the record only ever adds refusals, never permissions.
    """
    out = _seen_record(gitdir)
    folder = os.path.join(gitdir, DIRNAME)
    try:
        remotes = sorted(n for n in os.listdir(folder) if not n.startswith("."))
    except FileNotFoundError:
        remotes = []
    for name in remotes:
        try:
            state = RemoteState(gitdir, name)
        except ValueError:
            continue
        for which in ("base", "fetched"):
            for ref, oid in state.refs(which).items():
                if is_version_ref(ref) and _OID.match(oid):
                    out.setdefault(ref, oid)
    return out


def _seen_record(gitdir: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in read_lines(record_path(gitdir, SEEN)):
        oid, _, name = line.partition("\t")
        if _OID.match(oid) and is_version_ref(name):
            out.setdefault(name, oid)  # the first sighting wins: later lines cannot rewrite it
    return out


def record_seen(gitdir: str, refs: dict[str, str]) -> None:
    """Remember the version refs of ``refs`` (name → oid) that are not remembered yet."""
    known = _seen_record(gitdir)
    new = [f"{oid}\t{name}" for name, oid in sorted(refs.items()) if is_version_ref(name) and name not in known]
    append_lines(record_path(gitdir, SEEN), new)
