"""The stat-cache walk of a whole tree (scan.tree, for foldersums): the C walk and the Python walk
give the same answers on the same real folders and rows.

Odd names (non-UTF-8 bytes, names that sort differently as bytes and as text), nested and
empty folders, symbolic links (to files and to folders), a fifo, files changed after they
were recorded, racily clean files, a folder the cache has no row for, damaged rows, and a
tree the walk's threads share: each answer is compared, and checked against what it must be.
"""
from __future__ import annotations

import os
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.plumbing import scan as scanmod
from artvcs.plumbing.statcache import RACY_NS, StatCache

native = scanmod._native_tree
pytestmark = pytest.mark.skipif(native is None, reason="the C loop was not built (no compiler)")

# names whose byte order and text order differ: U+FFFD sorts after the surrogate escape of \xff as
# text, before it as bytes; "a\x01" after "a" both ways
NAMES = ["plain.bin", "ünï cödé.txt", "new\nline", "a", "a\x01", "\ufffd", os.fsdecode(b"\xff raw"),
         os.fsdecode(b"\xed\xa0\x80 encoded surrogate"), os.fsdecode(b"\xe2\x82 cut short"), "x" * 200]


def both(root, rows):
    """The Python answer, after checking that the C one is the same."""
    py = scanmod.tree_python(str(root), rows)
    assert native(str(root), rows) == py
    return py


def make_tree(root, folders=("", "sub", "sub/deep", "sub/ünï")):
    paths = []
    for f in folders:
        for i, n in enumerate(NAMES):
            p = os.path.join(str(root), f, n)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as fh:
                fh.write(bytes([i]) * (i + 1))
            paths.append(p)
    return paths


def record(cache, paths, hashed_ns=None):
    for p in paths:
        cache.record(p, os.lstat(p), f"{len(os.path.basename(p)):064x}", hashed_ns or time.time_ns() + 2 * RACY_NS)
    cache.flush()


@pytest.fixture
def setup(tmp_path):
    root = tmp_path / "root"
    paths = make_tree(root)
    cache = StatCache(str(tmp_path / "stat.db"))
    record(cache, paths)
    yield root, cache, paths
    cache.close()


def test_a_vouched_tree_gives_every_folders_lines(setup):
    root, cache, paths = setup
    (root / "sub" / "empty").mkdir()
    got = both(root, dict(cache.rows_below(str(root))))
    assert sorted(got) == ["", "sub", "sub/deep", "sub/ünï"], "empty folders give no lines"
    want = sorted(NAMES)  # text order, as foldersums sorts the entries' names
    assert got["sub"] == b"\n".join(n.encode("utf-8", "surrogatepass") + b"\0" + f"{len(n):064x}".encode()
                                    for n in want)


@pytest.mark.parametrize("spoil", ["changed", "link", "dir link", "fifo", "unknown file", "no row", "damaged row",
                                   "racy", "gone root", "root is a file"])
def test_anything_not_vouched_for_cannot_tell(setup, spoil):
    root, cache, paths = setup
    rows = dict(cache.rows_below(str(root)))
    deep = root / "sub" / "deep"
    if spoil == "changed":
        time.sleep(0.01)
        (deep / "plain.bin").write_bytes(b"other")
    elif spoil == "link":
        (deep / "l").symlink_to("plain.bin")
    elif spoil == "dir link":
        (deep / "l").symlink_to(str(root / "sub"))
    elif spoil == "fifo":
        os.mkfifo(deep / "f")
    elif spoil == "unknown file":
        (deep / "new").write_bytes(b"n")
    elif spoil == "no row":
        del rows[str(deep)]
    elif spoil == "damaged row":
        rows[str(deep)] = rows[str(deep)][:-3]
    elif spoil == "racy":
        cache.close()
        cache = StatCache(str(root.parent / "racy.db"))
        record(cache, paths, hashed_ns=time.time_ns())  # hashed within the racy window of its stamps
        rows = dict(cache.rows_below(str(root)))
    elif spoil == "gone root":
        root = root.parent / "nothing"
    elif spoil == "root is a file":
        root = deep / "plain.bin"
    assert both(root, rows) is None


def test_a_wide_tree_shared_by_the_threads(tmp_path):
    root = tmp_path / "wide"
    paths = []
    for i in range(60):
        for j in range(5):
            p = root / f"f{i % 7}" / f"g{i}" / f"h{j}.bin"
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(bytes([i, j]))
            paths.append(str(p))
    cache = StatCache(str(tmp_path / "stat.db"))
    record(cache, paths)
    rows = dict(cache.rows_below(str(root)))
    got = both(root, rows)
    assert len(got) == 60 and all(text.count(b"\n") == 4 for text in got.values())
    os.unlink(paths[-1])  # a folder one file short still gives lines (the sums tell it apart)
    assert both(root, rows)[os.path.relpath(os.path.dirname(paths[-1]), root)].count(b"\n") == 3
    os.symlink("/", os.path.join(os.path.dirname(paths[0]), "escape"))
    assert both(root, rows) is None
    cache.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b and b"/" not in b
                                                          and b not in (b".", b"..")), min_size=1, max_size=12,
                unique=True))
def test_any_names_give_the_same_answer(tmp_path, names):
    root = tmp_path / os.urandom(6).hex()
    root.mkdir()
    paths = []
    for n in names:
        p = os.path.join(os.fsencode(str(root)), n)
        with open(p, "wb") as fh:
            fh.write(n)
        paths.append(os.fsdecode(p))
    cache = StatCache(str(root) + ".db")
    record(cache, paths)
    got = both(root, dict(cache.rows_below(str(root))))
    assert got is not None and got[""].count(b"\0") == len(names)
    cache.close()
