"""The web view's fixtures: a sample repository, ``artvcs ui`` started as a real process on a free
loopback port, and one headless Chromium for the session (Debian's, driven by Playwright)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest

from . import sample

BIN = os.path.dirname(sys.executable)
CHROMIUM = "/usr/bin/chromium"
ENV = {"ARTVCS_ENTITY": "me", "ARTVCS_PROJECT": "proj"}


class Server:
    """A running ``artvcs ui`` process and the URL it printed."""

    def __init__(self, root: str, *args: str) -> None:
        self.root = root
        env = {**os.environ, **ENV}
        env.pop("ARTVCS_DIR", None)
        self.proc = subprocess.Popen([os.path.join(BIN, "artvcs"), "ui", "--port", "0", *args], cwd=root, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if " at http://" not in line:
            self.proc.kill()
            raise RuntimeError(f"artvcs ui did not start: {line!r} {self.proc.stderr.read()!r}")
        self.url = line.split(" at ", 1)[1].split()[0].rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        """``artvcs ARGS`` in the served folder, as a real process."""
        env = {**os.environ, **ENV}
        env.pop("ARTVCS_DIR", None)
        return subprocess.run([os.path.join(BIN, "artvcs"), *args], cwd=self.root, env=env, capture_output=True, text=True)

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; the exit status."""
        self.proc.send_signal(signal.SIGINT)
        try:
            _, self.err = self.proc.communicate(timeout=15)
            return self.proc.returncode
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory) -> str:
    root = str(tmp_path_factory.mktemp("ui-sample"))
    sample.build(root)
    return root


@pytest.fixture(scope="session")
def server(sample_root):
    """``artvcs ui`` (read-only) over the sample repository."""
    s = Server(sample_root)
    yield s
    assert s.stop() == 0, "artvcs ui did not stop cleanly on Ctrl-C"


@pytest.fixture(scope="session")
def edit_server(tmp_path_factory):
    """``artvcs ui --edit`` over a copy of the sample repository of its own (edits change it)."""
    root = str(tmp_path_factory.mktemp("ui-edit"))
    sample.build(root)
    s = Server(root, "--edit")
    yield s
    s.stop()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session; skipped outside CI when it is not installed."""
    if not os.path.exists(CHROMIUM) or shutil.which("chromium") is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); browser tests need it")
    from playwright.sync_api import sync_playwright

    import tempfile

    profile = tempfile.mkdtemp(prefix="artvcs-ui-chromium-")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield ctx
        ctx.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def page(browser):
    """A fresh tab that fails the test on any dialog (alert, confirm, prompt): no untrusted string may run."""
    dialogs: list[str] = []
    pg = browser.new_page()
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    pg.dialogs = dialogs
    yield pg
    pg.close()
    assert not dialogs, f"script ran in the page: dialogs {dialogs}"
