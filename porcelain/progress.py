"""Progress of long operations, rendered for people on standard error.

The library reports ``(stage, files done, files total, bytes done, bytes
total)`` through :mod:`artvcs.plumbing.progress`; this module draws it. On a
terminal each stage is a tqdm bar (files done/total, bytes, rate, time left);
tqdm is imported only then, so start-up stays fast. Otherwise nothing is
drawn while the work runs and one summary line follows it, so a log file or
CI output gets a record without a wall of carriage returns.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

from artvcs.porcelain.safetext import unescaped


def human_size(n: float | None) -> str:
    from artvcs.porcelain.output import human_size as size  # this module loads with every command: stay light

    return size(n)


class Stage:
    """What one stage has done so far."""

    __slots__ = ("name", "done", "total", "nbytes", "total_bytes")

    def __init__(self, name: str) -> None:
        self.name, self.done, self.total = name, 0, 0
        self.nbytes: int | None = None
        self.total_bytes: int | None = None

    def describe(self) -> str:
        count = f"{self.done}/{self.total}" if self.total and self.total != self.done else f"{self.done}"
        size = f", {human_size(self.nbytes)}" if self.nbytes else ""
        return f"{self.name} {count} {'file' if self.done == 1 else 'files'}{size}"


def _columns(stream: TextIO) -> int:
    """The terminal's width, 0 when it does not say (a fresh pseudo-terminal)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 0


class Renderer:
    """Receives reports; draws bars on a terminal, or writes one summary line at the end."""

    def __init__(self, stream: TextIO, terminal: bool, summary: bool = True) -> None:
        self.stream = stream
        self.terminal = terminal
        self.summary = summary
        self.stages: dict[str, Stage] = {}
        self.started = time.monotonic()
        self._bar: Any = None
        self._bar_stage: str | None = None
        self.ok: bool | None = None  # None until the work ends: a success unless said otherwise

    def __call__(self, stage: str, done: int, total: int, nbytes: int | None = None, total_bytes: int | None = None) -> None:
        s = self.stages.setdefault(stage, Stage(stage))
        s.done, s.total = done, total
        if nbytes is not None:
            s.nbytes = nbytes
        if total_bytes is not None:
            s.total_bytes = total_bytes
        if self.terminal:
            self._draw(s)

    def _draw(self, s: Stage) -> None:
        by_bytes = bool(s.total_bytes) and s.nbytes is not None
        if self._bar_stage != s.name:
            self._close_bar()
            from tqdm.std import tqdm  # only when a bar is shown: it costs tens of milliseconds to import

            # a terminal of unknown size (0 x 0, a fresh pseudo-terminal) would get no bar at all from tqdm
            layout = {"dynamic_ncols": True} if _columns(self.stream) else {"ncols": 80, "nrows": 24}
            if by_bytes:  # tqdm's default writes 15.4k/20.0k: say they are bytes
                layout["bar_format"] = "{l_bar}{bar}| {n_fmt}B/{total_fmt}B [{elapsed}<{remaining}, {rate_fmt}{postfix}]"
            self._bar = tqdm(total=(s.total_bytes if by_bytes else s.total) or None, desc=s.name, file=self.stream,
                             unit="B" if by_bytes else " files", unit_scale=by_bytes, unit_divisor=1024,
                             mininterval=0.1, leave=True, **layout)
            self._bar_stage = s.name
        bar = self._bar
        want_total = (s.total_bytes if by_bytes else s.total) or None
        if bar.total != want_total:
            bar.total = want_total
        if by_bytes:
            bar.set_postfix_str(f"{s.done}/{s.total} files", refresh=False)
        elif s.nbytes:
            bar.set_postfix_str(human_size(s.nbytes), refresh=False)
        bar.update((s.nbytes if by_bytes else s.done) - bar.n)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._bar_stage = None, None

    def finish(self) -> None:
        """Close the bar; off a terminal, after a success, write the one summary line."""
        self._close_bar()
        if self.terminal or not self.summary or not self.ok or not self.stages:
            return
        seconds = time.monotonic() - self.started
        moved = sum(s.nbytes or 0 for s in self.stages.values())
        rate = f", {human_size(moved / seconds)}/s" if moved and seconds > 0 else ""
        parts = "; ".join(s.describe() for s in self.stages.values())
        print(f"artvcs: {parts} in {seconds:.1f} s{rate}", file=self.stream, flush=True)


@contextlib.contextmanager
def progress_bar(summary: bool = True) -> Iterator[Renderer]:
    """Render the library's progress reports on standard error while the block runs (``summary``:
    the line written off a terminal); the caller may set ``.ok = False`` to say the work failed
    without raising (no summary line then)."""
    from artvcs.plumbing.progress import reporting

    stream = unescaped(sys.stderr)  # the bars' own control characters draw them (safetext)
    renderer = Renderer(stream, stream.isatty(), summary)
    try:
        with reporting(renderer):
            yield renderer
        if renderer.ok is None:
            renderer.ok = True
    finally:
        renderer.finish()
