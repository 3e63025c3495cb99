"""``artvcs help``: a command's manual page, as ``git help`` shows one."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys

import click

from artvcs.errors import ArtvcsError

# pages that are not commands: ``artvcs help format`` is artvcs-format(5)
TOPICS = {"format": "artvcs-format.5", "remote-format": "artvcs-remote-format.5", "media": "artvcs-media.5"}


def page_folders() -> list[str]:
    """Where the pages are: in the source tree when running from one (an editable install, whose
    copies under share/man date from the install), else installed beside the interpreter."""
    here = os.path.dirname(os.path.abspath(__file__))
    source = os.path.normpath(os.path.join(here, "..", "..", "man"))
    installed = [os.path.join(sys.prefix, "share", "man", s) for s in ("man1", "man5")]
    return [f for f in [source] + installed if os.path.isdir(f)]


def find_page(filename: str) -> str | None:
    for folder in page_folders():
        path = os.path.join(folder, filename)
        if os.path.isfile(path):
            return path
    return None


def _command(words: tuple[str, ...]) -> tuple[list[str], click.Command]:
    """The command WORDS name (``alias add`` is inside ``alias``), or a usage error naming the word."""
    from artvcs.porcelain.cli import cli

    ctx = click.Context(cli, info_name="artvcs")
    cmd: click.Command = cli
    path: list[str] = []
    for word in words:
        sub = cmd.get_command(ctx, word) if isinstance(cmd, click.Group) else None
        if sub is None:
            where = f"artvcs {' '.join(path)}" if path else "artvcs"
            raise click.UsageError(f"{where} has no command {word!r}: 'artvcs --help' lists them")
        path.append(sub.name)
        cmd = sub
        ctx = click.Context(cmd, info_name=sub.name, parent=ctx)
    return path, cmd


@click.command("help")
@click.argument("command", required=False)
@click.argument("subcommand", required=False)
def help_(command: str | None, subcommand: str | None) -> None:
    """Show the manual page of COMMAND (artvcs(1) without one; also format, remote-format, media).

    Without the man program the command's --help text is shown instead.
    """
    words = tuple(w for w in (command, subcommand) if w)
    if words and words[0] in TOPICS:
        path, cmd, filename = [words[0]], None, TOPICS[words[0]]
    else:
        path, cmd = _command(words)
        filename = f"artvcs-{path[0]}.1" if path else "artvcs.1"
    page = find_page(filename)
    man = shutil.which("man")
    if page is not None and man is not None:
        code = subprocess.call([man, "-l", page])
        if code == 0:
            return
    if cmd is None:
        raise ArtvcsError(f"the page {filename} is not installed, or 'man' is not: install man to read it")
    with click.Context(cmd, info_name="artvcs " + " ".join(path) if path else "artvcs") as ctx:
        click.echo(cmd.get_help(ctx))
