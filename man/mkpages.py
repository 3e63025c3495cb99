"""Write man/artvcs-<command>.1 from each click command plus the prose in man/pages.yaml.

Options and the synopsis come from the command itself, so a page cannot
drift from the code: tests/test_man_pages.py regenerates every page and
compares. Run ``python man/mkpages.py`` after changing a command.
"""
from __future__ import annotations

import os
import sys

import click
import yaml

from artvcs.porcelain.vocabulary import Group, spellings

HERE = os.path.dirname(os.path.abspath(__file__))
DATE = "2026-11"
VERSION = "0.1.0"


def esc(text: str) -> str:
    """Escape text for roff: backslashes, leading dots/quotes, hyphens in options."""
    out = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in out.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def paragraphs(text: str) -> str:
    parts = [p.strip() for p in text.strip().split("\n\n") if p.strip()]
    return "\n.PP\n".join(esc(" ".join(p.split())) if not p.startswith("  ") else esc(p) for p in parts)


def option_lines(cmd: click.Command) -> list[str]:
    out = []
    for p in cmd.params:
        if not isinstance(p, click.Option) or p.hidden:
            continue
        names = ", ".join(f"\\fB{esc(o)}\\fR" for o in p.opts + p.secondary_opts)
        meta = ""
        if not p.is_flag and not p.count:
            meta = " \\fI" + esc(p.metavar or (p.type.name.upper() if not isinstance(p.type, click.Choice) else "|".join(p.type.choices))) + "\\fR"
        out.append(".TP")
        out.append(names + meta)
        help_text = p.help or ""
        if p.multiple:
            help_text += " May be given more than once."
        if p.show_default and p.default not in (None, False, ()):
            help_text += f" Default: {p.default}."
        out.append(esc(help_text) or "\\&")
    out.append(".TP")
    out.append("\\fB\\-h\\fR, \\fB\\-\\-help\\fR")
    out.append("Show a summary of the options and exit.")
    return out


def synopsis(name: str, cmd: click.Command, path: list[str]) -> str:
    parts = [f"\\fBartvcs {' '.join(path)}\\fR"]
    if isinstance(cmd, click.Group):
        parts.append("\\fICOMMAND\\fR [\\fIARGS\\fR]...")
        return " ".join(parts)
    if any(isinstance(p, click.Option) for p in cmd.params):
        parts.append("[\\fIOPTIONS\\fR]")
    for p in cmd.params:
        if isinstance(p, click.Argument):
            word = f"\\fI{esc(p.human_readable_name.upper())}\\fR" + ("..." if p.nargs == -1 else "")
            parts.append(word if p.required else f"[{word}]")
    return " ".join(parts)


def render(name: str, cmd: click.Command, prose: dict, section: str = "1") -> str:
    path = name.split(" ")
    title = "artvcs-" + "-".join(path)
    summary = (cmd.short_help or (cmd.help or "").strip().split("\n")[0]).rstrip(".")
    lines = [
        f'.TH {title.upper().replace("-", chr(92) + "-")} {section} "{DATE}" "artvcs {VERSION}" "artvcs manual"',
        ".SH NAME",
        f"{esc(title)} \\- {esc(summary[0].lower() + summary[1:] if summary else '')}",
        ".SH SYNOPSIS",
        synopsis(name, cmd, path),
    ]
    if isinstance(cmd, click.Group):
        for sub_name in sorted(cmd.commands):
            sub = cmd.commands[sub_name]
            lines += [".br", synopsis(f"{name} {sub_name}", sub, path + [sub_name])]
    lines += [".SH DESCRIPTION", paragraphs(cmd.help or summary)]
    if prose.get("description"):
        lines += [".PP", paragraphs(prose["description"])]
    if isinstance(cmd, click.Group):
        lines.append(".SH COMMANDS")
        for sub_name in sorted(cmd.commands):
            sub = cmd.commands[sub_name]
            names = spellings(sub_name) if isinstance(cmd, Group) else sub_name
            lines += [".TP", ", ".join(f"\\fB{esc(n)}\\fR" for n in names.split(", ")), paragraphs(sub.help or sub_name)]
        for sub_name in sorted(cmd.commands):
            opts = option_lines(cmd.commands[sub_name])
            if len(opts) > 3:
                lines += [f".SH OPTIONS OF {esc(sub_name.upper())}"] + opts
    else:
        lines += [".SH OPTIONS"] + option_lines(cmd)
    for key, heading in (("output", "OUTPUT"), ("json", "JSON OUTPUT"), ("exit", "EXIT STATUS"), ("examples", "EXAMPLES")):
        if prose.get(key):
            lines.append(f".SH {heading}")
            if key == "examples":
                lines += [".nf", ".RS 4", esc(prose[key].rstrip()), ".RE", ".fi"]
            else:
                lines.append(paragraphs(prose[key]))
    if "exit" not in prose:
        lines += [".SH EXIT STATUS", "0 on success, 1 on an error (one line on standard error), 2 on a usage error."]
    see = prose.get("see_also", ["artvcs(1)", "artvcs-format(5)"])
    lines += [".SH SEE ALSO", ", ".join(f"\\fB{esc(s.split('(')[0])}\\fR({s.split('(')[1]}" for s in see)]
    return "\n".join(lines) + "\n"


def commands() -> dict[str, click.Command]:
    """Every command by its page name (``alias`` for a group, ``alias add`` is inside it)."""
    from artvcs.porcelain.cli import cli

    ctx = click.Context(cli)
    return {n: cli.get_command(ctx, n) for n in cli.list_commands(ctx)}


def build() -> dict[str, str]:
    with open(os.path.join(HERE, "pages.yaml"), encoding="utf-8") as f:
        prose = yaml.safe_load(f) or {}
    return {f"artvcs-{name}.1": render(name, cmd, prose.get(name, {})) for name, cmd in commands().items()}


def main() -> int:
    for fname, text in build().items():
        with open(os.path.join(HERE, fname), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
