"""``artvcs diff``: what changed between two versions."""
from __future__ import annotations

import click

from artvcs.porcelain.app import artifact, ref_argument
from artvcs.porcelain.output import emit_json, human_size, json_option
from artvcs.porcelain.reports import diff_report


@click.command("diff")
@click.option("--stat", "stat_only", is_flag=True, help="Only count added, removed and modified entries and bytes.")
@json_option
@ref_argument("old")
@ref_argument("new")
def diff(stat_only: bool, as_json: bool, old: str, new: str) -> None:
    """List entries added (+), removed (-) and modified (M) from OLD to NEW."""
    report = diff_report(artifact(old), artifact(new), stat_only)
    if as_json:
        emit_json(report)
        return
    mark = {"added": "+", "removed": "-", "modified": "M"}
    for c in report.get("changes", []):
        sizes = human_size(c["new_size"]) if c["status"] == "added" else human_size(c["old_size"]) if c["status"] == "removed" else f"{human_size(c['old_size'])} -> {human_size(c['new_size'])}"
        click.echo(f"{mark[c['status']]} {c['path']}  ({sizes})")
    counts, delta = report["stat"], report["stat"]["bytes"]
    sign = "+" if delta >= 0 else "-"
    click.echo(f"{counts['added']} added, {counts['removed']} removed, {counts['modified']} modified, {sign}{human_size(abs(delta))}")
