"""``artvcs diff``: what changed between two versions."""
from __future__ import annotations

import dataclasses

import click

from artvcs.logged.diff import diff as diff_versions
from artvcs.porcelain.app import artifact, ref_argument
from artvcs.porcelain.output import emit_json, human_size, json_option


@click.command("diff")
@click.option("--stat", "stat_only", is_flag=True, help="Only count added, removed and modified entries and bytes.")
@json_option
@ref_argument("old")
@ref_argument("new")
def diff(stat_only: bool, as_json: bool, old: str, new: str) -> None:
    """List entries added (+), removed (-) and modified (M) from OLD to NEW."""
    changes = diff_versions(artifact(old), artifact(new))
    counts = {k: sum(1 for c in changes if c.status == k) for k in ("added", "removed", "modified")}
    delta = sum((c.new_size or 0) - (c.old_size or 0) for c in changes)
    if as_json:
        emit_json({"stat": {**counts, "bytes": delta}} if stat_only else {"changes": [dataclasses.asdict(c) for c in changes], "stat": {**counts, "bytes": delta}})
        return
    if not stat_only:
        mark = {"added": "+", "removed": "-", "modified": "M"}
        for c in changes:
            sizes = human_size(c.new_size) if c.status == "added" else human_size(c.old_size) if c.status == "removed" else f"{human_size(c.old_size)} -> {human_size(c.new_size)}"
            click.echo(f"{mark[c.status]} {c.path}  ({sizes})")
    sign = "+" if delta >= 0 else "-"
    click.echo(f"{counts['added']} added, {counts['removed']} removed, {counts['modified']} modified, {sign}{human_size(abs(delta))}")
