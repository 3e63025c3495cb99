"""The binding refuses entry paths git gives meaning to wherever a path enters, and writes nothing.

add_file, add_dir, add_reference, new_file and add each take a path from the
caller; a component ``.git`` (any case, or an NTFS/HFS+ alias of it) is
refused there with an error naming the path and the rule, and the draft, the
store and the refs stay as they were. ``artvcs log`` of a folder holding such
a path is refused the same way, and so is a log refused for its alias or
type: before any run record is written.
"""
from __future__ import annotations

import os

import pytest

import artvcs
from artvcs.plumbing.errors import PathEscapeError

BAD = [".git/config", "data/.GIT/hooks/pre-commit", "GIT~1/config", ".git./x", ".g\u200cit/x", ".git::$INDEX_ALLOCATION/x"]


def store_files(project) -> list[str]:
    out = []
    for folder, _, files in os.walk(project / ".artifacts" / "content"):
        out += [os.path.join(folder, f) for f in files]
    return sorted(out)


def refs(project) -> list[str]:
    out = []
    for folder, _, files in os.walk(project / ".artifacts" / "refs"):
        out += [os.path.join(folder, f) for f in files]
    return sorted(out)


@pytest.mark.parametrize("bad", BAD)
def test_every_way_in_refuses_a_dotgit_path(project, bad):
    (project / "f.txt").write_text("[core]\n\tfsmonitor = touch pwned\n")
    art = artvcs.Artifact("ds", "dataset")
    art.add_file(str(project / "f.txt"), name="ok.txt")
    before = (store_files(project), refs(project))
    attempts = [
        lambda: art.add_file(str(project / "f.txt"), name=bad),
        lambda: art.add_dir(str(project), name=bad),
        lambda: art.add_reference("file://" + str(project / "f.txt"), name=bad),
        lambda: art.new_file(bad).__enter__(),
        lambda: art.add(artvcs.Table(columns=["a"], data=[[1]]), bad),
    ]
    for attempt in attempts:
        with pytest.raises(PathEscapeError) as e:
            attempt()
        component = bad.split("/")[0] if bad.split("/")[0] not in ("data",) else bad.split("/")[1]
        assert repr(component) in str(e.value), str(e.value)
    assert [e.path for e in art.manifest.entries.values()] == ["ok.txt"]
    assert (store_files(project), refs(project))[1] == before[1]


def test_add_dir_of_a_folder_holding_a_git_repository_is_refused(project, cli):
    data = project / "data"
    (data / ".git").mkdir(parents=True)
    (data / ".git" / "config").write_text("[core]\n")
    (data / "x.csv").write_text("1,2\n")
    art = artvcs.Artifact("ds", "dataset")
    with pytest.raises(PathEscapeError, match=r"'\.git/config'.*git's own folder"):
        art.add_dir(str(data))
    before = refs(project)
    r = cli("log", str(data), "--name", "ds", "--type", "dataset")
    assert r.code == 1 and "'.git'" in r.err and "git's own folder" in r.err
    assert refs(project) == before


@pytest.mark.parametrize("args,words", [
    (["--alias", "v3"], ["'v3'", "reserved"]),
    (["--alias", "a:b"], ["'a:b'", "may not contain"]),
    (["--type", "model"], ["'dataset'", "'model'"]),
])
def test_a_log_refused_for_its_alias_or_type_writes_no_run_record(project, cli, args, words):
    (project / "a.txt").write_text("a\n")
    assert cli("log", "a.txt", "--name", "ds", "--type", "dataset").code == 0
    (project / "a.txt").write_text("b\n")
    before = refs(project)
    argv = ["log", "a.txt", "--name", "ds"] + (args if "--type" in args else ["--type", "dataset"] + args)
    r = cli(*argv)
    assert r.code == 1 and r.err.count("\n") == 1
    for w in words:
        assert w in r.err
    assert refs(project) == before, "no run record, no version"


def test_a_log_refused_for_its_config_writes_nothing(project, cli):
    (project / "a.txt").write_text("a\n")
    (project / ".artifacts" / "config.yaml").write_text("projects: [1]\n")
    before = refs(project), store_files(project)
    r = cli("log", "a.txt", "--name", "ds", "--type", "dataset")
    assert r.code == 1 and "'projects' must be a mapping" in r.err
    assert (refs(project), store_files(project))[0] == before[0]


def test_a_refused_checkout_or_download_creates_no_folder(project, cli, tmp_path):
    (project / "a.txt").write_text("a\n")
    assert cli("log", "a.txt", "--name", "ds", "--type", "dataset").code == 0
    digest = artvcs.Api().artifact("ds:v0").manifest.entries["a.txt"].digest
    os.chmod(project / ".artifacts" / "content" / digest[:2] / digest[2:], 0o644)
    os.unlink(project / ".artifacts" / "content" / digest[:2] / digest[2:])  # the content is gone: checkout is refused
    for verb in ("checkout", "download"):
        target = tmp_path / verb / "deep" / "er"
        r = cli(verb, "ds:v0", str(target))
        assert r.code == 1 and "not in the store" in r.err
        assert not (tmp_path / verb).exists(), f"a refused {verb} made folders"


def test_a_folder_holding_a_name_that_is_not_utf8_logs_nothing(project):
    """add_dir refuses the whole folder, naming the file, before any content is stored."""
    data = project / "data"
    data.mkdir()
    (data / "fine.txt").write_bytes(b"fine")
    with open(os.path.join(os.fsencode(data), b"bad\xff.bin"), "wb") as f:
        f.write(b"not stored")
    art = artvcs.Artifact("ds", type="dataset")
    with pytest.raises(PathEscapeError, match=r"'bad\\udcff.bin': file names must be valid UTF-8"):
        art.add_dir(str(data))
    assert not art.manifest.entries
