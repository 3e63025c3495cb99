"""add_reference against real local files and a real HTTP server on 127.0.0.1."""
from __future__ import annotations

import hashlib
import http.server
import os
import threading

import pytest

import artvcs
from artvcs.plumbing.hashing import hash_bytes


class _Handler(http.server.SimpleHTTPRequestHandler):
    etags = True

    def end_headers(self):
        path = self.translate_path(self.path)
        if self.etags and os.path.isfile(path):
            with open(path, "rb") as f:
                self.send_header("ETag", '"' + hashlib.md5(f.read()).hexdigest() + '"')
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    (root / "model.bin").write_bytes(b"weights" * 100)
    (root / "plain.txt").write_text("no etag here")

    class H(_Handler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(root), **kw)

        def end_headers(self):
            H.etags = not self.path.endswith("plain.txt")
            super().end_headers()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_file_reference_file_and_folder(project, files):
    a = artvcs.Artifact("refs", "dataset")
    [one] = a.add_reference("file://" + str(files / "a.txt"))
    assert one.path == "a.txt" and one.digest == hash_bytes(b"alpha\n") and one.size == 6
    assert one.ref == "file://" + str(files / "a.txt")
    many = a.add_reference("file://" + str(files), name="tree")
    assert sorted(e.path for e in many) == ["tree/a.txt", "tree/b.txt", "tree/sub/c.bin"]
    with pytest.warns(UserWarning, match="max_objects=2"):
        few = a.add_reference("file://" + str(files), name="few", max_objects=2)
    assert len(few) == 2
    [lazy] = a.add_reference("file://" + str(files), name="lazy", checksum=False)
    assert lazy.digest == hash_bytes(("file://" + str(files)).encode()) and lazy.size is None
    with artvcs.init() as run:
        run.log_artifact(a)
    out = a.download(str(project / "out"), path_prefix="tree")
    assert open(os.path.join(out, "tree", "sub", "c.bin"), "rb").read() == (files / "sub" / "c.bin").read_bytes()
    assert not os.path.exists(os.path.join(out, "a.txt")), "path_prefix limits the download"
    (files / "b.txt").write_text("changed")
    with pytest.raises(artvcs.errors.ArtvcsError, match="changed"):
        a.download(str(project / "out2"), path_prefix="tree/b.txt")
    a.download(str(project / "out3"), path_prefix="tree/b.txt", allow_missing_references=True)
    assert not os.path.exists(project / "out3" / "tree" / "b.txt")


def test_http_references(project, http_root):
    root, base = http_root
    a = artvcs.Artifact("web", "model")
    [w] = a.add_reference(f"{base}/model.bin")
    assert w.digest == hashlib.md5(b"weights" * 100).hexdigest() and w.size == 700 and w.extra["etag"] == w.digest
    [p] = a.add_reference(f"{base}/plain.txt", name="docs/plain.txt")
    assert p.digest == hash_bytes(b"no etag here") and p.path == "docs/plain.txt"
    with artvcs.init() as run:
        run.log_artifact(a)
    out = a.download(str(project / "web"))
    assert open(os.path.join(out, "model.bin"), "rb").read() == b"weights" * 100
    assert open(os.path.join(out, "docs", "plain.txt")).read() == "no etag here"
    (root / "model.bin").write_bytes(b"retrained")
    with pytest.raises(artvcs.errors.ArtvcsError, match="changed since it was logged"):
        a.download(str(project / "web2"))


def test_other_schemes_need_a_name(project):
    a = artvcs.Artifact("odd", "dataset")
    with pytest.raises(ValueError, match="name="):
        a.add_reference("ftp://example.invalid/x")
    [e] = a.add_reference("ftp://example.invalid/x", name="x")
    assert e.digest == hash_bytes(b"ftp://example.invalid/x") and e.size is None
    with pytest.raises(ValueError, match="URI"):
        a.add_reference("not a uri")


def test_reference_to_another_artifacts_entry(project, files):
    with artvcs.init() as run:
        src = artvcs.Artifact("src", "dataset")
        src.add_dir(str(files))
        run.log_artifact(src)
        b = artvcs.Artifact("derived", "dataset")
        [e] = b.add_reference(src.get_entry("sub/c.bin"), name="c.bin")
        assert e.ref == "artvcs-artifact://me/proj/src:v0/sub/c.bin"
        run.log_artifact(b)
    out = b.download(str(project / "d"))
    assert open(os.path.join(out, "c.bin"), "rb").read() == (files / "sub" / "c.bin").read_bytes()
