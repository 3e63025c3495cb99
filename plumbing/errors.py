"""The one exception hierarchy of artvcs.

Every error a user can cause derives from :class:`ArtvcsError`; the command
line turns it into one stderr line and ``exit_code``. Subclasses also derive
from the builtin a Python caller would naturally catch (``ValueError``,
``KeyError``, ``FileNotFoundError``), as W&B does.
"""
from __future__ import annotations


class ArtvcsError(Exception):
    """Base of every artvcs error; ``exit_code`` is what the CLI exits with."""

    exit_code = 1

    def __str__(self) -> str:  # KeyError quotes its message; we never want that
        return str(self.args[0]) if self.args else self.__class__.__name__


class UsageError(ArtvcsError, ValueError):
    """A value breaks a documented rule; the message names the value and the rule."""


class NotARepositoryError(ArtvcsError):
    """No ``.artifacts/`` repository was found where one was needed."""


class FormatVersionError(ArtvcsError):
    """The repository was written by a newer (or unknown) format version."""


class NotFoundError(ArtvcsError, KeyError):
    """A named thing (ref, version, alias, entry, run) does not exist."""


class ObjectMissingError(ArtvcsError, FileNotFoundError):
    """Content named by a manifest is absent from the content store."""


class CorruptObjectError(ArtvcsError):
    """Stored bytes do not hash to the digest that names them."""


class ConflictError(ArtvcsError):
    """A compare-and-swap lost: somebody else moved the ref first."""


class PathEscapeError(UsageError):
    """An entry path would write outside the folder it belongs to."""


class StoppedError(ArtvcsError):
    """A copy stopped early, at a step boundary, because another file's copy failed or the
    command was interrupted; its partial file is removed, and the other error is the one raised."""
