"""Every parser of stored data, fed arbitrary bytes and arbitrary JSON, raises only artvcs errors.

Stored data may be damaged or crafted (a pulled pack, a remote written by
anyone with the bucket's keys, a hand edit), so each parser either returns
or raises an error of the artvcs.plumbing.errors hierarchy, which the command
line turns into one line and exit 1; never another exception, and never a
hang (each example has a deadline). The parsers: listing blobs and whole
manifest trees, artifact.json, v<N>.json, run.json, the format record, ref
names and ref files, config.yaml and the plumbing listing text. (The
remote's files are fuzzed beside their parsers, tests/plumbing/test_remote_parsers.py.)
"""
from __future__ import annotations

import datetime
import os
import tempfile

import pygit2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from artvcs.plumbing import attrs, config, manifest, names, namespace, records, refs, repository, runs, versions
from artvcs.plumbing.errors import ArtvcsError, CorruptObjectError
from artvcs.plumbing.listing import parse_listing
from artvcs.plumbing.manifest_check import manifest_problems
from artvcs.plumbing.refs import CollectionId

FUZZ = settings(max_examples=100, deadline=datetime.timedelta(seconds=5),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                      st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12))
json_values = st.recursive(json_leaf, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4), max_leaves=12)
DIGEST = "8e4c7c1b99dbfd50e7a95185fead5ee1448fa904a2fdd778eaf5f2dbfd629a99"
TIME = "2026-11-02T09:15:30.123456Z"


def near(valid: dict) -> st.SearchStrategy[dict]:
    """Documents close to ``valid``: some fields dropped, some replaced by arbitrary JSON, some added."""
    keys = sorted(valid)
    return st.tuples(
        st.sets(st.sampled_from(keys)), st.dictionaries(st.sampled_from(keys), json_values, max_size=3),
        st.dictionaries(st.text(max_size=6), json_values, max_size=2),
    ).map(lambda t: {**{k: v for k, v in valid.items() if k not in t[0]}, **t[2], **t[1]})


def as_bytes(doc) -> bytes:
    return manifest.canonical_json(doc)


def bytes_or_json(valid):
    """Arbitrary bytes, arbitrary JSON, and JSON close to ``valid``, as document bytes."""
    close = [near(valid).map(as_bytes)] if isinstance(valid, dict) and valid else []
    return st.one_of(st.binary(max_size=200), json_values.map(as_bytes), *close,
                     st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n))


def only_artvcs_errors(fn, *args):
    try:
        return fn(*args)
    except ArtvcsError:
        return None


VALID_FACTS = {"format": 1, "kind": "version", "entity": "me", "project": "proj", "name": "ds", "version": 0, "type": "dataset",
               "created_at": TIME, "digest": DIGEST, "size": 4, "file_count": 1, "run": {"entity": "me", "project": "proj", "id": "r"},
               "attrs": {"description": None, "metadata": {}, "ttl": "inherit", "tags": []}}
VALID_LINK = {**{k: v for k, v in VALID_FACTS.items() if k not in ("run", "attrs")}, "kind": "link",
              "source": {"commit": "1" * 40, "entity": "me", "project": "proj", "name": "ds", "version": 0}}
VALID_RUN = {"id": "r", "name": "r", "entity": "me", "project": "proj", "job_type": None, "config": {}, "git": None, "host": "h",
             "started_at": TIME, "finished_at": None, "used": [{"commit": "1" * 40}], "logged": [],
             "group": "g", "summary": {"loss": 0.5}, "step": 3}


@pytest.fixture(scope="module")
def repo():
    with tempfile.TemporaryDirectory() as d:
        r = repository.init_repository(d)
        yield r
        r.close()


# -- listing blobs and manifest trees -------------------------------------------------------------
@FUZZ
@given(bytes_or_json([]) | st.lists(st.lists(json_values, max_size=5), max_size=4).map(as_bytes)
       | st.lists(st.tuples(st.text(max_size=6), st.just(DIGEST), json_values, json_values).map(list), max_size=4).map(as_bytes))
def test_listing_blobs(repo, data):
    rows = only_artvcs_errors(manifest.parse_listing_blob, data, "listing")
    if rows is not None:
        each = [only_artvcs_errors(manifest.Entry.from_row, "f", row) for row in rows]
        # the bulk read of a listing makes the same entries, or refuses it as a row would
        assert only_artvcs_errors(manifest.Entry.from_rows, "f", rows) == (None if None in each else each)
    git = repo.git
    tb = git.TreeBuilder()
    tb.insert(manifest.LISTING, git.create_blob(data), pygit2.GIT_FILEMODE_BLOB)
    tree = tb.write()
    outer = git.TreeBuilder()
    outer.insert("sub", tree, pygit2.GIT_FILEMODE_TREE)
    top = outer.write()
    for oid in (tree, top):
        only_artvcs_errors(lambda: list(manifest.iter_entries(git, oid)))
        only_artvcs_errors(lambda: list(manifest_problems(git, oid, {})))
        only_artvcs_errors(lambda: list(manifest.diff_manifests(git, None, oid)))
        only_artvcs_errors(manifest.update_manifest, git, oid, {"sub/x": manifest.Entry("sub/x", DIGEST, 1)})


def test_a_listing_entry_that_names_a_tree_is_a_damaged_manifest(repo):
    git = repo.git
    tb = git.TreeBuilder()
    tb.insert(manifest.LISTING, git.create_blob(as_bytes([["x", DIGEST, 1]])), pygit2.GIT_FILEMODE_BLOB)
    inner = tb.write()
    # a tree entry with a file's mode whose object is a tree (written raw: TreeBuilder checks modes)
    top = git.odb.write(pygit2.GIT_OBJECT_TREE, f"100644 {manifest.LISTING}".encode() + b"\0" + inner.raw)
    with pytest.raises(CorruptObjectError, match="not a blob"):
        list(manifest.iter_entries(git, top))


@FUZZ
@given(st.lists(st.text(min_size=1, max_size=8).filter(lambda s: "/" not in s and "\0" not in s), min_size=1, max_size=3))
def test_subfolder_tree_entry_names(repo, raw_names):
    git = repo.git
    tb = git.TreeBuilder()
    tb.insert(manifest.LISTING, git.create_blob(as_bytes([["x", DIGEST, 1]])), pygit2.GIT_FILEMODE_BLOB)
    oid = tb.write()
    for raw in raw_names:  # raw trees: any name git's object format can hold
        oid = git.odb.write(pygit2.GIT_OBJECT_TREE, b"40000 " + raw.encode() + b"\0" + oid.raw)
    only_artvcs_errors(lambda: list(manifest.iter_entries(git, oid)))
    only_artvcs_errors(lambda: list(manifest_problems(git, oid, {})))


# -- the JSON documents of commits ---------------------------------------------------------------
@FUZZ
@given(bytes_or_json(VALID_FACTS) | bytes_or_json(VALID_LINK))
@example(as_bytes({**VALID_FACTS, "version": "²"}))
@example(as_bytes({**VALID_FACTS, "created_at": "2026-13-45T09:15:30.123456Z"}))
@example(as_bytes({k: v for k, v in VALID_FACTS.items() if k != "digest"}))
def test_artifact_json(repo, data):
    facts = only_artvcs_errors(records.parse_facts, data, "artifact.json", versions.FORMAT)
    git = repo.git
    tb = git.TreeBuilder()
    tb.insert(versions.FACTS, git.create_blob(data), pygit2.GIT_FILEMODE_BLOB)
    tb.insert(versions.MANIFEST, manifest.empty_tree(git), pygit2.GIT_FILEMODE_TREE)
    sig = pygit2.Signature("a", "a@b", 0, 0)
    oid = git.create_commit(None, sig, sig, "x", tb.write(), [])
    v = only_artvcs_errors(versions.read_version, git, oid)
    assert (v is None) == (facts is None)
    if v is not None:  # what readers then do with it
        versions.parse_time(v.facts["created_at"])
        assert isinstance(v.number, int) and isinstance(v.facts["size"], int) and str(v.collection)


@FUZZ
@given(bytes_or_json(VALID_FACTS["attrs"]))
def test_attributes_json(repo, data):
    only_artvcs_errors(records.parse_attrs, data, "v0.json")
    git = repo.git
    coll = CollectionId("me", "proj", "fuzz-attrs")
    tb = git.TreeBuilder()
    tb.insert("v0.json", git.create_blob(data), pygit2.GIT_FILEMODE_BLOB)
    sig = pygit2.Signature("a", "a@b", 0, 0)
    oid = git.create_commit(None, sig, sig, "v0: x\n", tb.write(), [])
    refs.move(git, coll.attrs_ref, oid, "fuzz")
    only_artvcs_errors(attrs.read_attrs, git, coll, 0)
    only_artvcs_errors(attrs.history, git, coll, 0)
    only_artvcs_errors(attrs.edit_attrs, git, coll, 0, {}, lambda a: dict(a, description="d"), "edit")


@FUZZ
@given(bytes_or_json(VALID_RUN))
def test_run_json(repo, data):
    only_artvcs_errors(records.parse_run, data, "run.json")
    git = repo.git
    tb = git.TreeBuilder()
    tb.insert(runs.RUN_FILE, git.create_blob(data), pygit2.GIT_FILEMODE_BLOB)
    sig = pygit2.Signature("a", "a@b", 0, 0)
    oid = git.create_commit(None, sig, sig, "start\n", tb.write(), [])
    refs.move(git, refs.run_ref("me", "fuzz", "r"), oid, "fuzz")
    only_artvcs_errors(runs.read_run, git, "me", "fuzz", "r")
    only_artvcs_errors(lambda: list(runs.iter_runs(git, "me", "fuzz")))
    only_artvcs_errors(runs.write_run, git, "me", "fuzz", "r", lambda old: {"id": "r"}, "fuzz")


@pytest.mark.parametrize("field,value", [("group", 7), ("summary", [1]), ("step", "3"), ("step", True), ("step", 1.5)])
def test_a_run_record_field_of_the_wrong_type_is_corrupt(field, value):
    """What Run.group, .summary and .step read is checked at the parse, as every other field is."""
    import json

    from artvcs.plumbing.errors import CorruptObjectError

    assert records.parse_run(json.dumps(VALID_RUN).encode(), "run.json")["step"] == 3
    with pytest.raises(CorruptObjectError, match=repr(field)):
        records.parse_run(json.dumps({**VALID_RUN, field: value}).encode(), "run.json")


# -- files of the repository folder ----------------------------------------------------------------
@FUZZ
@given(st.binary(max_size=40) | st.text(max_size=30).map(lambda t: f"artvcs-format {t}".encode()))
@example("artvcs-format ²\n".encode())
@example(b"artvcs-format \xff1\n")
def test_format_record(data):
    version = only_artvcs_errors(repository.parse_format_record, data, "artvcs-format")
    assert version is None or (type(version) is int and version >= 0)


@FUZZ
@given(st.binary(max_size=300) | json_values.map(lambda v: __import__("json").dumps(v).encode())
       | near({"entity": "me", "project": "p", "ttl": 3, "projects": {"p": {"ttl": 5}}, "remotes": {}}).map(
           lambda v: __import__("json").dumps(v).encode()))
def test_config_yaml(data):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "config.yaml")
        with open(path, "wb") as f:
            f.write(data)
        only_artvcs_errors(config.load, path)
        only_artvcs_errors(config.project_ttl, path, "p")
        only_artvcs_errors(lambda: namespace.derive(d, config.load(path)))  # the pin of a repository made before refs/namespace


@FUZZ
@given(st.text(max_size=80))
def test_ref_names(name):
    only_artvcs_errors(refs.parse_ref, name)
    only_artvcs_errors(refs.parse_ref, "refs/aliases/" + name)
    only_artvcs_errors(names.decode_component, name)


@pytest.fixture(scope="module")
def ref_gitdir():
    """One repository for every example of test_ref_files, which puts its ref files back as they were:
    a repository per example cost a quarter of a second (mostly removing its content store's folders)."""
    with tempfile.TemporaryDirectory() as d:
        r = repository.init_repository(d)
        r.close()
        yield r.gitdir


@FUZZ
@given(loose=st.binary(max_size=100), packed=st.binary(max_size=200))
def test_ref_files(ref_gitdir, loose, packed):
    path = os.path.join(ref_gitdir, "refs", "aliases", "me", "proj", "ds", "x")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        with open(path, "wb") as f:
            f.write(loose)
        git = pygit2.Repository(ref_gitdir)  # opened per example: libgit2 caches the refs it has parsed
        only_artvcs_errors(refs.read, git, "refs/aliases/me/proj/ds/x")
        only_artvcs_errors(lambda: list(refs.iter_refs(git)))
        only_artvcs_errors(versions.iter_collections, git)
        with open(os.path.join(ref_gitdir, "packed-refs"), "wb") as f:
            f.write(packed)
        only_artvcs_errors(lambda: list(refs.iter_refs(git)))
        only_artvcs_errors(versions.iter_collections, git)
        git.free()
    finally:
        for name in (path, os.path.join(ref_gitdir, "packed-refs")):
            if os.path.exists(name):
                os.remove(name)


@FUZZ
@given(st.binary(max_size=300), st.booleans(), st.sampled_from([None, True, False]))
def test_plumbing_listing_text(data, nul, long):
    only_artvcs_errors(parse_listing, data, nul, long)
