"""Git hooks that keep tracked paths in step with the checked-out commit.

post-checkout and post-merge check out the pinned versions; pre-commit
refuses a commit whose staged pins do not resolve; pre-push pushes the pinned
versions' collections when an artvcs remote is configured, and stops git
push when that fails (no pushed pin may name a version the remote lacks).

Installing respects ``core.hooksPath`` and linked work trees, and never
clobbers a hook: one that is there is kept as ``<hook>.artvcs-orig`` and
called from ours with the same arguments and input; uninstalling puts it
back. The scripts call this interpreter by absolute path, so they work from
git whatever PATH holds.
"""
from __future__ import annotations

import os
import sys

from artvcs.plumbing.errors import ArtvcsError, UsageError

HOOKS = ("post-checkout", "post-merge", "pre-commit", "pre-push")
MARK = "# installed by artvcs hooks install"
ORIG = ".artvcs-orig"


def hooks_dir(start: str | None = None) -> str:
    """The folder git runs hooks from: ``core.hooksPath`` if set, else the common git dir's hooks/."""
    import pygit2

    found = pygit2.discover_repository(start or os.getcwd())
    if not found:
        raise UsageError("not inside a git repository: hooks belong to one (git init)")
    repo = pygit2.Repository(found)
    configured = repo.config["core.hooksPath"] if "core.hooksPath" in repo.config else None
    if configured:
        configured = os.path.expanduser(configured)
        return configured if os.path.isabs(configured) else os.path.join(repo.workdir or repo.path, configured)
    common = repo.path
    pointer = os.path.join(repo.path, "commondir")  # a linked work tree shares the main repository's hooks
    if os.path.isfile(pointer):
        with open(pointer, encoding="utf-8") as f:
            common = os.path.normpath(os.path.join(repo.path, f.read().strip()))
    return os.path.join(common, "hooks")


def _script(hook: str) -> str:
    """A POSIX sh hook: run the saved hook (same arguments, same input), then ours.

    A failing saved pre-* hook stops git at once, as it would have alone; a
    failing post-* hook does not stop ours from bringing the workspace along.
    """
    import shlex

    python = shlex.quote(sys.executable)
    orig = f'"$here/{hook}{ORIG}"'
    lines = ["#!/bin/sh", f"{MARK}; 'artvcs hooks uninstall' removes it.", f"# A hook that was here is kept as {hook}{ORIG} and runs first.",
             'here=$(dirname "$0")', "status=0"]
    if hook == "pre-push":  # git writes the refs being pushed on stdin; the saved hook must see them
        lines += ["input=$(cat)", f"if [ -x {orig} ]; then",
                  f'  {{ [ -n "$input" ] && printf "%s\\n" "$input"; }} | {orig} "$@" || exit $?', "fi"]
    elif hook.startswith("pre-"):
        lines += [f"if [ -x {orig} ]; then", f'  {orig} "$@" || exit $?', "fi"]
    else:
        lines += [f"if [ -x {orig} ]; then", f'  {orig} "$@" || status=$?', "fi"]
    lines += [
        f"if [ ! -x {python} ]; then",
        f"  echo \"artvcs: {hook} hook skipped: {sys.executable} is gone; run 'artvcs hooks install' again\" >&2",
        "  exit $status",
        "fi",
        f'{python} -m artvcs.porcelain.cli hooks run {hook} "$@" </dev/null || exit $?',
        "exit $status",
        "",
    ]
    return "\n".join(lines)


def _ours(path: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return MARK in f.read(4096)
    except (FileNotFoundError, IsADirectoryError):
        return False


def install(force: bool = False, start: str | None = None) -> list[tuple[str, str]]:
    """Install the four hooks; return what was done, as (hook, what) per hook.

    A foreign hook is moved to ``<hook>.artvcs-orig`` and chained. If that name
    is taken (a hook saved by an earlier install, since replaced by another
    tool) nothing changes unless ``force``, which keeps the older saved hook
    as ``<hook>.artvcs-orig~`` and saves the current one.
    """
    folder = hooks_dir(start)
    os.makedirs(folder, exist_ok=True)
    plan = []
    for hook in HOOKS:
        path = os.path.join(folder, hook)
        foreign = os.path.lexists(path) and not _ours(path)
        if foreign and os.path.lexists(path + ORIG) and not force:
            raise UsageError(f"{path}{ORIG} already exists beside a hook artvcs did not write: "
                             "check both, then use --force (the older one is kept as " + f"{hook}{ORIG}~)")
        plan.append((hook, path, foreign))
    done = []
    for hook, path, foreign in plan:
        if foreign:
            if os.path.lexists(path + ORIG):
                os.replace(path + ORIG, path + ORIG + "~")
            os.replace(path, path + ORIG)
            done.append((hook, f"installed; the hook that was there runs first ({hook}{ORIG})"))
        else:
            done.append((hook, "installed"))
        tmp = f"{path}.artvcs-tmp"
        if os.path.lexists(tmp):  # left by a crash, or a link planted in a checked-out core.hooksPath
            os.unlink(tmp)
        with open(tmp, "x", encoding="utf-8") as f:  # O_EXCL: never written through a link
            f.write(_script(hook))
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    return done


def uninstall(start: str | None = None) -> list[tuple[str, str]]:
    """Remove our hooks and restore the ones they wrapped; leave anything else alone."""
    folder = hooks_dir(start)
    done = []
    for hook in HOOKS:
        path = os.path.join(folder, hook)
        if not _ours(path):
            if os.path.lexists(path + ORIG):
                done.append((hook, f"not installed by artvcs; left alone, and {hook}{ORIG} kept"))
            continue
        os.unlink(path)
        if os.path.lexists(path + ORIG):
            os.replace(path + ORIG, path)
            done.append((hook, "removed; the original is back"))
        else:
            done.append((hook, "removed"))
    return done


def _push_pins(context, pinned: dict) -> list[str]:
    """pre-push: push the pinned versions' collections to the artvcs remote, when one is configured."""
    # Imported when a hook runs, not when 'artvcs hooks install' loads this module (start-up).
    from artvcs.sync import pushing, remotes
    from artvcs.sync.sync import Selection

    repo = context.repo
    if not remotes.list_remotes(repo):
        return ["artvcs: pre-push: no artvcs remote configured; pinned versions stay local"]
    names = sorted({p["name"] for p in pinned.values() if isinstance(p, dict) and isinstance(p.get("name"), str)})
    try:
        remote = remotes.open_remote(repo)
        result = pushing.push(repo, remote, Selection.of(names))
    except ArtvcsError as e:
        raise UsageError(f"git push stopped: pushing the pinned versions to the artvcs remote failed: {e}") from None
    if result.integration.refused:
        raise UsageError("git push stopped: the artvcs remote refused " + "; ".join(result.integration.refused.values()))
    sent = f"sent {result.objects} objects and {len(result.refs)} refs" if result.refs or result.objects else "up to date"
    lines = [f"artvcs: pre-push: {remote.name}: {sent}"]
    if result.integration.renumbered:
        # The pins keep resolving by digest; re-tracking writes the new numbers into artvcs.lock.
        lines.append("artvcs: pre-push: renumbered " + ", ".join(result.integration.renumbered)
                     + "; pins still resolve by digest, 'artvcs track PATH' records the new numbers")
    return lines


def run(hook: str, args: list[str]) -> list[str]:
    """What the installed hook does; raises (exit 1) to stop git where git allows. Returns lines for stderr."""
    # Imported when a hook runs, not when 'artvcs hooks install' loads this module (start-up).
    from artvcs.git import tracking
    from artvcs.api import Api

    if hook not in HOOKS:
        raise UsageError(f"unknown hook {hook!r}: expected one of {', '.join(HOOKS)}")
    root = tracking.git_root()
    if hook == "pre-commit":
        staged = tracking.staged_pins(root)
        pinned = staged if staged is not None else tracking.pins(root)
    else:
        pinned = tracking.pins(root)
    if not pinned:
        return []
    context = Api()._context  # $ARTVCS_DIR, else the repository above the work tree's root (git runs hooks there)
    if hook == "pre-commit":
        try:
            tracking.check_pins(context, pinned, strict=True)
        except ArtvcsError as e:
            raise UsageError(f"commit refused: {e}") from None
        return []
    if hook == "pre-push":
        return _push_pins(context, pinned)
    if hook == "post-checkout" and args[2:3] == ["0"]:
        return []  # a checkout of files, not of a branch or commit
    try:
        done = tracking.sync(context, root)
    except ArtvcsError as e:
        # git has switched the code already; say how to bring the data along (exit 1: git shows it)
        paths = " ".join(sorted(tracking.pins(root)))
        raise UsageError(f"{hook}: {e}. git has switched the code but not the tracked data: run 'artvcs checkout "
                         f"--force' to put every tracked path at its pin (unlogged changes are lost), or "
                         f"'artvcs track {paths}' to keep them as the paths' next versions") from None
    return [f"artvcs: {d['path']} -> {d['version']} ({d['written']} written, {d['removed']} removed)"
            for d in done if not d["up_to_date"]]
