"""Which version each folder holds: the record ``artvcs status`` reads outside git.

A folder that was checked out, downloaded or logged as a whole remembers the
version it came from, as ``git status`` knows HEAD and ``dvc status`` a .dvc
file: one small JSON file per folder under ``.artifacts/workspaces/``, named
by the blake3 digest of the folder's real path, written to a temporary file
and renamed into place (the last writer wins; no lock is needed, since each
folder has its own file). Nothing is written into the folder itself, so its
contents stay exactly the version's. The records are this machine's state,
not history: losing them loses no version, only what status can say.

A record is stored data and is read as untrusted: anything that is not a
well-formed record is refused with :class:`WorkspaceRecordError`.
"""
from __future__ import annotations

import json
import os
from collections import namedtuple

from blake3 import blake3

from .errors import ArtvcsError
from .hashing import is_digest

FOLDER = "workspaces"
HOWS = ("checkout", "download", "log")
MAX_RECORD = 64 * 1024  # a record is a few hundred bytes; anything bigger is not one


class WorkspaceRecordError(ArtvcsError):
    """A workspace record is not one artvcs wrote (damaged or foreign)."""


class Workspace(namedtuple("Workspace", "path name version commit digest how at")):
    """A folder and the version it was last made from: path, name (entity/project/collection),
    version (vN at the time), commit, digest, how (checkout, download or log), and at (when); all
    strings. (collections' named tuple, not a dataclass nor typing's NamedTuple: ``artvcs status``
    reads these, and dataclasses or typing would cost its start-up.)"""

    __slots__ = ()

    def to_json(self) -> dict[str, str]:
        return self._asdict()


def _file(gitdir: str, path: str) -> str:
    return os.path.join(gitdir, FOLDER, blake3(os.path.realpath(path).encode("utf-8", "surrogateescape")).hexdigest()[:32])


def parse(data: bytes, where: str) -> Workspace:
    """A record from its stored bytes; :class:`WorkspaceRecordError` names ``where`` and the rule broken."""
    if len(data) > MAX_RECORD:
        raise WorkspaceRecordError(f"{where}: a workspace record is at most {MAX_RECORD} bytes; delete the file")
    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WorkspaceRecordError(f"{where}: not a JSON workspace record; delete the file") from None
    fields = Workspace._fields
    if not isinstance(obj, dict) or set(obj) != set(fields) or not all(isinstance(obj[k], str) for k in fields):
        raise WorkspaceRecordError(f"{where}: a workspace record holds exactly the strings {', '.join(sorted(fields))}")
    if obj["how"] not in HOWS or not is_digest(obj["digest"]) or len(obj["commit"]) != 40 \
            or any(c not in "0123456789abcdef" for c in obj["commit"]) or not os.path.isabs(obj["path"]) \
            or not obj["version"].startswith("v") or not obj["version"][1:].isdigit():
        raise WorkspaceRecordError(f"{where}: a field of the workspace record is out of its range; delete the file")
    return Workspace(**obj)


def record(gitdir: str, ws: Workspace) -> None:
    """Remember that ``ws.path`` holds ``ws``'s version (replacing what was recorded for it)."""
    folder = os.path.join(gitdir, FOLDER)
    os.makedirs(folder, exist_ok=True)
    import secrets  # only a writer needs it (start-up time of status)

    target = _file(gitdir, ws.path)
    tmp = f"{target}.tmp-{os.getpid()}-{secrets.token_hex(6)}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(ws.to_json(), f, sort_keys=True)
    os.replace(tmp, target)


def forget(gitdir: str, path: str) -> None:
    """Drop the record of ``path`` (its folder was emptied or is another version's now)."""
    try:
        os.unlink(_file(gitdir, path))
    except FileNotFoundError:
        pass


def lookup(gitdir: str, path: str) -> Workspace | None:
    """The record of the folder ``path`` (its real path), or None."""
    target = _file(gitdir, path)
    try:
        with open(target, "rb") as f:
            data = f.read(MAX_RECORD + 1)
    except (FileNotFoundError, NotADirectoryError):
        return None
    ws = parse(data, target)
    return ws if ws.path == os.path.realpath(path) else None


def all_records(gitdir: str) -> list[Workspace]:
    """Every well-formed record, sorted by path; damaged ones are passed over (status says nothing of them)."""
    folder = os.path.join(gitdir, FOLDER)
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return []
    out = []
    for name in names:
        if ".tmp-" in name:
            continue
        try:
            with open(os.path.join(folder, name), "rb") as f:
                out.append(parse(f.read(MAX_RECORD + 1), os.path.join(folder, name)))
        except (OSError, WorkspaceRecordError):
            continue
    return sorted(out, key=lambda w: w.path)
