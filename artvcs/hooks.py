"""Git hooks that keep tracked paths in step with the checked-out commit.

post-checkout and post-merge check out the pinned versions; pre-commit
refuses a commit whose pins do not resolve; pre-push pushes the pinned
versions when an artvcs remote is configured. Installing respects
core.hooksPath and never clobbers a hook: an existing one is kept as
``<hook>.artvcs-orig`` and run first; uninstalling puts it back.
"""
from __future__ import annotations

import os
import stat
import sys

from artvcs.plumbing.errors import UsageError

HOOKS = ("post-checkout", "post-merge", "pre-commit", "pre-push")
MARK = "# installed by artvcs hooks install"
ORIG = ".artvcs-orig"


def hooks_dir(start: str | None = None) -> str:
    import pygit2

    found = pygit2.discover_repository(start or os.getcwd())
    if not found:
        raise UsageError("not inside a git repository: hooks belong to one (git init)")
    repo = pygit2.Repository(found)
    configured = repo.config["core.hooksPath"] if "core.hooksPath" in repo.config else None
    if configured:
        base = repo.workdir or repo.path
        return os.path.join(base, os.path.expanduser(configured)) if not os.path.isabs(configured) else configured
    return os.path.join(repo.path, "hooks")


def _script(hook: str) -> str:
    stdin_kept = hook == "pre-push"  # pre-push gets the refs on stdin; both hooks must see them
    return "\n".join(
        [
            "#!/bin/sh",
            MARK + f"; the hook that was here is {hook}{ORIG}",
            'here=$(dirname "$0")',
            'input=$(cat)' if stdin_kept else ":",
            f'if [ -x "$here/{hook}{ORIG}" ]; then',
            (f'  printf "%s\\n" "$input" | "$here/{hook}{ORIG}" "$@" || exit $?' if stdin_kept else f'  "$here/{hook}{ORIG}" "$@" || exit $?'),
            "fi",
            f'exec "{sys.executable}" -m artvcs.porcelain.cli hooks run {hook} "$@"',
            "",
        ]
    )


def install(force: bool = False, start: str | None = None) -> list[str]:
    """Install the hooks; return what was done, one line per hook."""
    folder = hooks_dir(start)
    os.makedirs(folder, exist_ok=True)
    done = []
    for hook in HOOKS:
        path = os.path.join(folder, hook)
        ours = os.path.exists(path) and MARK in open(path, encoding="utf-8", errors="replace").read()
        if os.path.exists(path) and not ours:
            if os.path.exists(path + ORIG) and not force:
                raise UsageError(f"{path}{ORIG} already exists: move it away or use --force")
            os.replace(path, path + ORIG)
            done.append(f"{hook}: installed; the existing hook runs first ({hook}{ORIG})")
        else:
            done.append(f"{hook}: installed")
        with open(path, "w", encoding="utf-8") as f:
            f.write(_script(hook))
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return done


def uninstall(start: str | None = None) -> list[str]:
    """Remove our hooks and restore the ones they wrapped."""
    folder = hooks_dir(start)
    done = []
    for hook in HOOKS:
        path = os.path.join(folder, hook)
        if os.path.exists(path) and MARK in open(path, encoding="utf-8", errors="replace").read():
            os.unlink(path)
            if os.path.exists(path + ORIG):
                os.replace(path + ORIG, path)
                done.append(f"{hook}: removed; original restored")
            else:
                done.append(f"{hook}: removed")
    return done


def run(hook: str, args: list[str]) -> list[str]:
    """What the installed hook does; raises (exit 1) to stop git where git allows."""
    from artvcs import tracking
    from artvcs.api import Api

    root = tracking.git_root()
    if not tracking.pins(root):
        return []
    context = Api(dir=root)._context
    if hook in ("post-checkout", "post-merge"):
        if hook == "post-checkout" and args[2:3] == ["0"]:
            return []  # a file checkout, not a branch switch
        return tracking.sync(context)
    if hook == "pre-commit":
        for rel, pin in tracking.pins(root).items():
            tracking.resolve_pin(context, rel, pin)
        return []
    if hook == "pre-push":
        from artvcs.plumbing import config

        remotes = config.load(context.repo.config_path).get("remotes") or {}
        if not remotes:
            return ["artvcs: no artvcs remote configured; pinned versions stay local"]
        import subprocess

        code = subprocess.call([sys.executable, "-m", "artvcs.porcelain.cli", "push"])
        if code:
            raise UsageError("artvcs push failed: the git push is stopped so that no pin points at a version the remote lacks")
        return []
    raise UsageError(f"unknown hook {hook!r}: expected one of {', '.join(HOOKS)}")
