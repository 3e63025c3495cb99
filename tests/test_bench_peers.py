"""bench/peers.py: the "(server)" rows count a figure only if the fork server served the command; paired
ratios are per round; a checkout's workspace can be moved aside instead of deleted."""
from __future__ import annotations

import os
import shutil
import sys
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import peers  # noqa: E402

ARTVCS = os.path.join(os.path.dirname(sys.executable), "artvcs")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the fork server is Linux's")


def test_a_served_row_fails_unless_the_server_served_it(tmp_path):
    p = peers.Peers(str(tmp_path), {}, ARTVCS, shutil.rmtree, lambda path: None, served=True)
    p.envs[peers.SERVED]["ARTVCS_SERVER_TAG"] = f"benchtest{os.getpid()}-{uuid.uuid4().hex[:8]}"
    p.server("start")
    try:
        assert p.run(str(tmp_path), ARTVCS, "--help", tool=peers.SERVED) > 0  # served: counted
        p.envs[peers.SERVED]["SOME_SETTING"] = "1"  # the server refuses it: the command runs in process
        with pytest.raises(RuntimeError, match="was not served by the artvcs server"):
            p.run(str(tmp_path), ARTVCS, "--help", tool=peers.SERVED)
        del p.envs[peers.SERVED]["SOME_SETTING"]
        p.envs[peers.SERVED]["ARTVCS_SERVER"] = "0"  # in process, nothing asked of the server
        with pytest.raises(RuntimeError, match="was not served"):
            p.run(str(tmp_path), ARTVCS, "--help", tool=peers.SERVED)
        p.envs[peers.SERVED]["ARTVCS_SERVER"] = "1"
    finally:
        p.server("stop")
    with pytest.raises(RuntimeError, match="not running"):
        p.run(str(tmp_path), ARTVCS, "--help", tool=peers.SERVED)
    assert p.run(str(tmp_path), ARTVCS, "--help") > 0  # the other rows ask nothing of a server


def test_the_served_status_row_says_the_launcher_answers_it():
    assert peers._suffix("status, up to date", peers.SERVED) == " (quick answer)"
    assert peers._suffix("log many small", peers.SERVED) == " (server)"
    assert peers._suffix("log many small", "artvcs") == ""


def test_a_paired_ratio_is_the_median_of_the_per_round_ratios():
    # round 2 was slow for both sides: it counts as one round at its own ratio, not as a slow checkout
    assert peers.limit_ratio([1.0, 4.0, 1.2], [1.0, 5.0, 1.0], paired=True) == pytest.approx(1.0)
    assert peers.limit_ratio([1.0, 4.0, 1.2], [1.0, 5.0, 1.0], paired=False) == pytest.approx(1.2)
    assert peers.limit_ratio([1.0, 2.0], [1.0, 1.0, 1.0], paired=True) == pytest.approx(1.5)  # rounds unmatched


def test_a_checkout_with_aside_moves_the_workspace_away_and_writes_it_back(tmp_path):
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    files = {"a.bin": os.urandom(3000), "d/b.bin": os.urandom(17), "d/c.bin": b""}
    for name, data in files.items():
        (src / name).write_bytes(data)
    work = tmp_path / "work"
    work.mkdir()
    rm = lambda path: shutil.rmtree(path, ignore_errors=True)  # noqa: E731 (as run.py's rm: absent is fine)
    p = peers.Peers(str(work), {"git": shutil.which("git")}, ARTVCS, rm, lambda path: None)
    proj = p.setup("artvcs", "t", str(src))
    p.log("artvcs", proj)
    aside = str(work / "aside")
    assert p.checkout("artvcs", proj, aside=aside) > 0
    for name, data in files.items():  # the old workspace, moved and not deleted; the new one, written back
        assert (work / "aside" / name).read_bytes() == data
        assert open(os.path.join(proj, "data", name), "rb").read() == data
