"""Tab completion through click's protocol, as bash and zsh call it: commands, names, aliases, keys."""
from __future__ import annotations

import pytest


def complete(run_cli, shell: str, words: list[str], cwd=None) -> list[str]:
    """What ``artvcs`` answers when ``shell`` completes the last of ``words`` (bash splits at ':')."""
    env = {"_ARTVCS_COMPLETE": f"{shell}_complete", "COMP_WORDS": "\n".join(words), "COMP_CWORD": str(len(words) - 1)}
    r = run_cli(env=env, cwd=cwd)
    assert r.code == 0 and r.err == "", r.err
    if shell == "bash":
        return [line.split(",", 1)[1] for line in r.out.splitlines() if line]
    lines = r.out.splitlines()  # zsh: type, value, help per item
    return [lines[i + 1] for i in range(0, len(lines), 3)]


@pytest.fixture
def named(cli, data):
    assert cli("log", str(data), "--name", "mnist", "--type", "dataset", "--alias", "raw", "--metadata", "rows=2")[0] == 0
    (data / "a.txt").write_text("changed\n")
    assert cli("log", str(data), "--name", "mnist", "--alias", "best")[0] == 0
    assert cli("log", str(data), "--name", "model", "--type", "model")[0] == 0


def test_commands_and_names(run_cli, named):
    assert complete(run_cli, "bash", ["artvcs", "ver"]) == ["verify", "verify-object", "versions"]
    assert complete(run_cli, "bash", ["artvcs", "show", "m"]) == ["mnist", "model"]
    assert complete(run_cli, "bash", ["artvcs", "versions", "mn"]) == ["mnist"]


def test_aliases_after_a_colon_in_bash_and_zsh(run_cli, named):
    # bash hands over "mnist", ":", "b" and replaces only the text after the colon
    assert complete(run_cli, "bash", ["artvcs", "show", "mnist", ":"]) == ["latest", "best", "raw", "v0", "v1"]
    assert complete(run_cli, "bash", ["artvcs", "checkout", "mnist", ":", "b"]) == ["best"]
    assert complete(run_cli, "bash", ["artvcs", "diff", "mnist", ":", "v0", "mnist", ":", "v"]) == ["v0", "v1"]
    assert complete(run_cli, "zsh", ["artvcs", "show", "mnist:r"]) == ["mnist:raw"]


def test_alias_names_and_metadata_keys_of_the_ref(run_cli, named):
    assert complete(run_cli, "bash", ["artvcs", "alias", "rm", "mnist", ":", "v1", ""]) == ["best"]
    assert complete(run_cli, "bash", ["artvcs", "meta", "get", "mnist", ":", "v0", "r"]) == ["rows"]


def test_nothing_outside_a_repository_and_nothing_created(run_cli, tmp_path):
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    assert complete(run_cli, "bash", ["artvcs", "show", ""], cwd=str(empty)) == []
    assert list(empty.iterdir()) == []
