"""``artvcs history``: the recorded edits of a version and the moves of its aliases."""
from __future__ import annotations

import click

from artvcs.logged.history import history as version_history
from artvcs.porcelain.app import artifact, ref_argument
from artvcs.porcelain.output import emit_json, json_option, table


@click.command("history")
@json_option
@ref_argument()
def history(as_json: bool, ref: str) -> None:
    """Show when version REF was logged, each edit of its attributes, and each alias move."""
    events = version_history(artifact(ref))
    if as_json:
        emit_json(events)
    else:
        table(["time", "kind", "what"], [[e["time"], e["kind"], e["what"]] for e in events])
