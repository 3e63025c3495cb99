"""Every command has a man page, generated from the command itself, and every page renders cleanly."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import click
import pytest

MAN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "man")
sys.path.insert(0, MAN)
import mkpages  # noqa: E402

PAGES = mkpages.build()
ALL_PAGES = sorted(f for f in os.listdir(MAN) if re.search(r"\.[15]$", f))


def test_every_command_has_a_current_page():
    for fname, text in PAGES.items():
        path = os.path.join(MAN, fname)
        assert os.path.exists(path), f"{fname} missing: run python man/mkpages.py"
        with open(path, encoding="utf-8") as f:
            assert f.read() == text, f"{fname} is out of date with its command: run python man/mkpages.py"


def test_pages_name_only_options_the_command_has():
    for name, cmd in mkpages.commands().items():
        with open(os.path.join(MAN, f"artvcs-{name}.1"), encoding="utf-8") as f:
            text = f.read().replace("\\-", "-")
        text = re.sub(r"\.SH EXAMPLES.*?(?=\.SH )", "", text, flags=re.S)  # examples may show other tools' options
        cmds = list(cmd.commands.values()) if isinstance(cmd, click.Group) else [cmd]
        known = {o for c in cmds for p in c.params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])} | {"--help", "-h"}
        for opt in set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", text)):
            assert opt in known, f"artvcs-{name}.1 mentions {opt}, which '{name}' does not have"


def test_overview_lists_every_command():
    with open(os.path.join(MAN, "artvcs.1"), encoding="utf-8") as f:
        text = f.read().replace("\\-", "-")
    for name in mkpages.commands():
        assert f"artvcs-{name}" in text, f"artvcs.1 does not mention artvcs-{name}"


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_renders_without_warnings(page):
    p = subprocess.run(["groff", "-man", "-ww", "-Tutf8", os.path.join(MAN, page)], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


def test_every_command_has_help():
    from artvcs.porcelain.cli import main

    for name in mkpages.commands():
        assert main([name, "--help"]) == 0
