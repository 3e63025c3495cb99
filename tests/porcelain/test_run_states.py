"""A run records how it ended (finished, failed, crashed, as W&B names them); lineage, show and the binding say so."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import artvcs


def _script(repo_dir, body: str) -> subprocess.CompletedProcess:
    code = "import artvcs\n" + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_dir)


def test_a_with_block_that_raised_is_failed(cli, data, repo_dir):
    p = _script(repo_dir, f"""
        with artvcs.init(job_type="train") as run:
            a = artvcs.Artifact("ds", type="dataset")
            a.add_dir({str(data)!r})
            run.log_artifact(a)
            raise RuntimeError("diverged")
    """)
    assert p.returncode == 1 and "diverged" in p.stderr
    run = artvcs.Api().artifact("ds:v0").logged_by()
    assert run.state == "failed" and artvcs.Api().run(run.path).state == "failed"
    shown = cli.json("show", "ds:v0")
    assert shown["logged_by"] == run.path and shown["logged_by_state"] == "failed"
    code, out, _ = cli("show", "ds:v0")
    assert f"logged by:   {run.path} (failed)" in out
    nodes = cli.json("lineage", "ds:v0")["nodes"]
    assert [(n["kind"], n.get("state")) for n in nodes if n["kind"] == "run"] == [("run", "failed")]
    code, out, _ = cli("lineage", "ds:v0")
    assert f"<- run {run.id} (train, failed)" in out


def test_finished_runs_and_exit_codes(repo_dir, data):
    with artvcs.init(job_type="ok") as run:
        pass
    assert artvcs.Api().run(run.path).state == "finished" and run.state == "finished"
    other = artvcs.init(job_type="manual")
    assert other.state == "running"
    other.finish(exit_code=3)
    assert other.state == "failed" and artvcs.Api().run(other.path).state == "failed"


def test_a_killed_process_leaves_a_crashed_run(cli, data, repo_dir):
    p = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import os, sys, time, artvcs
        run = artvcs.init(job_type="long")
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir({str(data)!r})
        run.log_artifact(a)
        print(run.path, flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True, cwd=repo_dir)
    path = p.stdout.readline().strip()
    assert artvcs.Api().run(path).state == "running", "alive: running"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert artvcs.Api().run(path).state == "crashed"
    assert cli.json("show", "ds:v0")["logged_by_state"] == "crashed"
    assert "(long, crashed)" in cli("lineage", "ds:v0")[1]


def test_a_run_left_open_is_finished_at_exit_or_failed_by_an_uncaught_exception(repo_dir, data):
    ok = _script(repo_dir, 'run = artvcs.init(job_type="open")\nprint(run.path)\n')
    bad = _script(repo_dir, 'run = artvcs.init(job_type="open")\nprint(run.path, flush=True)\nraise SystemError("boom")\n')
    assert ok.returncode == 0 and bad.returncode == 1 and "boom" in bad.stderr
    assert artvcs.Api().run(ok.stdout.strip()).state == "finished"
    assert artvcs.Api().run(bad.stdout.strip()).state == "failed"
