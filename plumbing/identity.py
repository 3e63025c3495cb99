"""Who is doing something: the author recorded on version commits, attribute edits and ref moves.

The author is a person, apart from the namespace a version lives in:
``$ARTVCS_AUTHOR_NAME``/``$ARTVCS_AUTHOR_EMAIL``, else git's global
``user.name``/``user.email`` (the repository's own git config holds no
person), else the OS user at this host.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass

ENV_NAME = "ARTVCS_AUTHOR_NAME"
ENV_EMAIL = "ARTVCS_AUTHOR_EMAIL"


@dataclass(frozen=True)
class Author:
    """A name and an email, as git records them (no ``<``, ``>`` or line breaks)."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


def _clean(value: str) -> str:
    """What git's signature format can hold: one line, no angle brackets."""
    return " ".join(value.replace("<", "").replace(">", "").split())


def git_user() -> tuple[str | None, str | None]:
    """``user.name`` and ``user.email`` from git's global configuration, where set."""
    try:
        import pygit2

        cfg = pygit2.Config.get_global_config()
    except Exception:  # no global config file at all
        return None, None
    found = []
    for key in ("user.name", "user.email"):
        try:
            found.append(cfg[key] if key in cfg else None)
        except Exception:
            found.append(None)
    return found[0], found[1]


def os_user() -> str | None:
    import getpass  # only without a name from git or the environment (termios: start-up time)

    try:
        return getpass.getuser()
    except Exception:  # no login name (containers without a passwd entry)
        return None


def current() -> Author:
    """The person this process acts for."""
    git_name, git_email = git_user()
    name, email = os.environ.get(ENV_NAME) or git_name, os.environ.get(ENV_EMAIL) or git_email
    if not (name and email):  # the login name only where needed (getpass: start-up time)
        user = os_user() or "unknown"
        name = name or user
        email = email or f"{user}@{socket.gethostname() or 'localhost'}"
    name, email = _clean(name) or "unknown", _clean(email)
    return Author(name, email or "unknown")
