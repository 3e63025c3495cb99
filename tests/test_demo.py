"""The end-to-end demo runs, shows v1 sharing every unchanged object with v0, and prints no Python reprs."""
from __future__ import annotations

import os
import re
import subprocess
import sys

DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "demo", "run_demo.py")


def test_demo_counts_what_v1_shares_with_v0(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARTVCS_")}
    p = subprocess.run([sys.executable, DEMO, str(tmp_path / "work")], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "content: 1 object written (6 bytes), 199 of v0's reused; the store grew by 1 file" in out
    written, shared = map(int, re.search(r"git objects: (\d+) written .*, (\d+) shared with v0", out).groups())
    assert written == 4 and shared == 2, out
    assert not re.search(r"\[['\"<]|\{'|<artvcs\.|\bdict\(|\(\)\]", out), "a Python repr leaked into the demo's output"
    assert "verify caught the change" in out and "git fsck --strict: exit 0" in out
    assert "checkout/  demo/digits/mnist:v0 (checkout)  modified (1 file)" in out and "    M\ttrain/001.csv" in out
    assert sorted(os.listdir(tmp_path)) == ["work"], "the demo writes only in the folder it was given"
