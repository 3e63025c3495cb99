"""The peers part of the bench: artvcs, git and DVC on the same data, in the same run, round-robin.

Each tool gets its own project folder holding a copy of the data (made
untimed), and each step is timed as the whole command a user types, one tool
after the other, run after run: log, re-log after the 1 % edit, status on
the up-to-date folder, checkout with the workspace deleted, then the same
for the two large files (git stores no 1 GiB files; it has no row there).
DVC is installed by this bench into its own venv under the work folder
(``pip install dvc``, by package name); git from apt if it is missing. Both
are told to write nothing outside the work folder.

Every tool runs with the environment a user has: PYTHONDONTWRITEBYTECODE (set
in some sandboxes, never by default) is removed, and one untimed warm-up
round on a tiny copy of the steps runs first, so that each tool's Python
modules have their .pyc files (written at the first import, as on a user's
machine) before anything is timed. The status step, about 0.1 s, runs
STATUS_REPEATS times per round, each time followed by its limit (du -sb),
and the table shows the median of all of them.

With ``before`` (run.py's ``--artvcs-before SCRIPT``), a second artvcs console script, e.g. the
main branch installed apart, runs every step too, just before this one, in its own project: the
table then shows both, measured in the same rounds.

With ``served`` (run.py's ``--server``), the same artvcs script runs every step a second time, just
after the default one, in its own project, served by a fork server (``artvcs server start``, started
for the run under a tag of its own and stopped after): the "(server)" rows. The default rows always
run with ARTVCS_SERVER=0, in their own process, whatever server a user may run.

The small checkout is timed beside its own ``cp -a``, in turns (the order rotates each
round: "cp -a small, paired"), and nothing the bench made is deleted while a file is
created in a timed step: each tool's workspace is moved aside (renamed, untimed)
instead, cp writes into a fresh folder, what a round made is moved to a run-wide
trash after its last step and deleted after the last round, and the rounds start
RECENT_S after the bench's last deletion (the warm-up's, run.py's earlier parts'). This machine's ext4 has no journal, and there the kernel, when it creates a
file, skips every free inode of the group freed in the last minute, one page-cache
look-up each (``recently_deleted`` under ``find_inode_bit``): 20,000 files created
right after 20,000 were deleted took 5–17 s, cp -a as much as artvcs, against
1.5–2.7 s into a fresh folder (perf: 70 % of such a checkout's samples in
``recently_deleted``). Deleting the workspace just before each timed checkout,
as this bench did, billed that to the checkouts and not to the cp -a they were
compared with (2026-12-02). Deleting a round's folders at its end still billed the
next round's first checkouts: a round is ~30 s, the kernel's window 30 s (35 while
the inode's table block is dirty), and artvcs's checkout read 3.9 and 6.5 s beside
cp's 1.6 and 1.1 in rounds 2 and 3 of one run (2026-12-03). The table shows the
median of the per-round ratios beside every paired limit, so that a slow round
slows both sides of its ratio.

The large checkout is timed beside its own ``cp``, in turns (the order rotates
each round), every one of the three under the same conditions: the 2 GiB the
step before wrote are deleted first (untimed; so each writes into pages just
freed, and the disk holds one such copy at a time); its source is read into
the page cache (untimed: cp's source folder, each tool's project with its
store — the tools' stores are otherwise cold by then on a shared machine, the
2 GiB each tool wrote at its log evicted by the other steps, so a checkout
measured the disk against a ``cp`` from memory); nothing is dirty
(``os.sync()``); then the whole command is timed, and what it leaves dirty is
not (the next step syncs untimed). The log row's ``cp large`` is taken once
per round after the logs, as before.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time

TOOLS = ("artvcs", "git", "dvc")
BEFORE = "artvcs (before)"  # the optional second artvcs: see the module's docstring
SERVED = "artvcs (server)"  # the same artvcs, its commands served by a fork server
RECENT_S = 36  # ext4 without a journal skips inodes freed this recently (30 s; 35 while dirty), see the module
STATUS_REPEATS = 5  # status and its limit (du -sb) run this many times per round, alternating
GIT_ID = ["-c", "user.name=bench", "-c", "user.email=bench@localhost", "-c", "gc.auto=0",
          "-c", "maintenance.auto=false", "-c", "core.fsmonitor=false"]


def ensure_peers(work: str) -> dict[str, str]:
    """Paths of the git and dvc programs; installs what is missing (git by apt, DVC into a venv)."""
    git = shutil.which("git")
    if git is None:
        subprocess.run(["apt-get", "install", "-y", "-q", "git"], check=True, stdout=subprocess.DEVNULL)
        git = shutil.which("git")
    venv = os.path.join(work, "peers-venv")
    dvc = os.path.join(venv, "bin", "dvc")
    if not os.path.exists(dvc):
        print("bench: installing DVC into its own venv (pip install dvc)", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "dvc"], check=True)
    return {"git": git, "dvc": dvc}


def _env(work: str) -> dict[str, str]:
    """A user's environment for every tool, confined to ``work``: no PYTHONDONTWRITEBYTECODE (a user's
    Python caches its bytecode; without it each run would compile every module it imports)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update({
        "DVC_NO_ANALYTICS": "1", "DVC_SITE_CACHE_DIR": os.path.join(work, "peers-dvc-site"),
        "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "HOME": os.path.join(work, "peers-home"),
        "ARTVCS_ENTITY": "bench", "ARTVCS_PROJECT": "bench",
    })
    os.makedirs(env["HOME"], exist_ok=True)
    return env


class Peers:
    """One project folder per tool, and the command each tool runs for each step."""

    def __init__(self, work: str, exe: dict[str, str], artvcs: str, rm, warm, before: str | None = None,
                 served: bool = False) -> None:
        self.work, self.exe, self.rm, self.warm = work, exe, rm, warm
        self.scripts = {"artvcs": artvcs, BEFORE: before}  # tool -> its console script
        self.env = {**_env(work), "ARTVCS_SERVER": "0"}
        self.envs = {}  # tool -> its own environment, where not self.env
        if served:
            self.scripts[SERVED] = artvcs
            self.envs[SERVED] = {**self.env, "ARTVCS_SERVER": "1", "ARTVCS_SERVER_TAG": f"bench{os.getpid()}"}

    def proj(self, tool: str, part: str) -> str:
        return os.path.join(self.work, f"peer-{tool.replace(' (', '-').rstrip(')')}-{part}")

    def server(self, verb: str) -> None:
        """``artvcs server start`` or ``stop`` for the SERVED rows, in their environment."""
        subprocess.run([self.scripts[SERVED], "server", verb, *(["--idle", "3h"] if verb == "start" else [])],
                       env=self.envs[SERVED], check=True, stdout=subprocess.DEVNULL)

    def server_counts(self) -> tuple[int, int]:
        """(served, refused) of the SERVED rows' server (``server status --json``); RuntimeError when it
        does not run: a "(server)" figure must come from served commands."""
        p = subprocess.run([self.scripts[SERVED], "server", "status", "--json"], env=self.envs[SERVED],
                           capture_output=True, text=True, check=True)
        state = json.loads(p.stdout)
        if not state.get("running"):
            raise RuntimeError("the artvcs server of the (server) rows is not running")
        return state["served"], state["refused"]

    def run(self, cwd: str, *cmd: str, tool: str = "", served: bool = True) -> float:
        """Seconds ``cmd`` took in ``cwd``; for the SERVED rows, checked (untimed) to have been served
        by the server (``served``: the step is one the server runs, not one the launcher answers) and
        never refused."""
        counts = self.server_counts() if tool == SERVED else None
        os.sync()  # bill no step for the dirty pages of the one before it
        env = self.envs.get(tool, self.env)
        t = time.perf_counter()
        p = subprocess.run(list(cmd), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        took = time.perf_counter() - t
        if p.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} in {cwd} failed:\n{p.stderr[-2000:]}")
        if counts is not None:
            after = self.server_counts()
            if after[1] > counts[1] or (served and after[0] <= counts[0]):
                raise RuntimeError(f"{' '.join(cmd)} in {cwd} was not served by the artvcs server "
                                   f"(served {counts[0]} -> {after[0]}, refused {counts[1]} -> {after[1]})")
        return took

    def setup(self, tool: str, part: str, src: str) -> str:
        """A fresh project of ``tool`` with ``data/`` a copy of ``src`` (untimed)."""
        proj = self.proj(tool, part)
        self.rm(proj)
        os.makedirs(proj)
        subprocess.run(["cp", "-a", src, os.path.join(proj, "data")], check=True)
        git = self.exe["git"]
        if tool == "git" or tool in self.scripts:
            subprocess.run([git, *GIT_ID, "init", "-q"], cwd=proj, check=True, env=self.env)
        if tool in self.scripts:
            subprocess.run([self.scripts[tool], "init"], cwd=proj, check=True, env=self.envs.get(tool, self.env),
                           stdout=subprocess.DEVNULL)
        if tool == "dvc":
            subprocess.run([self.exe["dvc"], "init", "--no-scm", "-q"], cwd=proj, check=True, env=self.env)
        return proj

    def log(self, tool: str, proj: str) -> float:
        if tool in self.scripts:
            return self.run(proj, self.scripts[tool], "track", "--name", "data", "data", tool=tool)
        if tool == "git":
            git = self.exe["git"]
            return self.run(proj, git, *GIT_ID, "add", "-A") + self.run(proj, git, *GIT_ID, "commit", "-q", "-m", "data")
        return self.run(proj, self.exe["dvc"], "add", "-q", "data")

    def status(self, tool: str, proj: str) -> float:
        if tool in self.scripts:
            return self.run(proj, self.scripts[tool], "status", tool=tool, served=False)  # the launcher answers it
        if tool == "git":
            return self.run(proj, self.exe["git"], *GIT_ID, "status", "--porcelain")
        return self.run(proj, self.exe["dvc"], "status", "-q")

    def checkout(self, tool: str, proj: str, warm_store: bool = False, aside: str | None = None) -> float:
        """Delete the workspace's data (untimed), or with ``aside`` move it there (untimed: frees no
        inode, see the module), then write it back; with ``warm_store`` the project's store is read
        into the page cache first (untimed), as a cp limit's source is."""
        if aside is None:
            self.rm(os.path.join(proj, "data"))
        else:
            os.rename(os.path.join(proj, "data"), aside)
        if warm_store:
            self.warm(proj)  # (what is left of it: the store, the tool's metadata)
        if tool in self.scripts:
            return self.run(proj, self.scripts[tool], "checkout", "--link", "copy", "data:latest", "data", tool=tool)
        if tool == "git":
            return self.run(proj, self.exe["git"], *GIT_ID, "checkout", "-q", "-f", "HEAD", "--", ".")
        return self.run(proj, self.exe["dvc"], "checkout", "-q")


def run_peers(work: str, runs: int, small: str, big: str, apply_edit, rm, warm, artvcs: str,
              parts: tuple[str, ...] = ("small", "large"), before: str | None = None,
              served: bool = False) -> tuple[dict, dict]:
    """``{(step, tool): [seconds per run]}`` for every step of ``parts`` (the 20,000 small files, the
    two large ones), and the limits (cp -a, du, cp) timed in the same rounds; every round runs each
    tool's step in turn, so all share the machine's mood."""
    peers = Peers(work, ensure_peers(work), artvcs, rm, warm, before, served)
    if served:
        peers.server("start")
    try:
        return _rounds(peers, work, runs, small, big, apply_edit, rm, warm, parts, before, served)
    finally:
        if served:
            peers.server("stop")


def _rounds(peers, work, runs, small, big, apply_edit, rm, warm, parts, before, served) -> tuple[dict, dict]:
    first = (BEFORE,) if before else ()  # just before this artvcs, in every round
    mine = first + ("artvcs",) + ((SERVED,) if served else ())  # the artvcs rows, one after the other
    warm_up(peers, apply_edit, mine + TOOLS[1:])
    time.sleep(RECENT_S)  # past the window of the warm-up's and run.py's deletions (see the module)
    times: dict[tuple[str, str], list[float]] = {}
    limits: dict[str, list[float]] = {}

    def add(step: str, tool: str, secs: float) -> None:
        times.setdefault((step, tool), []).append(secs)
        print(f"peers {step} {tool}: {secs:.3f}s", file=sys.stderr)

    def limit(name: str, cmd: list[str], before=None) -> None:
        if before:
            before()
        os.sync()
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        limits.setdefault(name, []).append(time.perf_counter() - t)
        print(f"peers limit {name}: {limits[name][-1]:.3f}s", file=sys.stderr)

    cp_dst = os.path.join(work, "peers-cp")
    trash = os.path.join(work, "peers-trash")  # what a small round made, moved to done after its last step
    done = os.path.join(work, "peers-done")  # what the rounds made, deleted after the last (see the module)
    rm(done)

    def aside(name: str) -> str:
        """A path in the round's trash for ``name``: moving there frees no inode (see the module)."""
        os.makedirs(trash, exist_ok=True)
        return os.path.join(trash, name)

    def one_round(i: int, part: str, src: str, tools: tuple[str, ...], label: str, cp_limit: str) -> None:
        projs = {t: peers.setup(t, part, src) for t in tools}
        try:
            small_steps(i, part, src, tools, label, cp_limit, projs)
        finally:  # (also after a failure) moved, not deleted: the next round creates files
            os.makedirs(done, exist_ok=True)
            for n, path in enumerate([trash, cp_dst, *(projs[t] for t in tools)]):
                if os.path.lexists(path):
                    os.rename(path, os.path.join(done, f"{part}-{i}-{n}"))

    def small_steps(i, part, src, tools, label, cp_limit, projs) -> None:
        for t in tools:
            warm(os.path.join(projs[t], "data"))
            add(f"log {label}", t, peers.log(t, projs[t]))
        limit(cp_limit, ["cp", "-a", src, cp_dst], lambda: (rm(cp_dst), warm(src)))
        os.rename(cp_dst, aside("cp-log"))
        if part == "small":
            for t in tools:
                apply_edit(os.path.join(projs[t], "data"))
            for t in tools:
                add("re-log after 1 % edit + 1 % new", t, peers.log(t, projs[t]))
            for _ in range(STATUS_REPEATS):  # a ~0.1 s step: one sample per round is mostly noise
                for t in tools:
                    add("status, up to date", t, peers.status(t, projs[t]))
                limit("du -sb small", ["du", "-s", "-b", os.path.join(projs["artvcs"], "data")])
        turns = ["cp", *tools]  # each beside its own cp -a, in turns, nothing deleted before (see the module)
        for who in turns[i % len(turns):] + turns[: i % len(turns)]:
            if who == "cp":
                limit(f"{cp_limit}, paired", ["cp", "-a", src, aside("cp")], lambda: warm(src))
            else:
                add(f"checkout {label} (workspace deleted)", who,
                    peers.checkout(who, projs[who], warm_store=True, aside=aside(f"data-{projs[who].split(os.sep)[-1]}")))

    def large_round(i: int) -> None:
        """The 2 × 1 GiB logs, then the checkouts beside their cp in turns (see the module)."""
        tools = mine + ("dvc",)
        projs = {}
        last = cp_dst
        try:
            for t in tools:
                projs[t] = peers.setup(t, "large", big)
                warm(os.path.join(projs[t], "data"))
                add("log 2 × 1 GiB", t, peers.log(t, projs[t]))
                rm(os.path.join(projs[t], "data"))  # the checkout writes it back; meanwhile 2 GiB less disk
            limit("cp large", ["cp", "-a", big, cp_dst], lambda: (rm(cp_dst), warm(big)))
            outputs = {"cp": cp_dst, **{t: os.path.join(projs[t], "data") for t in tools}}
            turns = ["cp", *tools]
            for who in turns[i % len(turns):] + turns[: i % len(turns)]:
                rm(last)  # what the step before wrote: every step writes into 2 GiB of pages just freed
                if who == "cp":
                    limit("cp large, paired", ["cp", "-a", big, cp_dst], lambda: warm(big))
                else:
                    add("checkout 2 × 1 GiB (workspace deleted)", who, peers.checkout(who, projs[who], warm_store=True))
                last = outputs[who]
        finally:  # (also after a failure: 4–8 GiB of a shared disk; a failed cp leaves cp_dst)
            rm(last)
            rm(cp_dst)
            for t in projs:
                rm(projs[t])

    try:
        for i in range(runs):
            if "small" in parts:
                one_round(i, "small", small, mine + TOOLS[1:], "many small", "cp -a small")
            if "large" in parts:
                large_round(i)
    finally:
        rm(done)
    return times, limits


def warm_up(peers: Peers, apply_edit, tools: tuple[str, ...] = TOOLS) -> None:
    """Every step of every tool once, untimed, on 40 tiny files: the first run of a Python program
    writes its modules' .pyc files, as a user's first run does; the timed runs then find them."""
    src = os.path.join(peers.work, "peers-warm-src")
    peers.rm(src)
    for d in range(2):
        os.makedirs(os.path.join(src, f"d{d}"))
        for i in range(20):
            with open(os.path.join(src, f"d{d}", f"f{i}.bin"), "wb") as f:
                f.write(os.urandom(1024 + 97 * i))
    for t in tools:
        proj = peers.setup(t, "warm", src)
        peers.log(t, proj)
        apply_edit(os.path.join(proj, "data"))
        peers.log(t, proj)
        peers.status(t, proj)
        peers.checkout(t, proj)
        peers.rm(proj)
    peers.rm(src)


STEPS = (
    ("log many small", "cp -a small", ""),
    ("re-log after 1 % edit + 1 % new", None, "≤1.0× git add+commit"),
    ("status, up to date", "du -sb small", "≤2× du -sb (whole processes here: start-up included)"),
    ("checkout many small (workspace deleted)", "cp -a small, paired", "≤1.0× cp -a (store warm, as cp's source)"),
    ("log 2 × 1 GiB", "cp large", ""),
    ("checkout 2 × 1 GiB (workspace deleted)", "cp large, paired", "≤1.0× DVC, ≤1.1× cp (store warm, as cp's source)"),
)


def _suffix(step: str, tool: str) -> str:
    """What a row's label adds to its step's for ``tool``: " (before)", " (server)"; an up-to-date
    status with the server is answered by the launcher before it asks the server: " (quick answer)"."""
    if tool == SERVED and step.startswith("status"):
        return " (quick answer)"
    return "" if tool == "artvcs" else tool[len("artvcs"):]


def limit_ratio(secs: list[float], limit: list[float], paired: bool) -> float:
    """A row's ratio to its limit: with ``paired`` (each round timed both, in turns) the median of the
    per-round ratios, so that a round slow for both counts once; else the ratio of the medians."""
    if paired and len(secs) == len(limit):
        return statistics.median(s / lv for s, lv in zip(secs, limit))
    return statistics.median(secs) / statistics.median(limit)


def print_peers(times: dict, limits: dict) -> None:
    med = {k: statistics.median(v) for k, v in times.items()}
    lim = {k: statistics.median(v) for k, v in limits.items()}
    print("\npeers (same data, same run, round-robin; whole commands; median seconds)")
    print("limits: " + ", ".join(f"{k} {v:.3f}s" for k, v in lim.items()))
    print("÷limit beside a paired limit: the median of the per-round ratios (each round times both, in turns)")
    hdr = f"{'operation':40} {'artvcs':>8} {'git':>8} {'DVC':>8} {'÷git':>6} {'÷DVC':>6} {'limit':>18} {'÷limit':>7}  target"
    print(hdr)
    print("-" * len(hdr))
    variants = [t for t in (BEFORE, "artvcs", SERVED) if any(tool == t for _, tool in med)]
    rows = [(step + _suffix(step, t), step, limit_name, target if t == "artvcs" else "", t)
            for step, limit_name, target in STEPS for t in variants]  # each step's before, then its own, then served
    for label, step, limit_name, target, tool in rows:
        a = med.get((step, tool))
        if a is None:
            continue
        g, d = med.get((step, "git")), med.get((step, "dvc"))
        lv = lim.get(limit_name) if limit_name else None
        cell = lambda v: f"{v:8.3f}" if v is not None else f"{'—':>8}"
        ratio = lambda v: f"{a / v:5.2f}×" if v else f"{'—':>6}"
        lim_s = f"{limit_name} {lv:.3f}" if lv else ""
        lr = limit_ratio(times[(step, tool)], limits[limit_name], limit_name.endswith("paired")) if lv else None
        print(f"{label:40} {cell(a)} {cell(g)} {cell(d)} {ratio(g)} {ratio(d)} {lim_s:>18} "
              f"{(f'{lr:.2f}×' if lr else ''):>7}  {target}".rstrip())
