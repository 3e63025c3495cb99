"""Where user code or W&B's own tests can tell artvcs from wandb 0.17.9, they see wandb.

Each test states one behaviour of W&B's client (its source and tests at
v0.17.9) and checks artvcs against it with real repositories and files.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import os

import numpy as np
import pytest

import artvcs
from artvcs import data_types
from artvcs.artifact_manifest import ArtifactManifestEntry
from artvcs.errors import ArtifactFinalizedError, ArtifactNotLoggedError


# -- error texts ------------------------------------------------------------------------
@pytest.mark.parametrize("type_", ["job", "wandb-history", "wandb-foo"])
def test_reserved_type_message(project, type_):
    with pytest.raises(ValueError, match="reserved for internal use") as e:
        artvcs.Artifact("foo", type=type_)
    assert repr(type_) in str(e.value), "the message names the value"


@pytest.mark.parametrize("prop", ["entity", "project", "version", "source_entity", "source_project", "source_version",
                                  "ttl", "aliases", "commit_hash", "file_count", "created_at", "updated_at"])
def test_unlogged_properties_raise_with_wandb_phrase(project, prop):
    art = artvcs.Artifact("foo", type="any")
    with pytest.raises(ArtifactNotLoggedError, match=f"'Artifact.{prop}' used prior to logging artifact"):
        getattr(art, prop)


@pytest.mark.parametrize("method", ["new_draft", "download", "checkout", "verify", "file", "files", "delete",
                                    "used_by", "logged_by", "json_encode"])
def test_unlogged_methods_raise_with_wandb_phrase(project, method):
    art = artvcs.Artifact("foo", type="any")
    with pytest.raises(ArtifactNotLoggedError, match=f"'Artifact.{method}' used prior to logging artifact"):
        getattr(art, method)()


def test_unlogged_get_and_get_entry(project):
    art = artvcs.Artifact("foo", type="any")
    with pytest.raises(ArtifactNotLoggedError, match="Artifact.get_entry"):
        art.get_entry("pathname")
    with pytest.raises(ArtifactNotLoggedError, match="Artifact.get"):
        art["obj_name"]


def test_finalized_artifact_refuses_changes_with_wandb_phrase(project, files):
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    for call in (lambda: a.add_file(str(files / "a.txt"), name="x.txt"), lambda: a.add_dir(str(files), name="y"),
                 lambda: a.remove("a.txt"), lambda: a.add_reference("file://" + str(files / "a.txt"), name="r")):
        with pytest.raises(ArtifactFinalizedError, match="Can't modify finalized artifact"):
            call()
    with pytest.raises(ArtifactFinalizedError, match="Can't modify finalized artifact"):
        with a.new_file("n.txt") as f:
            f.write("x")
    assert sorted(a.manifest.entries) == ["a.txt", "b.txt", "sub/c.bin"], "nothing changed"


def test_type_is_required(project):
    with pytest.raises(TypeError):
        artvcs.Artifact("foo")  # type: ignore[call-arg]


def test_draft_aliases_are_given_to_log_artifact(project, files):
    a = artvcs.Artifact("ds", type="dataset")
    with pytest.raises(ArtifactNotLoggedError):
        a.aliases = ["x"]
    with artvcs.init() as run:
        a.add_dir(str(files))
        run.log_artifact(a, aliases=["best"])
    assert a.aliases == ["latest", "best"] and a.file_count == 3


# -- metadata ---------------------------------------------------------------------------
class Colour(enum.Enum):
    RED = 1


@dataclasses.dataclass
class Point:
    x: int
    y: int


def test_metadata_takes_json_shapes_as_wandb(project):
    meta = {
        "tuple": (1, 2), "array": np.arange(3), "one": np.array([7]), "scalar": np.float32(0.5),
        "int64": np.int64(3), "slice": slice(1, 10, 2), "date": dt.date(2026, 1, 2), "colour": Colour.RED,
        "point": Point(1, 2), "set": {4}, "bytes": b"hi", "nan": float("nan"), "nested": {"t": (np.int8(1),)},
        "fn": len, 7: "int key",
    }
    a = artvcs.Artifact("m", type="dataset", metadata=meta)
    assert a.metadata == {
        "tuple": [1, 2], "array": [0, 1, 2], "one": 7, "scalar": 0.5, "int64": 3,
        "slice": {"slice_start": 1, "slice_step": 2, "slice_stop": 10}, "date": "2026-01-02", "colour": "RED",
        "point": {"x": 1, "y": 2}, "set": [4], "bytes": "hi", "nan": None, "nested": {"t": [1]},
        "fn": "builtins.len", "7": "int key",
    }
    assert type(a.metadata["scalar"]) is float and type(a.metadata["int64"]) is int


@pytest.mark.parametrize("bad", [[1, 2], "text", 3])
def test_metadata_not_a_dict_is_a_type_error(project, bad):
    with pytest.raises(TypeError, match="metadata must be dict"):
        artvcs.Artifact("m", type="dataset", metadata=bad)
    a = artvcs.Artifact("m", type="dataset")
    with pytest.raises(TypeError, match="metadata must be dict"):
        a.metadata = bad


@pytest.mark.parametrize("bad", [complex(1, 2), object(), float("inf")])
def test_metadata_value_without_json_form_is_a_type_error(project, bad):
    with pytest.raises(TypeError) as e:
        artvcs.Artifact("m", type="dataset", metadata={"k": bad})
    assert "metadata['k']" in str(e.value), "the error names where the value is"


def test_metadata_changed_in_place_is_checked_at_log(project, files):
    a = artvcs.Artifact("m", type="dataset", metadata={"ok": 1})
    a.add_dir(str(files))
    a.metadata["bad"] = complex(1, 1)
    with artvcs.init() as run:
        with pytest.raises(TypeError, match=r"metadata\['bad'\]"):
            run.log_artifact(a)
    assert artvcs.Api().artifact_exists("m:v0") is False, "a refused log makes no version"
    a.metadata["bad"] = (1, 2)  # converted when logged, as W&B converts it
    with artvcs.init() as run:
        run.log_artifact(a)
    assert artvcs.Api().artifact("m:v0").metadata == {"ok": 1, "bad": [1, 2]}


def test_metadata_edited_in_place_after_logging_is_converted_on_save(project, files):
    with artvcs.init() as run:
        a = artvcs.Artifact("m", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    a.metadata["t"] = (np.int16(1), 2)
    a.save()
    assert artvcs.Api().artifact("m:v0").metadata == {"t": [1, 2]}


# -- manifest entries ------------------------------------------------------------------------
def test_manifest_entry_keywords_repr_and_eq():
    entry = ArtifactManifestEntry(path="foo", digest="", ref="baz", birth_artifact_id="qux", size=123,
                                  extra={"quux": "corge"}, local_path="grault")
    assert eval(repr(entry)) == entry
    blank = ArtifactManifestEntry(path="foo", digest="bar", ref="", birth_artifact_id="", size=0)
    assert repr(blank) == ("ArtifactManifestEntry(path='foo', digest='bar', ref='', birth_artifact_id='', "
                           "size=0, skip_cache=False)")
    assert entry != blank and entry != repr(entry)
    short = ArtifactManifestEntry(path="foo", digest="barr")
    assert repr(short) == "ArtifactManifestEntry(path='foo', digest='barr', skip_cache=False)"


def test_manifest_entry_size_from_local_path(tmp_path):
    f = tmp_path / "x.bin"
    f.write_bytes(b"12345")
    e = ArtifactManifestEntry(path="x.bin", digest="d", local_path=str(f))
    assert e.size == 5 and e.local_path == str(f)
    assert ArtifactManifestEntry(path="x.bin", digest="d", local_path=str(f), size=9).size == 9


def test_manifest_json_has_wandb_v1_shape(project, files):
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_file(str(files / "a.txt"))
        a.add_reference("ref://somewhere/x", name="r.bin")
        run.log_artifact(a)
    m = artvcs.Api().artifact("ds:v0").manifest.to_manifest_json()
    assert m["version"] == 1 and m["storagePolicy"] == "wandb-storage-policy-v1"
    assert m["storagePolicyConfig"] == {"storageLayout": "V2"}
    stored = m["contents"]["a.txt"]
    assert "path" not in stored and stored["size"] == 6 and len(stored["digest"]) == 64
    assert stored["birthArtifactID"] == a.id
    assert m["contents"]["r.bin"] == {"digest": "ref://somewhere/x", "birthArtifactID": a.id, "ref": "ref://somewhere/x"}


# -- references -----------------------------------------------------------------------------
def test_unknown_scheme_reference_digest_is_the_uri_and_no_size(project):
    a = artvcs.Artifact("r", type="dataset")
    (e,) = a.add_reference("ref://bucket/key.bin", name="key.bin", checksum=False)
    assert e.digest == "ref://bucket/key.bin" and e.size is None and e.ref == "ref://bucket/key.bin"
    (e2,) = a.add_reference("ref://bucket/other.bin", name="other.bin")
    assert e2.digest == "ref://bucket/other.bin" and e2.size is None


def test_unchecked_http_reference_digest_is_the_uri(project):
    a = artvcs.Artifact("r", type="dataset")
    (e,) = a.add_reference("http://127.0.0.1:9/x.csv", checksum=False)  # not fetched: nothing listens there
    assert e.digest == "http://127.0.0.1:9/x.csv" and e.size is None and e.path == "x.csv"


# -- media --------------------------------------------------------------------------------------
def test_table_to_json_and_from_json_round_trip(project):
    img = artvcs.Image(np.zeros((2, 3, 3), dtype=np.uint8))
    table = artvcs.Table(columns=["id", "label", "img"], data=[[1, "cat", img], [2, "dog", img]])
    with artvcs.init() as run:
        art = artvcs.Artifact("t", type="dataset")
        doc = table.to_json(art)
        assert doc["_type"] == "table" and doc["columns"] == ["id", "label", "img"] and doc["nrows"] == 2
        parts = sorted(art.manifest.entries)
        assert parts and all(p.startswith("media/") for p in parts), "the image cell went into the artifact"
        run.log_artifact(art)
    logged = artvcs.Api().artifact("t:v0")
    back = artvcs.Table.from_json(doc, logged)
    assert back == table and back.data[0][:2] == [1, "cat"]
    assert table.to_json(logged) == doc, "a logged artifact that holds the parts already takes the call"
    other = artvcs.Table(columns=["img"], data=[[artvcs.Image(np.ones((2, 2, 3), dtype=np.uint8))]])
    with pytest.raises(ArtifactFinalizedError):
        other.to_json(logged)
    with pytest.raises(ValueError, match="not a Image"):
        artvcs.Image.from_json(doc, logged)


def test_data_types_module_as_wandb():
    assert data_types.ImageMask is artvcs.ImageMask and data_types.Table is artvcs.Table
    assert artvcs.data_types.BoundingBoxes2D is artvcs.BoundingBoxes2D
    assert issubclass(data_types.Image, data_types.WBValue)


def test_image_with_masks_and_no_class_labels_is_refused_at_add(project, tmp_path):
    from PIL import Image as PILImage

    mask_png = tmp_path / "mask.png"
    PILImage.fromarray(np.array([[0, 1, 1], [2, 2, 0]], dtype=np.uint8), mode="L").save(mask_png)
    img = artvcs.Image(np.zeros((2, 3, 3), dtype=np.uint8), masks={"pred": {"path": str(mask_png)}})
    art = artvcs.Artifact("im", type="dataset")
    with pytest.raises(ValueError, match="classes must be passed"):
        art.add(img, "x")
    assert len(art.manifest) == 0, "a refused add adds nothing"
    labelled = artvcs.Image(np.zeros((2, 3, 3), dtype=np.uint8),
                            masks={"pred": {"mask_data": np.array([[0, 1, 1], [2, 2, 0]], dtype=np.uint8)}})
    art.add(labelled, "y")  # mask_data without labels gets W&B's class_N names
    assert labelled.classes is not None


# -- the repository is never data -----------------------------------------------------------------
def test_add_dir_of_the_project_never_adds_the_repository(project, files):
    a = artvcs.Artifact("all", type="dataset")
    a.add_dir(".")
    assert sorted(a.manifest.entries) == ["data/a.txt", "data/b.txt", "data/sub/c.bin"]
    b = artvcs.Artifact("refs", type="dataset")
    b.add_reference("file://" + os.getcwd())
    assert sorted(b.manifest.entries) == ["data/a.txt", "data/b.txt", "data/sub/c.bin"]


# -- download(path_prefix) ------------------------------------------------------------------------
def test_path_prefix_is_a_plain_string_prefix(project, tmp_path):
    src = tmp_path / "src"
    (src / "p").mkdir(parents=True)
    (src / "p" / "one.txt").write_text("1")
    (src / "p-two.txt").write_text("2")
    (src / "q.txt").write_text("3")
    with artvcs.init() as run:
        a = artvcs.Artifact("pp", type="dataset")
        a.add_dir(str(src))
        run.log_artifact(a)

    def got(prefix: str) -> list[str]:
        root = tmp_path / f"out-{len(os.listdir(tmp_path))}"
        artvcs.Api().artifact("pp:v0").download(str(root), path_prefix=prefix)
        return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)

    assert got("p/") == ["p/one.txt"]
    assert got("p") == ["p-two.txt", "p/one.txt"]
    assert got("p-") == ["p-two.txt"]


# -- found by running W&B's own artifact tests (v0.17.9) against artvcs ------------------------
def test_log_artifact_aliases_may_name_latest(project, files):
    """W&B accepts ``latest`` among log_artifact's aliases (it is added anyway): tests/system_tests/
    test_artifacts/test_wandb_artifacts_full.py::test_artifact_error_for_invalid_aliases."""
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a, aliases=["latest", "boom_test-q"])
    assert a.aliases == ["latest", "boom_test-q"]
    with artvcs.init() as run:
        b = artvcs.Artifact("ds", type="dataset")
        b.add_file(str(files / "a.txt"))
        run.log_artifact(b, aliases=["latest"])
    assert artvcs.Api().artifact("ds:latest").version == "v1"


@pytest.mark.parametrize("aliases", [["latest", "workflow:boom"], ["workflow/boom/test"]])
def test_log_artifact_alias_with_slash_or_colon_is_refused_before_logging(project, files, aliases):
    """W&B: ValueError for '/' or ':' in an alias, and nothing is logged (same test as above)."""
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        with pytest.raises(ValueError, match="may not contain '/', ':'"):
            run.log_artifact(a, aliases=aliases)
        assert artvcs.Api().artifact_exists("ds") is False
        run.log_artifact(a, aliases=["latest", "ok"])  # the refused draft is still loggable
    assert artvcs.Api().artifact("ds:ok").version == "v0"


def test_logging_a_name_under_another_type_says_what_wandb_says(project, files):
    """W&B's ValueError text, word for word: tests/system_tests/test_artifacts/test_misc.py::
    test_artifact_creation_with_diff_type."""
    with artvcs.init() as run:
        a = artvcs.Artifact("a1", type="artifact_type_1")
        a.add_dir(str(files))
        run.log_artifact(a)
    with artvcs.init() as run:
        b = artvcs.Artifact("a1", type="artifact_type_2")
        b.add_file(str(files / "a.txt"))
        with pytest.raises(ValueError) as e:
            run.log_artifact(b)
    assert str(e.value) == "Artifact a1 already exists with type 'artifact_type_1'; cannot create another with type 'artifact_type_2'"
    assert [v.version for v in artvcs.Api().artifacts("artifact_type_1", "a1")] == ["v0"]


def test_log_artifact_of_a_uri_logs_a_reference(project, files):
    """W&B's Run._prepare_artifact (wandb/sdk/wandb_run.py): a file, a folder, else a URI is a reference
    (tests/system_tests/test_artifacts/test_wandb_artifacts_full.py::test_log_reference_directly)."""
    with artvcs.init() as run:
        art = run.log_artifact(files.resolve().as_uri())
    assert art.name == f"run-{run.id}-data:v0" and art.type == "unspecified"
    entries = art.manifest.entries
    assert sorted(entries) == ["a.txt", "b.txt", "sub/c.bin"]
    assert entries["a.txt"].ref == (files / "a.txt").resolve().as_uri()


def test_log_artifact_of_a_missing_path_is_refused(project):
    with artvcs.init() as run:
        with pytest.raises(ValueError, match="path must be a file, directory or external reference") as e:
            run.log_artifact("no/such/thing")
        assert "'no/such/thing'" in str(e.value), "the message names the value"
    assert not artvcs.Api().artifact_exists(f"run-{run.id}-thing"), "nothing was logged"


def test_new_file_that_cannot_be_encoded_says_so_on_stderr(project, capsys):
    """W&B's Artifact.new_file prints 'ERROR Failed to open the provided file' and re-raises
    (tests/system_tests/test_artifacts/test_wandb_artifacts.py::test_add_new_file_encode_error)."""
    art = artvcs.Artifact("my-arty", type="dataset")
    with pytest.raises(UnicodeEncodeError):
        with art.new_file("wave.txt", mode="w", encoding="ascii") as f:
            f.write("∂²u/∂t²=c²·∂²u/∂x²")
    assert "ERROR Failed to open the provided file" in capsys.readouterr().err
    assert len(art.manifest) == 0, "nothing was added"


def test_default_roots_as_wandb(project, files):
    """W&B's _default_root: ./artifacts/<source name>; checkout() leaves the version out
    (wandb/sdk/artifacts/artifact.py; test_artifact_public_api.py::test_artifact_checkout)."""
    with artvcs.init() as run:
        a = artvcs.Artifact("mnist", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    art = artvcs.Api().artifact("mnist:v0")
    os.makedirs(os.path.join("artifacts", "mnist"))
    with open(os.path.join("artifacts", "mnist", "bogus"), "w") as f:
        f.write("x")
    assert art.checkout() == os.path.abspath(os.path.join("artifacts", "mnist"))
    assert sorted(os.listdir(os.path.join("artifacts", "mnist"))) == ["a.txt", "b.txt", "sub"]
    assert art.download() == os.path.abspath(os.path.join("artifacts", "mnist:v0"))
    art.link("portfolio")
    linked = artvcs.Api().artifact("portfolio:v0")
    assert linked.download() == os.path.abspath(os.path.join("artifacts", "mnist:v0")), "the source name, not the portfolio's"


def test_init_id_names_the_run(project, files):
    """``wandb.init(id="first_run")`` then ``Api().run("project/first_run")``
    (tests/system_tests/test_artifacts/test_artifact_public_api.py::sample_data)."""
    with artvcs.init(project="proj", id="first_run") as run:
        a = artvcs.Artifact("mnist", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    assert run.id == "first_run"
    found = artvcs.Api().run("proj/first_run")
    assert [x.name for x in found.logged_artifacts()] == ["mnist:v0"]
    with pytest.raises(ValueError, match="run id 'first_run' is already used"):
        artvcs.init(project="proj", id="first_run")
    assert artvcs.Api().run("proj/first_run").logged_artifacts()[0].name == "mnist:v0", "the old run is intact"
    with pytest.raises(ValueError, match="invalid run id 'a/b'"):
        artvcs.init(project="proj", id="a/b")


def test_missing_artifact_and_aliased_delete_are_comm_errors(project, files):
    """User code catches ``wandb.errors.CommError`` around ``Api().artifact`` and ``delete``
    (test_artifact_public_api.py::test_artifact_delete, test_wandb_artifacts_full.py::test_retrieve_missing_artifact)."""
    with artvcs.init() as run:
        a = artvcs.Artifact("mnist", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a, aliases=["my_alias"])
    api = artvcs.Api()
    with pytest.raises(artvcs.errors.CommError) as e:
        api.artifact("mnist:v7")
    assert isinstance(e.value, KeyError), "and still the KeyError it was"
    art = api.artifact("mnist:v0")
    with pytest.raises(artvcs.errors.CommError) as e2:
        art.delete()
    assert isinstance(e2.value, ValueError)
    assert api.artifact_exists("mnist:v0")
    art.delete(delete_aliases=True)
    assert not api.artifact_exists("mnist:v0"), "a deleted version exists no more (its record can still be read)"
    assert api.artifact("mnist:v0").state == "DELETED"
    assert issubclass(artvcs.errors.WaitTimeoutError, artvcs.errors.ArtvcsError)


def test_deleting_a_link_leaves_the_source(project, files):
    """test_artifact_public_api.py::test_artifact_delete_on_linked_artifact."""
    with artvcs.init() as run:
        a = artvcs.Artifact("mnist", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    api = artvcs.Api()
    src = api.artifact("mnist:v0")
    src.link("portfolio_name")
    linked_path = f"{src.entity}/{src.project}/portfolio_name:v0"
    api.artifact(linked_path).delete()
    assert api.artifact_exists(src.qualified_name) is True
    assert api.artifact_exists(linked_path) is False


def test_files_can_be_indexed_as_wandb_paginators(project, files):
    """``artifact.files()[0]`` (wandb/apis/paginator.py; test_wandb_artifacts_api.py::test_fetching_artifact_files)."""
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    fs = artvcs.Api().artifact("ds:v0").files(per_page=2)
    assert fs[0].name == "a.txt" and fs[-1].name == "sub/c.bin"
    assert [f.name for f in fs[1:]] == ["b.txt", "sub/c.bin"]
    with pytest.raises(IndexError):
        fs[3]


def test_incremental_and_artifact_versions(project, files):
    assert artvcs.Artifact("a", type="dataset", incremental=True).incremental is True
    assert artvcs.Artifact("a", type="dataset").incremental is False
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    with pytest.warns(DeprecationWarning):
        assert [v.name for v in artvcs.Api().artifact_versions("dataset", "ds")] == ["ds:v0"]


def test_table_from_json_with_a_draft(project):
    """W&B's ``Table.from_json(doc, draft)`` reads a draft's parts (test_wandb_artifacts.py::
    test_artifact_table_deserialize_timestamp_column passes a fresh draft)."""
    img = artvcs.Image(np.arange(18, dtype=np.uint8).reshape(2, 3, 3))
    table = artvcs.Table(columns=["id", "img"], data=[[1, img]])
    draft = artvcs.Artifact("t", type="dataset")
    doc = table.to_json(draft)
    back = artvcs.Table.from_json(doc, draft)
    assert back == table and back.data[0][0] == 1
    plain = artvcs.Table.from_json({"_type": "table", "columns": ["n"], "data": [[1.5], [None]]},
                                   artvcs.Artifact("u", type="dataset"))
    assert plain.data == [[1.5], [None]]


def test_logging_an_unchanged_new_draft_gives_the_same_version(project, files):
    """W&B: logging content equal to the latest makes no new version (the reference's ``digest``);
    an unchanged ``new_draft()`` crashed with a bare KeyError (test_wandb_artifacts_api.py::
    test_log_with_wrong_type_entity_project logs one)."""
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    draft = artvcs.Api().artifact("ds:v0").new_draft()
    with artvcs.init() as run:
        run.log_artifact(draft)
    assert draft.version == "v0" and [v.version for v in artvcs.Api().artifacts("dataset", "ds")] == ["v0"]


def test_link_target_defaults_to_the_run_or_the_source_project(project, files):
    """W&B's Run.link_artifact fills a bare portfolio name with the run's entity/project, and
    Artifact.link without a run with the source's (wandb/sdk/artifacts/artifact.py link;
    tests/system_tests/test_artifacts/conftest.py::linked_artifact)."""
    with artvcs.init(project="other") as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    api = artvcs.Api()  # its default project is 'proj'
    api.artifact("other/ds:v0").link("pf")
    assert api.artifact_exists("me/other/pf:v0") and not api.artifact_exists("me/proj/pf:v0")
    with artvcs.init(project="third") as run:
        run.link_artifact(api.artifact("other/ds:v0"), "pf2")
        api.artifact("other/ds:v0").link("pf3")  # inside a run: the run's project, as W&B
    assert api.artifact("me/third/pf2:v0").source_qualified_name == "me/other/ds:v0"
    assert api.artifact_exists("me/third/pf3:v0")


def test_wandb_error_names_at_top_level(project):
    """``wandb.Error``, ``wandb.CommError``, ``wandb.UsageError`` (wandb/__init__.py at v0.17.9;
    test_artifact_public_api.py::test_artifact_manual_error catches ``wandb.CommError``)."""
    assert artvcs.Error is artvcs.errors.ArtvcsError
    assert issubclass(artvcs.CommError, artvcs.Error) and issubclass(artvcs.UsageError, artvcs.Error)
    with pytest.raises(artvcs.CommError):
        artvcs.Api().artifact("nothing:v0")
    with pytest.raises(artvcs.UsageError):
        artvcs.Artifact("bad/name", type="dataset")


def test_finished_run_declares_logged_artifacts(project, files):
    """W&B's public-API Run.use_artifact/log_artifact on a finished run (wandb/apis/public/runs.py;
    test_artifact_public_api.py::test_artifact_manual_use, test_artifact_manual_error,
    test_wandb_artifacts_api.py::test_run_log_artifact)."""
    with artvcs.init(id="first_run") as run:
        a = artvcs.Artifact("mnist", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    with artvcs.init(id="second_run"):
        pass
    api = artvcs.Api()
    second = api.run("proj/second_run")
    art = api.artifact("mnist:v0", type="dataset")
    assert second.use_artifact(art) is art
    assert [x.name for x in api.run("proj/second_run").used_artifacts()] == ["mnist:v0"]
    second.log_artifact(art, aliases=["declared"])
    assert [x.name for x in api.run("proj/second_run").logged_artifacts()] == ["mnist:v0"]
    assert "declared" in api.artifact("mnist:v0").aliases
    first = api.run("proj/first_run")
    draft = artvcs.Artifact("test", type="dataset")
    for call in (lambda: first.log_artifact(draft), lambda: first.use_artifact(draft),
                 lambda: first.use_artifact("mnist:v0"), lambda: first.log_artifact("mnist:v0")):
        with pytest.raises(artvcs.CommError) as e:
            call()
        assert isinstance(e.value, ValueError) and "finished run" in str(e.value)
    assert not api.artifact_exists("test") and api.run("proj/first_run").used_artifacts() == []


def test_collection_delete(project, files):
    """W&B's ArtifactCollection.delete (test_wandb_artifacts_api.py::test_delete_collection): a
    portfolio's deletion leaves its source; a collection's removes every version and alias."""
    with artvcs.init() as run:
        for text in ("one", "two"):
            a = artvcs.Artifact("test-artifact", "test-type")
            with a.new_file("test.txt") as f:
                f.write(text)
            run.log_artifact(a, aliases=["mine"])
        run.link_artifact(a, "test-portfolio")
    api = artvcs.Api()
    api.artifact_type("test-type").collection("test-portfolio").delete()
    with pytest.raises(artvcs.CommError):
        api.artifact("test-portfolio:latest", type="test-type")
    assert api.artifact("test-artifact:latest", type="test-type").version == "v1"
    api.artifact_type("test-type").collection("test-artifact").delete()
    for name in ("test-artifact:v0", "test-artifact:v1", "test-artifact:mine"):
        assert not api.artifact_exists(name)


def test_unlink_of_a_version_that_is_not_a_link_says_what_wandb_says(project, files):
    """W&B's ValueError text (wandb/sdk/artifacts/artifact.py unlink; test_wandb_artifacts_full.py::test_unlink_artifact)."""
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    art = artvcs.Api().artifact("ds:v0")
    with pytest.raises(ValueError, match=r"use 'Artifact.delete' instead") as e:
        art.unlink()
    assert "'me/proj/ds:v0' is not a linked artifact" in str(e.value)
    assert artvcs.Api().artifact_exists("ds:v0")


# -- models on a run (wandb/sdk/wandb_run.py at v0.17.9: log_model, use_model, link_model) -----
def test_log_model_then_use_model_returns_the_one_file(project):
    """log_model logs type 'model'; use_model downloads to ./artifacts/<name:version> and returns the
    file when there is one (test_model_workflows.py::test_log_model)."""
    (project / "boom.txt").write_text("testing")
    with artvcs.init() as run:
        assert run.log_model(str(project / "boom.txt"), "test-model") is None
    assert artvcs.Api().artifact("test-model:v0").type == "model"
    with artvcs.init() as run:
        path = run.use_model("test-model:v0")
        assert path == os.path.abspath(os.path.join("artifacts", "test-model:v0", "boom.txt"))
        assert open(path).read() == "testing"
        assert [a.name for a in run.used_artifacts()] == ["test-model:v0"]


def test_log_model_default_name_and_folder(project, files):
    """Without a name the model is run-<run id>-<basename>; a folder of several files gives the folder."""
    with artvcs.init() as run:
        run.log_model(str(files), aliases=["best"])
        name = f"run-{run.id}-data"
        assert artvcs.Api().artifact(f"{name}:best").type == "model"
        assert run.use_model(f"{name}:v0") == os.path.abspath(os.path.join("artifacts", f"{name}:v0"))


def test_use_model_and_link_model_refuse_a_type_without_model(project):
    """W&B asserts that the type contains 'model' (test_use_model_error_artifact_type,
    test_link_model_error_artifact_type); nothing is linked."""
    (project / "boom.txt").write_text("testing")
    with artvcs.init() as run:
        run.log_artifact(str(project / "boom.txt"), name="test_model", type="dataset")
        with pytest.raises(AssertionError, match="substring 'model'"):
            run.use_model("test_model:v0")
        with pytest.raises(AssertionError, match="substring 'model'"):
            run.link_model(str(project / "boom.txt"), "test_portfolio", "test_model")
    assert not artvcs.Api().artifact_exists("model-registry/test_portfolio:v0")


def test_link_model_links_into_the_model_registry(project):
    """link_model logs the model and links it to <entity>/model-registry/<registered name>; aliases go
    on the link; the registered name may not carry entity or project (test_link_model)."""
    (project / "boom.txt").write_text("testing")
    with artvcs.init() as run:
        run.link_model(str(project / "boom.txt"), "test_portfolio", "test_model", aliases=["prod"])
        with pytest.raises(AssertionError, match="Do not append the entity or project"):
            run.link_model(str(project / "boom.txt"), "me/proj/test_portfolio", "test_model")
    linked = artvcs.Api().artifact("model-registry/test_portfolio:prod")
    assert linked.source_name == "test_model:v0" and linked.type == "model"
    with artvcs.init() as run:
        path = run.use_model("model-registry/test_portfolio:v0")
        assert path == os.path.abspath(os.path.join("artifacts", "test_model:v0", "boom.txt")), "the source's name"


def test_link_model_keeps_the_type_of_an_existing_model(project):
    """An existing 'name' of a *model* type is logged again under that type."""
    (project / "w.bin").write_text("one")
    with artvcs.init() as run:
        run.log_artifact(str(project / "w.bin"), name="net", type="keras-model")
        (project / "w.bin").write_text("two")
        run.link_model(str(project / "w.bin"), "reg", "net")
    assert artvcs.Api().artifact("net:v1").type == "keras-model"
    assert artvcs.Api().artifact("model-registry/reg:v0").source_name == "net:v1"


def test_model_methods_on_a_finished_run_are_refused(project):
    (project / "boom.txt").write_text("testing")
    run = artvcs.init()
    run.finish()
    for call in (lambda: run.log_model(str(project / "boom.txt")), lambda: run.use_model("x:v0"),
                 lambda: run.link_model(str(project / "boom.txt"), "reg")):
        with pytest.raises(ValueError, match="is finished"):
            call()


# -- resuming a run (wandb/sdk/wandb_settings.py _apply_init, internal/sender.py at v0.17.9) --------
def test_resume_allow_reopens_the_run_and_keeps_its_lineage(project, files):
    with artvcs.init(id="r1", config={"lr": 1}) as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    with artvcs.init(id="r1", resume="allow", config={"bs": 2}) as again:
        assert again.state == "running" and again.finished_at is None
        assert again.config == {"lr": 1, "bs": 2}, "new keys update the old config"
        assert [x.name for x in again.logged_artifacts()] == ["ds:v0"], "what it logged before stays"
        again.use_artifact("ds:v0")
    found = artvcs.Api().run("proj/r1")
    assert found.state == "finished"
    assert [x.name for x in found.used_artifacts()] == ["ds:v0"]
    assert found._record["resumed_at"] >= found.started_at


def test_resume_allow_and_auto_with_an_unused_id_start_it(project):
    for mode in ("allow", "auto", True):
        with artvcs.init(id=f"new{str(mode).lower()}", resume=mode) as run:
            assert run.state == "running"
    assert artvcs.Api().run("proj/newallow").state == "finished"


def test_resume_must_and_never_refuse_with_wandb_texts(project):
    with pytest.raises(artvcs.UsageError, match="The value 'must' is not a valid option for resuming a run \\(nope\\)"):
        artvcs.init(id="nope", resume="must")
    with pytest.raises(KeyError):
        artvcs.Api().run("proj/nope")
    artvcs.init(id="taken").finish()
    with pytest.raises(artvcs.UsageError, match="The value 'never' is not a valid option for resuming a run \\(taken\\)"):
        artvcs.init(id="taken", resume="never")
    assert artvcs.init(id="fresh", resume="never").id == "fresh"
    artvcs.finish()
    assert artvcs.init(id="taken", resume="must").id == "taken"


def test_resume_with_another_string_is_a_run_id_to_allow(project):
    """W&B: ``resume="<id>"`` without ``id`` resumes that run with "allow"."""
    artvcs.init(id="old1").finish()
    with artvcs.init(resume="old1") as run:
        assert run.id == "old1" and "resumed_at" in run._record
    with pytest.raises(ValueError, match="resume=3"):
        artvcs.init(resume=3)


def test_resume_refuses_a_run_still_running(project):
    run = artvcs.init(id="live")
    from artvcs.runs import start  # a second start while the first is open: the same process
    from artvcs.plumbing import runs as plumbing_runs
    record = plumbing_runs.read_run(run.context.repo.git, "me", "proj", "live")
    assert plumbing_runs.state_of(record) == "running"
    run._live = False  # as if it were another process's: init would otherwise finish it first
    from artvcs.core.context import set_current_run
    set_current_run(None)
    with pytest.raises(ValueError, match="is still running"):
        start(artvcs.Artifact, id="live", resume="allow")


def test_resume_auto_picks_this_machines_newest_failed_auto_run(project):
    """W&B keeps an "auto" run's id until it finishes with exit code 0; the next "auto" init resumes it."""
    with pytest.raises(RuntimeError):
        with artvcs.init(resume="auto") as first:
            raise RuntimeError("boom")
    assert first.state == "failed"
    with artvcs.init(resume=True) as again:
        assert again.id == first.id
    with artvcs.init(resume="auto") as third:
        assert third.id != first.id, "the resumed run finished cleanly: a new run"
    with artvcs.init() as plain:
        pass
    assert plain.id not in (first.id, third.id)


# -- an object already in a logged artifact is a reference in another (wandb/sdk/artifacts/artifact.py add) --
def test_object_added_to_a_logged_artifact_is_a_reference_in_the_next(project):
    """test_wandb_artifacts_full.py::test_local_references: the same Table added to a second draft after
    the first is logged gives an entry with a ref; in the first it had none."""
    with artvcs.init() as run:
        t1 = artvcs.Table(columns=["a"], data=[[1], [2]])
        first = artvcs.Artifact("first", "dataset")
        first.add(t1, "t1")
        assert first.manifest.entries["t1.table.json"].ref is None
        again = artvcs.Artifact("draft-too", "dataset")
        assert again.add(t1, "t0").ref is None, "a draft's entry is not referred to"
        run.log_artifact(first)
        second = artvcs.Artifact("second", "dataset")
        entry = second.add(t1, "t2")
        assert entry.ref is not None and entry.ref.endswith("first:v0/t1.table.json")
        assert entry.digest == first.manifest.entries["t1.table.json"].digest
        run.log_artifact(second)
    got = artvcs.Api().artifact("second:v0").get("t2")
    assert got.get_column("a") == [1, 2]


def test_object_read_from_a_logged_artifact_is_a_reference_with_its_parts(project):
    """W&B: an object from ``artifact.get`` added elsewhere refers to the entry it was read from; its
    parts (an image's pixels) are in the new artifact too, so it reads back there."""
    img = artvcs.Image(np.arange(48, dtype=np.uint8).reshape(4, 4, 3))
    with artvcs.init() as run:
        src = artvcs.Artifact("images", "dataset")
        src.add(img, "i")
        run.log_artifact(src)
    with artvcs.init() as run:
        got = run.use_artifact("images:latest").get("i")
        dst = artvcs.Artifact("more-images", "dataset")
        entry = dst.add(got, "j")
        assert entry.ref.endswith("images:v0/i.image-file.json")
        assert any(p.startswith("media/images/") and e.ref is None for p, e in dst.manifest.entries.items())
        run.log_artifact(dst)
    back = artvcs.Api().artifact("more-images:v0").get("j")
    assert np.array_equal(np.asarray(back.image), np.asarray(img.image))


def test_an_object_changed_since_it_was_read_is_stored_anew(project):
    with artvcs.init() as run:
        src = artvcs.Artifact("tables", "dataset")
        src.add(artvcs.Table(columns=["a"], data=[[1]]), "t")
        run.log_artifact(src)
        table = run.use_artifact("tables:latest").get("t")
        table.add_data(2)
        dst = artvcs.Artifact("tables2", "dataset")
        assert dst.add(table, "t").ref is None
        run.log_artifact(dst)
    assert artvcs.Api().artifact("tables2:v0").get("t").get_column("a") == [1, 2]


# -- run.config (wandb/sdk/wandb_config.py, wandb_run.py _config_artifact_callback at v0.17.9) ----------
def _logged_dataset(files) -> "artvcs.Artifact":
    with artvcs.init() as run:
        a = artvcs.Artifact("boom-data", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    return artvcs.Api().artifact("boom-data:v0")


def _as_recorded(artifact, key):
    return {"_type": "artifactVersion", "_version": "v0", "id": artifact.id, "version": "v0",
            "sequenceName": "boom-data", "usedAs": key}


def test_config_items_and_attributes_are_recorded(project):
    with artvcs.init(config={"lr": 0.1}) as run:
        run.config.bs = 32
        run.config["--epochs"] = 3  # W&B strips leading dashes
        run.config.update({"opt": "sgd"})
        assert run.config.lr == 0.1 and run.config["bs"] == 32 and run.config.epochs == 3
        with pytest.raises(AttributeError):
            run.config.missing
        with pytest.raises(ValueError, match='Attempted to change value of key "bs" from 32 to 64'):
            run.config.bs = 64
        run.config.update({"bs": 64}, allow_val_change=True)
    assert artvcs.Api().run(f"proj/{run.id}").config == {"lr": 0.1, "bs": 64, "epochs": 3, "opt": "sgd"}


@pytest.mark.parametrize("how", ["object", "name", "id", "dict", "init-name", "init-id"])
def test_an_artifact_in_the_config_is_used_as_its_key(project, files, how):
    """test_wandb_run_artifacts.py::test_artifacts_in_config, test_artifact_string_*: an Artifact, a
    wandb-artifact:// name or _id string or W&B's artifactVersion dict is used by the run as the key;
    the config holds the artifact, the finished run's record W&B's dict."""
    art = _logged_dataset(files)
    value = {"object": art, "name": "wandb-artifact://me/proj/boom-data:v0", "id": f"wandb-artifact://_id/{art.id}",
             "dict": _as_recorded(art, "x"), "init-name": "wandb-artifact://me/proj/boom-data:v0",
             "init-id": f"wandb-artifact://https://api.example/_id/{art.id}"}[how]
    with artvcs.init(config={"dataset": value} if how.startswith("init") else None) as run:
        if not how.startswith("init"):
            run.config.dataset = value
        assert isinstance(run.config.dataset, artvcs.Artifact) and run.config.dataset.id == art.id
    found = artvcs.Api().run(f"proj/{run.id}")
    assert found.config["dataset"] == _as_recorded(art, "dataset")
    assert [a.name for a in found.used_artifacts()] == ["boom-data:v0"]
    assert found._record["used"][0]["use_as"] == "dataset"


def test_a_nested_artifact_in_the_config_is_refused(project, files):
    art = _logged_dataset(files)
    with artvcs.init() as run:
        for call in (lambda: setattr(run.config, "nested", {"nested": art}),
                     lambda: setattr(run.config, "deep", {"one": {"two": art}}),
                     lambda: run.config.update({"one": {"two": "wandb-artifact://me/proj/boom-data:v0"}})):
            with pytest.raises(ValueError, match="^Instances of wandb.Artifact can only be top level keys in wandb.config$"):
                call()
        assert dict(run.config) == {}
    with pytest.raises(ValueError, match="only be top level keys"):
        artvcs.init(id="never", config={"one": {"two": art}})
    with pytest.raises(KeyError):
        artvcs.Api().run("proj/never")


def test_artifact_type_names_its_entity(project, files):
    """test_wandb_artifacts_api.py::test_delete_collection builds names from ``ArtifactType.entity``."""
    with artvcs.init(project="test") as run:
        a = artvcs.Artifact("ds", type="test-type")
        a.add_dir(str(files))
        run.log_artifact(a)
    t = artvcs.Api().artifact_type("test-type", project="test")
    assert (t.entity, t.project, t.name) == ("me", "test", "test-type")
    assert artvcs.Api().artifact(f"{t.entity}/test/ds:latest", type="test-type").version == "v0"


def test_missing_project_says_so_as_wandb(project, files):
    """W&B's Artifact._from_name: "project 'bar' not found under entity 'foo'", a CommError
    (test_wandb_artifacts_full.py::test_retrieve_missing_artifact)."""
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    api = artvcs.Api()
    for name, who in (("foo/bar/ds:v0", "foo"), ("me/bar/ds:v0", "me")):
        with pytest.raises(artvcs.CommError, match=f"project 'bar' not found under entity '{who}'"):
            api.artifact(name)
    with pytest.raises(artvcs.CommError) as e:
        api.artifact("me/proj/baz:v0")
    assert "not found under entity" not in str(e.value), "the project exists: only the artifact is missing"


@pytest.mark.parametrize("var", ["ARTVCS_ARTIFACT_DIR", "WANDB_ARTIFACT_DIR"])
def test_artifact_dir_variable_moves_the_default_roots(project, files, monkeypatch, var):
    """W&B's WANDB_ARTIFACT_DIR (test_wandb_artifacts_full.py::test_artifact_download_root)."""
    with artvcs.init() as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(files))
        run.log_artifact(a)
    where = project / "an-unusual-path"
    monkeypatch.setenv(var, str(where))
    art = artvcs.Api().artifact("ds:v0")
    assert art.download() == str(where / "ds:v0")
    assert art.checkout() == str(where / "ds")
    assert sorted(os.listdir(where / "ds:v0")) == ["a.txt", "b.txt", "sub"]
    assert not os.path.exists(project / "artifacts")
