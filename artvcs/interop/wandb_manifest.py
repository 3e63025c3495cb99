"""W&B's artifact manifest, version 1 (``wandb_manifest.json``), read and written.

A manifest is ``{"version": 1, "storagePolicy": "wandb-storage-policy-v1",
"storagePolicyConfig": {...}, "contents": {path: {"digest": ..., "size": ...,
"ref": ..., "extra": ..., "birthArtifactID": ...}}}``. A stored file's digest
is the base64 of its MD5; W&B's manifest digest is the hex MD5 of
``wandb-artifact-manifest-v1\\n`` followed by ``path:digest\\n`` per entry in
path order. A manifest handed to :func:`parse` is untrusted: every field is
checked and every failure is a :class:`WandbManifestError` naming the file and
the rule.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from artvcs.artifact_manifest import ArtifactManifestEntry
from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.paths import normalize_entry_path

FILENAME = "wandb_manifest.json"
STORAGE_POLICY = "wandb-storage-policy-v1"
MAX_BYTES = 1 << 30  # a manifest larger than this is refused before it is parsed


class WandbManifestError(UsageError):
    """A ``wandb_manifest.json`` that breaks W&B's manifest v1 format."""


@dataclass
class WandbEntry:
    """One entry of a W&B manifest: a stored file (``ref`` None) or a reference."""

    path: str
    digest: str
    size: int | None = None
    ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def b64_md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode("ascii")


def md5_file_b64(path: str, chunk: int = 1 << 20) -> tuple[str, int]:
    """``(base64 MD5, size)`` of the file at ``path``, read once in chunks."""
    h, n = hashlib.md5(), 0
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
            n += len(block)
    return base64.b64encode(h.digest()).decode("ascii"), n


def manifest_digest(entries: list[WandbEntry]) -> str:
    """W&B's digest of a manifest (``Artifact.digest`` there): hex MD5 over ``path:digest`` lines."""
    h = hashlib.md5(b"wandb-artifact-manifest-v1\n")
    for e in sorted(entries, key=lambda e: e.path):
        h.update(f"{e.path}:{e.digest}\n".encode())
    return h.hexdigest()


def to_json(entries: list[WandbEntry]) -> dict[str, Any]:
    """The manifest document, keys in W&B's order."""
    contents = {e.path: ArtifactManifestEntry(e.path, e.digest, ref=e.ref, size=e.size, extra=e.extra).to_manifest_contents()
                for e in sorted(entries, key=lambda e: e.path)}
    return {"version": 1, "storagePolicy": STORAGE_POLICY, "storagePolicyConfig": {"storageLayout": "V2"},
            "contents": contents}


def parse(raw: bytes, where: str) -> list[WandbEntry]:
    """The entries of the manifest bytes ``raw`` (read from ``where``), every field checked."""
    if len(raw) > MAX_BYTES:
        raise WandbManifestError(f"{where} is {len(raw)} bytes: larger than {MAX_BYTES} is refused")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise WandbManifestError(f"{where} is not UTF-8 JSON: {e}") from None
    if not isinstance(doc, dict):
        raise WandbManifestError(f"{where} must hold a JSON object, not {type(doc).__name__}")
    if doc.get("version") != 1:
        raise WandbManifestError(f"{where} has version {doc.get('version')!r}: only W&B manifest version 1 is read")
    policy = doc.get("storagePolicy")
    if policy != STORAGE_POLICY:
        raise WandbManifestError(f"{where} has storagePolicy {policy!r}: only {STORAGE_POLICY!r} is read")
    contents = doc.get("contents")
    if not isinstance(contents, dict):
        raise WandbManifestError(f"{where}: 'contents' must be an object of path -> entry")
    out = []
    for path, val in contents.items():
        out.append(_entry(path, val, f"{where} entry {path!r}"))
    return out


def _entry(path: Any, val: Any, where: str) -> WandbEntry:
    if not isinstance(val, dict):
        raise WandbManifestError(f"{where} must be an object with a 'digest'")
    try:
        norm = normalize_entry_path(path)
    except ArtvcsError as e:
        raise WandbManifestError(f"{where}: {e}") from None
    if norm != path:
        raise WandbManifestError(f"{where}: the path is not in normal form (it would be {norm!r})")
    digest, size, ref, extra = val.get("digest"), val.get("size"), val.get("ref"), val.get("extra", {})
    if not isinstance(digest, str) or not digest or "\n" in digest or "\0" in digest:
        raise WandbManifestError(f"{where}: 'digest' must be a non-empty single-line string, not {digest!r:.60}")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
        raise WandbManifestError(f"{where}: 'size' must be a whole number of bytes, not {size!r:.60}")
    if ref is not None and (not isinstance(ref, str) or not ref or "\n" in ref or "\0" in ref):
        raise WandbManifestError(f"{where}: 'ref' must be a single-line URI string, not {ref!r:.60}")
    if extra is None:
        extra = {}
    if not isinstance(extra, dict):
        raise WandbManifestError(f"{where}: 'extra' must be an object, not {type(extra).__name__}")
    if ref is None:
        try:
            if len(base64.b64decode(digest, validate=True)) != 16:
                raise ValueError("not 16 bytes")
        except ValueError:
            raise WandbManifestError(f"{where}: a stored file's 'digest' must be the base64 of its MD5, not {digest!r:.60}") from None
        if size is None:
            raise WandbManifestError(f"{where}: a stored file needs its 'size'")
    return WandbEntry(path, digest, size, ref, extra)
