"""The lineage graph around a version: runs and artifacts upstream and downstream."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from artvcs.plumbing import runs as _runs
from artvcs.plumbing import versions as _versions

if TYPE_CHECKING:
    from artvcs.artifact import Artifact


@dataclass
class Graph:
    """Nodes (``artifact:<commit>`` or ``run:<entity/project/id>``) with labels, and edges (from, to)."""

    root: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {"root": self.root, "nodes": [{"id": k, **v} for k, v in sorted(self.nodes.items())], "edges": sorted(self.edges)}


def _art_node(v: _versions.Version) -> tuple[str, dict]:
    return f"artifact:{v.commit}", {"kind": "artifact", "label": f"{v.collection.name}:v{v.number}", "type": v.facts.get("type")}


def _run_node(rec: dict) -> tuple[str, dict]:
    return f"run:{rec['entity']}/{rec['project']}/{rec['id']}", {"kind": "run", "label": f"run {rec['id']} ({rec.get('job_type') or '-'})"}


def build(a: Artifact, depth: int = 10) -> Graph:
    """Walk from ``a``: the run that logged it and what that run used (upstream), the runs that used it and what they logged (downstream)."""
    git = a._context.repo.git
    all_runs = list(_runs.iter_runs(git))
    logged_by: dict[str, dict] = {}
    used_by: dict[str, list[dict]] = {}
    for rec in all_runs:
        for item in rec.get("logged", []):
            logged_by[item["commit"]] = rec
        for item in rec.get("used", []):
            used_by.setdefault(item["commit"], []).append(rec)
    root_id, root_label = _art_node(a._source)
    g = Graph(root_id, {root_id: root_label})
    queue = deque([(a._source, 0, "up"), (a._source, 0, "down")])
    seen: set[tuple[str, str]] = set()
    while queue:
        v, d, way = queue.popleft()
        key = (str(v.commit), way)
        if key in seen or d >= depth:
            continue
        seen.add(key)
        vid, vlabel = _art_node(v)
        g.nodes[vid] = vlabel
        if way == "up":
            rec = logged_by.get(str(v.commit))
            if rec:
                rid, rlabel = _run_node(rec)
                g.nodes[rid] = rlabel
                g.edges.add((rid, vid))
                for item in rec.get("used", []):
                    u = _versions.read_version(git, item["commit"])
                    uid, ulabel = _art_node(u)
                    g.nodes[uid] = ulabel
                    g.edges.add((uid, rid))
                    queue.append((u, d + 1, "up"))
        else:
            for rec in used_by.get(str(v.commit), []):
                rid, rlabel = _run_node(rec)
                g.nodes[rid] = rlabel
                g.edges.add((vid, rid))
                for item in rec.get("logged", []):
                    o = _versions.read_version(git, item["commit"])
                    oid, olabel = _art_node(o)
                    g.nodes[oid] = olabel
                    g.edges.add((rid, oid))
                    queue.append((o, d + 1, "down"))
    return g


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(g: Graph) -> str:
    """Graphviz: runs as boxes, artifacts as ellipses, the root in bold."""
    lines = ["digraph lineage {", "  rankdir=LR;"]
    for nid, n in sorted(g.nodes.items()):
        shape = "box" if n["kind"] == "run" else "ellipse"
        style = ", style=bold" if nid == g.root else ""
        lines.append(f'  {_dot_quote(nid)} [label={_dot_quote(n["label"])}, shape={shape}{style}];')
    lines += [f"  {_dot_quote(a)} -> {_dot_quote(b)};" for a, b in sorted(g.edges)]
    return "\n".join(lines + ["}"]) + "\n"


def to_mermaid(g: Graph) -> str:
    """Mermaid flowchart: runs as rectangles, artifacts as circles."""
    ids = {nid: f"n{i}" for i, nid in enumerate(sorted(g.nodes))}
    lines = ["graph LR"]
    for nid, n in sorted(g.nodes.items()):
        label = n["label"].replace('"', "#quot;")
        lines.append(f'  {ids[nid]}{"[" if n["kind"] == "run" else "(("}"{label}"{"]" if n["kind"] == "run" else "))"}')
    lines += [f"  {ids[a]} --> {ids[b]}" for a, b in sorted(g.edges)]
    return "\n".join(lines) + "\n"


def to_tree(g: Graph) -> str:
    """The root, then what it came from (<-) and what came from it (->), indented by distance."""
    parents: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    for a, b in g.edges:
        children.setdefault(a, []).append(b)
        parents.setdefault(b, []).append(a)
    out = [g.nodes[g.root]["label"]]

    def walk(nid: str, rel: dict, level: int, arrow: str, seen: frozenset) -> None:
        for nxt in sorted(rel.get(nid, []), key=lambda n: g.nodes[n]["label"]):
            if nxt not in seen:
                out.append("  " * level + f"{arrow} {g.nodes[nxt]['label']}")
                walk(nxt, rel, level + 1, arrow, seen | {nxt})

    walk(g.root, parents, 1, "<-", frozenset({g.root}))
    walk(g.root, children, 1, "->", frozenset({g.root}))
    return "\n".join(out) + "\n"
