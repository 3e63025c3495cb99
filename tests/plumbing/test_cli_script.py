"""A real bash script builds artifact versions with plumbing alone; git then finds a sound repository."""
from __future__ import annotations

import os
import subprocess
import sys

SCRIPT = r"""
# Version 0: store the files, name them, write the manifest, commit it.
listing=$(artvcs hash-object -w -z data/a.txt "data/odd name.txt" data/sub/b.txt | tr '\0' '\n' | sed 's#\tdata/#\t#')
tree=$(printf '%s\n' "$listing" | artvcs mktree)
v0=$(artvcs commit-version --name scripted --type dataset --description "built by a script" "$tree")
commit=$(printf '%s' "$v0" | cut -f1)
test "$(printf '%s' "$v0" | cut -f2)" = v0

# An alias, created by compare-and-swap against "absent", then read back.
artvcs update-ref refs/aliases/me/proj/scripted/best "$commit" 0000000000000000000000000000000000000000
test "$(artvcs rev-parse scripted:best | cut -f1)" = "$commit"
test "$(artvcs rev-parse scripted:best | cut -f2,3)" = "$(printf 'me/proj/scripted\tv0')"

# Read every file back through the manifest and compare with the original.
artvcs ls-manifest -z scripted:best > manifest.z
while IFS=$'\t' read -r -d '' digest size path; do
    artvcs cat-object "$digest" | cmp - "data/$path"
    test "$size" = "$(wc -c < "data/$path")"
done < manifest.z

# Version 1: edit the listing with text tools (drop a file, add one from stdin).
new=$(printf 'three\n' | artvcs hash-object -w --stdin | sed 's#\t-$#\tc.txt#')
tree1=$( (artvcs ls-manifest scripted:v0 | grep -v 'sub/b.txt'; printf '%s\n' "$new") | artvcs mktree)
c1=$(artvcs commit-version --name scripted --type dataset "$tree1" | cut -f1)
artvcs update-ref -m "promote v1" refs/aliases/me/proj/scripted/best "$c1" "$commit"
test "$(artvcs rev-parse scripted:best | cut -f3)" = v1
test "$(artvcs ls-manifest scripted:v1 | cut -f3 | tr '\n' ' ')" = "a.txt c.txt odd name.txt "
"""


def test_a_bash_script_builds_versions_from_plumbing_alone(repo_dir):
    (repo_dir / "data" / "sub").mkdir(parents=True)
    (repo_dir / "data" / "a.txt").write_text("one\n")
    (repo_dir / "data" / "odd name.txt").write_bytes(bytes(range(256)))
    (repo_dir / "data" / "sub" / "b.txt").write_text("two\n")
    (repo_dir / "build.sh").write_text(SCRIPT)
    env = {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}
    p = subprocess.run(["bash", "-euo", "pipefail", "build.sh"], cwd=repo_dir, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout == "" and p.stderr == ""
    git = ["git", "--git-dir", str(repo_dir / ".artifacts")]
    p = subprocess.run(git + ["fsck", "--strict"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    log = subprocess.run(git + ["log", "--format=%s", "refs/collections/me/proj/scripted"], capture_output=True, text=True, check=True)
    assert log.stdout.splitlines() == ["scripted v1", "scripted v0"]
    reflog = subprocess.run(git + ["reflog", "show", "--format=%gs", "refs/aliases/me/proj/scripted/best"],
                            capture_output=True, text=True, check=True)
    assert reflog.stdout.splitlines() == ["promote v1", "update-ref"]
