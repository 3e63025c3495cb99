"""``artvcs diff``: what changed between two versions, or between a version and a folder."""
from __future__ import annotations

import dataclasses
import json
import os

import click

from artvcs.errors import UsageError
from artvcs.git import status as workspace_status
from artvcs.logged import diff as diffs
from artvcs.logged import folders
from artvcs.porcelain.app import artifact, complete_ref, context, context_near
from artvcs.porcelain.output import emit_json, human_size, json_option

MARK = {"added": "+", "removed": "-", "modified": "M"}
LETTER = {"added": "A", "removed": "D", "modified": "M"}  # git diff --name-status


@click.command("diff")
@click.option("--stat", "stat_only", is_flag=True, help="Only count added, removed and modified entries and bytes.")
@click.option("--name-status", is_flag=True, help="One line per changed entry: A, D or M, a tab, the path (as git diff --name-status).")
@click.option("--exit-code", is_flag=True, help="Exit 1 when there are differences, 0 when there are none (as git diff --exit-code).")
@json_option
@click.argument("old", shell_complete=complete_ref)
@click.argument("new", required=False, shell_complete=complete_ref)
def diff(stat_only: bool, name_status: bool, exit_code: bool, as_json: bool, old: str, new: str | None) -> None:
    """Show entries added (+), removed (-) and modified (M) from OLD to NEW, and attribute changes.

    OLD and NEW are versions (REF) or folders: two versions; a version and a
    folder (what the folder changed); or a folder alone, against the version
    it holds (its pin in a git work tree, else its last checkout, download or
    log). An existing folder wins over a version of the same name: write
    NAME:latest for the version.
    """
    label_old, label_new, changes, attributes = _compare(old, new)
    counts = {k: sum(1 for c in changes if c.status == k) for k in ("added", "removed", "modified")}
    delta = sum((c.new_size or 0) - (c.old_size or 0) for c in changes)
    stat = {**counts, "bytes": delta}
    if as_json:
        emit_json({"stat": stat} if stat_only else {"old": label_old, "new": label_new, "attributes": attributes,
                                                      "changes": [dataclasses.asdict(c) for c in changes], "stat": stat})
    elif name_status:
        for c in changes:
            click.echo(f"{LETTER[c.status]}\t{c.path}")
    else:
        if not stat_only:
            for a in attributes:
                click.echo(f"{a['field']}: {_value(a['old'])} -> {_value(a['new'])}")
            for c in changes:
                click.echo(f"{MARK[c.status]} {c.path}  ({_sizes(c)})")
        sign = "+" if delta >= 0 else "-"
        click.echo(f"{counts['added']} added, {counts['removed']} removed, {counts['modified']} modified, {sign}{human_size(abs(delta))}")
    if exit_code and (changes or attributes):
        click.get_current_context().exit(1)


def _sizes(c) -> str:
    if c.status == "added":
        return human_size(c.new_size)
    if c.status == "removed":
        return human_size(c.old_size)
    return f"{human_size(c.old_size)} -> {human_size(c.new_size)}"


def _value(v) -> str:
    """An attribute value as JSON (``"text"``, ``[a, b]`` as ``["a", "b"]``), ``-`` when absent."""
    return "-" if v is None else json.dumps(v, sort_keys=True)


def _compare(old: str, new: str | None):
    """``(old label, new label, file changes, attribute changes)``."""
    old_dir, new_dir = os.path.isdir(old), new is not None and os.path.isdir(new)
    if new is None:
        if not old_dir:
            raise UsageError(f"diff {old!r}: give two versions, a version and a folder, or a folder "
                             f"(there is no folder {old!r})")
        ctx = context_near([old])
        commit, label = workspace_status.version_of(ctx, old)
        return label, _folder_label(old), folders.changes(ctx, folders.entries_of(ctx, commit), old), []
    if old_dir and new_dir:
        raise UsageError(f"diff {old!r} {new!r}: both are folders; compare a folder with a version "
                         f"('artvcs diff NAME:vN {new}') or give one folder alone")
    if not old_dir and not new_dir:
        a, b = artifact(old), artifact(new)
        return a.qualified_name, b.qualified_name, diffs.diff(a, b), diffs.attribute_changes(a, b)
    ref, folder = (new, old) if old_dir else (old, new)
    a = artifact(ref)
    changes = folders.changes(context(), folders.entries_of(context(), a.commit_hash), folder)
    if old_dir:  # from the folder to the version: every change read the other way round
        changes = [diffs.reverse(c) for c in changes]
        return _folder_label(folder), a.qualified_name, changes, []
    return a.qualified_name, _folder_label(folder), changes, []


def _folder_label(path: str) -> str:
    return os.path.abspath(path).rstrip("/") + "/"
