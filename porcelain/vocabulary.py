"""One vocabulary for subcommands: either spelling of a verb works everywhere.

Users arrive from git (``git remote rm``/``remove``), DVC (``dvc remote list``)
and other tools, so every group accepts ``ls`` and ``list``, ``rm`` and
``remove`` whichever its own command is called, as git's ``remote`` does.
"""
from __future__ import annotations

import click

# each spelling -> the other one
SYNONYMS: dict[str, str] = {"ls": "list", "list": "ls", "rm": "remove", "remove": "rm"}


def canonical(group: click.Group, ctx: click.Context, name: str) -> str | None:
    """The name ``group`` knows for ``name`` (itself, or its other spelling), or None."""
    for candidate in (name, SYNONYMS.get(name)):
        if candidate is not None and click.Group.get_command(group, ctx, candidate) is not None:
            return candidate
    return None


def spellings(name: str) -> str:
    """``ls`` -> ``ls, list``: how a command listing shows a verb with two spellings."""
    return f"{name}, {SYNONYMS[name]}" if name in SYNONYMS else name


class Group(click.Group):
    """A click group whose subcommands answer to both spellings of their verb."""

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        name = canonical(self, ctx, cmd_name)
        return None if name is None else super().get_command(ctx, name)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name, cmd, rest = super().resolve_command(ctx, args)
        return (cmd.name if cmd is not None else name), cmd, rest

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            cmd = click.Group.get_command(self, ctx, name)
            if cmd is not None and not cmd.hidden:
                rows.append((spellings(name), cmd.get_short_help_str(formatter.width - 24)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)
