"""Editing logged versions: attributes with history, ttl, delete, links, lineage, Api."""
from __future__ import annotations

import datetime as dt
import time

import pytest

import artvcs
from artvcs.plumbing import attrs


def _log(run, name, text, type_="dataset", **kw):
    a = artvcs.Artifact(name, type=type_)
    with a.new_file("f.txt") as f:
        f.write(text)
    return run.log_artifact(a, **kw)


def test_attribute_edits_persist_with_history(project):
    with artvcs.init() as run:
        art = _log(run, "ds", "x")
    art.description = "one"
    art.metadata["k"] = [1, 2]
    art.save()
    art.metadata["k"].append(3)  # in-place edit of a nested value
    art.tags = ["gold"]
    art.save()
    got = artvcs.Api().artifact("ds:v0")
    assert got.description == "one" and got.metadata == {"k": [1, 2, 3]} and got.tags == ["gold"]
    hist = attrs.history(got._context.repo.git, got._source.collection, 0)
    assert [h["message"] for h in hist] == ["set description, metadata", "set metadata, tags"]
    assert hist[0]["attrs"]["metadata"] == {"k": [1, 2]}
    assert got.updated_at >= got.created_at


def test_bad_edit_changes_nothing(project):
    with artvcs.init() as run:
        art = _log(run, "ds", "x")
    art.description = "d"
    art.metadata["bad"] = float("inf")
    with pytest.raises(ValueError):
        art.save()
    got = artvcs.Api().artifact("ds:v0")
    assert got.description is None and got.metadata == {}


def test_ttl_set_inherit_and_expiry(project):
    with artvcs.init() as run:
        art = _log(run, "ds", "x")
        assert art.ttl is None  # project default: none
        art.ttl = dt.timedelta(seconds=1)
        art.save()
        assert artvcs.Api().artifact("ds:v0").ttl == dt.timedelta(seconds=1)
        with pytest.raises(ValueError):
            art.ttl = "forever"
        time.sleep(1.1)
        _log(run, "ds", "y")  # any write to the collection expires what is due
    assert artvcs.Api().artifact("ds:v0").state == "DELETED"
    assert [a.version for a in artvcs.Api().artifacts("dataset", "ds")] == ["v1"]


def test_delete_rules_and_numbers_never_reused(project):
    with artvcs.init() as run:
        v0 = _log(run, "ds", "0", aliases=["best"])
        _log(run, "ds", "1")
        with pytest.raises(ValueError, match="aliases"):
            v0.delete()
        assert v0.state == "COMMITTED"
        v0.delete(delete_aliases=True)
        assert v0.state == "DELETED"
        assert not artvcs.Api().artifact_exists("ds:best")
        v1 = artvcs.Api().artifact("ds:v1")
        v1.delete(delete_aliases=True)  # the newest: it carries 'latest'
        v2 = _log(run, "ds", "2")
    assert v2.version == "v2", "a deleted number is never given again"
    with pytest.raises(ValueError):
        v0.delete(delete_aliases=True)


def test_links_and_model_registry(project):
    api = artvcs.Api()
    with artvcs.init() as run:
        data = _log(run, "ds", "x")
        data.link("curated", aliases=["pick"])
        with pytest.raises(ValueError, match="model"):
            data.link("model-registry/Digits")
        model = _log(run, "cnn", "w", type_="model")
        run.link_artifact(model, "model-registry/Digits", aliases=["prod"])
    member = api.artifact("curated:pick")
    assert (member.name, member.version, member.source_name, member.source_version) == ("curated:v0", "v0", "ds:v0", "v0")
    assert member.qualified_name == "me/proj/curated:v0" and member.source_qualified_name == "me/proj/ds:v0"
    assert member.collection.name == "curated" and member.source_collection.name == "ds"
    assert sorted(member.manifest.entries) == ["f.txt"] and member.digest == data.digest
    reg = api.artifact("model-registry/Digits:prod")
    assert reg.project == "model-registry" and reg.source_project == "proj"
    src = api.artifact("cnn:v0")
    src.aliases.append("x")
    with pytest.raises(ValueError, match="model registry"):
        src.save()
    reg.aliases.append("champion")
    reg.save()
    assert "champion" in api.artifact("model-registry/Digits:v0").aliases
    with pytest.raises(ValueError, match="is not a linked artifact and cannot be unlinked"):
        src.unlink()
    reg.unlink()
    assert not api.artifact_exists("model-registry/Digits:prod")
    assert api.artifact("cnn:v0").state == "COMMITTED"


def test_lineage_logged_by_used_by(project):
    with artvcs.init(job_type="prep", config={"seed": 1}) as prep:
        data = _log(prep, "ds", "x")
    with artvcs.init(job_type="train") as train:
        train.use_artifact("ds:latest")
    with artvcs.init(job_type="eval") as ev:
        ev.use_artifact("ds:v0", type="dataset")
        with pytest.raises(ValueError, match="type"):
            ev.use_artifact("ds:v0", type="model")
    by = data.logged_by()
    assert by.id == prep.id and by.job_type == "prep" and by.config == {"seed": 1}
    assert by.started_at <= by.finished_at
    assert [r.job_type for r in data.used_by()] == ["train", "eval"]
    api = artvcs.Api()
    assert [r.job_type for r in api.runs()] == ["prep", "train", "eval"]
    assert api.run(prep.id).logged_artifacts()[0].name == "ds:v0"
    assert api.run(f"me/proj/{train.id}").used_artifacts()[0].name == "ds:v0"


def test_api_queries(project):
    with artvcs.init() as run:
        _log(run, "ds", "1")
        _log(run, "ds", "2")
        _log(run, "cnn", "w", type_="model")
    api = artvcs.Api()
    assert [a.name for a in api.artifacts("dataset", "ds")] == ["ds:v0", "ds:v1"]
    assert [a.name for a in api.artifacts("dataset", "me/proj/ds")] == ["ds:v0", "ds:v1"]
    assert [t.name for t in api.artifact_types()] == ["dataset", "model"]
    assert api.artifact_type("model").collections()[0].name == "cnn"
    assert [c.name for c in api.artifact_collections("proj", "dataset")] == ["ds"]
    assert api.artifact_collection("dataset", "ds").name == "ds"
    assert api.artifact_exists("ds:v1") and not api.artifact_exists("ds:v7") and not api.artifact_exists("nope")
    with pytest.raises(KeyError):
        api.artifact("nope")
    with pytest.raises(ValueError):
        api.artifact("ds:v0", type="model")
    enc = api.artifact("ds:v1").json_encode()
    assert enc["_type"] == "artifactVersion" and enc["version"] == "v1" and enc["sequenceName"] == "ds"
