"""``artvcs import --format wandb``: a downloaded W&B artifact logged as a version.

The folder holds the files at their entry paths and ``wandb_manifest.json``;
``wandb_artifact.json`` (what :mod:`wandb_export` writes, or what a user
saves from W&B's API) may give the name, type, description, metadata and
aliases. Every stored file is checked against its size and MD5 before
anything is logged; a file that is missing, a link, or different refuses the
whole import and changes nothing. References are kept as references with
W&B's digests. Files in the folder that the manifest does not name are left
out and counted.
"""
from __future__ import annotations

import json
import os
import stat as _stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from artvcs.artifact import Artifact
from artvcs.interop import wandb_manifest as wm
from artvcs.interop.wandb_export import INFO
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.manifest import Entry
from artvcs.session import init

WORKERS = 4


@dataclass
class Imported:
    artifact: Artifact
    wandb_digest: str
    files: int
    references: int
    ignored: int

    def to_json(self) -> dict[str, Any]:
        a = self.artifact
        return {"version": a.qualified_name, "digest": a.digest, "wandb_digest": self.wandb_digest,
                "files": self.files, "references": self.references, "ignored": self.ignored,
                "aliases": a.aliases}


def read_info(folder: str) -> dict[str, Any]:
    """``wandb_artifact.json`` of ``folder`` checked field by field ({} when there is none)."""
    path = os.path.join(folder, INFO)
    try:
        with open(path, "rb") as f:
            raw = f.read(1 << 24)
    except FileNotFoundError:
        return {}
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise wm.WandbManifestError(f"{path} is not UTF-8 JSON: {e}") from None
    if not isinstance(doc, dict):
        raise wm.WandbManifestError(f"{path} must hold a JSON object")
    for key, kind in (("name", str), ("type", str), ("description", str), ("metadata", dict), ("aliases", list)):
        if doc.get(key) is not None and not isinstance(doc[key], kind):
            raise wm.WandbManifestError(f"{path}: {key!r} must be a {kind.__name__}, not {type(doc[key]).__name__}")
    if not all(isinstance(a, str) for a in doc.get("aliases") or []):
        raise wm.WandbManifestError(f"{path}: 'aliases' must be a list of strings")
    return doc


def import_folder(folder: str, name: str | None = None, type_: str | None = None, description: str | None = None,
                  metadata: dict[str, Any] | None = None, aliases: list[str] | None = None) -> Imported:
    """Check every file of the W&B artifact in ``folder``, then log it as the next version of ``name``."""
    if not os.path.isdir(folder):
        raise UsageError(f"import: {folder!r} is not a folder holding a downloaded W&B artifact")
    mpath = os.path.join(folder, wm.FILENAME)
    try:
        with open(mpath, "rb") as f:
            raw = f.read(wm.MAX_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"import: {folder!r} has no {wm.FILENAME}: save the artifact's manifest there "
                         "(json.dump(artifact.manifest.to_manifest_json(), f))") from None
    entries = wm.parse(raw, mpath)
    info = read_info(folder)
    name = name or info.get("name")
    type_ = type_ or info.get("type")
    if not name or not type_:
        raise UsageError(f"import: give --name and --type (or 'name' and 'type' in {INFO})")
    stored = [e for e in entries if e.ref is None]
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda e: _check_file(folder, e), stored))
    art = Artifact(name, type_, description if description is not None else info.get("description"),
                   metadata if metadata is not None else info.get("metadata"))
    for e in stored:
        art.add_file(os.path.join(folder, *e.path.split("/")), name=e.path)
    for e in entries:
        if e.ref is not None:
            art._put(Entry(e.path, e.digest, e.size, e.ref, e.extra), None, True, "import")
    wanted = [a for a in dict.fromkeys(list(info.get("aliases") or []) + list(aliases or [])) if a != "latest"]
    with init(job_type="import") as run:
        run.log_artifact(art, aliases=wanted)
    named = {e.path for e in entries} | {wm.FILENAME, INFO}
    ignored = sum(1 for d, _, fs in os.walk(folder) for f in fs
                  if os.path.relpath(os.path.join(d, f), folder).replace(os.sep, "/") not in named)
    return Imported(art, wm.manifest_digest(entries), len(stored), len(entries) - len(stored), ignored)


def _check_file(folder: str, e: wm.WandbEntry) -> None:
    """Refuse the import unless ``e``'s file is a regular file (not a link) with the recorded size and MD5."""
    path = os.path.join(folder, *e.path.split("/"))
    where = os.path.relpath(path)
    if not os.path.realpath(path).startswith(os.path.realpath(folder) + os.sep):
        raise UsageError(f"import: {where} leads outside {folder!r} through a link: only files inside it are imported")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise UsageError(f"import: {where} is in {wm.FILENAME} but not in the folder") from None
    if not _stat.S_ISREG(st.st_mode):
        raise UsageError(f"import: {where} is not a regular file (a link or a folder): only files are imported")
    if st.st_size != e.size:
        raise UsageError(f"import: {where} has {st.st_size} bytes, the manifest says {e.size}")
    digest, _ = wm.md5_file_b64(path)
    if digest != e.digest:
        raise UsageError(f"import: {where} has MD5 {digest}, the manifest says {e.digest}: the file changed or the manifest lies")
