"""``artvcs config``: read and change the repository's settings, the default namespace among them."""
from __future__ import annotations

import datetime as dt
import json

import click

from artvcs.core import settings
from artvcs.porcelain.app import context, parse_value
from artvcs.porcelain.output import emit_json, json_option, table


@click.group("config")
def config() -> None:
    """Show and change settings: the default entity and project (recorded in the repository,
    with history) and the default ttl."""


@config.command("list")
@json_option
def list_(as_json: bool) -> None:
    """Every setting, one KEY=VALUE a line."""
    found = settings.listing(context().repo)
    if as_json:
        emit_json(found)
        return
    for key, value in found.items():
        click.echo(f"{key}={value if isinstance(value, str) else json.dumps(value)}")


@config.command("get")
@json_option
@click.argument("key")
def get(as_json: bool, key: str) -> None:
    """Print the value of KEY (entity, project, ttl, projects.P.ttl, remotes.NAME.url, ...)."""
    value = settings.get(context().repo, key)
    if as_json:
        emit_json({"key": key, "value": value})
    else:
        click.echo(value if isinstance(value, str) else json.dumps(value))


@config.command("set")
@click.argument("key")
@click.argument("value")
def set_(key: str, value: str) -> None:
    """Set KEY to VALUE: entity or project (the repository's default namespace, recorded with history),
    ttl or projects.P.ttl (seconds, or null)."""
    repo = context().repo
    settings.set_value(repo, key, value if key in settings.NAMESPACE_KEYS else parse_value(value, key))
    click.echo(f"{key}={settings.get(repo, key)}")


@config.command("history")
@json_option
def history(as_json: bool) -> None:
    """Every default namespace the repository has had, oldest first, with who set it and why."""
    events = settings.namespace_history(context().repo)
    if as_json:
        emit_json(events)
        return
    table(["time", "namespace", "author", "why"],
          [[dt.datetime.fromtimestamp(e["time"], dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            f"{e['entity']}/{e['project']}", f"{e['author']} <{e['email']}>", e["message"]] for e in events])
