"""Two processes log the same collection and push at the same moment, twenty times, against each backend.

No version and no alias move may be lost: the remote ends with gapless,
unique numbers holding every logged digest, each process's alias on the
last version it logged, and no lock object left behind.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from artvcs.plumbing import versions
from remote_helpers import COLL

ROUNDS_WRITER = textwrap.dedent("""
    import json, os, sys, time
    import artvcs
    from artvcs.sync import pushing, remotes
    from artvcs.plumbing.repository import init_repository
    folder, url, opts, who, meet, rounds = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], sys.argv[5], int(sys.argv[6])
    repo = init_repository(folder)
    remotes.add_remote(repo, "origin", url, opts)
    remote = remotes.open_remote(repo)
    os.makedirs(os.path.join(folder, "data"), exist_ok=True)
    out = {"digests": [], "renumbered": 0, "attempts": []}
    for i in range(rounds):
        with open(os.path.join(folder, "data", "x.txt"), "w") as f:
            f.write(f"{who} round {i}")
        run = artvcs.init(dir=folder)
        art = artvcs.Artifact("mnist", type="dataset")
        art.add_dir(os.path.join(folder, "data"))
        run.log_artifact(art, aliases=[f"by-{who}"])
        run.finish()
        out["digests"].append(art.digest)
        open(os.path.join(meet, f"{i}-{who}"), "w").close()  # both writers push round i at the same moment
        deadline = time.monotonic() + 60
        while sum(n.startswith(f"{i}-") for n in os.listdir(meet)) < 2 and time.monotonic() < deadline:
            time.sleep(0.002)
        result = pushing.push(repo, remote)
        out["renumbered"] += len(result.integration.renumbered)
        out["attempts"].append(result.attempts)
    print(json.dumps(out))
""")


def test_two_processes_pushing_at_once_twenty_times(workspace, remote_spec, tmp_path):
    """The issue's must-hold: 2 processes x 20 simultaneous pushes; every version kept, numbers unique and gapless."""
    from artvcs.plumbing.remote.backend import FileBackend

    url, opts = remote_spec
    rounds = 20
    meet = tmp_path / "meet"
    meet.mkdir()
    env = {**os.environ, "ARTVCS_ENTITY": "me", "ARTVCS_PROJECT": "proj"}
    procs = [
        subprocess.Popen([sys.executable, "-c", ROUNDS_WRITER, str(tmp_path / who), url, json.dumps(opts), who, str(meet),
                          str(rounds)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(tmp_path))
        for who in ("p", "q")
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()[-3000:]
        outs.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert sum(o["renumbered"] for o in outs) >= rounds  # every round one of them found its number taken and renumbered
    check = workspace.clone("check", url, opts)
    numbers = check.numbers()
    assert sorted(numbers) == list(range(2 * rounds))  # unique and gapless
    assert sorted(numbers.values()) == sorted(d for o in outs for d in o["digests"])  # every version kept
    git = check.repo.git
    for v in versions.iter_versions(git, COLL):
        parents = git[v.commit].parent_ids
        assert (versions.read_version(git, parents[0]).number if parents else -1) == v.number - 1
    aliases = check.aliases()
    assert numbers[aliases["by-p"]] == outs[0]["digests"][-1] and numbers[aliases["by-q"]] == outs[1]["digests"][-1]
    backend = check.remote().backend
    if isinstance(backend, FileBackend):
        left = [os.path.join(d, n) for d, _, ns in os.walk(backend.root) for n in ns]
    else:
        left = backend.fs.find(backend.root)
    assert [k for k in left if "lock" in k.rsplit("/", 1)[-1] or "/.tmp-" in k] == []  # no lock left behind
