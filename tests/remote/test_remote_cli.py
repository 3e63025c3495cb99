"""The remote, push, pull, fetch, clone and gc --remote commands, run in-process: stdout and stderr apart."""
from __future__ import annotations

import json
import os

import pytest

import remote_servers
from artvcs.porcelain.cli import main


@pytest.fixture
def cli(capsys):
    def run(*args: str):
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_remote_commands_and_a_round_trip(workspace, remote_spec, cli, monkeypatch):
    url, opts = remote_spec
    a = workspace.project("a")
    monkeypatch.chdir(a.folder)
    extra = ["--endpoint-url", opts["endpoint_url"]] if opts else []
    code, out, err = cli("remote", "add", *extra, "origin", url)
    assert code == 0 and out == f"added remote origin {url}\n"
    if opts:  # a server artvcs cannot vouch for: one line says what must hold
        assert err.count("\n") == 1 and err.startswith("note: atomic create and compare-and-swap on http://127.0.0.1:")
    else:
        assert err == ""
    code, out, _ = cli("remote", "list", "--json")
    assert code == 0 and json.loads(out)[0]["url"] == url
    assert cli("remote", "add", "origin", url)[0] == 1
    a.log({"x.txt": "hello"}, aliases=("best",))
    code, out, err = cli("push", "--json")
    assert code == 0, err
    sent = json.loads(out)
    assert sent["objects"] == 1 and "refs/aliases/me/proj/mnist/best" in sent["refs"]
    code, out, _ = cli("push")
    assert code == 0 and out == "origin: up to date\n"
    code, out, err = cli("push", "origin", "mnist:v0")
    assert code == 0 and "up to date" in out

    monkeypatch.chdir(workspace.root)
    code, out, err = cli("clone", *extra, url, "b")
    assert code == 0, err and "cloned" in out
    monkeypatch.chdir(workspace.root / "b")
    code, out, _ = cli("versions", "mnist", "--json")
    assert [v["version"] for v in json.loads(out)] == ["v0"]

    monkeypatch.chdir(a.folder)
    a.log({"x.txt": "again"})
    assert cli("push")[0] == 0
    monkeypatch.chdir(workspace.root / "b")
    code, out, err = cli("fetch")
    assert code == 0 and "refs/versions/me/proj/mnist/v1" in out and "1 refs differ" not in out
    code, out, err = cli("pull", "--json")
    assert code == 0 and json.loads(out)["objects"] == 1
    code, out, err = cli("gc", "--remote", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["removed"] == 0
    assert cli("remote", "remove", "origin")[0] == 0
    code, _, err = cli("push")
    assert code == 1 and "no remote is configured" in err


def test_errors_never_show_credentials(workspace, seaweed, cli, monkeypatch):
    a = workspace.project("a")
    monkeypatch.chdir(a.folder)
    assert cli("remote", "add", "--endpoint-url", seaweed["endpoint_url"], "origin", "s3://artvcs-test/masked")[0] == 0
    a.log({"x.txt": "secret stuff"})
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-0123456789")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "WRONGKEYID0123456789")
    code, out, err = cli("push")
    assert code == 1 and err.startswith("artvcs: error:")
    assert "wrong-secret-0123456789" not in err + out and "WRONGKEYID0123456789" not in err + out
    config = open(a.repo.config_path).read()
    assert "wrong-secret" not in config and "WRONGKEY" not in config


def test_azure_errors_never_show_the_connection_string(workspace, azure_env, cli, monkeypatch):
    a = workspace.project("a")
    monkeypatch.chdir(a.folder)
    assert cli("remote", "add", "origin", f"az://{azure_env['container']}/masked")[0] == 0
    a.log({"x.txt": "secret stuff"})
    wrong_key = "V3JvbmdLZXlXcm9uZ0tleVdyb25nS2V5V3JvbmdLZXk="
    wrong = azure_env["connection_string"].replace(remote_servers.DEV_KEY, wrong_key)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", wrong)
    code, out, err = cli("push")
    assert code == 1 and err.startswith("artvcs: error:") and err.count("\n") == 1
    assert wrong_key not in err + out and wrong not in err + out
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azure_env["connection_string"])
    assert cli("push")[0] == 0
    stored = b"".join(open(os.path.join(d, n), "rb").read() for d, _, ns in os.walk(a.repo.gitdir) for n in ns)
    assert remote_servers.DEV_KEY.encode() not in stored and b"AccountKey" not in stored


def test_clone_refuses_what_is_not_a_remote(workspace, cli, tmp_path):
    code, _, err = cli("clone", f"file://{tmp_path / 'nothing'}", str(tmp_path / "x"))
    assert code == 1 and "no artvcs remote" in err
    assert not os.path.exists(tmp_path / "x" / ".artifacts")
