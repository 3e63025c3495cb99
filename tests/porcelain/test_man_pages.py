"""Every porcelain command and subcommand: its --help works, its page exists, renders cleanly,
names only options the command has and every option it has, and documents every --json key it prints."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import click
import pytest

from artvcs.porcelain.cli import cli as root
from artvcs.porcelain.commands import PORCELAIN

MAN = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "man")


def page(name: str) -> str:
    with open(os.path.join(MAN, f"artvcs-{name}.1"), encoding="utf-8") as f:
        return f.read().replace("\\-", "-").replace("\\e", "\\")


def walk(cmd: click.Command, path: list[str]):
    """``(path, command)`` for a command and, for a group, each of its subcommands."""
    yield path, cmd
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            yield from walk(sub, path + [name])


def options(cmd: click.Command) -> set[str]:
    return {o for p in cmd.params if isinstance(p, click.Option) and not p.hidden for o in p.opts + p.secondary_opts}


COMMANDS = {name: root.get_command(click.Context(root), name) for name in sorted(PORCELAIN)}


@pytest.mark.parametrize("name", sorted(PORCELAIN))
def test_help_of_every_command_and_subcommand(name, capsys):
    from artvcs.porcelain.cli import main

    for path, _ in walk(COMMANDS[name], [name]):
        capsys.readouterr()
        assert main([*path, "--help"]) == 0, path
        out = capsys.readouterr().out
        assert out.startswith(f"Usage: artvcs {' '.join(path)} "), out


@pytest.mark.parametrize("name", sorted(PORCELAIN))
def test_page_exists_and_matches_the_options(name):
    assert os.path.exists(os.path.join(MAN, f"artvcs-{name}.1")), f"man/artvcs-{name}.1 missing: run python man/mkpages.py"
    text = page(name)
    body = re.sub(r"\.SH EXAMPLES.*?(?=\.SH )", "", text, flags=re.S)  # examples may show other tools' options
    known = {"--help", "-h"}
    for path, cmd in walk(COMMANDS[name], [name]):
        known |= options(cmd)
        for opt in options(cmd):
            assert opt in text, f"artvcs-{name}.1 does not document {opt} of 'artvcs {' '.join(path)}'"
        if path[1:] and not cmd.hidden:
            assert f"artvcs {' '.join(path)}" in text, f"artvcs-{name}.1 has no synopsis for {' '.join(path)}"
    for opt in set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", body)):
        assert opt in known, f"artvcs-{name}.1 mentions {opt}, which 'artvcs {name}' does not have"


def test_overview_lists_every_porcelain_command():
    with open(os.path.join(MAN, "artvcs.1"), encoding="utf-8") as f:
        text = f.read()
    commands = text.split(".SH COMMANDS", 1)[1].split(".SH ", 1)[0].replace("\\-", "-")
    for name in PORCELAIN:
        assert f"\\fBartvcs-{name}\\fR(1)" in commands, f"artvcs.1 does not list artvcs-{name} under COMMANDS"
    for var in ("ARTVCS_DIR", "ARTVCS_ENTITY", "ARTVCS_PROJECT", "ARTVCS_DEBUG", "ARTVCS_LINK_MODE"):
        assert var in text
    for section in ("EXIT STATUS", "ENVIRONMENT", "FILES", "SHELL COMPLETION"):
        assert f".SH {section}" in text


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_pages_render_without_warnings():
    for name in [""] + sorted(PORCELAIN):
        path = os.path.join(MAN, f"artvcs-{name}.1" if name else "artvcs.1")
        p = subprocess.run(["groff", "-man", "-ww", "-Tutf8", path], capture_output=True, text=True)
        assert p.returncode == 0 and p.stderr == "", f"{path}: {p.stderr}"


def keys(value, skip=("metadata", "attrs", "extra")) -> set[str]:
    """Every key of a JSON document, nested ones too, except inside user data."""
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value)) if value else set()
    if isinstance(value, dict):
        return set(value).union(*(keys(v) for k, v in value.items() if k not in skip))
    return set()


def json_section(name: str) -> str:
    """The JSON OUTPUT section of a page, with the sections it refers to ("the keys of artvcs-log(1)'s JSON")."""
    parts = page(name).split(".SH JSON OUTPUT", 1)
    assert len(parts) == 2, f"artvcs-{name}.1 has no JSON OUTPUT section"
    text = parts[1].split(".SH ", 1)[0]
    return text + "".join(json_section(other) for other in re.findall(r"artvcs-([a-z-]+)\(1\)'s JSON", text) if other != name)


def test_every_json_key_is_documented(cli, data, repo_dir, monkeypatch):
    """Run every porcelain command that takes --json and find each key it prints in its page's JSON OUTPUT."""
    subprocess.run(["git", "init", "-q", str(repo_dir)], check=True)
    cli("log", str(data), "--name", "ds", "--type", "dataset", "--alias", "raw")
    (data / "c.txt").write_text("gamma\n")
    runs = {
        "init": ["init", str(repo_dir / "again")],
        "log": ["log", str(data), "--name", "ds", "--metadata", "k=1"],
        "ls": ["ls"],
        "versions": ["versions", "ds"],
        "show": ["show", "ds:raw", "--files"],
        "diff": ["diff", "ds:v0", "ds:v1"],
        "download": ["download", "ds:v0", str(repo_dir / "dl")],
        "checkout": ["checkout", "ds:v1", str(repo_dir / "co")],
        "verify": ["verify", "ds:v1", str(repo_dir / "co")],
        "alias": ["alias", "add", "ds:v0", "gold"],
        "meta": ["meta", "get", "ds:v1"],
        "describe": ["describe", "ds:v1", "the second"],
        "ttl": ["ttl", "ds:v1", "30d"],
        "link": ["link", "ds:v1", "picks", "--alias", "top"],
        "unlink": ["unlink", "picks:top"],
        "history": ["history", "ds:v0"],
        "lineage": ["lineage", "ds:v1"],
        "gc": ["gc", "--dry-run"],
        "track": ["track", str(data)],
        "hooks": ["hooks", "install"],
        "status": ["status"],
        "remote": ["remote", "list"],
        "push": ["push"],
        "fetch": ["fetch"],
        "pull": ["pull"],
        "clone": ["clone", f"file://{repo_dir / 'remote'}", str(repo_dir / "cloned")],
        "config": ["config", "history"],
        "export": ["export", "--format", "wandb", "ds:v0", str(repo_dir / "wb")],
        "import": ["import", "--format", "wandb", str(repo_dir / "wb"), "--name", "fromwb"],
        "delete": ["delete", "ds:v0", "--delete-aliases"],
        "server": ["server", "status"],  # no server of this tag runs: {running: false} (test_server.py runs one)
    }
    cli("remote", "add", "origin", f"file://{repo_dir / 'remote'}")
    takes_json = {path[0] for name in PORCELAIN for path, cmd in walk(COMMANDS[name], [name]) if "--json" in options(cmd)}
    assert takes_json == set(runs), "a command with --json has no run here, or a run lost its --json"
    (data / "c.txt").write_text("changed\n")
    for name, args in runs.items():
        code, out, err = cli(*args, "--json")
        assert code == 0, f"{args}: {err}"
        documented = json_section(name)
        for key in keys(json.loads(out)) if name != "meta" else ():  # meta get prints the user's own keys
            assert re.search(rf"(?<![\w]){re.escape(key)}(?![\w])", documented), f"artvcs-{name}.1 does not document key {key!r}"
