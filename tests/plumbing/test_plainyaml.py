"""plainyaml writes exactly what PyYAML's safe_dump writes for the mappings it takes (and None for
the rest), and what it writes reads back as the mapping; config.save keeps that parse for the
bytes written, so the next reader (a status, a re-log) needs no YAML parser."""
from __future__ import annotations

import os

import yaml
from hypothesis import given, settings, strategies as st

from artvcs.plumbing import config, plainyaml
from artvcs.plumbing.statcache import StatCache

# PyYAML's special words and shapes (numbers, bools, null, dates, indicators), and ordinary names
SPECIAL = ["yes", "No", "on", "OFF", "y", "n", "null", "NULL", "~", "-", "--", "---", "---x", "...", "...a", ".",
           "1", "0", "00", "017", "019", "08", "1_0", "_1", "0x1f", "0xZ", "0b101", "0b2", "1.5", "1.", ".5", "1e5",
           "1.0e+5", "1.0e5", ".inf", "-.inf", ".NaN", "-1", "+1", "2024-01-01", "2024-1-1", "20240101", "v3",
           "data/", "a/b.c", "bench/bench/data", "e" * 64, "1" * 40, "x" * 99, "x" * 100, "<<", "="]
NAMES = [s for s in SPECIAL if plainyaml._SAFE.match(s) and len(s) < plainyaml.MAX_KEY]  # the characters of names
names = st.one_of(st.sampled_from(SPECIAL), st.text(alphabet="ab09_./-eEx+ :#'\"é\n", min_size=0, max_size=12))
values = st.recursive(names, lambda inner: st.dictionaries(names, inner, max_size=3), max_leaves=12)
anything = st.one_of(values, st.integers(), st.none(), st.booleans(), st.lists(names, max_size=2))
mappings = st.dictionaries(names, st.one_of(values, anything), max_size=4)


def _safe_dump(data) -> str:
    return yaml.safe_dump(data, sort_keys=True, default_flow_style=False)


@settings(max_examples=600, deadline=None)
@given(mappings)
def test_plainyaml_writes_what_pyyaml_writes(data):
    text = plainyaml.dump(data)
    if text is not None:
        assert text == _safe_dump(data)
        assert yaml.safe_load(config.HEADER + text) == data


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["pins", "tracked"]), st.dictionaries(
    st.sampled_from(NAMES + ["models/model.pt", "data/"]),
    st.dictionaries(st.sampled_from(["name", "version", "digest", "commit", "type"]), st.sampled_from(NAMES)))))
def test_the_lock_files_shape_is_always_written_plainly(data):
    """Names of the characters artvcs gives names, paths and digests are all written without PyYAML."""
    assert plainyaml.dump(data) == _safe_dump(data)


def test_what_it_leaves_to_pyyaml():
    for data in ({"a": 1}, {"a": None}, {"a": [1]}, {"a": "two words"}, {"a": "é"}, {"a": ""}, {1: "a"},
                 {"x" * 100: "a"}, {"a": {"b": True}}, ["a"]):
        assert plainyaml.dump(data) is None, data
    assert plainyaml.dump({}) == _safe_dump({}) == "{}\n"
    assert plainyaml.dump({"pins": {}}) == _safe_dump({"pins": {}}) == "pins: {}\n"


def test_save_keeps_the_parse_of_what_it_wrote(tmp_path):
    """config.save's kept parse is used by the next config.load, which then imports no YAML parser
    (checked in a fresh interpreter); a mapping PyYAML writes is written and parsed as before."""
    cache = StatCache(str(tmp_path / "cache" / "stat.db"))
    lock = str(tmp_path / "artvcs.lock")
    data = {"pins": {"data/": {"name": "bench/bench/data", "version": "v3", "digest": "0" * 64, "commit": "1e5" + "0" * 37}}}
    config.save(lock, data, "# a header\n", cache)
    with open(lock, encoding="utf-8") as f:
        text = f.read()
    assert text == "# a header\n" + _safe_dump(data) and yaml.safe_load(text) == data
    cache.close()
    code = ("import sys\nfrom artvcs.plumbing import config\nfrom artvcs.plumbing.statcache import StatCache\n"
            f"value = config.load({lock!r}, StatCache({str(tmp_path / 'cache' / 'stat.db')!r}))\n"
            "print(value == " + repr(data) + ", 'yaml' in sys.modules)")
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]
    other = str(tmp_path / "other.yaml")
    config.save(other, {"ttl": 5, "name": "two words"})
    assert config.load(other) == {"ttl": 5, "name": "two words"}
    assert not [n for n in os.listdir(tmp_path) if ".tmp-" in n]
