"""The lineage graph as an SVG drawing: columns by distance along the edges (what a version came from
on the left, what was made from it on the right), rows in label order, edges as curves."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 190, 44, 70, 22, 16


@dataclass(frozen=True)
class Placed:
    id: str
    kind: str
    label: str
    x: float
    y: float
    root: bool


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    nodes: list[Placed]
    edges: list[dict[str, Any]]  # from, to, d (the SVG path)


def layout(graph: dict[str, Any]) -> Drawing:
    """Place the nodes of ``artvcs lineage --json``'s graph and route its edges."""
    nodes = {n["id"]: n for n in graph["nodes"]}
    edges = [tuple(e) for e in graph["edges"]]
    # Column: signed distance from the root, following edges forward (downstream) and backward (upstream).
    col = {graph["root"]: 0}
    frontier = [graph["root"]]
    while frontier:
        nxt = []
        for n in frontier:
            for a, b in edges:
                for here, there, step in ((a, b, 1), (b, a, -1)):
                    if here == n and there not in col and there in nodes:
                        col[there] = col[n] + step
                        nxt.append(there)
        frontier = nxt
    for n in nodes:
        col.setdefault(n, 0)
    low = min(col.values())
    columns: dict[int, list[str]] = {}
    for n in sorted(nodes, key=lambda i: (nodes[i]["label"], i)):
        columns.setdefault(col[n] - low, []).append(n)
    tallest = max(len(v) for v in columns.values())
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y
    placed: dict[str, Placed] = {}
    for c, ids in columns.items():
        top = (height - (len(ids) * NODE_H + (len(ids) - 1) * GAP_Y)) / 2
        for i, n in enumerate(ids):
            placed[n] = Placed(n, nodes[n]["kind"], nodes[n]["label"], PAD + c * (NODE_W + GAP_X), top + i * (NODE_H + GAP_Y), n == graph["root"])
    width = PAD * 2 + (max(columns) + 1) * NODE_W + max(columns) * GAP_X
    routed = []
    for a, b in sorted(edges):
        if a in placed and b in placed:
            p, q = placed[a], placed[b]
            x1, y1, x2, y2 = p.x + NODE_W, p.y + NODE_H / 2, q.x, q.y + NODE_H / 2
            mid = (x1 + x2) / 2
            routed.append({"from": a, "to": b, "d": f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"})
    return Drawing(width, height, list(placed.values()), routed)
