"""Markers of pushes and remote gcs under way, so that no push publishes a ref naming content a gc removed.

A push re-uses content it finds on the remote (and content it uploaded a
while ago); a gc removes content no ref names. Each writes a marker before it
looks for the other's, and removes it after its last step (artvcs-remote-format(5),
GARBAGE COLLECTION):

- push: writes ``inflight/push-<token>``, lists ``inflight/gc-*``, reads the
  refs (again: a gc wholly before the marker is seen by neither side), looks
  at the remote and uploads; if it saw a gc (or its own marker got old, here
  or on the store), it waits until no gc marker is left, lists ``content/``
  and ``chunklists/`` and sends again whatever its new versions name that is
  gone, until a pass needs no recheck; then it writes refs and removes its
  marker;
- gc: writes ``inflight/gc-<token>``, lists ``inflight/push-*`` and removes
  nothing if it finds one; else it reads the refs and removes, but nothing
  once :data:`GC_BUDGET` seconds have passed since its marker was written.

Of two writes followed by two listings, at least one listing sees the other's
marker; so either the gc removes nothing, or the push waits for it to end and
then checks what it counts on. A marker older than :data:`STALE_SECONDS` is a
killed process's and is ignored. Ages are the larger of the monotonic and the
wall-clock age (a monotonic clock stops while a laptop sleeps); a marker's age
on the store is the local wall clock less the store's modification time.
"""
from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Callable

from ..errors import ArtvcsError
from .layout import RemoteRepo
from .steps import step

PREFIX = "inflight/"
PUSH, GC = "push-", "gc-"
STALE_SECONDS = 3600.0  # a marker older than this (by the store's clock) belongs to a killed process
GC_BUDGET = 1200.0  # a gc removes nothing once its marker is this old (by its own clock)
WAIT_LIMIT = 1800.0  # a push waits for a gc marker at most until the marker is this old: that gc removes nothing more
POLL_SECONDS = (0.05, 2.0)  # first and longest pause between two listings while a push waits
WAIT_DEADLINE = WAIT_LIMIT + 300.0  # a push that waited this long (by its own clock) gives up: a marker never ages


class GcWaitError(ArtvcsError):
    """A push waited :data:`WAIT_DEADLINE` seconds for gc markers that never went away."""


def _live(remote: RemoteRepo, kind: str, older_than: float = STALE_SECONDS, now: float | None = None) -> list[str]:
    """Keys of the markers of ``kind`` that are younger than ``older_than`` seconds (unknown age: live)."""
    now = time.time() if now is None else now
    return [s.key for s in remote.backend.list(PREFIX)
            if s.key.startswith(f"{PREFIX}{kind}") and (s.mtime is None or now - s.mtime < older_than)]


class _Marker:
    def __init__(self, remote: RemoteRepo, kind: str) -> None:
        self.remote = remote
        self.key = f"{PREFIX}{kind}{secrets.token_hex(12)}"
        self.written = (0.0, 0.0)
        self.write()

    def write(self) -> None:
        self.remote.backend.write(self.key, f"{time.time():.3f}\n".encode())
        self.written = (time.monotonic(), time.time())

    def age(self) -> float:
        """Seconds since the last write: the larger of the monotonic age (immune to clock steps) and the
        wall-clock age (which goes on while the machine sleeps, when the monotonic clock stops)."""
        return max(time.monotonic() - self.written[0], time.time() - self.written[1])

    def old_on_store(self) -> bool:
        """True if this marker is gone from the store, or old there (by the store's modification time
        against the local clock) enough that another process may take it for a killed one's."""
        st = self.remote.backend.stat(self.key)
        return st is None or (st.mtime is not None and time.time() - st.mtime >= STALE_SECONDS / 2)

    def end(self) -> None:
        """Remove the marker; a failure only warns (it must neither hide the error that ends the
        command nor fail one that succeeded: a left marker goes stale in :data:`STALE_SECONDS`)."""
        try:
            self.remote.backend.remove(self.key)
        except Exception as e:  # noqa: BLE001 - any backend failure; the marker just ages out
            warnings.warn(f"could not remove marker {self.key} on {self.remote.name}: {e}", stacklevel=2)


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
        rechecked = False
        # loop until a pass neither saw a gc nor found the marker old: a wait plus a long resend can
        # outlive the marker's freshness, and the recheck must cover every moment it was not live
        while self.saw_gc or self.age() >= STALE_SECONDS / 2 or self.old_on_store():
            self.write()  # a gc from now on sees it live
            if self.old_on_store():
                raise ArtvcsError(
                    f"push to {self.remote.name}: marker {self.key} is missing or looks older than "
                    f"{STALE_SECONDS / 2:.0f} s right after it was written: the store's clock and this "
                    "machine's differ too much for a push beside gc --remote to be safe"
                )
            self._wait()
            step("push-recheck")
            recheck()
            self.saw_gc = False
            rechecked = True
        return rechecked

    def _wait(self) -> None:
        """Wait until no gc is under way, at most :data:`WAIT_DEADLINE` seconds (a marker the store gives
        no time for counts as live forever; a gc that never ends must not hold every push)."""
        live = _live(self.remote, GC, WAIT_LIMIT)
        if not live:
            return
        step("push-wait")
        pause = POLL_SECONDS[0]
        start = (time.monotonic(), time.time())
        while live := _live(self.remote, GC, WAIT_LIMIT):
            if max(time.monotonic() - start[0], time.time() - start[1]) >= WAIT_DEADLINE:
                raise GcWaitError(
                    f"push to {self.remote.name}: a gc --remote still seems under way after {WAIT_DEADLINE:.0f} s "
                    f"(marker {', '.join(live)}); if no gc runs, remove that marker from the remote and push again"
                )
            time.sleep(pause)
            pause = min(pause * 2, POLL_SECONDS[1])

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
