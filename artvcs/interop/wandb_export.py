"""``artvcs export --format wandb``: a version laid out as W&B downloads it, with its manifest.

The folder gets the version's files at their entry paths (written through the
verified checkout path, in copy mode so no file shares the store's inode),
``wandb_manifest.json`` (W&B manifest v1, MD5 digests) and
``wandb_artifact.json`` (name, type, description, metadata, aliases and W&B's
digest). References to other storage stay references. MD5 is computed here,
from the written files, never when logging.
"""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from artvcs.interop import wandb_manifest as wm
from artvcs.logged import materialize
from artvcs.plumbing.errors import UsageError

if TYPE_CHECKING:
    from artvcs.artifact import Artifact

INFO = "wandb_artifact.json"
WORKERS = 4  # hashlib's MD5 releases the GIL on large reads


@dataclass
class Exported:
    """What an export wrote: the W&B digest and counts, for the command's report."""

    folder: str
    digest: str
    files: int
    references: int
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"folder": self.folder, "wandb_digest": self.digest, "files": self.files,
                "references": self.references, "size": self.size}


def export(artifact: "Artifact", dest: str) -> Exported:
    """Write ``artifact`` (logged) into ``dest``, which must be empty or not exist yet."""
    if os.path.lexists(dest) and (not os.path.isdir(dest) or os.path.islink(dest) or os.listdir(dest)):
        raise UsageError(f"export: {dest!r} exists and is not an empty folder: give a new or empty folder")
    stored = materialize.stored_entries(artifact)
    taken = {e.path for e in stored}
    for reserved in (wm.FILENAME, INFO):
        if reserved in taken:
            raise UsageError(f"export: {artifact.name} has an entry named {reserved!r}, which W&B's layout uses for itself")
    materialize.write_entries(artifact, stored, dest, mode="copy")
    with ThreadPoolExecutor(WORKERS) as pool:
        md5s = list(pool.map(lambda e: wm.md5_file_b64(os.path.join(dest, *e.path.split("/"))), stored))
    entries = [wm.WandbEntry(e.path, digest, size) for e, (digest, size) in zip(stored, md5s)]
    refs = [e for e in artifact.manifest.entries.values() if e.path not in taken]
    entries += [wm.WandbEntry(e.path, e.digest, e.size, e.ref, dict(e.extra)) for e in refs]
    digest = wm.manifest_digest(entries)
    _write_json(os.path.join(dest, wm.FILENAME), wm.to_json(entries))
    info = {
        "name": artifact.source_name.split(":")[0], "type": artifact.type, "description": artifact.description,
        "metadata": artifact.metadata, "aliases": [a for a in artifact.aliases if a != "latest"],
        "digest": digest, "artvcs": {"version": artifact.source_qualified_name, "digest": artifact.digest},
    }
    _write_json(os.path.join(dest, INFO), info)
    return Exported(os.path.abspath(dest), digest, len(stored), len(refs), sum(s for _, s in md5s))


def _write_json(path: str, doc: dict[str, Any]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
