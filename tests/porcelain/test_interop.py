"""``artvcs export --format wandb`` and ``artvcs import --format wandb`` through the real CLI."""
from __future__ import annotations

import base64
import hashlib
import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.errors import ArtvcsError
from artvcs.interop import wandb_manifest as wm

WANDB_DIGEST = "38d61d089fa175a1e6f0cd12f170ade7"  # W&B's digest of a.txt="hello\n", b/c.txt="world\n"


def _hello_world(root):
    (root / "b").mkdir(parents=True)
    (root / "a.txt").write_text("hello\n")
    (root / "b" / "c.txt").write_text("world\n")
    return root


def _b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _versions(run_cli, name):
    r = run_cli("versions", name, "--json")
    return json.loads(r.out) if r.code == 0 else []


def test_export_lays_out_a_wandb_download_with_wandbs_digest(repo_dir, run_cli):
    _hello_world(repo_dir / "src")
    assert run_cli("log", "src", "--name", "hw", "--type", "dataset", "--description", "greetings",
                   "--metadata", "rows=2", "--alias", "best").code == 0
    r = run_cli("export", "--format", "wandb", "hw:v0", "out", "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["wandb_digest"] == WANDB_DIGEST and report["files"] == 2 and report["size"] == 12
    out = repo_dir / "out"
    assert (out / "a.txt").read_text() == "hello\n" and (out / "b" / "c.txt").read_text() == "world\n"
    assert os.stat(out / "a.txt").st_nlink == 1, "exported files never share the store's inode"
    manifest = json.loads((out / "wandb_manifest.json").read_text())
    assert manifest == {
        "version": 1, "storagePolicy": "wandb-storage-policy-v1", "storagePolicyConfig": {"storageLayout": "V2"},
        "contents": {"a.txt": {"digest": _b64md5(b"hello\n"), "size": 6},
                     "b/c.txt": {"digest": _b64md5(b"world\n"), "size": 6}},
    }
    info = json.loads((out / "wandb_artifact.json").read_text())
    assert (info["name"], info["type"], info["description"], info["metadata"], info["aliases"], info["digest"]) == (
        "hw", "dataset", "greetings", {"rows": 2}, ["best"], WANDB_DIGEST)


def test_export_refuses_a_folder_that_is_not_empty(repo_dir, run_cli):
    _hello_world(repo_dir / "src")
    run_cli("log", "src", "--name", "hw", "--type", "dataset")
    (repo_dir / "out").mkdir()
    (repo_dir / "out" / "keep.txt").write_text("mine")
    r = run_cli("export", "--format", "wandb", "hw:v0", "out")
    assert r.code == 1 and "'out' exists and is not an empty folder" in r.err
    assert os.listdir(repo_dir / "out") == ["keep.txt"]


def test_import_round_trip_keeps_content_description_metadata_aliases(repo_dir, run_cli):
    _hello_world(repo_dir / "src")
    run_cli("log", "src", "--name", "hw", "--type", "dataset", "--description", "d", "--metadata", "k=1",
            "--alias", "prod")
    assert run_cli("export", "--format", "wandb", "hw:v0", "out").code == 0
    r = run_cli("import", "--format", "wandb", "out", "--name", "back", "--alias", "imported", "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["wandb_digest"] == WANDB_DIGEST and report["files"] == 2 and report["ignored"] == 0
    orig = json.loads(run_cli("show", "hw:v0", "--json").out)
    back = json.loads(run_cli("show", "back:v0", "--json").out)
    assert back["digest"] == orig["digest"], "the same files make the same artvcs digest"
    assert back["description"] == "d" and back["metadata"] == {"k": 1}
    assert set(back["aliases"]) == {"latest", "prod", "imported"}


def test_import_of_a_folder_wandb_wrote(repo_dir, run_cli):
    """A download as W&B leaves it, with the manifest saved beside it and a reference entry."""
    folder = _hello_world(repo_dir / "dl")
    (folder / "stray.tmp").write_text("not in the manifest")
    manifest = {"version": 1, "storagePolicy": "wandb-storage-policy-v1", "storagePolicyConfig": {},
                "contents": {"a.txt": {"digest": _b64md5(b"hello\n"), "size": 6},
                             "b/c.txt": {"digest": _b64md5(b"world\n"), "size": 6},
                             "remote.bin": {"digest": "\"etag-1\"", "ref": "s3://bucket/remote.bin", "size": 9,
                                            "extra": {"versionID": "v7"}}}}
    (folder / "wandb_manifest.json").write_text(json.dumps(manifest))
    r = run_cli("import", "--format", "wandb", "dl", "--name", "fromwb", "--type", "dataset", "--json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert (report["files"], report["references"], report["ignored"]) == (2, 1, 1)
    files = {f["path"]: f for f in json.loads(run_cli("show", "fromwb:v0", "--files", "--json").out)["files"]}
    assert sorted(files) == ["a.txt", "b/c.txt", "remote.bin"]
    assert files["remote.bin"]["ref"] == "s3://bucket/remote.bin" and files["remote.bin"]["digest"] == "\"etag-1\""
    assert files["remote.bin"]["extra"] == {"versionID": "v7"}
    # exported again, W&B's digest is what W&B computes for that manifest
    assert run_cli("export", "--format", "wandb", "fromwb:v0", "again").code == 0
    entries = wm.parse((repo_dir / "again" / "wandb_manifest.json").read_bytes(), "again")
    assert wm.manifest_digest(entries) == wm.manifest_digest(wm.parse(json.dumps(manifest).encode(), "m"))


def _wandb_folder(repo_dir, contents_override=None, raw=None):
    folder = _hello_world(repo_dir / "dl")
    contents = {"a.txt": {"digest": _b64md5(b"hello\n"), "size": 6},
                "b/c.txt": {"digest": _b64md5(b"world\n"), "size": 6}}
    contents.update(contents_override or {})
    doc = {"version": 1, "storagePolicy": "wandb-storage-policy-v1", "contents": contents}
    (folder / "wandb_manifest.json").write_bytes(raw if raw is not None else json.dumps(doc).encode())
    return folder


def test_import_refuses_a_changed_file_and_logs_nothing(repo_dir, run_cli):
    folder = _wandb_folder(repo_dir)
    (folder / "b" / "c.txt").write_text("WORLD\n")  # same size, other bytes
    r = run_cli("import", "--format", "wandb", "dl", "--name", "x", "--type", "dataset")
    assert r.code == 1 and "c.txt has MD5" in r.err and "the manifest says" in r.err
    assert _versions(run_cli, "x") == []


def test_import_refuses_missing_files_links_and_lying_manifests(repo_dir, run_cli, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret").write_text("hello\n")
    cases = [
        ({"gone.txt": {"digest": _b64md5(b"x"), "size": 1}}, None, "is in wandb_manifest.json but not in the folder"),
        ({"../escape.txt": {"digest": _b64md5(b"x"), "size": 1}}, None, ".."),
        ({"a.txt": {"digest": _b64md5(b"hello\n"), "size": 99}}, None, "has 6 bytes, the manifest says 99"),
        ({"a.txt": {"digest": "not-md5", "size": 6}}, None, "base64 of its MD5"),
        ({}, b"{not json", "not UTF-8 JSON"),
        ({}, json.dumps({"version": 2, "contents": {}}).encode(), "only W&B manifest version 1"),
    ]
    for override, raw, message in cases:
        import shutil

        shutil.rmtree(repo_dir / "dl", ignore_errors=True)
        _wandb_folder(repo_dir, override, raw)
        r = run_cli("import", "--format", "wandb", "dl", "--name", "x", "--type", "dataset")
        assert r.code == 1 and message in r.err, (override, r.err)
        assert len(r.err.strip().splitlines()) == 1, "one line on stderr"
    import shutil

    shutil.rmtree(repo_dir / "dl")
    folder = _wandb_folder(repo_dir, {"link.txt": {"digest": _b64md5(b"hello\n"), "size": 6}})
    os.symlink(outside / "secret", folder / "link.txt")
    r = run_cli("import", "--format", "wandb", "dl", "--name", "x", "--type", "dataset")
    assert r.code == 1 and "link" in r.err
    assert _versions(run_cli, "x") == [], "no refused import made a version"


@settings(max_examples=150, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=300),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                 max_leaves=20).map(lambda v: json.dumps(v).encode()),
    st.dictionaries(st.text(max_size=12), st.dictionaries(st.sampled_from(["digest", "size", "ref", "extra"]),
                                                          st.none() | st.integers() | st.text(max_size=30)),
                    max_size=4).map(lambda c: json.dumps({"version": 1, "storagePolicy": wm.STORAGE_POLICY,
                                                          "contents": c}).encode()),
))
def test_manifest_parser_gives_only_artvcs_errors(raw):
    try:
        entries = wm.parse(raw, "wandb_manifest.json")
    except ArtvcsError:
        return
    for e in entries:
        assert isinstance(e.digest, str) and (e.size is None or e.size >= 0)
        assert not e.path.startswith("/") and ".." not in e.path.split("/")
