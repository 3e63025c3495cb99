"""Many processes writing one collection at once: nothing lost, numbers unique and gapless."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from artvcs.plumbing import refs, versions
from artvcs.plumbing.refs import CollectionId
from artvcs.plumbing.repository import Repository

WRITER = textwrap.dedent(
    """
    import sys, time
    from artvcs.plumbing import manifest, versions
    from artvcs.plumbing.manifest import Entry
    from artvcs.plumbing.refs import CollectionId
    from artvcs.plumbing.repository import Repository
    gitdir, who, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    repo = Repository(gitdir)
    coll = CollectionId("me", "proj", "shared")
    while time.time() < float(sys.argv[4]):
        pass  # start together
    for i in range(count):
        digest = repo.store.put_bytes(f"{who}-{i}".encode())
        entries = [Entry(f"{who}/{i}.txt", digest, len(f"{who}-{i}"))]
        tree = manifest.write_manifest(repo.git, entries)
        d, size, n = manifest.summarize(entries)
        v = versions.commit_version(repo.git, coll, tree, versions.version_facts("dataset", d, size, n, description=f"{who}-{i}"))
        print(v.number, v.commit, flush=True)
    """
)

CAS = textwrap.dedent(
    """
    import sys, time
    from artvcs.plumbing import refs
    from artvcs.plumbing.errors import ConflictError
    from artvcs.plumbing.repository import Repository
    repo = Repository(sys.argv[1])
    while time.time() < float(sys.argv[5]):
        pass
    try:
        refs.update(repo.git, sys.argv[2], sys.argv[3], sys.argv[4], "move")
        print("won")
    except ConflictError as e:
        print("lost:", e)
    """
)


def _spawn(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_eight_processes_log_one_collection(repo_dir):
    import time

    gitdir = str(repo_dir / ".artifacts")
    start = str(time.time() + 1.5)
    procs = [_spawn(WRITER, gitdir, f"w{k}", "5", start) for k in range(8)]
    results = {}
    for k, p in enumerate(procs):
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results[f"w{k}"] = [line.split() for line in out.splitlines()]
    numbers = sorted(int(n) for rows in results.values() for n, _ in rows)
    assert numbers == list(range(40)), "unique and gapless"
    repo = Repository(gitdir)
    coll = CollectionId("me", "proj", "shared")
    live = versions.iter_versions(repo.git, coll)
    assert [v.number for v in live] == list(range(40))
    by_commit = {str(v.commit): v for v in live}
    for who, rows in results.items():
        for n, commit in rows:
            assert by_commit[commit].number == int(n) and by_commit[commit].facts["attrs"]["description"].startswith(who)
    chain = versions.chain(repo.git, coll)
    assert [v.number for v in chain] == list(range(40)), "each version's parent is the one before it"
    log = subprocess.run(["git", "--git-dir", gitdir, "log", "--format=%s", coll.collection_ref], capture_output=True, text=True, check=True)
    assert len(log.stdout.splitlines()) == 40
    subprocess.run(["git", "--git-dir", gitdir, "fsck", "--strict"], check=True, capture_output=True)


def test_two_processes_move_one_alias(repo_dir):
    import time

    from artvcs.plumbing import manifest

    gitdir = str(repo_dir / ".artifacts")
    repo = Repository(gitdir)
    coll = CollectionId("me", "proj", "ds")
    made = []
    for i in range(3):
        d = repo.store.put_bytes(str(i).encode())
        e = [manifest.Entry("f", d, 1)]
        made.append(versions.commit_version(repo.git, coll, manifest.write_manifest(repo.git, e), versions.version_facts("dataset", manifest.manifest_digest(e), 1, 1)))
    alias = coll.alias_ref("best")
    refs.update(repo.git, alias, made[0].commit, None, "create")
    start = str(time.time() + 1.0)
    p1 = _spawn(CAS, gitdir, alias, str(made[1].commit), str(made[0].commit), start)
    p2 = _spawn(CAS, gitdir, alias, str(made[2].commit), str(made[0].commit), start)
    outs = [p.communicate(timeout=60)[0].strip() for p in (p1, p2)]
    assert sorted(o.split(":")[0] for o in outs) == ["lost", "won"], outs
    loser = next(o for o in outs if o.startswith("lost"))
    assert alias in loser and "retry" in loser
    winner = made[1] if outs[0] == "won" else made[2]
    assert refs.read(repo.git, alias) == winner.commit
    history = refs.reflog(repo.git, alias)
    assert [h[1] for h in history] == [str(made[0].commit), str(winner.commit)]
