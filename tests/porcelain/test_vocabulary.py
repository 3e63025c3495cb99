"""One vocabulary: ls/list and rm/remove everywhere, 'artvcs remote' alone lists, and every edit says what it did."""
from __future__ import annotations

import pytest


def _log(cli, data, *extra):
    code, out, err = cli("log", str(data), "--name", "ds", "--type", "dataset", *extra)
    assert code == 0, err
    return out


@pytest.mark.parametrize("verb", ["list", "ls"])
def test_remote_lists_with_either_spelling_and_alone(cli, repo_dir, verb):
    assert cli("remote", "add", "origin", f"file://{repo_dir / 'r'}")[0] == 0
    code, out, err = cli("remote", verb)
    assert code == 0 and out.splitlines()[1].split()[:2] == ["origin", f"file://{repo_dir / 'r'}"], err
    code, alone, _ = cli("remote")
    assert code == 0 and alone == out, "'artvcs remote' alone lists the remotes, as git remote does"
    assert cli.json("remote") == cli.json("remote", verb) == [{"name": "origin", "url": f"file://{repo_dir / 'r'}", "only": []}]


@pytest.mark.parametrize("verb", ["remove", "rm"])
def test_remote_removes_with_either_spelling(cli, repo_dir, verb):
    cli("remote", "add", "origin", f"file://{repo_dir / 'r'}")
    assert cli.json("remote", verb, "origin") == {"name": "origin", "removed": True}
    assert cli.json("remote", "list") == []
    code, _, err = cli("remote", "delete", "origin")
    assert code == 2 and "No such command 'delete'" in err


def test_alias_verbs_with_either_spelling(cli, data):
    _log(cli, data, "--alias", "raw")
    assert cli("alias", "list", "ds:v0")[1] == cli("alias", "ls", "ds:v0")[1] == "latest\nraw\n"
    assert cli.json("alias", "remove", "ds:v0", "raw")["aliases"] == ["latest"]
    assert cli.json("alias", "add", "ds:v0", "raw")["aliases"] == ["latest", "raw"]
    assert cli.json("alias", "rm", "ds:v0", "raw")["aliases"] == ["latest"]
    code, out, _ = cli("alias", "--help")
    assert code == 0 and "ls, list" in out and "rm, remove" in out


def test_top_level_list_is_ls(cli, data):
    _log(cli, data)
    assert cli.json("list") == cli.json("ls") and cli.json("ls")[0]["name"] == "ds"


def test_alias_move_is_said(cli, data):
    _log(cli, data, "--alias", "prod")
    (data / "a.txt").write_text("changed\n")
    _log(cli, data)
    code, out, _ = cli("alias", "add", "ds:v1", "prod", "gold")
    assert code == 0 and out.splitlines() == ["prod: v0 -> v1", "gold: -> v1", "ds:v1: latest, gold, prod"]
    code, out, _ = cli("alias", "add", "ds:v0", "prod")
    assert out.splitlines()[0] == "prod: v1 -> v0"
    code, out, _ = cli("alias", "add", "ds:v0", "prod")
    assert out.splitlines() == ["ds:v0: prod"], "an alias already there did not move: nothing to say"
    code, out, _ = cli("alias", "rm", "ds:v0", "prod")
    assert out.splitlines()[0] == "prod: v0 -> (removed)"
    assert cli.json("alias", "add", "ds:v0", "gold")["moved"] == [{"alias": "gold", "from": "v1", "to": "v0"}]


def test_edits_print_json(cli, data, repo_dir):
    _log(cli, data)
    assert cli.json("describe", "ds:v0", "first") == {"name": "ds:v0", "description": "first"}
    assert cli.json("meta", "set", "ds:v0", "k", "[1, 2]") == {"name": "ds:v0", "metadata": {"k": [1, 2]}}
    code, out, _ = cli("meta", "set", "ds:v0", "flag", "true")
    assert out == "ds:v0: flag = true\n", "values shown as typed, not as Python reprs"
    assert cli.json("meta", "unset", "ds:v0", "flag") == {"name": "ds:v0", "metadata": {"k": [1, 2]}}
    assert cli.json("ttl", "ds:v0", "2d") == {"name": "ds:v0", "ttl": "2d", "ttl_seconds": 172800.0}
    assert cli.json("ttl", "ds:v0", "none")["ttl_seconds"] is None
    cli("alias", "add", "ds:v0", "gold")
    code, _, err = cli("delete", "ds:v0")
    assert code == 1 and "alias" in err
    assert cli.json("delete", "ds:v0", "--delete-aliases") == {"name": "me/proj/ds:v0", "deleted": True, "aliases_removed": ["gold"]}
    assert cli.json("versions", "ds") == []


def test_init_json(cli, repo_dir):
    got = cli.json("init", str(repo_dir / "fresh"), "--entity", "me", "--project", "fresh")
    assert got == {"path": str(repo_dir / "fresh" / ".artifacts"), "created": True, "entity": "me", "project": "fresh"}
    assert cli.json("init", str(repo_dir / "fresh"))["created"] is False


def test_logging_equal_content_says_so(cli, data):
    first = cli.json("log", str(data), "--name", "ds", "--type", "dataset")
    assert first["created"] is True and first["version"] == "v0" and first["moved"] == []
    code, out, _ = cli("log", str(data), "--name", "ds", "--alias", "prod")
    assert code == 0 and out.splitlines() == ["unchanged: ds:v0, no new version", "prod: -> v0"]
    again = cli.json("log", str(data), "--name", "ds")
    assert again["created"] is False and again["version"] == "v0" and again["moved"] == []
    (data / "a.txt").write_text("new\n")
    code, out, _ = cli("log", str(data), "--name", "ds", "--alias", "prod")
    assert code == 0 and out.splitlines()[0].startswith("me/proj/ds:v1  ") and out.splitlines()[1] == "prod: v0 -> v1"


def test_history_shows_each_alias_change_once_with_who(cli, data):
    cli("log", str(data), "--name", "ds", "--type", "dataset")
    (data / "a.txt").write_text("new\n")
    cli("log", str(data), "--name", "ds")
    cli("alias", "add", "ds:v1", "prod")
    cli("alias", "add", "ds:v0", "prod")
    cli("alias", "rm", "ds:v0", "prod")
    cli("describe", "ds:v0", "first")
    events = cli.json("history", "ds:v0")
    assert [(e["kind"], e["what"]) for e in events] == [
        ("created", "ds:v0 logged"),
        ("alias", "alias 'prod' moved to ds:v0 (from v1)"),
        ("alias", "alias 'prod' removed from ds:v0"),
        ("edit", "set description"),
    ]
    assert all(e["who"] for e in events)
    v1 = cli.json("history", "ds:v1")
    assert [(e["kind"], e["what"]) for e in v1 if e["kind"] == "alias"] == [
        ("alias", "alias 'prod' moved to ds:v1"), ("alias", "alias 'prod' moved away from ds:v1 (to v0)")]
    code, out, _ = cli("history", "ds:v0")
    assert out.splitlines()[0].split() == ["TIME", "KIND", "WHO", "WHAT"]
