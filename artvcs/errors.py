"""Errors of the Python binding: one hierarchy under :class:`ArtvcsError`.

The plumbing's errors are re-exported here, so ``artvcs.errors`` is the one
place to catch from. Errors that W&B raises as builtins are also builtins
here (``AttributeError``, ``ValueError``, ``KeyError``, ``FileNotFoundError``).
"""
from __future__ import annotations

from artvcs.plumbing.errors import (  # noqa: F401  (re-exported)
    ArtvcsError,
    ConflictError,
    CorruptObjectError,
    FormatVersionError,
    NotARepositoryError,
    NotFoundError,
    ObjectMissingError,
    PathEscapeError,
    UsageError,
)


class ArtifactNotLoggedError(ArtvcsError, AttributeError):
    """The method or attribute needs a logged artifact, and this one is a draft.

    The message opens with W&B's own phrase (``'Artifact.entity' used prior to
    logging artifact``), which user code and W&B's tests match on.
    """

    def __init__(self, artifact_name: str, attr: str, owner: str = "Artifact") -> None:
        super().__init__(
            f"'{owner}.{attr}' used prior to logging artifact: {artifact_name!r} is a draft; "
            "log it first with run.log_artifact(artifact) or artifact.save()"
        )
        self.name = attr


class ArtifactFinalizedError(ArtvcsError, AttributeError):
    """The artifact is finalized (logged); its contents cannot change (W&B's phrase first)."""

    def __init__(self, artifact_name: str, attr: str, owner: str = "Artifact") -> None:
        super().__init__(
            f"'{owner}.{attr}' used on logged artifact. Can't modify finalized artifact {artifact_name!r}: "
            "make a new version with artifact.new_draft() and log that instead"
        )
        self.name = attr


Error = ArtvcsError  # W&B's ``wandb.Error``: the base of every error it raises


class CommError(ArtvcsError):
    """W&B's ``wandb.errors.CommError``: what W&B's server refuses or cannot find (a missing
    artifact, deleting a version that still has aliases). User code catches it by this name;
    the errors raised for those cases here are also CommErrors."""


class ArtifactNotFoundError(NotFoundError, CommError):
    """No artifact version answers the name asked for (a KeyError, and W&B's CommError)."""


class RefusedError(UsageError, CommError):
    """What W&B's server refuses (deleting a version that still has aliases, logging a draft
    through a finished run): a ValueError here, and W&B's CommError."""


class WaitTimeoutError(ArtvcsError):
    """W&B's ``wandb.sdk.artifacts.exceptions.WaitTimeoutError``: ``Artifact.wait`` ran out of time.
    Logging is synchronous here, so artvcs never raises it; it exists so that code catching it runs."""


class MetadataError(UsageError, TypeError):
    """Metadata that is not a dict, or holds a value with no JSON form (W&B raises TypeError)."""


class DistributedIdError(UsageError, TypeError):
    """upsert_artifact/finish_artifact with neither a distributed_id nor a run group (W&B raises TypeError)."""


class MissingFileError(ArtvcsError, FileNotFoundError):
    """A local file or an artifact entry that was named does not exist."""


class EntryNotFoundError(NotFoundError):
    """No entry with that path in the artifact (a KeyError)."""


class DeletedArtifactError(ArtvcsError):
    """The version was deleted; only its record remains."""


class MediaDependencyError(ArtvcsError, ImportError):
    """An optional library needed for media objects is not installed."""


class TableTypeError(ArtvcsError, TypeError):
    """A table cell whose type differs from its column's (W&B's ``allow_mixed_types=False``)."""


class MediaFormatError(ArtvcsError, ValueError):
    """A stored media object breaks artvcs-media(5): an unknown ``_type``, a missing field or part."""
