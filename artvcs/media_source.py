"""Where a media object already lives in a logged artifact, so that adding it to another draft
makes a reference entry to it rather than a copy (W&B's ``Artifact.add`` at v0.17.9, through
``WBValue._get_artifact_entry_ref_url``).

An object is remembered with the artifact and entry it was read from (``Artifact.get``) or was
added to (``Artifact.add``). Only a logged artifact's entry is referred to, and only while the
object still encodes to that entry's bytes (an object changed since is stored anew).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from artvcs.plumbing.hashing import hash_bytes

if TYPE_CHECKING:
    from artvcs.artifact import Artifact
    from artvcs.artifact_manifest import ArtifactManifestEntry

_ATTR = "_artvcs_homes"  # [(artifact, entry path)], newest last


def remember(obj: Any, artifact: "Artifact", path: str) -> None:
    """Note that ``obj``'s JSON document is the entry ``path`` of ``artifact``."""
    homes = getattr(obj, _ATTR, None)
    if homes is None:
        homes = []
        try:
            setattr(obj, _ATTR, homes)
        except AttributeError:  # an object that takes no attributes is simply copied
            return
    homes.append((artifact, path))


def logged_entry(obj: Any, document: bytes, draft: "Artifact") -> "ArtifactManifestEntry | None":
    """The entry of a logged artifact (not ``draft``) that holds exactly ``document`` as ``obj``'s
    JSON, or None."""
    digest = hash_bytes(document)
    for artifact, path in reversed(getattr(obj, _ATTR, None) or []):
        if artifact is draft or artifact.is_draft():
            continue
        entry = artifact._entry_map().get(path)
        if entry is not None and entry.digest == digest:
            return entry
    return None
