"""A run's state as W&B names it: running, finished, failed, crashed (its process gone before it finished)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import runs


def _started(proc: subprocess.Popen | None = None) -> dict:
    me = runs.this_process()
    if proc is not None:
        me = {"host": me["host"], "pid": proc.pid, "pid_start": runs._start_ticks(proc.pid)}
    return {"id": "r1", "started_at": "2026-12-01T21:00:00.000000Z", "finished_at": None, **me}


def test_finished_and_failed_are_what_finish_wrote():
    done = {**_started(), "finished_at": "2026-12-01T21:01:00.000000Z"}
    assert runs.state_of({**done, "exit_code": 0, "state": "finished"}) == "finished"
    assert runs.state_of({**done, "exit_code": 1, "state": "failed"}) == "failed"
    assert runs.state_of({**done, "exit_code": 2}) == "failed", "a record from before 'state' existed"
    assert runs.state_of({**done, "exit_code": None}) == "finished"


def test_an_unfinished_run_is_running_while_its_process_lives_and_crashed_after():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        rec = _started(proc)
        assert runs.state_of(rec) == "running"
    finally:
        proc.kill()
        proc.wait()
    assert runs.state_of(rec) == "crashed", "killed before it finished"
    assert runs.state_of(_started()) == "running", "this very process is alive"


def test_a_reused_process_id_does_not_keep_a_dead_run_running():
    rec = _started()
    rec["pid_start"] = (rec["pid_start"] or 0) + 12345  # this pid, but a process that started at another time
    assert runs.state_of(rec) == ("crashed" if runs._start_ticks(os.getpid()) is not None else "running")


def test_an_impossible_process_id_is_no_live_process():
    assert runs.state_of({**_started(), "pid": 2**70}) == "crashed"


def test_another_machine_s_unfinished_run_is_taken_as_running():
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    rec = {**_started(), "pid": int(proc.stdout), "host": socket.gethostname() + "-elsewhere"}
    assert runs.state_of(rec) == "running"


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(
    st.sampled_from(["finished_at", "state", "exit_code", "pid", "pid_start", "host", "id"]),
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70), st.text(max_size=12),
              st.just(socket.gethostname()), st.lists(st.integers(), max_size=2)),
))
def test_state_of_any_record_is_one_of_the_states(record):
    assert runs.state_of(record) in runs.STATES
