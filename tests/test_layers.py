"""Imports point one way: porcelain -> binding -> plumbing, and inside the binding
git -> W&B face -> logged -> draft / sync / media -> core -> plumbing.

The import graph is read from the source with ast, counting imports inside
functions (only ``if TYPE_CHECKING:`` blocks are left out: they never run), so a
cycle cannot hide behind a function-level import.
"""
from __future__ import annotations

import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Source folder -> the package it is installed as (setup.cfg package_dir).
SOURCES = {"artvcs": "artvcs", "plumbing": "artvcs.plumbing", "porcelain": "artvcs.porcelain"}

# The layers, highest first: a module may import its own layer's modules (acyclically) and any
# layer below it; a group of peers (one entry holding several prefixes) may not import each other.
# A module belongs to the longest prefix that names it.
LAYERS: list[tuple[str, ...]] = [
    ("artvcs.porcelain",),
    ("artvcs.git", "artvcs.interop"),      # tracking, hooks, W&B export/import: drive the W&B face like a user's script
    ("artvcs",),                           # the W&B face: Artifact, Api, Run/init, collections
    ("artvcs.logged",),                    # working with logged versions
    ("artvcs.draft", "artvcs.sync", "artvcs.media"),  # making a version; team sync; media types
    ("artvcs.core",),                      # context, validation, alias refs, host git state
    ("artvcs.errors", "artvcs.artifact_manifest"),  # the base: errors and manifest entries
    ("artvcs.plumbing",),
]


def module_files() -> dict[str, str]:
    out = {}
    for folder, package in SOURCES.items():
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in files:
                if f.endswith(".py"):
                    rel = os.path.relpath(os.path.join(dirpath, f), os.path.join(ROOT, folder))[:-3]
                    parts = [package] + [p for p in rel.split(os.sep) if p != "__init__"]
                    out[".".join(parts)] = os.path.join(dirpath, f)
    return out


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(name: str, path: str, modules: dict[str, str]) -> set[str]:
    """The project modules ``name`` imports, at module level or inside functions."""
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in modules and m != name}


def graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def layer_of(module: str) -> tuple[int, str]:
    """(layer index, the prefix that placed it there): the longest matching prefix wins."""
    best = (-1, "", "")
    for i, group in enumerate(LAYERS):
        for prefix in group:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best[1]):
                best = (i, prefix, prefix)
    assert best[0] >= 0, f"{module} is in no layer: add it to LAYERS"
    return best[0], best[1]


def upward_imports(g: dict[str, set[str]]) -> list[str]:
    bad = []
    for src, targets in g.items():
        ls, ps = layer_of(src)
        for dst in targets:
            ld, pd = layer_of(dst)
            if ld < ls or (ld == ls and ps != pd):
                bad.append(f"{src} -> {dst}")
    return sorted(bad)


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_every_module_has_a_layer():
    for module in module_files():
        layer_of(module)


def test_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_no_upward_import():
    found = upward_imports(graph())
    assert not found, "imports against the layers (see LAYERS):\n" + "\n".join(found)


def test_the_checks_catch_a_bad_import():
    """The checks themselves fail on what they forbid: a cycle, and a lower module importing upward."""
    g = {k: set(v) for k, v in graph().items()}
    g["artvcs.core.context"].add("artvcs.session")
    assert "artvcs.core.context -> artvcs.session" in upward_imports(g)
    g["artvcs.draft.staging"].add("artvcs.sync.remotes")  # peers: draft may not reach into sync
    assert "artvcs.draft.staging -> artvcs.sync.remotes" in upward_imports(g)
    g["artvcs.plumbing.errors"].add("artvcs.porcelain.cli")
    assert "artvcs.plumbing.errors -> artvcs.porcelain.cli" in upward_imports(g)
    g["artvcs.core.validation"].add("artvcs.core.context")
    g["artvcs.core.context"].add("artvcs.core.validation")
    assert any({"artvcs.core.validation", "artvcs.core.context"} <= set(c) for c in cycles(g))


@pytest.mark.parametrize("package", ["artvcs.core", "artvcs.draft", "artvcs.logged", "artvcs.sync", "artvcs.git", "artvcs.media"])
def test_each_subpackage_says_what_it_may_import(package):
    path = module_files()[package]
    with open(path) as f:
        doc = ast.get_docstring(ast.parse(f.read()))
    assert doc and "import" in doc, f"{path}: its docstring says what it holds and what it may import"
