"""Fixtures shared by every test folder."""
from __future__ import annotations

import asyncio
import gc
import os
import signal
import subprocess
import sys
import weakref
from dataclasses import dataclass

import pytest
from hypothesis import settings

BIN = os.path.dirname(sys.executable)
# A developer's running fork server (artvcs server start) must not serve the suite's commands: tests of
# the server (tests/porcelain/test_server.py) start their own, each under a tag of its own, and say 1.
os.environ["ARTVCS_SERVER"] = "0"

# Hypothesis profiles. "ci" (the default) runs each fuzz test with the example count its @settings
# names, chosen per parser; "deep" (pytest --deep, or --hypothesis-profile=deep) runs DEEP times as
# many examples everywhere, for a long run before a release or after a parser changes.
DEEP = 10
settings.register_profile("ci", print_blob=True)
settings.register_profile("deep", max_examples=settings.default.max_examples * DEEP, print_blob=True)
settings.load_profile("ci")


def pytest_addoption(parser):
    parser.addoption("--deep", action="store_true",
                     help="the long run: hypothesis's deep profile, and the attacker kit's every case on every backend")


def deep_run(config) -> bool:
    """True for ``pytest --deep`` (or ``--hypothesis-profile=deep``)."""
    return config.getoption("--deep") or settings.get_current_profile_name() == "deep"


def pytest_configure(config):
    # A suite started as a background job (``cmd &`` in a script) inherits SIGINT ignored, and so would
    # every command it starts; the tests that press Ctrl-C model a terminal, where it is not ignored.
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if config.getoption("--deep"):
        settings.load_profile("deep")


def pytest_collection_modifyitems(config, items):
    """Under the deep profile, a fuzz test whose @settings names its own example count runs DEEP times that."""
    if not deep_run(config):
        return
    for item in items:
        test = getattr(item, "obj", None)
        own = getattr(test, "_hypothesis_internal_use_settings", None)  # where @settings keeps them
        if own is not None and own.max_examples < settings.default.max_examples * DEEP:
            test._hypothesis_internal_use_settings = settings(own, max_examples=own.max_examples * DEEP)


@dataclass
class Result:
    code: int
    out: str
    err: str


def stop_fsspec_io_thread() -> None:
    """Stop the event loop thread fsspec starts for s3fs, adlfs and gcsfs (and the loop's executor threads).

    fsspec keeps one such thread for the life of the process. A thread left alive makes staging decline
    its forked split (it forks only a single-threaded process), so a test of that split would fail when
    it runs after a remote test in the same process; fsspec starts a new loop on the next use.
    """
    asyn = sys.modules.get("fsspec.asyn")
    if asyn is None or asyn.loop[0] is None:
        return
    loop, thread = asyn.loop[0], asyn.iothread[0]
    gc.collect()  # finished tests' file systems close their clients while the loop still runs
    if loop.is_running():
        # adlfs registers finalizers that hold the file system itself (so they only run at exit) and
        # close its clients on this loop: run them now, while it runs, not at exit on a closed loop.
        for fin in [o for o in gc.get_objects() if isinstance(o, weakref.finalize)]:
            info = fin.peek()
            if info is not None and info[2][:1] == (loop,):
                fin()
        asyncio.run_coroutine_threadsafe(loop.shutdown_default_executor(), loop).result(timeout=60)
        loop.call_soon_threadsafe(loop.stop)
    if thread is not None:
        thread.join(timeout=60)
    if not loop.is_running():
        loop.close()
    asyn.loop[0] = asyn.iothread[0] = None


@pytest.fixture(scope="module", autouse=True)
def _no_fsspec_thread_outlives_its_module():
    """Each test module leaves no fsspec thread behind, whatever order the modules run in."""
    yield
    stop_fsspec_io_thread()


@pytest.fixture
def repo_dir(tmp_path, monkeypatch):
    """A fresh folder with an initialised repository, as the current folder; its recorded default namespace is
    entity me, project proj (as ``artvcs init --entity me --project proj`` makes it; no variable is set)."""
    from artvcs.plumbing.repository import init_repository

    monkeypatch.chdir(tmp_path)
    for var in ("ARTVCS_DIR", "ARTVCS_ENTITY", "ARTVCS_PROJECT"):
        monkeypatch.delenv(var, raising=False)  # whatever the shell running the tests has set
    init_repository(str(tmp_path), entity="me", project="proj")
    return tmp_path


@pytest.fixture
def run_cli():
    """Run ``artvcs ARGS`` as a real process (stdout and stderr apart); returns Result."""

    def run(*args: str, input: bytes | str | None = None, cwd: str | None = None, env: dict | None = None) -> Result:
        data = input.encode() if isinstance(input, str) else input
        p = subprocess.run([os.path.join(BIN, "artvcs"), *args], input=data, capture_output=True, cwd=cwd,
                           env={**os.environ, **(env or {})})
        return Result(p.returncode, p.stdout.decode("utf-8", "surrogateescape"), p.stderr.decode())

    return run


@pytest.fixture
def repo(repo_dir):
    """The open repository of ``repo_dir`` (the current folder; entity me, project proj)."""
    from artvcs.plumbing.repository import discover

    r = discover()
    yield r
    r.close()


class CliResult(tuple):
    """``(code, out, err)`` of one in-process run; ``out_bytes`` is stdout exactly as written."""

    code = property(lambda self: self[0])
    out = property(lambda self: self[1])
    err = property(lambda self: self[2])
    out_bytes = property(lambda self: self[1].encode("utf-8", "surrogateescape"))


@pytest.fixture
def cli():
    """Run ``artvcs ARGS`` in-process (artvcs.porcelain.cli.main) with stdout and stderr kept apart.

    Returns ``(exit code, stdout, stderr)``; stdout is decoded with
    surrogateescape so binary output round-trips through ``.out_bytes``.
    """
    from click.testing import CliRunner

    from artvcs.porcelain.cli import main

    def run(*args: str, input: bytes | str | None = None) -> CliResult:
        with CliRunner().isolation(input=input) as (out, err, _):
            try:
                code = main(list(args))
            except SystemExit as e:  # what the console script would exit with
                code = e.code if isinstance(e.code, int) else 1
            return CliResult((code, out.getvalue().decode("utf-8", "surrogateescape"), err.getvalue().decode()))

    return run


@pytest.fixture
def golden(request):
    """``golden(name, data)``: assert ``data`` (str or bytes) equals ``golden/<name>`` beside the test file.

    ``ARTVCS_UPDATE_GOLDEN=1`` writes the files instead; review the diff before committing it.
    """
    folder = request.path.parent / "golden"

    def check(name: str, data: str | bytes) -> None:
        raw = data.encode("utf-8", "surrogateescape") if isinstance(data, str) else data
        path = folder / name
        if os.environ.get("ARTVCS_UPDATE_GOLDEN") == "1":
            folder.mkdir(exist_ok=True)
            path.write_bytes(raw)
        assert path.exists(), f"{path} missing: run with ARTVCS_UPDATE_GOLDEN=1 and review it"
        assert raw == path.read_bytes(), f"output differs from {path}"

    return check


@pytest.fixture
def small_packs(monkeypatch):
    """Chunk packs of 1 MiB and chunking blocks of 1 MiB, so a few MiB of data make many packs."""
    from artvcs.plumbing import chunking, chunkpacks

    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 << 20)
    monkeypatch.setattr(chunking, "BLOCK", 1 << 20)
