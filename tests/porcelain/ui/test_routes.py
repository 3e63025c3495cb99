"""``artvcs ui``'s routes over HTTP, without a browser: a real server process, a real repository."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from .sample import XSS_ALIAS, XSS_FILE, XSS_META, XSS_TEXT


def get(server, path: str, **kw) -> httpx.Response:
    return httpx.get(server.url + path, timeout=30, **kw)


def cli_json(server, *args: str):
    p = server.cli(*args, "--json")
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.mark.parametrize("path", [
    "/a/me/proj/nope", "/a/me/proj/nope:v0", "/a/me/proj/mnist:v9", "/a/me/proj/mnist:no-such-alias",
    "/a/me/proj/mnist:v0/file/missing.txt", "/a/me/proj/mnist:v0/tree?path=nowhere", "/a/me/proj/mnist:v0/raw/missing.txt",
    "/a/me/nothere/mnist:v0", "/a/me/proj/mnist:v0/tree?path=../etc", "/c/0123456789abcdef", "/run/me/proj/zzzz", "/no/such/page",
    "/diff?old=me/proj/mnist:v0&new=me/proj/mnist:v7",
])
def test_unknown_names_are_404(server, path):
    r = get(server, path)
    assert r.status_code == 404, (path, r.status_code, r.text[:300])
    j = get(server, path + ("&" if "?" in path else "?") + "format=json")
    assert j.status_code == 404 and "error" in j.json()


@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{{port}}", "127.0.0.1:1", "localhost.evil.example:{port}"])
def test_foreign_host_header_is_refused(server, host):
    r = get(server, "/", headers={"Host": host.format(port=server.port)})
    assert r.status_code == 421
    assert "mnist" not in r.text


def test_own_host_names_are_served(server):
    for host in (f"127.0.0.1:{server.port}", f"localhost:{server.port}"):
        assert get(server, "/", headers={"Host": host}).status_code == 200


def test_read_only_server_refuses_edits(server):
    r = httpx.post(server.url + "/a/me/proj/mnist:v0/edit", data={"action": "alias-add", "alias": "x", "csrf": "whatever"})
    assert r.status_code == 403 and "read-only" in r.text
    assert "x" not in cli_json(server, "show", "mnist:v0")["aliases"]


def _token(edit_server, ref: str) -> str:
    html = get(edit_server, f"/a/me/proj/{ref}").text
    marker = 'name="csrf" value="'
    return html.split(marker, 1)[1].split('"', 1)[0]


def test_edit_needs_the_csrf_token_and_same_origin(edit_server):
    url = edit_server.url + "/a/me/proj/mnist:v1/edit"
    form = {"action": "alias-add", "alias": "csrf-test"}
    assert httpx.post(url, data=form).status_code == 403
    assert httpx.post(url, data={**form, "csrf": "forged"}).status_code == 403
    token = _token(edit_server, "mnist:v1")
    r = httpx.post(url, data={**form, "csrf": token}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert "csrf-test" not in cli_json(edit_server, "show", "mnist:v1")["aliases"]
    ok = httpx.post(url, data={**form, "csrf": token}, headers={"Origin": edit_server.url})
    assert ok.status_code == 303 and ok.headers["location"] == "/a/me/proj/mnist:v1"
    assert "csrf-test" in cli_json(edit_server, "show", "mnist:v1")["aliases"]


def test_edits_go_through_the_binding_rules(edit_server):
    url = edit_server.url + "/a/me/proj/mnist:v1/edit"
    token = _token(edit_server, "mnist:v1")
    bad = httpx.post(url, data={"action": "alias-add", "alias": "v3", "csrf": token})
    assert bad.status_code == 400 and "reserved" in bad.text
    bad = httpx.post(edit_server.url + "/a/me/proj/mnist:v0/edit", data={"action": "alias-add", "alias": "latest", "csrf": token})
    assert bad.status_code == 400 and "managed" in bad.text
    ok = httpx.post(url, data={"action": "metadata-set", "key": "epochs", "value": "12", "csrf": token})
    assert ok.status_code == 303
    assert cli_json(edit_server, "show", "mnist:v1")["metadata"]["epochs"] == 12
    ok = httpx.post(url, data={"action": "description", "description": "from the web", "csrf": token})
    assert cli_json(edit_server, "show", "mnist:v1")["description"] == "from the web"
    ok = httpx.post(url, data={"action": "tags", "tags": "a, b", "csrf": token})
    assert cli_json(edit_server, "show", "mnist:v1")["tags"] == ["a", "b"]
    events = cli_json(edit_server, "history", "mnist:v1")
    assert [e["what"] for e in events if e["kind"] == "edit"][-3:] == ["set metadata", "set description", "set tags"]


@pytest.mark.parametrize("page, command", [
    ("/p/me/proj", ["ls", "--here"]),
    ("/a/me/proj/mnist", ["versions", "mnist"]),
    ("/a/me/proj/mnist:v0", ["show", "mnist:v0"]),
    ("/a/me/proj/mnist:best", ["show", "mnist:best"]),
    ("/a/me/proj/mnist:v0/history", ["history", "mnist:v0"]),
    ("/a/me/proj/cnn:v0/lineage?depth=4", ["lineage", "--depth", "4", "cnn:v0"]),
    ("/diff?old=me/proj/mnist:v0&new=me/proj/mnist:v1", ["diff", "mnist:v0", "mnist:v1"]),
])
def test_json_twins_equal_the_cli(server, page, command):
    twin = get(server, page + ("&" if "?" in page else "?") + "format=json")
    assert twin.status_code == 200 and twin.headers["content-type"].startswith("application/json")
    assert twin.json() == cli_json(server, *command)
    api = get(server, "/api" + page)
    assert api.json() == twin.json()


def test_index_lists_every_project_of_the_repository(server):
    projects = get(server, "/?format=json").json()
    assert [(p["entity"], p["project"]) for p in projects] == [("me", "proj"), ("me", "other")]
    assert projects[0]["collections"] == cli_json(server, "ls", "--here")
    assert [c["name"] for c in projects[1]["collections"]] == ["extra"]
    html = get(server, "/").text
    assert "me/other" in html and "/a/me/other/extra" in html


def test_versions_are_paged_and_sorted(server):
    r = get(server, "/a/me/proj/mnist?format=json&per_page=1&sort=version&order=desc")
    assert [v["version"] for v in r.json()] == ["v1"]
    assert r.headers["x-total-count"] == "2" and 'rel="next"' in r.headers["link"]
    r = get(server, "/a/me/proj/mnist?format=json&per_page=1&page=2&sort=version&order=desc")
    assert [v["version"] for v in r.json()] == ["v0"] and 'rel="prev"' in r.headers["link"]
    every = cli_json(server, "versions", "mnist")
    for key, field in (("size", "size"), ("files", "file_count"), ("created", "created_at")):
        for order in ("asc", "desc"):
            got = get(server, f"/a/me/proj/mnist?format=json&sort={key}&order={order}").json()
            want = sorted(every, key=lambda v: (v[field], int(v["version"][1:])), reverse=order == "desc")
            assert got == want, (key, order)
    assert get(server, "/a/me/proj/mnist?page=3&per_page=1").status_code == 400
    assert get(server, "/a/me/proj/mnist?sort=nonsense").status_code == 400


def test_folder_listing_is_one_folder(server):
    root = get(server, "/a/me/proj/mnist:v0/tree?format=json").json()
    assert root["folders"] == ["sub"] and "a.txt" in [f["path"] for f in root["files"]]
    sub = get(server, "/a/me/proj/mnist:v0/tree?format=json&path=sub").json()
    assert sub["folders"] == ["deep"] and [f["path"] for f in sub["files"]] == ["sub/b.txt"]
    paged = get(server, "/a/me/proj/mnist:v0/tree?format=json&per_page=2&page=2").json()
    assert paged["page"] == 2 and len(paged["files"]) == 2


def test_untrusted_strings_are_escaped(server):
    html = get(server, "/a/me/proj/mnist:v0").text
    assert "<script>alert" not in html and "<img src=x" not in html and "<iframe src=javascript" not in html
    assert "&lt;script&gt;alert(&#39;description&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(&#39;alias&#39;)&gt;" in html
    assert 'href="javascript:' not in html
    listing = get(server, "/a/me/proj/mnist:v0/tree?fragment=1").text
    assert "&lt;img src=x onerror=alert(&#39;file&#39;)&gt;.txt" in listing and "<img src=x" not in listing
    page = get(server, "/a/me/proj/mnist:v0/file/" + XSS_FILE.replace("<", "%3C").replace(">", "%3E"))
    assert page.status_code == 200 and "<img src=x" not in page.text
    twin = get(server, "/a/me/proj/mnist:v0?format=json").json()
    assert twin["description"] == XSS_TEXT and twin["metadata"] == XSS_META and XSS_ALIAS in twin["aliases"]


def test_security_headers(server):
    page = get(server, "/a/me/proj/mnist:v0")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert page.headers["x-content-type-options"] == "nosniff"
    frame = get(server, "/a/me/proj/mnist:v0/frame/page.html")
    assert frame.headers["content-security-policy"].startswith("sandbox;") and b"<script>" in frame.content
    preview = get(server, "/a/me/proj/mnist:v0/file/page.html").text
    iframe = preview.split("<iframe", 1)[1].split(">", 1)[0]
    assert 'sandbox=""' in iframe
    raw = get(server, "/a/me/proj/mnist:v0/raw/page.html?inline=1")
    assert raw.headers["content-disposition"].startswith("attachment") and raw.headers["content-type"] == "application/octet-stream"
    img = get(server, "/a/me/proj/mnist:v0/raw/img.png?inline=1")
    assert img.headers["content-type"] == "image/png" and img.content.startswith(b"\x89PNG")


def test_download_is_the_stored_bytes_and_corruption_is_refused(edit_server):
    r = get(edit_server, "/a/me/proj/mnist:v1/raw/a.txt")
    assert r.status_code == 200 and r.content == b"alpha, changed\n"
    digest = cli_json(edit_server, "show", "mnist:v1")
    entry = get(edit_server, "/a/me/proj/mnist:v1/file/sub/deep/c.txt?format=json").json()
    path = os.path.join(edit_server.root, ".artifacts")
    stored = [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if (os.path.basename(d) + f) == entry["digest"]]
    assert stored and digest
    os.chmod(stored[0], 0o644)
    with open(stored[0], "wb") as f:
        f.write(b"tampered\n")
    bad = get(edit_server, "/a/me/proj/mnist:v1/raw/sub/deep/c.txt")
    assert bad.status_code == 409 and b"tampered" not in bad.content and "corrupt" in bad.text


def test_without_the_extra_the_command_names_it(tmp_path):
    code = "import sys; sys.modules['uvicorn'] = None; from artvcs.porcelain.cli import main; sys.exit(main(['ui']))"
    p = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stderr.strip().splitlines() == ["artvcs: error: artvcs ui needs uvicorn: install the ui extra with pip install 'artvcs[ui]'"]


def test_a_non_loopback_host_warns(sample_root):
    from .conftest import Server

    s = Server(sample_root, "--host", "0.0.0.0")
    try:
        assert get(s, "/").status_code == 200
    finally:
        assert s.stop() == 0
    assert "warning: listening on 0.0.0.0, not loopback" in s.err


def test_version_starts_without_the_server():
    code = "import sys; from artvcs.porcelain.cli import main; main(['--version']); print(sorted(m for m in ('starlette', 'uvicorn', 'jinja2') if m in sys.modules))"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert p.stdout.strip().endswith("[]"), p.stdout


def test_remotes_page_says_what_is_ahead_and_behind(edit_server, tmp_path):
    url = (tmp_path / "remote").as_uri()
    assert edit_server.cli("remote", "add", "origin", url).returncode == 0
    assert edit_server.cli("push").returncode == 0
    assert get(edit_server, "/remotes?format=json").json() == cli_json(edit_server, "remote", "list")
    same = get(edit_server, "/remotes?compare=origin&format=json").json()["compare"]
    assert (same["ahead"], same["behind"], same["diverged"], same["refs"]) == (0, 0, 0, [])
    folder = os.path.join(edit_server.root, "later")
    os.makedirs(folder)
    with open(os.path.join(folder, "x.txt"), "w") as f:
        f.write("later\n")
    assert edit_server.cli("log", folder, "--name", "later", "--type", "dataset").returncode == 0
    now = get(edit_server, "/remotes?compare=origin&format=json").json()["compare"]
    ahead = {r["ref"] for r in now["refs"] if r["state"] == "ahead"}
    assert {"refs/versions/me/proj/later/v0", "refs/collections/me/proj/later"} <= ahead and now["behind"] == 0
    html = get(edit_server, "/remotes?compare=origin").text
    assert f"{now['ahead']} ahead, 0 behind" in html
    assert get(edit_server, "/remotes?compare=nowhere").status_code == 404


def test_a_reference_is_named_not_served(server):
    page = get(server, "/a/me/proj/cnn:v0/file/external.csv")
    assert page.status_code == 200 and "a reference: its bytes are not stored here" in page.text
    entry = get(server, "/a/me/proj/cnn:v0/file/external.csv?format=json").json()
    assert entry["ref"].startswith("file://") and entry["ref"] in page.text
    assert get(server, "/a/me/proj/cnn:v0/raw/external.csv").status_code == 409


def test_ctrl_c_stops_with_a_browser_connection_open(sample_root):
    from .conftest import Server

    s = Server(sample_root)
    with httpx.Client(timeout=30) as keep_alive:
        assert keep_alive.get(s.url + "/").status_code == 200
        assert s.stop() == 0  # the idle keep-alive connection does not hold the server up
    assert "artvcs ui: stopped" in s.err


def test_bidi_controls_in_names_are_shown_not_obeyed(tmp_path):
    # a name holding U+202E reads backwards after it ("Trojan Source"): a page shows the control as
    # \u202e, as the terminal does; a form field keeps the value itself, so an edit posts it back
    import artvcs
    from artvcs.plumbing.repository import init_repository

    from .conftest import Server

    root = str(tmp_path)
    init_repository(root)
    data = tmp_path / "data"
    data.mkdir()
    trojan, alias, description = "invoice\u202egpj.exe", "rev\u202eersed", "see \u2066this\u2069"
    (data / trojan).write_text("x\n")
    with artvcs.init(job_type="t", entity="me", project="proj", dir=root) as run:
        a = artvcs.Artifact("bidi", type="dataset", description=description)
        a.add_dir(str(data))
        run.log_artifact(a, aliases=[alias])
    s = Server(root, "--edit")
    try:
        listing = get(s, "/a/me/proj/bidi:v0/tree?fragment=1").text
        assert "invoice\\u202egpj.exe" in listing and "\u202e" not in listing
        page = get(s, "/a/me/proj/bidi:v0").text
        assert "rev\\u202eersed" in page and "see \\u2066this\\u2069" in page
        assert f'value="{alias}"' in page and f">{description}</textarea>" in page  # the fields: the values
        shown = page.replace(f'value="{alias}"', "").replace(f">{description}</textarea>", "")
        assert not any(c in shown for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
        token = _token(s, "bidi:v0")
        r = httpx.post(s.url + "/a/me/proj/bidi:v0/edit", data={"action": "alias-remove", "alias": alias, "csrf": token})
        assert r.status_code == 303
        assert alias not in cli_json(s, "show", "bidi:v0")["aliases"]
        assert cli_json(s, "show", "bidi:v0")["description"] == description  # JSON: the value, escaped by JSON
    finally:
        s.stop()
