"""``artvcs describe``, ``meta`` and ``ttl``: edit the mutable attributes of a version."""
from __future__ import annotations

import datetime as dt
import re

import click

from artvcs.errors import UsageError
from artvcs.porcelain.app import artifact, complete_meta_key, parse_value, ref_argument
from artvcs.porcelain.output import emit_json, json_option
from artvcs.core.validation import ArtifactTTL


@click.command("describe")
@json_option
@ref_argument()
@click.argument("text")
def describe(as_json: bool, ref: str, text: str) -> None:
    """Set the description of version REF to TEXT (recorded in its history)."""
    a = artifact(ref)
    a.description = text
    a.save()
    if as_json:
        emit_json({"name": a.name, "description": a.description})
    else:
        click.echo(f"{a.name}: description set")


@click.group("meta")
def meta() -> None:
    """Read and edit the metadata of a version."""


@meta.command("get")
@json_option
@ref_argument()
@click.argument("key", required=False, shell_complete=complete_meta_key)
def get(as_json: bool, ref: str, key: str | None) -> None:
    """Print KEY's value (or all metadata) of version REF."""
    md = artifact(ref).metadata
    if key is not None and key not in md:
        raise UsageError(f"the metadata of {ref} has no key {key!r} (its keys: {', '.join(sorted(md)) or 'none'})")
    value = md if key is None else md[key]
    if as_json:
        emit_json(value)
    else:
        import yaml  # here, not at the top: `artvcs --help` imports this module (yaml ~10 ms)

        click.echo(yaml.safe_dump(value, sort_keys=True, default_flow_style=False).rstrip() if isinstance(value, (dict, list)) else str(value))


def _show_value(value) -> str:
    """A metadata value as YAML would write it inline (``[a, b]``, ``true``), never a Python repr."""
    import yaml

    return yaml.safe_dump(value, default_flow_style=True, width=1 << 16).removesuffix("\n...\n").strip()


@meta.command("set")
@json_option
@ref_argument()
@click.argument("key", shell_complete=complete_meta_key)
@click.argument("value")
def set_(as_json: bool, ref: str, key: str, value: str) -> None:
    """Set metadata KEY of version REF to VALUE (read as YAML: 3, 0.5, true, [a, b])."""
    a = artifact(ref)
    a.metadata[key] = parse_value(value, "VALUE")
    a.save()
    if as_json:
        emit_json({"name": a.name, "metadata": a.metadata})
    else:
        click.echo(f"{a.name}: {key} = {_show_value(a.metadata[key])}")


@meta.command("unset")
@json_option
@ref_argument()
@click.argument("key", shell_complete=complete_meta_key)
def unset(as_json: bool, ref: str, key: str) -> None:
    """Remove metadata KEY from version REF."""
    a = artifact(ref)
    if key not in a.metadata:
        raise UsageError(f"the metadata of {a.name} has no key {key!r} (its keys: {', '.join(sorted(a.metadata)) or 'none'})")
    del a.metadata[key]
    a.save()
    if as_json:
        emit_json({"name": a.name, "metadata": a.metadata})
    else:
        click.echo(f"{a.name}: {key} removed")


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str):
    """``30d``, ``12h``, ``90m``, ``45s``, ``2w`` → timedelta; ``none`` / ``inherit`` → sentinels."""
    if text == "none":
        return None
    if text == "inherit":
        return ArtifactTTL.INHERIT
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw])", text)
    if not m or float(m.group(1)) <= 0:
        raise UsageError(f"invalid duration {text!r}: use a positive number and a unit s, m, h, d or w (30d), none or inherit")
    return dt.timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


@click.command("ttl")
@json_option
@ref_argument()
@click.argument("duration")
def ttl(as_json: bool, ref: str, duration: str) -> None:
    """Set how long version REF lives: DURATION (30d, 12h), none (forever) or inherit (project default)."""
    a = artifact(ref)
    a.ttl = parse_duration(duration)
    a.save()
    if as_json:
        emit_json({"name": a.name, "ttl": duration, "ttl_seconds": a.ttl.total_seconds() if a.ttl else None})
    else:
        click.echo(f"{a.name}: ttl {duration}")
