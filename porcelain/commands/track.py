"""``artvcs track``, ``status`` and ``hooks``: artifacts inside a git repository."""
from __future__ import annotations

import click

from artvcs.git import hooks as git_hooks
from artvcs.git import tracking
from artvcs.porcelain.app import context
from artvcs.porcelain.output import emit_json, json_option, progress_bar, table


@click.command("track")
@click.option("--name", default=None, help="Artifact name (default: the one declared for PATH, else PATH's base name).")
@click.option("--type", "type_", default=None, help="Artifact type (default: the one declared for PATH, else dataset).")
@click.option("--alias", "aliases", multiple=True, help="Alias for the new version.")
@json_option
@click.argument("path", type=click.Path(exists=True))
def track(name: str | None, type_: str | None, aliases: tuple[str, ...], as_json: bool, path: str) -> None:
    """Log PATH as an artifact version and pin it in artvcs.lock (git ignores PATH and commits the pin)."""
    ctx = context()
    with progress_bar():
        pin = tracking.track(ctx, path, name, type_, list(aliases))
    root = tracking.git_root(ctx.repo.worktree)
    if as_json:
        emit_json(pin.to_json())
        return
    click.echo(f"{pin.path} -> {pin.name}:{pin.version} (pinned in {tracking.LOCK}; commit it with {tracking.DECLARATIONS} and .gitignore)")
    if tracking.known_to_git(root, pin.path):
        click.echo(f"note: git still tracks files in {pin.path}: run 'git rm -r --cached {pin.path}' so that only the pin is committed", err=True)


@click.command("status")
@json_option
def status(as_json: bool) -> None:
    """Show each tracked path, its pin, and whether the workspace holds exactly that version."""
    rows = tracking.status(context())
    if as_json:
        emit_json(rows)
        return
    if not rows:
        click.echo("nothing tracked: 'artvcs track PATH' versions a folder of this git repository", err=True)
        return
    table(["path", "pin", "state"], [[r["path"], r["pin"] or "-", r["state"] + (f" ({len(r['changes'])} files)" if r["changes"] else "")]
                                     for r in rows])
    for r in rows:
        for c in r["changes"][:10]:
            click.echo(f"  {c['problem']:>10}  {r['path']}{c['path']}")
        if len(r["changes"]) > 10:
            click.echo(f"  {'':>10}  ... and {len(r['changes']) - 10} more")
        if r.get("detail"):
            click.echo(f"  {r['detail']}")


@click.group("hooks")
def hooks() -> None:
    """Install or remove the git hooks that keep tracked paths at their pins."""


@hooks.command("install")
@click.option("--force", is_flag=True, help="Save the current hook even if an earlier saved one exists (that one is kept as HOOK.artvcs-orig~).")
def install(force: bool) -> None:
    """Install post-checkout, post-merge, pre-commit and pre-push hooks; a hook already there keeps running first."""
    for line in git_hooks.install(force=force):
        click.echo(line)


@hooks.command("uninstall")
def uninstall() -> None:
    """Remove the artvcs hooks and put back the hooks they wrapped."""
    for line in git_hooks.uninstall():
        click.echo(line)


@hooks.command("run", hidden=True)
@click.argument("hook")
@click.argument("args", nargs=-1)
def run(hook: str, args: tuple[str, ...]) -> None:
    """Do HOOK's work (called by the installed hook scripts with git's arguments)."""
    for line in git_hooks.run(hook, list(args)):
        click.echo(line, err=True)
