"""Hypothesis: what the web view parses from stored content and from requests yields a page or a
clear 4xx, never a traceback (a 500) or a hang."""
from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from artvcs.porcelain.ui.preview import HEAD, preview

EXTENSIONS = ["", ".txt", ".json", ".csv", ".tsv", ".html", ".png", ".wav", ".bin", ".table.json", ".image-file.json"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(EXTENSIONS), st.binary(max_size=2048) | st.text(max_size=2048).map(str.encode))
def test_preview_of_any_bytes(ext, data):
    p = preview("x/f" + ext, data, len(data))
    assert p.kind in ("media", "image", "audio", "video", "html", "json", "csv", "text", "binary")
    if p.text is not None:
        assert isinstance(p.text, str) and len(p.text) <= HEAD


SEGMENT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=30) as c:
        yield c


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SEGMENT, SEGMENT, st.sampled_from(["", "/tree", "/history", "/lineage", "/file/a.txt", "/raw/a.txt"]), SEGMENT, SEGMENT, SEGMENT)
@example("0/", "", "", "", "", "")  # found by hypothesis: Starlette redirects a path ending in "/"
def test_any_request_is_a_page_or_a_clear_refusal(server, http, ref, path, tail, listing, page, depth):
    r = http.get(f"{server.url}/a/me/proj/{quote(ref, safe='')}{tail}",
                 params={"path": path, "listing": listing, "page": page, "depth": depth, "sort": page})
    if r.status_code == 307:  # a path ending in "/" (a ref may end in an encoded one): the same path without it
        sent = r.request.url
        assert sent.raw_path.split(b"?")[0].endswith((b"/", b"%2F")), (ref, tail, str(sent))
        assert r.headers["location"].startswith(f"{server.url}/a/me/proj/"), r.headers["location"]
        assert not r.headers["location"].split("?")[0].endswith("/"), r.headers["location"]
        return
    assert r.status_code in (200, 400, 404), (ref, tail, path, listing, page, r.status_code, r.text[:200])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300), st.sampled_from(["application/x-www-form-urlencoded", "text/plain", ""]))
def test_any_edit_body_is_refused_never_a_crash(edit_server, http, body, ctype):
    """Without the page's CSRF token nothing is applied, whatever the body."""
    r = http.post(f"{edit_server.url}/a/me/proj/mnist:v1/edit", content=body, headers={"content-type": ctype})
    assert r.status_code in (400, 403, 413, 415), (body, r.status_code, r.text[:200])
