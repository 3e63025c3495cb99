"""Progress of long work: a bar with files, bytes, rate and time left on a terminal; one summary line otherwise."""
from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

EXE = os.path.join(os.path.dirname(sys.executable), "artvcs")
SUMMARY = re.compile(r"^artvcs: .* in \d+\.\d s(, [\d.]+ (B|KiB|MiB|GiB)/s)?$")


def _many(root, n: int = 300):
    src = root / "many"
    src.mkdir()
    for i in range(n):
        (src / f"f{i}.txt").write_text(str(i % 10) * 50 + str(i))
    return src


def _on_terminal(args: list[str], cwd) -> tuple[int, str]:
    """Run artvcs with stderr on a pseudo-terminal; return its exit code and what the terminal showed."""
    master, slave = pty.openpty()
    p = subprocess.Popen([EXE, *args], stdout=subprocess.PIPE, stderr=slave, cwd=cwd)
    os.close(slave)
    seen = b""
    try:
        while chunk := os.read(master, 4096):
            seen += chunk
    except OSError:  # the terminal closed with the process
        pass
    os.close(master)
    p.communicate()
    return p.returncode, seen.decode("utf-8", "replace")


def test_piped_output_gets_one_summary_line(repo_dir):
    src = _many(repo_dir)
    p = subprocess.run([EXE, "log", str(src), "--name", "many", "--type", "dataset"], capture_output=True, text=True)
    assert p.returncode == 0 and len(p.stderr.splitlines()) == 1, p.stderr
    assert SUMMARY.match(p.stderr.strip()) and "hashing 300 files" in p.stderr, p.stderr
    p = subprocess.run([EXE, "checkout", "many:v0", str(repo_dir / "out")], capture_output=True, text=True)
    line = p.stderr.strip()
    assert p.returncode == 0 and SUMMARY.match(line) and "writing 300 files" in line and "KiB" in line, p.stderr
    p = subprocess.run([EXE, "fsck"], capture_output=True, text=True)
    assert (p.returncode, p.stdout, p.stderr) == (0, "", ""), "plumbing stays silent when all is well"
    p = subprocess.run([EXE, "checkout", "many:v0", str(repo_dir / "out"), "--json"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", "nothing to do, nothing reported"


def test_no_summary_after_a_failure(repo_dir):
    src = _many(repo_dir, 100)
    subprocess.run([EXE, "log", str(src), "--name", "many", "--type", "dataset"], check=True, capture_output=True)
    (repo_dir / "out").mkdir()
    (repo_dir / "out" / "mine.txt").write_text("stored nowhere")
    p = subprocess.run([EXE, "checkout", "many:v0", str(repo_dir / "out")], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.startswith("artvcs: error:") and p.stderr.count("\n") == 1, p.stderr


def test_a_terminal_gets_bars_with_files_bytes_rate_and_time_left(repo_dir):
    src = _many(repo_dir)
    code, seen = _on_terminal(["log", str(src), "--name", "many", "--type", "dataset"], repo_dir)
    assert code == 0 and "hashing" in seen and "100%" in seen and "300/300" in seen, seen
    code, seen = _on_terminal(["checkout", "many:v0", str(repo_dir / "out")], repo_dir)
    assert code == 0, seen
    bar = [ln for ln in re.split(r"[\r\n]", seen) if ln.startswith("writing") and "100%" in ln][-1]
    assert re.search(r"\d+(\.\d+)?kB/15\.\dkB", bar), f"no bytes done/total in {bar!r}"
    assert "300/300 files" in bar and "/s" in bar and "<" in bar, f"no rate or time left in {bar!r}"
    assert "artvcs:" not in seen.split("writing")[-1], "no summary line on a terminal: the bar is the record"
    code, seen = _on_terminal(["fsck"], repo_dir)
    assert code == 0 and "checking content" in seen and "300/300" in seen and "files/s" in seen, seen


def test_the_bar_library_is_imported_only_to_draw(repo_dir):
    src = _many(repo_dir, 80)
    code = ("import sys\nfrom artvcs.porcelain.cli import main\n"
            f"assert main(['log', {str(src)!r}, '--name', 'm', '--type', 'dataset']) == 0\n"
            "print('tqdm' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo_dir)
    assert p.returncode == 0 and p.stdout.strip().splitlines()[-1] == "False", p.stderr


def test_push_pull_and_gc_summarise_their_work(repo_dir, tmp_path_factory):
    src = _many(repo_dir, 40)
    run = lambda *a, **kw: subprocess.run([EXE, *a], capture_output=True, text=True, **kw)  # noqa: E731
    assert run("log", str(src), "--name", "many", "--type", "dataset").returncode == 0
    remote = tmp_path_factory.mktemp("remote")
    assert run("remote", "add", "origin", f"file://{remote}").returncode == 0
    p = run("push")
    assert p.returncode == 0 and SUMMARY.match(p.stderr.strip()) and "uploading content 40 files" in p.stderr, p.stderr
    clone = tmp_path_factory.mktemp("clone")
    p = run("clone", f"file://{remote}", str(clone / "c"), cwd=clone)
    assert p.returncode == 0 and "downloading content 40 files" in p.stderr, p.stderr
    assert run("delete", "many:v0", "--delete-aliases").returncode == 0
    p = run("gc", "--grace", "0")
    assert p.returncode == 0 and SUMMARY.match(p.stderr.strip()) and "removing 40 files" in p.stderr, p.stderr
