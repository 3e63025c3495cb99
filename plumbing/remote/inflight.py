"""Markers of pushes and remote gcs under way, so that no push publishes a ref naming content a gc removed.

A push re-uses content it finds on the remote (and content it uploaded a
while ago); a gc removes content no ref names. Each writes a marker before it
looks for the other's, and removes it after its last step (artvcs-remote-format(5),
GARBAGE COLLECTION):

- push: writes ``inflight/push-<token>``, lists ``inflight/gc-*``, looks at
  the remote and uploads; if it saw a gc (or its own marker got old), it waits
  until no gc marker is left, lists ``content/`` and ``chunklists/`` and sends
  again whatever its new versions name that is gone; then it writes refs and
  removes its marker;
- gc: writes ``inflight/gc-<token>``, lists ``inflight/push-*`` and removes
  nothing if it finds one; else it reads the refs and removes, but nothing
  once :data:`GC_BUDGET` seconds have passed since its marker was written.

Of two writes followed by two listings, at least one listing sees the other's
marker; so either the gc removes nothing, or the push waits for it to end and
then checks what it counts on. A marker older than :data:`STALE_SECONDS` is a
killed process's and is ignored.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable

from .layout import RemoteRepo
from .steps import step

PREFIX = "inflight/"
PUSH, GC = "push-", "gc-"
STALE_SECONDS = 3600.0  # a marker older than this (by the store's clock) belongs to a killed process
GC_BUDGET = 1200.0  # a gc removes nothing once its marker is this old (by its own clock)
WAIT_LIMIT = 1800.0  # a push waits for a gc marker at most until the marker is this old: that gc removes nothing more
POLL_SECONDS = (0.05, 2.0)  # first and longest pause between two listings while a push waits


def _live(remote: RemoteRepo, kind: str, older_than: float = STALE_SECONDS, now: float | None = None) -> list[str]:
    """Keys of the markers of ``kind`` that are younger than ``older_than`` seconds (unknown age: live)."""
    now = time.time() if now is None else now
    return [s.key for s in remote.backend.list(PREFIX)
            if s.key.startswith(f"{PREFIX}{kind}") and (s.mtime is None or now - s.mtime < older_than)]


class _Marker:
    def __init__(self, remote: RemoteRepo, kind: str) -> None:
        self.remote = remote
        self.key = f"{PREFIX}{kind}{secrets.token_hex(12)}"
        self.written = 0.0
        self.write()

    def write(self) -> None:
        self.remote.backend.write(self.key, f"{time.time():.3f}\n".encode())
        self.written = time.monotonic()

    def age(self) -> float:
        return time.monotonic() - self.written

    def end(self) -> None:
        self.remote.backend.remove(self.key)


class Pushing(_Marker):
    """A push's marker; :meth:`settle` before the refs are written."""

    def __init__(self, remote: RemoteRepo) -> None:
        step("push-mark")
        super().__init__(remote, PUSH)
        step("push-check")
        self.saw_gc = bool(_live(remote, GC, WAIT_LIMIT))

    def settle(self, recheck: Callable[[], None]) -> bool:
        """Before refs are written: when a gc may have removed something this push counts on (one was
        under way when it looked, or its marker got old enough for a gc to take it as a killed
        push's), wait until no gc is under way, then ``recheck()`` (list what the new refs need and
        send again what is gone). True if it rechecked."""
        step("push-settle")
        if not self.saw_gc and self.age() < STALE_SECONDS / 2:
            return False
        if self.age() >= STALE_SECONDS / 2:
            self.write()  # a gc from now on sees it live
        if _live(self.remote, GC, WAIT_LIMIT):
            step("push-wait")
            pause = POLL_SECONDS[0]
            while _live(self.remote, GC, WAIT_LIMIT):
                time.sleep(pause)
                pause = min(pause * 2, POLL_SECONDS[1])
        step("push-recheck")
        recheck()
        self.saw_gc = False
        return True

    def end(self) -> None:
        step("push-unmark")
        super().end()


class Collecting(_Marker):
    """A remote gc's marker: :meth:`pushes` before the refs are read, :meth:`may_remove` before each removal."""

    def __init__(self, remote: RemoteRepo) -> None:
        step("gc-mark")
        super().__init__(remote, GC)

    def pushes(self) -> list[str]:
        """The markers of pushes under way (a gc that finds one removes nothing)."""
        step("gc-check")
        return _live(self.remote, PUSH)

    def may_remove(self) -> bool:
        """True while a push that started after this gc's check still waits for it (within the budget)."""
        return self.age() < GC_BUDGET

    def end(self) -> None:
        step("gc-unmark")
        super().end()
