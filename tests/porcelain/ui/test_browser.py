"""``artvcs ui`` in a real headless Chromium: the walks a user takes, and hostile strings that must not run."""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

from .sample import JS_FILE, XSS_ALIAS, XSS_FILE, XSS_META, XSS_TEXT


def test_walk_index_to_version_tree_preview_and_diff(server, page):
    page.goto(server.url + "/")
    expect(page.locator("h2", has_text="me/proj")).to_be_visible()
    expect(page.locator("h2", has_text="me/other")).to_be_visible()
    page.get_by_role("link", name="mnist", exact=True).first.click()
    expect(page).to_have_url(re.compile(r"/a/me/proj/mnist$"))
    page.get_by_role("link", name="v0", exact=True).click()
    expect(page).to_have_url(re.compile(r"/a/me/proj/mnist:v0$"))
    expect(page.locator("h1")).to_contain_text("mnist:v0")
    # expand a folder: its listing is fetched when opened
    tree = page.locator("#tree")
    expect(tree.get_by_role("link", name="b.txt")).to_have_count(0)
    tree.locator("li.folder summary .icon").first.click()
    expect(tree.get_by_role("link", name="b.txt")).to_be_visible()
    tree.locator("li.folder li.folder summary .icon").first.click()
    expect(tree.get_by_role("link", name="c.txt")).to_be_visible()
    tree.get_by_role("link", name="b.txt").click()
    expect(page).to_have_url(re.compile(r"/file/sub/b\.txt$"))
    expect(page.locator("pre.text")).to_have_text("beta\n")
    page.go_back()
    page.locator("#tree").get_by_role("link", name="table.csv").click()
    expect(page.locator("table.table-rows thead")).to_contain_text("label")
    expect(page.locator("table.table-rows tbody tr")).to_have_count(2)
    expect(page.locator("table.table-rows tbody")).to_contain_text("dog")
    page.go_back()
    page.locator("#tree").get_by_role("link", name="tone.wav").click()
    audio = page.locator("audio")
    expect(audio).to_be_visible()
    # a function, not a string: a string predicate is eval'd, which the view's CSP (script-src 'self') forbids
    # whenever the first check fails and the page is polled
    page.wait_for_function("() => document.querySelector('audio').readyState >= 1")  # the browser read its header
    assert abs(page.evaluate("document.querySelector('audio').duration") - 0.1) < 0.01
    # the diff of v0 and v1, from v1's page
    page.goto(server.url + "/a/me/proj/mnist:v1")
    page.get_by_role("link", name="Diff with v0").click()
    expect(page.locator(".stat")).to_contain_text("+1 added")
    rows = page.locator("table.changes tbody tr")
    expect(rows.filter(has_text="new.txt")).to_have_class("added")
    expect(rows.filter(has_text="sub/b.txt")).to_have_class("removed")
    expect(rows.filter(has_text="a.txt").first).to_have_class("modified")
    expect(page.locator("section", has_text="Attributes")).to_contain_text("metadata.rows")


def test_lineage_graph_nodes_and_edges_navigate(server, page):
    page.goto(server.url + "/a/me/proj/cnn:v0/lineage?depth=3")
    svg = page.locator("svg.lineage")
    labels = sorted(svg.locator(".node text").all_text_contents())
    graph = json.loads(server.cli("lineage", "--json", "--depth", "3", "cnn:v0").stdout)
    assert labels == sorted(n["label"][:28] for n in graph["nodes"])
    assert len(labels) == 4 and {"cnn:v0", "mnist:v1"} <= set(labels) and sum(t.startswith("run ") for t in labels) == 2
    expect(svg.locator(".node.root text")).to_have_text("cnn:v0")
    assert svg.locator("a.edge").count() == len(graph["edges"])
    # follow the edge from the run that logged mnist:v1 to it
    mnist_v1 = next(n["id"] for n in graph["nodes"] if n["label"] == "mnist:v1")
    svg.locator(f'a.edge[data-to="{mnist_v1}"]').first.dispatch_event("click")
    expect(page).to_have_url(re.compile(r"/a/me/proj/mnist:v1$"))
    # and a node: mnist:v1's graph has the train run; clicking cnn:v0 goes back to it
    page.goto(server.url + "/a/me/proj/mnist:v1/lineage")
    page.locator("svg.lineage .node", has_text="cnn:v0").click()
    expect(page).to_have_url(re.compile(r"/a/me/proj/cnn:v0$"))


def test_table_rows_and_image_boxes(server, page):
    page.goto(server.url + "/a/me/proj/cnn:v0")
    page.locator("#tree").get_by_role("link", name="preds.table.json").click()
    rows = page.locator("table.table-rows tbody tr")
    expect(rows).to_have_count(50)
    expect(rows.first).to_contain_text("row-0")
    page.get_by_role("link", name="Next →").click()
    expect(rows.first).to_contain_text("row-50")
    expect(page.locator(".pager")).to_contain_text("page 2 of 3")
    page.goto(server.url + "/a/me/proj/cnn:v0/file/sample.image-file.json")
    expect(page.locator("svg.image .box text")).to_have_text("cat")
    box = page.locator("svg.image .box rect")
    assert (box.get_attribute("x"), box.get_attribute("width")) == ("4", "26")
    mask = page.locator("svg.image image.mask")
    assert mask.get_attribute("href").startswith("data:image/png;base64,")
    expect(page.locator(".preview")).to_contain_text("mask seg: cat, dog")
    # the mask's pixels: class 2 drawn where the mask has it, nothing (transparent) elsewhere
    import base64
    import io

    from PIL import Image

    png = Image.open(io.BytesIO(base64.b64decode(mask.get_attribute("href").split(",", 1)[1]))).convert("RGBA")
    assert png.getpixel((30, 20))[3] == 255 and png.getpixel((0, 0))[3] == 0


def test_hostile_strings_do_not_run(server, page):
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text))
    for path in ("/", "/a/me/proj/mnist", "/a/me/proj/mnist:v0", "/a/me/proj/mnist:v0/history",
                 "/diff?old=me/proj/mnist:v0&new=me/proj/mnist:v1", "/a/me/proj/mnist:v0/lineage"):
        page.goto(server.url + path)
        assert page.locator("a[href^='javascript:'], iframe[src^='javascript:'], script:not([src])").count() == 0
    page.goto(server.url + "/a/me/proj/mnist:v0")
    expect(page.locator(".description")).to_have_text(XSS_TEXT)
    meta = json.loads(page.locator("pre.json").inner_text())
    assert meta == XSS_META
    expect(page.locator("p.aliases")).to_contain_text(XSS_ALIAS)
    page.locator("#tree").get_by_role("link", name=JS_FILE).click()
    expect(page.locator("pre.text")).to_have_text("a file named like a URL\n")
    page.go_back()
    page.locator("#tree").get_by_role("link", name=XSS_FILE).click()
    expect(page.locator("h1.path")).to_have_text(XSS_FILE)
    expect(page.locator("pre.text")).to_have_text("hostile name\n")
    # the alias's own URL works and shows the version
    page.goto(server.url + "/a/me/proj/mnist")
    page.locator("p.aliases").get_by_role("link", name=XSS_ALIAS).click()
    expect(page.locator("h1")).to_contain_text("mnist:v0")
    # an HTML file is shown in a sandboxed frame; its script is blocked
    page.goto(server.url + "/a/me/proj/mnist:v0/file/page.html")
    frame = page.frame_locator("iframe.html-frame")
    expect(frame.locator("h1")).to_have_text("hello")
    sandbox = page.locator("iframe.html-frame").get_attribute("sandbox")
    assert sandbox == ""
    assert not page.dialogs
    assert not [c for c in console if "alert" in c and "Blocked" not in c]


def test_edit_moves_an_alias_seen_in_history(edit_server, page):
    page.goto(edit_server.url + "/a/me/proj/mnist:v0")
    page.get_by_label("alias to add").fill("prod")
    page.get_by_role("button", name="Add alias").click()
    expect(page.locator("p.aliases")).to_contain_text("prod")
    page.goto(edit_server.url + "/a/me/proj/mnist:v1")
    page.get_by_label("alias to add").fill("prod")
    page.get_by_role("button", name="Add alias").click()
    expect(page).to_have_url(re.compile(r"/a/me/proj/mnist:v1$"))
    expect(page.locator("p.aliases")).to_contain_text("prod")
    page.goto(edit_server.url + "/a/me/proj/mnist:prod")
    expect(page.locator("h1")).to_contain_text("mnist:v1")
    v0 = json.loads(edit_server.cli("history", "--json", "mnist:v0").stdout)
    v1 = json.loads(edit_server.cli("history", "--json", "mnist:v1").stdout)
    # each move once, with where it came from or went (" (from v0)", " (to v1)") after the words checked here
    assert [e["what"].split(" (")[0] for e in v0 if e.get("alias") == "prod"] == ["alias 'prod' moved to mnist:v0", "alias 'prod' moved away from mnist:v0"]
    assert [e["what"].split(" (")[0] for e in v1 if e.get("alias") == "prod"] == ["alias 'prod' moved to mnist:v1"]
    page.get_by_role("link", name="History").click()
    expect(page.locator("table")).to_contain_text("alias 'prod' moved to mnist:v1")
