"""add_reference and the download of references: real files, a real HTTP server on 127.0.0.1, no mocks."""
from __future__ import annotations

import hashlib
import http.server
import os
import sys
import threading
import urllib.parse

import pytest

import artvcs
from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.hashing import hash_bytes
from artvcs.draft.references import ReferenceUnavailableError, fetch_reference, resolve_reference


# -- an HTTP server ----------------------------------------------------------------------------
class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``root/<name>`` as ``/<style>/<name>``.

    style: ``etag`` (strong ETag), ``weak`` (weak ETag), ``plain`` (no ETag),
    ``nohead`` (HEAD refused with 405; GET has an ETag).
    """

    root: str = ""
    requests: list = []

    def _serve(self, body: bool) -> None:
        self.requests.append((self.command, self.path))
        _, style, name = self.path.split("/", 2)
        path = os.path.join(self.root, urllib.parse.unquote(name))
        if style == "nohead" and not body:
            self.send_error(405)
            return
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        tag = hashlib.md5(data).hexdigest()
        if style in ("etag", "nohead"):
            self.send_header("ETag", f'"{tag}"')
        elif style == "weak":
            self.send_header("ETag", f'W/"{tag}"')
        self.end_headers()
        if body:
            self.wfile.write(data)

    def do_GET(self):
        self._serve(True)

    def do_HEAD(self):
        self._serve(False)

    def log_message(self, *args):
        pass


@pytest.fixture
def web(tmp_path_factory):
    root = tmp_path_factory.mktemp("www")
    (root / "model.bin").write_bytes(b"weights" * 100)
    (root / "notes.txt").write_text("no etag here")

    class H(_Handler):
        pass

    H.root, H.requests = str(root), []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}", H.requests
    server.shutdown()
    server.server_close()


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


# -- file:// -----------------------------------------------------------------------------------
@pytest.fixture
def tree(tmp_path):
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("alpha\n")
    (data / "b.txt").write_text("beta\n")
    (data / "sub" / "c bin").write_bytes(bytes(range(256)) * 4)
    return data


def test_file_reference_to_a_file(tree):
    uri = "file://" + str(tree / "a.txt")
    [e] = resolve_reference(uri, None)
    assert (e.path, e.digest, e.size, e.ref) == ("a.txt", hash_bytes(b"alpha\n"), 6, uri)
    [named] = resolve_reference(uri, "docs/first.txt")
    assert named.path == "docs/first.txt" and named.digest == e.digest
    [lazy] = resolve_reference(uri, None, checksum=False)
    assert lazy.digest == hash_bytes(uri.encode()) and lazy.size == 6


def test_file_reference_to_a_folder(tree):
    uri = "file://" + str(tree)
    entries = resolve_reference(uri, None)
    assert [e.path for e in entries] == ["a.txt", "b.txt", "sub/c bin"]
    c = entries[2]
    assert c.ref == "file://" + urllib.parse.quote(str(tree / "sub" / "c bin")) and c.size == 1024
    assert c.digest == hash_bytes(bytes(range(256)) * 4)
    assert [e.path for e in resolve_reference(uri, "under")] == ["under/a.txt", "under/b.txt", "under/sub/c bin"]
    # a folder's entry URIs resolve back to the same entries
    [again] = resolve_reference(c.ref, "sub/c bin")
    assert again == c


def test_folder_truncation_warns_with_the_limit(tree):
    with pytest.warns(UserWarning, match="max_objects=2"):
        few = resolve_reference("file://" + str(tree), "few", max_objects=2)
    assert [e.path for e in few] == ["few/a.txt", "few/b.txt"]
    with pytest.raises(ValueError, match="max_objects"):
        resolve_reference("file://" + str(tree), None, max_objects=0)


def test_folder_without_checksum_is_one_entry(tree):
    uri = "file://" + str(tree)
    [e] = resolve_reference(uri, None, checksum=False)
    assert (e.path, e.digest, e.size, e.ref) == ("data", hash_bytes(uri.encode()), None, uri)


def test_bad_file_uris(tree):
    with pytest.raises(ReferenceUnavailableError, match="does not exist"):
        resolve_reference("file://" + str(tree / "nope"), None)
    with pytest.raises(ValueError, match="file:///"):
        resolve_reference("file://otherhost/x", None)
    with pytest.raises(ValueError, match="URI"):
        resolve_reference(str(tree / "a.txt"), None)  # a bare path is not a URI
    with pytest.raises(ValueError, match=r"\.\."):
        resolve_reference("file://" + str(tree / "a.txt"), "../up.txt")


def test_fetch_file_reference_checks_the_content(tree, tmp_path):
    [e] = resolve_reference("file://" + str(tree / "b.txt"), None)
    dest = tmp_path / "dest.txt"
    fetch_reference(e, str(dest))
    assert dest.read_bytes() == b"beta\n"
    (tree / "b.txt").write_text("BETA\n")
    with pytest.raises(ReferenceUnavailableError, match="changed since it was logged") as err:
        fetch_reference(e, str(tmp_path / "dest2.txt"))
    assert e.ref in str(err.value)
    (tree / "b.txt").unlink()
    with pytest.raises(ReferenceUnavailableError, match="no longer exists"):
        fetch_reference(e, str(tmp_path / "dest3.txt"))


def test_fetch_unchecksummed_file_takes_it_as_it_is_now(tree, tmp_path):
    [e] = resolve_reference("file://" + str(tree / "a.txt"), None, checksum=False)
    (tree / "a.txt").write_text("rewritten")
    fetch_reference(e, str(tmp_path / "x"))
    assert (tmp_path / "x").read_text() == "rewritten"
    [folder] = resolve_reference("file://" + str(tree), None, checksum=False)
    with pytest.raises(ReferenceUnavailableError, match="checksum=False"):
        fetch_reference(folder, str(tmp_path / "y"))


# -- http(s):// -----------------------------------------------------------------------------------
def test_http_with_etag(web):
    root, base, requests = web
    [e] = resolve_reference(f"{base}/etag/model.bin", None)
    assert (e.path, e.digest, e.size) == ("model.bin", md5(b"weights" * 100), 700)
    assert e.extra == {"etag": e.digest} and e.ref == f"{base}/etag/model.bin"
    assert requests == [("HEAD", "/etag/model.bin")], "an ETag from HEAD is enough"
    [w] = resolve_reference(f"{base}/weak/model.bin", "m.bin")
    assert w.digest == e.digest and w.path == "m.bin"


def test_http_without_etag_hashes_the_content(web):
    root, base, _ = web
    [e] = resolve_reference(f"{base}/plain/notes.txt", "docs/notes.txt")
    assert (e.path, e.digest, e.size, e.extra) == ("docs/notes.txt", hash_bytes(b"no etag here"), 12, {})


def test_http_head_refused_falls_back_to_get(web):
    root, base, requests = web
    [e] = resolve_reference(f"{base}/nohead/model.bin", None)
    assert e.digest == md5(b"weights" * 100) and e.size == 700
    assert [m for m, _ in requests] == ["HEAD", "GET"]


def test_http_errors_and_unchecksummed(web):
    root, base, _ = web
    with pytest.raises(ReferenceUnavailableError, match="404"):
        resolve_reference(f"{base}/etag/missing.bin", None)
    [lazy] = resolve_reference(f"{base}/etag/model.bin", None, checksum=False)
    assert lazy.digest == f"{base}/etag/model.bin" and lazy.size is None  # W&B: the URI is the digest
    with pytest.raises(ValueError, match="name="):
        resolve_reference(f"{base}/", None)


def test_fetch_http_reference_detects_a_changed_source(web, tmp_path):
    root, base, _ = web
    [tagged] = resolve_reference(f"{base}/etag/model.bin", None)
    [plain] = resolve_reference(f"{base}/plain/notes.txt", None)
    fetch_reference(tagged, str(tmp_path / "m"))
    fetch_reference(plain, str(tmp_path / "n"))
    assert (tmp_path / "m").read_bytes() == b"weights" * 100 and (tmp_path / "n").read_text() == "no etag here"
    (root / "model.bin").write_bytes(b"retrained")
    (root / "notes.txt").write_text("edited")
    with pytest.raises(ReferenceUnavailableError, match="ETag"):
        fetch_reference(tagged, str(tmp_path / "m2"))
    with pytest.raises(ReferenceUnavailableError, match="changed since it was logged"):
        fetch_reference(plain, str(tmp_path / "n2"))
    (root / "model.bin").unlink()
    with pytest.raises(ReferenceUnavailableError, match="404"):
        fetch_reference(tagged, str(tmp_path / "m3"))


# -- other schemes, bad input ------------------------------------------------------------------------
def test_other_schemes_need_a_name_and_digest_the_uri():
    with pytest.raises(ValueError, match="name="):
        resolve_reference("ftp://example.invalid/x", None)
    [e] = resolve_reference("ftp://example.invalid/x", "x")
    assert (e.path, e.digest, e.size, e.ref) == ("x", "ftp://example.invalid/x", None, "ftp://example.invalid/x")
    with pytest.raises(ArtvcsError, match="cannot download"):
        fetch_reference(e, "/nonexistent/never-written")
    for bad in ("not a uri", "://no-scheme", "", 42):
        with pytest.raises(UsageError, match="URI"):
            resolve_reference(bad, "x")


def test_credentials_in_a_uri_are_refused_and_not_echoed():
    for uri in ("https://user:hunter2@example.invalid/x",
                "https://acct.blob.core.windows.net/c/blob?sv=2020&sig=hunter2",
                "https://bucket.s3.amazonaws.com/k?X-Amz-Signature=hunter2&X-Amz-Credential=AKIA"):
        with pytest.raises(UsageError, match="credentials") as err:
            resolve_reference(uri, "x")
        assert "hunter2" not in str(err.value)


@pytest.mark.parametrize("uri, module, extra", [("s3://bucket/key", "s3fs", "s3"), ("gs://bucket/key", "gcsfs", "gcs"),
                                                ("https://acct.blob.core.windows.net/c/b", "adlfs", "azure")])
def test_object_stores_name_the_missing_extra(uri, module, extra, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # as on a machine without it: importing it fails
    with pytest.raises(UsageError, match=rf"pip install 'artvcs\[{extra}\]'"):
        resolve_reference(uri, None)
    [lazy] = resolve_reference(uri, None, checksum=False)  # needs no library
    assert lazy.digest == uri and lazy.path == uri.rsplit("/", 1)[1]  # W&B: the URI is the digest


# -- through the binding ---------------------------------------------------------------------------
def test_file_references_through_download(project, files):
    a = artvcs.Artifact("refs", "dataset")
    many = a.add_reference("file://" + str(files), name="tree")
    assert sorted(e.path for e in many) == ["tree/a.txt", "tree/b.txt", "tree/sub/c.bin"]
    with artvcs.init() as run:
        run.log_artifact(a)
    out = a.download(str(project / "out"), path_prefix="tree")
    assert open(os.path.join(out, "tree", "sub", "c.bin"), "rb").read() == (files / "sub" / "c.bin").read_bytes()
    (files / "b.txt").write_text("changed")
    with pytest.raises(artvcs.errors.ArtvcsError, match="changed"):
        a.download(str(project / "out2"), path_prefix="tree/b.txt")
    a.download(str(project / "out3"), path_prefix="tree/b.txt", allow_missing_references=True)
    assert not os.path.exists(project / "out3" / "tree" / "b.txt")
    a.verify(out)  # references are not verified, only required to exist


def test_http_references_through_download(project, web):
    root, base, _ = web
    a = artvcs.Artifact("web", "model")
    a.add_reference(f"{base}/etag/model.bin")
    a.add_reference(f"{base}/plain/notes.txt", name="docs/notes.txt")
    with artvcs.init() as run:
        run.log_artifact(a)
    out = a.download(str(project / "web"))
    assert open(os.path.join(out, "model.bin"), "rb").read() == b"weights" * 100
    assert open(os.path.join(out, "docs", "notes.txt")).read() == "no etag here"
    (root / "model.bin").write_bytes(b"retrained")
    with pytest.raises(artvcs.errors.ArtvcsError, match="changed since it was logged"):
        a.download(str(project / "web2"))
    assert not os.path.exists(project / "web2" / "model.bin")


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
