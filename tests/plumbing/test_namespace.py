"""The recorded default namespace and the author: plumbing/namespace.py, plumbing/identity.py, and the
namespace a remote records for its clones (parsed as untrusted input)."""
from __future__ import annotations

import pygit2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import identity, namespace, versions
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.remote.backend import FileBackend
from artvcs.plumbing.remote.errors import RemoteFormatError
from artvcs.plumbing.remote.layout import NAMESPACE_KEY, RemoteRepo
from artvcs.plumbing.repository import init_repository


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200),
                 st.builds(lambda e, p: f'{{"entity":{e},"project":{p}}}'.encode(),
                           st.sampled_from(['"a"', '"."', '""', "1", "null", '"a/b"', '"' + "x" * 200 + '"', "[]"]),
                           st.sampled_from(['"p"', '".."', "true", '"é"', '"ok-1.2_x"']))))
def test_a_namespace_record_parses_or_is_refused_cleanly(data):
    try:
        ns = namespace.parse(data, "fuzz")
    except UsageError:
        return
    assert namespace.parse(namespace.encode(ns), "again") == ns


def test_a_remote_with_a_damaged_namespace_is_refused(tmp_path):
    remote = RemoteRepo(FileBackend(f"file://{tmp_path}", str(tmp_path)))
    assert remote.read_namespace() is None
    remote.offer_namespace(namespace.Namespace("team", "digits"))
    remote.offer_namespace(namespace.Namespace("other", "x"))  # the first push decides
    assert remote.read_namespace() == namespace.Namespace("team", "digits")
    (tmp_path / NAMESPACE_KEY).write_bytes(b'{"entity":"../etc","project":"p"}')
    with pytest.raises(RemoteFormatError, match="entity"):
        remote.read_namespace()


def test_the_record_is_a_commit_chain_authored_by_who_set_it(tmp_path, monkeypatch):
    monkeypatch.setenv(identity.ENV_NAME, "Fay <x>")
    monkeypatch.setenv(identity.ENV_EMAIL, "fay@example.org")
    repo = init_repository(str(tmp_path / "r"), entity="team", project="digits")
    assert namespace.read(repo.git) == namespace.Namespace("team", "digits")
    assert namespace.record(repo.git, namespace.Namespace("team", "digits"), "set") == namespace.Namespace("team", "digits")
    namespace.record(repo.git, namespace.Namespace("team", "vision"), "set")
    assert namespace.record(repo.git, namespace.Namespace("x", "y"), "pin", only_if_absent=True) == namespace.Namespace("team", "vision")
    hist = namespace.history(repo.git)
    assert [(h["project"], h["author"], h["email"]) for h in hist] == [("digits", "Fay x", "fay@example.org"),
                                                                       ("vision", "Fay x", "fay@example.org")]
    log = repo.git.references[namespace.REF].log()
    assert [e.committer.name for e in log] == ["Fay x", "Fay x"]  # the reflog names the person too
    monkeypatch.setenv("ARTVCS_PROJECT", "once")
    assert repo.default_namespace() == namespace.Namespace("team", "once")
    monkeypatch.setenv("ARTVCS_ENTITY", "bad/name")
    with pytest.raises(UsageError, match="ARTVCS_ENTITY"):
        repo.default_namespace()


def test_init_on_an_existing_repository_changes_the_default_with_history(tmp_path):
    init_repository(str(tmp_path), entity="me", project="a")
    repo = init_repository(str(tmp_path), project="b")
    assert namespace.read(repo.git) == namespace.Namespace("me", "b")
    assert [h["message"].split(":")[0] for h in namespace.history(repo.git)] == ["init", "set"]
    with pytest.raises(UsageError, match="'a b'"):
        init_repository(str(tmp_path / "new"), project="a b")
    assert not (tmp_path / "new" / ".artifacts" / "artvcs-format").exists()


def test_identity_comes_from_git_config_else_the_os_user(tmp_path):
    """A real process with a HOME without ~/.gitconfig, then with one (libgit2 reads HOME once per process)."""
    import getpass
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("ARTVCS_", "GIT_"))}
    env["HOME"] = str(tmp_path)
    probe = "from artvcs.plumbing import identity; print(identity.current())"
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith(f"{getpass.getuser()} <{getpass.getuser()}@")
    (tmp_path / ".gitconfig").write_text("[user]\n\tname = Gil Bert\n\temail = gil@example.org\n")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout
    assert out == "Gil Bert <gil@example.org>\n"
