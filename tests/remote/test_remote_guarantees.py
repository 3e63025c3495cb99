"""artvcs(1)'s table of what each backend guarantees is the table the code holds, and remote add's caveats."""
from __future__ import annotations

import os

from artvcs.plumbing.remote.guarantees import TABLE, caveat
from artvcs.plumbing.remote.layout import SCHEMES

MAN = os.path.join(os.path.dirname(__file__), "..", "..", "man", "artvcs.1")


def test_the_man_page_table_is_the_code_table():
    text = open(MAN, encoding="utf-8").read().replace("\\-", "-")
    section = text[text.index(".SH REMOTES"):text.index(".SH NAMES")]
    block = section[section.index(".nf\n") + 4:section.index(".fi\n")].splitlines()
    expected = [("backend", "create-only", "compare-and-swap", "atomic")] + [(g.scheme, g.create, g.swap, g.atomic) for g in TABLE]
    assert block == [f"{a:<8}{b:<21}{c:<21}{d}".rstrip() for a, b, c, d in expected]
    assert {g.scheme for g in TABLE} == {f"{s}://" for s in SCHEMES} - {"gcs://", "abfs://"}  # every scheme, once


def test_caveat_only_where_artvcs_cannot_vouch_for_the_server():
    assert caveat("s3", {}) is None and caveat("az", {}) is None and caveat("file", {}) is None and caveat("gs", {}) is None
    line = caveat("s3", {"endpoint_url": "http://127.0.0.1:9000"})
    assert "http://127.0.0.1:9000" in line and "If-None-Match" in line and "\n" not in line
    assert "ifGenerationMatch" in caveat("gs", {"endpoint_url": "http://127.0.0.1:4443"})
