"""Whatever sequence of operations runs, real git accepts the object database."""
from __future__ import annotations

import subprocess

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.plumbing import attrs, links, manifest, refs, runs, versions
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.refs import CollectionId
from artvcs.plumbing.repository import init_repository

name_chars = st.sampled_from(list("abcXYZ09_.-"))
names = st.text(name_chars, min_size=1, max_size=8).filter(lambda s: s not in (".", ".."))
# .git, GIT~1 and their kin are refused as entry paths (tests/plumbing/test_paths_security.py); near misses are stored
segment = st.one_of(names, st.sampled_from([".github", "GIT~2", ".git-x", "%files", ".gitmodules", "a b", "ü", "-x", ".."]))
paths = st.lists(segment, min_size=1, max_size=3).map("/".join).filter(lambda p: ".." not in p.split("/"))

op = st.one_of(
    st.tuples(st.just("version"), names, st.lists(paths, min_size=0, max_size=6, unique=True)),
    st.tuples(st.just("alias"), names, names),
    st.tuples(st.just("attrs"), names, st.text(max_size=20)),
    st.tuples(st.just("run"), names, st.text(max_size=10)),
    st.tuples(st.just("link"), names, names),
)


def _apply(repo, state, operation):
    kind = operation[0]
    git = repo.git
    if kind == "version":
        _, name, ps = operation
        coll = CollectionId("me", "proj", name)
        if coll in state["portfolios"]:
            return  # would be refused: write nothing at all
        entries = []
        for p in ps:
            d = repo.store.put_bytes(p.encode())
            entries.append(Entry(p, d, len(p.encode())))
        try:
            tree = manifest.write_manifest(git, entries)
        except ValueError:
            return  # a path that is both a file and a folder: refused, nothing written
        d, size, n = manifest.summarize(entries)
        v = versions.commit_version(git, coll, tree, versions.version_facts("dataset", d, size, n))
        state["versions"].append(v)
    elif kind == "alias" and state["versions"]:
        _, alias, pick = operation
        v = state["versions"][hash(pick) % len(state["versions"])]
        name = v.collection.alias_ref(alias)
        refs.update(git, name, v.commit, refs.read(git, name), "move")
    elif kind == "attrs" and state["versions"]:
        v = state["versions"][-1]
        attrs.edit_attrs(git, v.collection, v.number, {}, lambda cur: dict(cur, description=operation[2]), "describe")
    elif kind == "run":
        runs.write_run(git, "me", "proj", operation[1], lambda old: {"id": operation[1], "note": operation[2]}, "run")
    elif kind == "link" and state["versions"]:
        target = CollectionId("me", "registry", operation[1])
        state["portfolios"].add(CollectionId("me", "proj", operation[1]))
        links.link_version(git, state["versions"][-1], target, versions.utcnow())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(op, min_size=1, max_size=12))
def test_git_fsck_strict_after_any_operations(tmp_path_factory, operations):
    root = tmp_path_factory.mktemp("prop")
    repo = init_repository(str(root))
    state = {"versions": [], "portfolios": set()}
    for operation in operations:
        _apply(repo, state, operation)
    gitdir = str(root / ".artifacts")
    p = subprocess.run(["git", "--git-dir", gitdir, "fsck", "--strict"], capture_output=True, text=True)
    lines = [l for l in (p.stdout + p.stderr).splitlines() if not l.startswith("notice:")]
    assert p.returncode == 0 and lines == [], lines
    for v in state["versions"]:
        log = subprocess.run(["git", "--git-dir", gitdir, "log", "--format=%s", v.collection.collection_ref],
                             capture_output=True, text=True, check=True)
        assert f"{v.collection.name} v{v.number}" in log.stdout.splitlines()
        listed = {e.path for e in manifest.iter_entries(repo.git, v.manifest)}
        assert listed == {e.path for e in manifest.iter_entries(repo.git, repo.git[v.commit].tree["manifest"].id)}
