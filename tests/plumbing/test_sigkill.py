"""A writer killed with SIGKILL at any instant leaves the repository consistent."""
from __future__ import annotations

import json
import os
import random
import select
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
        print("logged", flush=True)  # version i is committed: the test counts on it surviving the kill
    """
)


class Progress:
    """A writer process that prints one line per unit of work; kills it at instants taken from its own pace.

    A kill time picked from the wall clock lands nowhere useful on a machine slower or faster than
    the one it was picked on. Here each kill waits for a random number of the writer's progress
    lines, then a random fraction of its last measured step (start to first line for the first
    step), so kills land at random points inside a step however fast the machine is.
    """

    def __init__(self, args: list[str]) -> None:
        # unbuffered: a line select() saw is read, never held in a buffer select() cannot see
        self.proc = subprocess.Popen([sys.executable, "-c", *args], stdout=subprocess.PIPE, bufsize=0)
        self.lines = 0
        self.step: float | None = None
        self._last = time.monotonic()
        assert self._line() == "ready"
        self._last = time.monotonic()

    def _line(self, seconds: float = 300) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], seconds)
        assert ready, f"the writer printed nothing in {seconds} s"
        line = self.proc.stdout.readline().decode().strip()
        assert line, f"the writer exited ({self.proc.wait()}) before it was killed"
        now = time.monotonic()
        self.step, self._last = now - self._last, now
        return line

    def kill_after(self, rnd: random.Random, steps: int, pace: float | None = None) -> int:
        """Wait for ``steps`` more lines, then a random fraction of a step (``pace``, else the last one
        measured), and SIGKILL; returns the number of lines read (units the writer finished)."""
        for _ in range(steps):
            self._line()
            self.lines += 1
        step = pace if pace is not None else self.step
        if step is not None:
            time.sleep(rnd.uniform(0, step))
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc.stdout.close()
        return self.lines


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
    pace = None  # how long one version takes this writer, measured in the first round
    for round_ in range(8):
        writer = Progress([WRITER, str(repo_dir)])
        # the first round measures a whole version; later ones are killed anywhere in their second,
        # third or fourth version (the first one also pays for the writer's start)
        logged = writer.kill_after(rnd, 2 if pace is None else 1 + rnd.randrange(3), pace)
        pace = pace or writer.step
        count = _check(gitdir)
        assert count >= seen + logged, "nothing committed is lost: every version the writer reported is there"
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


# Checks out two versions in turn, verifying every copy, as fast as it can, forever.
CHECKOUT_WRITER = textwrap.dedent(
    """
    import json, sys
    from artvcs.plumbing.checkout import materialize
    from artvcs.plumbing.manifest import Entry
    from artvcs.plumbing.repository import Repository
    repo = Repository(sys.argv[1])
    versions = [[Entry(*e) for e in v] for v in json.loads(sys.argv[3])]
    i = 0
    while True:
        materialize(repo.store, versions[i % 2], sys.argv[2], mode="copy", prune=True, statcache=repo.statcache)
        repo.statcache.flush()
        print("ready" if i == 0 else "done", flush=True)
        i += 1
    """
)


def test_sigkill_during_verified_checkout(repo_dir):
    """A checkout killed at any instant leaves the store whole, no stat-cache record vouching for
    bytes the file does not hold, no large file partly written under its final name; the next
    checkout repairs the folder."""
    from artvcs.plumbing.checkout import materialize, verify_folder
    from artvcs.plumbing.hashing import MMAP_THRESHOLD
    from artvcs.plumbing.manifest import Entry
    from artvcs.plumbing.statcache import StatCache

    repo = Repository(str(repo_dir / ".artifacts"))
    rnd = random.Random(11)
    versions = []
    for v in range(2):
        entries = [Entry(f"d{k % 3}/f{k}.bin", *_put(repo, rnd.randbytes(3000 + 50 * k + v))) for k in range(60)]
        entries.append(Entry("big.bin", *_put(repo, rnd.randbytes(MMAP_THRESHOLD * 3 + v))))
        versions.append(entries)
    repo.statcache.close()
    root = repo_dir / "out"
    arg = json.dumps([[[e.path, e.digest, e.size] for e in v] for v in versions])
    bigs = {e.digest for v in versions for e in v if e.path == "big.bin"}
    pace = None  # how long one checkout takes this writer, measured in the first round
    for round_ in range(6):
        writer = Progress([CHECKOUT_WRITER, str(repo_dir / ".artifacts"), str(root), arg])
        writer.kill_after(rnd, 1 if pace is None else rnd.randrange(2), pace)
        pace = pace or writer.step
        for digest in repo.store.iter_digests():
            assert hash_file(repo.store.path_of(digest))[0] == digest
        records = StatCache(repo.statcache.db_path).load_prefix(str(root))
        for path, rec in records.items():
            if os.path.exists(path) and StatCache.lookup(records, path, os.stat(path)) is not None:
                assert hash_file(path)[0] == rec[1], f"the stat cache vouches for bytes {path} does not hold"
        big = root / "big.bin"
        if big.exists():
            assert hash_file(big)[0] in bigs, "a large file is whole under its final name"
    final = versions[1]
    materialize(repo.store, final, str(root), mode="copy", prune=True, statcache=repo.statcache)
    assert verify_folder(final, str(root), repo.statcache) == []
    assert not [n for _, _, ns in os.walk(root) for n in ns if n.startswith(".artvcs-tmp-")]


def _put(repo: Repository, data: bytes) -> tuple[str, int]:
    return repo.store.put_bytes(data), len(data)


# Logs versions of one large file, a 64 KiB region changed each time, through the binding, forever:
# from the second version on, each log converts the earlier file and the new one to chunks.
LARGE_WRITER = textwrap.dedent(
    """
    import os, random, sys
    os.chdir(sys.argv[1])
    import artvcs
    artvcs.init, artvcs.Artifact
    rnd = random.Random(int(sys.argv[2]))
    path = os.path.join("data", "big.bin")
    size = os.path.getsize(path)
    print("ready", flush=True)
    while True:
        with open(path, "r+b") as f:
            f.seek(rnd.randrange(size - 65536))
            f.write(rnd.randbytes(65536))
        with artvcs.init(job_type="crash") as run:
            a = artvcs.Artifact("big", "dataset")
            a.add_file(path, name="big.bin")
            run.log_artifact(a)
        print("logged", flush=True)
    """
)


def test_sigkill_while_large_files_are_converted_to_chunks_loses_nothing(repo_dir):
    """A log killed at any instant of converting whole large files to chunks leaves every version's
    file readable and verified (whole, chunked, or both), fsck clean, and nothing lost."""
    from artvcs.plumbing import chunkstore
    from artvcs.plumbing.gc import sweep
    from artvcs.plumbing.hashing import MMAP_THRESHOLD

    rnd = random.Random(13)
    (repo_dir / "data").mkdir()
    (repo_dir / "data" / "big.bin").write_bytes(rnd.randbytes(MMAP_THRESHOLD + (2 << 20)))
    gitdir = str(repo_dir / ".artifacts")
    coll = CollectionId("me", "proj", "big")
    seen, pace, digests = 0, None, set()
    for round_ in range(6):
        writer = Progress([LARGE_WRITER, str(repo_dir), str(round_)])
        logged = writer.kill_after(rnd, 2 if pace is None else rnd.randrange(2), pace)
        pace = pace or writer.step
        git = subprocess.run(["git", "--git-dir", gitdir, "fsck", "--strict"], capture_output=True, text=True)
        assert git.returncode == 0, git.stdout + git.stderr
        repo = Repository(gitdir)
        assert [p for p in fsck(repo) if p.kind not in ("stale-temp", "lagging-tip")] == []
        live = versions.iter_versions(repo.git, coll)
        assert len(live) >= seen + logged, "every version the writer reported is there"
        seen = len(live)
        digests = {e.digest for v in live for e in iter_entries(repo.git, v.manifest)}
        for d in digests:  # whole, chunked or (killed between the list and the unlink) both: it reads
            repo.store.verify(d)
        for d in chunkstore.iter_lists(repo.store):  # a list present means its chunks are all there
            repo.store.verify(d)
        repo.close()
    repo = Repository(gitdir)
    assert seen >= 2 and list(chunkstore.iter_lists(repo.store)), "conversions should have happened"
    sweep(repo.store, gitdir, digests, grace_seconds=0)  # what the kills left half-written goes; every version stays
    for d in digests:
        repo.store.verify(d)
