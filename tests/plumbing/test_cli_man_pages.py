"""Every plumbing command has a man page that renders cleanly and documents exactly its options.

(Named test_cli_man_pages so it does not collide with tests/test_man_pages.py
under pytest's default import mode.)
"""
from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess

import click
import pytest

from artvcs.plumbing.commands import PLUMBING

MAN = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "man")
SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "OUTPUT", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]


def command(name: str) -> click.Command:
    module, _, attr = PLUMBING[name].partition(":")
    return getattr(importlib.import_module(module), attr)


def page(name: str) -> str:
    path = os.path.join(MAN, f"artvcs-{name}.1")
    assert os.path.exists(path), f"no man page for plumbing command {name}: {path}"
    with open(path, encoding="utf-8") as f:
        return f.read()


def plain(roff: str) -> str:
    """Roff text without font escapes (\\fB...\\fR) and with plain hyphens."""
    return re.sub(r"\\f[BIRP]", "", roff).replace("\\-", "-")


def section(text: str, title: str) -> str:
    m = re.search(rf"^\.SH {title}\n(.*?)(?=^\.SH |\Z)", text, flags=re.S | re.M)
    return m.group(1) if m else ""


@pytest.mark.parametrize("name", sorted(PLUMBING))
def test_page_has_every_section_and_documents_exactly_the_options(name):
    text = page(name)
    titles = re.findall(r"^\.SH (.+)$", text, flags=re.M)
    assert [t for t in titles if t in SECTIONS] == SECTIONS, titles
    opts = {o for p in command(name).params for o in getattr(p, "opts", []) + getattr(p, "secondary_opts", [])}
    for opt in sorted(o for o in opts if o.startswith("--")):
        assert re.search(rf"(?<![\w-]){re.escape(opt)}(?![\w-])", plain(text)), f"artvcs-{name}.1 does not mention {opt}"
    options = plain(section(text, "OPTIONS"))
    for opt in set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", options)):
        assert opt in opts | {"--help"}, f"artvcs-{name}.1 documents {opt}, which {name} does not have"
    assert f"artvcs {name}" in plain(section(text, "SYNOPSIS"))


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
@pytest.mark.parametrize("name", sorted(PLUMBING))
def test_page_renders_without_warnings(name):
    page(name)
    p = subprocess.run(["groff", "-man", "-ww", "-Tutf8", os.path.join(MAN, f"artvcs-{name}.1")],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr
