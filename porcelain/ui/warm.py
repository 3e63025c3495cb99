"""Sort keys of every version, read in a child process while the server starts serving.

Sorting a collection by size or time needs every version's facts; for 10,000 versions that is
10,000 commit reads. A thread would hold the GIL against the requests it should not slow down, so a
child process (the other core) reads them and sends them back as JSON; the server keeps them.
Run as ``python -m artvcs.porcelain.ui.warm GITDIR``.
"""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading

from artvcs.logged import browse


class Warmer:
    """The child process and the thread that waits for it; ``stop`` ends both (the server is stopping)."""

    def __init__(self, gitdir: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", __name__, gitdir], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.thread = threading.Thread(target=self._collect, daemon=True, name="artvcs-ui-warm")
        self.thread.start()

    def _collect(self) -> None:
        out, _ = self.proc.communicate()
        if self.proc.returncode != 0:
            return  # only a cache: a page that needs the keys reads them itself
        try:
            rows = [browse.VersionRow(**r) for r in json.loads(out)]
        except (ValueError, TypeError):
            return
        browse.remember_rows(rows)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.thread.join(5)


if __name__ == "__main__":
    json.dump([dataclasses.asdict(r) for r in browse.all_version_rows(sys.argv[1])], sys.stdout)
