"""README's examples run as written on a fresh machine: a new HOME without git identity or artvcs variables,
a folder holding the user's files, every shell and Python block of "Using it" in order, and the team block
against the real S3 server (only the bucket URL and endpoint are replaced by the test server's)."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def blocks() -> list[tuple[str, str]]:
    """``(language, code)`` of each fenced block from "## Using it" to the next "## " heading."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        text = f.read()
    section = text.split("## Using it", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(sh|python)\n(.*?)```", section, re.S)


def test_readme_examples_run_as_written(tmp_path, seaweed, aws_env):
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARTVCS_", "GIT_"))}
    env.update(HOME=str(home), PATH=BIN + os.pathsep + env["PATH"], ARTVCS_FSYNC="0",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@x", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@x")
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "data" / "train.csv").write_text("1,2\n3,4\n")
    (project / "model.pt").write_bytes(b"\x00weights")
    found = blocks()
    assert [lang for lang, _ in found] == ["sh", "python", "sh", "sh"], "README's Using it changed: update this test"
    prefix = uuid.uuid4().hex[:12]
    for lang, code in found:
        if "team-bucket" in code:
            code = code.replace("s3://team-bucket/artifacts", f"s3://{seaweed['bucket']}/{prefix}")
            code = code.replace("http://127.0.0.1:8333", seaweed["endpoint_url"])
        cmd = ["bash", "-euo", "pipefail", "-c", code] if lang == "sh" else [sys.executable, "-c", code]
        p = subprocess.run(cmd, cwd=str(project), env=env, capture_output=True, text=True)
        assert p.returncode == 0, f"README block failed:\n{code}\n--- stderr:\n{p.stderr}"
    show = subprocess.run(["artvcs", "show", "me/digits/cnn:prod", "--json"], cwd=str(project), env=env, capture_output=True, text=True)
    assert show.returncode == 0 and '"description": "ResNet-18"' in show.stdout
    assert (tmp_path / "work" / "data" / "train.csv").read_text() == "1,2\n3,4\n4,5\n"  # the clone's mnist:prod is v1
