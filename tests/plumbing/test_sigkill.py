"""A writer killed with SIGKILL at any instant leaves the repository consistent."""
from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from artvcs.plumbing import versions
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.hashing import hash_file
from artvcs.plumbing.manifest import iter_entries
from artvcs.plumbing.refs import CollectionId
from artvcs.plumbing.repository import Repository

# Logs versions of many files through the binding as fast as it can, forever.
WRITER = textwrap.dedent(
    """
    import os, sys
    os.chdir(sys.argv[1])
    import artvcs
    artvcs.init, artvcs.Artifact  # the binding imports lazily: load it before the kills start, so they land in writes
    i = 0
    print("ready", flush=True)
    while True:
        with artvcs.init(job_type="crash") as run:
            a = artvcs.Artifact("ds", "dataset", metadata={"i": i})
            for k in range(40):
                with a.new_file(f"part{k % 4}/f{k}.bin", mode="wb") as f:
                    f.write(os.urandom(2048 + 37 * k))
            run.log_artifact(a, aliases=["last"])
        i += 1
    """
)


def _check(gitdir: str) -> int:
    git = subprocess.run(["git", "--git-dir", gitdir, "fsck", "--strict"], capture_output=True, text=True)
    assert git.returncode == 0, git.stdout + git.stderr
    assert not [l for l in git.stdout.splitlines() + git.stderr.splitlines() if l.startswith(("error", "warning"))]
    repo = Repository(gitdir)
    problems = [p for p in fsck(repo) if p.kind not in ("stale-temp", "lagging-tip")]
    assert problems == [], problems
    coll = CollectionId("me", "proj", "ds")
    live = versions.iter_versions(repo.git, coll)
    for v in live:  # every visible version is whole
        for e in iter_entries(repo.git, v.manifest):
            assert hash_file(repo.store.path_of(e.digest))[0] == e.digest
    for digest in repo.store.iter_digests():  # no object under its final name has wrong bytes
        assert hash_file(repo.store.path_of(digest))[0] == digest
    return len(live)


def test_sigkill_at_random_instants(repo_dir):
    gitdir = str(repo_dir / ".artifacts")
    rnd = random.Random(7)
    seen = 0
    for round_ in range(8):
        p = subprocess.Popen([sys.executable, "-c", WRITER, str(repo_dir)], stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.05, 0.6))
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
        count = _check(gitdir)
        assert count >= seen, "nothing committed is lost"
        seen = count
    # numbers continue gapless after all the kills
    repo = Repository(gitdir)
    coll = CollectionId("me", "proj", "ds")
    before = [v.number for v in versions.chain(repo.git, coll)]
    assert before == list(range(len(before)))
    import artvcs

    with artvcs.init(job_type="after") as run:
        a = artvcs.Artifact("ds", "dataset")
        with a.new_file("after.txt") as f:
            f.write("after the crashes")
        run.log_artifact(a)
    assert a.version == f"v{len(before)}"
    assert seen > 0, "the writer should have committed something in 8 rounds"
