"""Several processes log the same collection and push at the same moment, against each backend.

No version and no alias move may be lost: the remote ends with gapless,
unique numbers holding every logged digest, and every process's alias on
the version it logged.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

from artvcs.plumbing import versions
from remote_helpers import COLL

WRITER = textwrap.dedent("""
    import json, os, sys, time
    import artvcs
    from artvcs.sync import pushing, remotes, sync
    from artvcs.plumbing.repository import init_repository
    folder, url, opts, who, start = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4], float(sys.argv[5])
    repo = init_repository(folder)
    remotes.add_remote(repo, "origin", url, opts)
    os.makedirs(os.path.join(folder, "data"), exist_ok=True)
    digests = []
    for i in range(2):
        with open(os.path.join(folder, "data", "x.txt"), "w") as f:
            f.write(f"{who} version {i}")
        run = artvcs.init(dir=folder)
        art = artvcs.Artifact("mnist", type="dataset")
        art.add_dir(os.path.join(folder, "data"))
        run.log_artifact(art, aliases=[f"by-{who}"] if i == 1 else [])
        run.finish()
        digests.append(art.digest)
    time.sleep(max(0.0, start - time.time()))
    result = pushing.push(repo, remotes.open_remote(repo))
    print(json.dumps({"digests": digests, "attempts": result.attempts, "renumbered": result.integration.renumbered}))
""")


def test_processes_pushing_at_once_lose_nothing(workspace, remote_spec, tmp_path):
    url, opts = remote_spec
    n = 4
    start = time.time() + 4.0
    env = {**os.environ, "ARTVCS_ENTITY": "me", "ARTVCS_PROJECT": "proj"}
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / f"w{i}"), url, json.dumps(opts), f"w{i}", str(start)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(tmp_path))
        for i in range(n)
    ]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        outs.append(json.loads(out.decode().strip().splitlines()[-1]))
    assert sum(len(o["renumbered"]) > 0 for o in outs) >= 1  # somebody lost the race and was renumbered
    check = workspace.clone("check", url, opts)
    numbers = check.numbers()
    assert sorted(numbers) == list(range(2 * n))
    assert sorted(numbers.values()) == sorted(d for o in outs for d in o["digests"])
    aliases = check.aliases()
    for i, o in enumerate(outs):
        assert numbers[aliases[f"by-w{i}"]] == o["digests"][1]
    # each chain is linear: every version's parent is the previous number
    git = check.repo.git
    for v in versions.iter_versions(git, COLL):
        parents = git[v.commit].parent_ids
        assert (versions.read_version(git, parents[0]).number if parents else -1) == v.number - 1
