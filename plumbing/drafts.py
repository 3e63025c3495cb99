"""Drafts in progress: the content they hold, so that gc leaves it alone.

A draft stores its content as files are added, long before a version names
it. Each draft appends the digests it needs to ``drafts/<pid>-<token>.list``
and removes the file once logged or dropped. gc treats every digest listed by
a live process — or by a list younger than the grace period — as reachable.
"""
from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable

DIRNAME = "drafts"


class DraftRecord:
    """The append-only digest list of one draft."""

    def __init__(self, gitdir: str) -> None:
        folder = os.path.join(gitdir, DIRNAME)
        os.makedirs(folder, exist_ok=True)
        self.path = os.path.join(folder, f"{os.getpid()}-{secrets.token_hex(6)}.list")

    def add(self, digests: Iterable[str]) -> None:
        text = "".join(d + "\n" for d in digests)
        if text:
            with open(self.path, "a", encoding="ascii") as f:
                f.write(text)

    def close(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def process_alive(pid: int) -> bool:
    """True while process ``pid`` runs (on this machine): its temporary files are still in use.

    A zombie, exited but not yet reaped by its parent, counts as gone: it holds no file open.
    """
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):  # gone, or no process can have that id
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc to read: kill(0) found it, so it exists


def protected_digests(gitdir: str, grace_seconds: float) -> set[str]:
    """Digests held by drafts of live processes, or by lists younger than the grace period."""
    folder = os.path.join(gitdir, DIRNAME)
    out: set[str] = set()
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return out
    now = time.time()
    for name in names:
        path = os.path.join(folder, name)
        try:
            pid = int(name.split("-", 1)[0])
            young = now - os.stat(path).st_mtime < grace_seconds
            if process_alive(pid) or young:
                with open(path, encoding="ascii") as f:
                    out.update(line.strip() for line in f if line.strip())
            else:
                os.unlink(path)  # its process is gone and its grace is over
        except (ValueError, OSError):
            continue
    return out
