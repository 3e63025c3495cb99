"""Where the ``.artifacts/`` repository of a folder is, found without opening it.

Kept apart from :mod:`repository` (which opens the git database through
pygit2) so that a command that may answer from files alone, such as an
up-to-date ``artvcs status``, finds its repository without loading libgit2.
"""
from __future__ import annotations

import os

from .formatrecord import FORMAT_FILE

DIRNAME = ".artifacts"
ENV_DIR = "ARTVCS_DIR"


def find_gitdir(start: str | None = None) -> str | None:
    """``$ARTVCS_DIR``, else the nearest ``.artifacts/`` at or above ``start``."""
    env = os.environ.get(ENV_DIR)
    if env and start is None:
        return os.path.abspath(env)
    here = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(here, DIRNAME)
        if os.path.isfile(os.path.join(candidate, FORMAT_FILE)):
            return candidate
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent
