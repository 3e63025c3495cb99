"""Artifact.add/get/[]: entry names, what get finds, and the errors of bad input and bad stored documents."""
from __future__ import annotations

import pytest

import artvcs
from artvcs.errors import ArtifactFinalizedError, ArtifactNotLoggedError, MediaFormatError, UsageError


def test_add_returns_the_document_entry_and_get_finds_it_by_any_name(log, project_table):
    art = artvcs.Artifact("names", type="dataset")
    entry = art.add(project_table, "sub/t")
    assert entry.path == "sub/t.table.json"
    assert art.add(project_table, "sub/u.table.json").path == "sub/u.table.json"
    art["v"] = artvcs.Html("<p>x</p>")
    with pytest.raises(ArtifactNotLoggedError):
        art.get("sub/t")
    logged = log({"sub/t": project_table, "v": artvcs.Html("<p>x</p>")})
    assert logged.get("sub/t") == logged.get("sub/t.table.json") == logged["./sub//t"] == project_table
    assert logged.get("missing") is None and logged.get("sub/t.image-file.json") is None
    assert logged.get("v").html.endswith("<p>x</p>")


def test_a_name_holding_two_kinds_must_be_spelled_out(project_table):
    both = artvcs.Artifact("both", type="dataset")
    both.add(project_table, "x")
    both.add(artvcs.Html("h"), "x")
    with artvcs.init() as run:
        run.log_artifact(both)
    got = artvcs.Api().artifact("both:latest")
    with pytest.raises(UsageError, match=r"'x' could mean x.html-file.json or x.table.json"):
        got.get("x")
    assert got.get("x.html-file.json") == artvcs.Html("h")
    assert got.get("x.table.json") == project_table


def test_adding_something_that_is_not_media_is_refused(project_table):
    art = artvcs.Artifact("bad", type="dataset")
    with pytest.raises(UsageError, match=r"cannot add a dict .*media objects: Audio, Bokeh, .*Video"):
        art.add({"a": 1}, "x")
    with pytest.raises(UsageError, match="'..' components"):
        art.add(project_table, "../x")
    assert art.manifest.entries == {}


def test_a_logged_artifact_takes_no_more_objects(log, project_table):
    art = log({"t": project_table})
    with pytest.raises(ArtifactFinalizedError):
        art.add(project_table, "u")
    with pytest.raises(ArtifactFinalizedError):
        art["u"] = project_table


@pytest.mark.parametrize("document, match", [
    (b'{"_type": "spreadsheet"}', r"_type 'spreadsheet', which is not a media type"),
    (b'[1, 2]', "holds a JSON list"),
    (b'not json', "not valid JSON"),
    (b'{"_type": "image-file", "path": "media/images/nope.png", "width": 1, "height": 1}', "names the part 'media/images/nope.png'"),
    (b'{"_type": "table", "columns": ["a"], "data": [[1, 2]]}', "every row of 'data' must be a list of 1 values"),
    (b'{"_type": "table", "columns": "a"}', "field 'columns' is 'a', expected list"),
    (b'{"_type": "table", "columns": ["a"], "data": [[{"_type": "float", "value": "Nope"}]]}', "bad 'float' value"),
    (b'{"_type": "classes", "class_set": [{"id": "one", "name": "a"}]}', r"not a valid 'classes' document: Classes: class_set\[0\]"),
])
def test_bad_stored_documents_are_reported(repo_dir, tmp_path, document, match):
    path = tmp_path / "doc.json"
    path.write_bytes(document)
    art = artvcs.Artifact("stored", type="dataset")
    art.add_file(str(path), "x.table.json")
    with artvcs.init() as run:
        run.log_artifact(art)
    with pytest.raises(MediaFormatError, match=match):
        artvcs.Api().artifact("stored:latest").get("x")


@pytest.fixture
def project_table(repo_dir):
    yield artvcs.Table(columns=["a", "b"], data=[[1, "one"], [2, "two"]])
    artvcs.finish()
