"""``artvcs lineage``: runs and artifacts upstream and downstream of a version."""
from __future__ import annotations

import click

from artvcs import lineage_graph
from artvcs.porcelain.app import artifact, ref_argument
from artvcs.porcelain.output import emit_json


@click.command("lineage")
@click.option("--format", "fmt", type=click.Choice(["tree", "dot", "mermaid", "json"]), default="tree", show_default=True,
              help="tree for the terminal; dot (Graphviz), mermaid or json for tools.")
@click.option("--depth", default=10, show_default=True, help="How many run hops to follow each way.")
@ref_argument()
def lineage(fmt: str, depth: int, ref: str) -> None:
    """Show what version REF was made from (above it) and what was made from it (below)."""
    g = lineage_graph.build(artifact(ref), depth)
    if fmt == "json":
        emit_json(g.to_json())
    else:
        click.echo({"tree": lineage_graph.to_tree, "dot": lineage_graph.to_dot, "mermaid": lineage_graph.to_mermaid}[fmt](g), nl=False)
