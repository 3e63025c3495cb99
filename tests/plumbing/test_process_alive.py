"""process_alive: what gc, quarantine clean-up and ``server stop`` take for "that process still holds its files"."""
import os
import subprocess
import sys
import time

from artvcs.plumbing.drafts import process_alive


def test_a_running_process_is_alive_and_a_reaped_one_is_not():
    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert process_alive(p.pid)
    finally:
        p.kill()
        p.wait()
    assert not process_alive(p.pid)


def test_an_exited_child_not_yet_reaped_counts_as_gone():
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    # Not waited for: it stays a zombie in the process table, which kill(pid, 0) still finds.
    while time.monotonic() < deadline:
        with open(f"/proc/{p.pid}/stat", "rb") as f:
            if f.read().rpartition(b")")[2].split()[0] == b"Z":
                break
        time.sleep(0.01)
    else:
        raise AssertionError("the child never exited")
    os.kill(p.pid, 0)  # still in the table
    assert not process_alive(p.pid)
    p.wait()


def test_this_process_is_alive():
    assert process_alive(os.getpid())


def test_a_run_whose_process_is_a_zombie_is_crashed_and_an_impossible_pid_too():
    """plumbing/runs.state_of asks the same question of a run record's pid (with its start time)."""
    import socket

    from artvcs.plumbing import runs

    p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.2)"])
    record = {"host": socket.gethostname(), "pid": p.pid, "pid_start": runs._start_ticks(p.pid)}
    assert runs.state_of(record) == "running"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # exited, not reaped: a zombie
        with open(f"/proc/{p.pid}/stat", "rb") as f:
            if f.read().rpartition(b")")[2].split()[0] == b"Z":
                break
        time.sleep(0.01)
    assert runs.state_of(record) == "crashed"
    p.wait()
    assert runs.state_of({"host": socket.gethostname(), "pid": 2 ** 70}) == "crashed"
