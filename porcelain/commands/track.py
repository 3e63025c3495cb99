"""``artvcs track``, ``status`` and ``hooks``: artifacts inside a git repository."""
from __future__ import annotations

import click

from artvcs import hooks as git_hooks
from artvcs import tracking
from artvcs.porcelain.app import api
from artvcs.porcelain.output import emit_json, json_option, table


@click.command("track")
@click.option("--name", default=None, help="Artifact name (default: the path's base name).")
@click.option("--type", "type_", default=None, help="Artifact type (default: dataset).")
@click.option("--alias", "aliases", multiple=True, help="Alias for the new version.")
@json_option
@click.argument("path", type=click.Path(exists=True))
def track(name: str | None, type_: str | None, aliases: tuple[str, ...], as_json: bool, path: str) -> None:
    """Log PATH as an artifact version and pin it in artvcs.lock (git ignores PATH, commits the pin)."""
    pin = tracking.track(api()._context, path, name, type_, list(aliases))
    if as_json:
        emit_json(pin.__dict__)
    else:
        click.echo(f"{pin.path} -> {pin.name}:{pin.version} (pinned in {tracking.LOCK}; commit it)")


@click.command("status")
@json_option
def status(as_json: bool) -> None:
    """Show each tracked path, its pin, and whether the workspace matches it."""
    rows = tracking.status(api()._context)
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("nothing tracked: artvcs track PATH", err=True)
        return
    table(["path", "pin", "state"], [[r["path"], r["pin"] or "-", r["state"] + (f" ({len(r['changes'])} files)" if r.get("changes") else "")] for r in rows])
    for r in rows:
        for c in r.get("changes", [])[:10]:
            click.echo(f"  {c['problem']:>8}  {r['path']}{c['path']}")


@click.group("hooks")
def hooks() -> None:
    """Install or remove the git hooks that keep tracked paths at their pins."""


@hooks.command("install")
@click.option("--force", is_flag=True, help="Replace a hook saved by an earlier install.")
def install(force: bool) -> None:
    """Install post-checkout, post-merge, pre-commit and pre-push hooks (existing hooks keep running)."""
    for line in git_hooks.install(force=force):
        click.echo(line)


@hooks.command("uninstall")
def uninstall() -> None:
    """Remove the artvcs hooks and restore the hooks they wrapped."""
    for line in git_hooks.uninstall():
        click.echo(line)


@hooks.command("run", hidden=True)
@click.argument("hook")
@click.argument("args", nargs=-1)
def run(hook: str, args: tuple[str, ...]) -> None:
    """Run HOOK's work (called by the installed hook scripts)."""
    for line in git_hooks.run(hook, list(args)):
        click.echo(line, err=True)
