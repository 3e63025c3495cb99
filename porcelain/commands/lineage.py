"""``artvcs lineage``: runs and artifacts upstream and downstream of a version."""
from __future__ import annotations

import click

from artvcs.logged import lineage_graph
from artvcs.porcelain.app import artifact, ref_argument
from artvcs.porcelain.output import emit_json, json_option


@click.command("lineage")
@click.option("--format", "fmt", type=click.Choice(["tree", "dot", "mermaid", "json"]), default="tree", show_default=True,
              help="tree for the terminal; dot (Graphviz), mermaid or json for tools.")
@click.option("--depth", default=10, show_default=True, type=click.IntRange(min=1), help="How many run hops to follow each way.")
@json_option
@ref_argument()
def lineage(fmt: str, depth: int, as_json: bool, ref: str) -> None:
    """Show what version REF was made from (<-, upstream) and what was made from it (->, downstream)."""
    g = lineage_graph.build(artifact(ref), depth)
    if as_json or fmt == "json":
        emit_json(g.to_json())
    else:
        click.echo({"tree": lineage_graph.to_tree, "dot": lineage_graph.to_dot, "mermaid": lineage_graph.to_mermaid}[fmt](g), nl=False)
