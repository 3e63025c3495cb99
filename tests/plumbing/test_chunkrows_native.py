"""The C row parser of chunk lists and pack indexes (_chunkrows) against its Python loops, on the
same inputs: canonical rows, mutated ones (fuzzed), and the lists and indexes a real store writes."""
from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import chunklist, chunkpacks
from artvcs.plumbing.errors import CorruptObjectError

needs_c = pytest.mark.skipif(chunklist._native_rows is None, reason="the C row parser was not built (no compiler)")
DIGESTS = ["cd" * 32, "ef" * 32, "01" * 32, "9a" * 32]
D = "ab" * 32


def test_the_c_row_parser_is_built():
    if os.environ.get("ARTVCS_NATIVE") != "0":
        assert chunklist._native_rows is not None, "pip install -e . should have built artvcs.plumbing._chunkrows"


def _both(fn, monkeypatch):
    """``fn()``'s result or CorruptObjectError message, through C and then through Python."""
    out = []
    for native in ("1", "0"):
        monkeypatch.setenv("ARTVCS_NATIVE", native)
        try:
            out.append(("ok", fn()))
        except CorruptObjectError as e:
            out.append(("error", str(e)))
    return out


rows_st = st.lists(st.tuples(st.sampled_from(DIGESTS + [D]), st.integers(1, 999_999_999)), max_size=25)


@needs_c
@settings(max_examples=400, deadline=None)
@given(rows_st, st.binary(max_size=20), st.integers(0, 600), st.binary(max_size=4), st.integers(-1, 1),
       st.sampled_from([1, 1 << 20, chunklist.MAX_CHUNK, 999_999_999]), st.sampled_from([None, D, "cd" * 32, "short"]))
def test_rows_in_c_and_python_agree(rows, prefix, cut, junk, miscount, max_size, exclude):
    body = "".join(f"{d} {n}\n" for d, n in rows).encode()
    mutated = body[:cut] + junk + body[cut + len(junk):]
    count = max(len(rows) + miscount, 0)
    for data in (prefix + body, prefix + mutated):
        c = chunklist._native_rows(data, len(prefix), count, max_size, exclude)
        py = chunklist.rows_python(data, len(prefix), count, max_size, exclude)
        assert c == py
        assert chunklist._chunkrows.check(data, len(prefix), count, max_size, exclude) == (c and c[1])
        if c is not None:
            assert b"".join(f"{d} {n}\n".encode() for d, n in c[0]) == data[len(prefix):]
            assert c[1] == sum(n for _, n in c[0]) and all(n <= max_size and d != exclude for d, n in c[0])


@needs_c
@settings(max_examples=400, deadline=None)
@given(rows_st, st.binary(max_size=20), st.integers(0, 600), st.binary(max_size=4), st.integers(-1, 1),
       st.sampled_from([1, 1 << 20, 999_999_999]), st.sampled_from([None, D]))
def test_starts_are_where_the_python_rows_begin_and_the_sizes_before_them(rows, prefix, cut, junk, miscount,
                                                                          max_size, exclude):
    """starts() answers where rows() does, with row i's start in the data and the sum of the sizes
    of rows 0..i-1 as int64 pairs: what the text walk looks a pack's rows up by (chunkruns)."""
    body = "".join(f"{d} {n}\n" for d, n in rows).encode()
    mutated = body[:cut] + junk + body[cut + len(junk):]
    count = max(len(rows) + miscount, 0)
    for data in (prefix + body, prefix + mutated):
        py = chunklist.rows_python(data, len(prefix), count, max_size, exclude)
        got = chunklist._chunkrows.starts(data, len(prefix), count, max_size, exclude)
        if py is None:
            assert got is None
            continue
        table, total = got
        expect, at, before = [], len(prefix), 0
        for d, n in py[0]:
            expect += [at, before]
            at, before = at + len(f"{d} {n}\n"), before + n
        assert list(memoryview(table).cast("q")) == expect and total == py[1]


@needs_c
@settings(max_examples=200, deadline=None)
@given(rows_st, rows_st, st.integers(0, 30), st.integers(0, 30), st.binary(max_size=3), st.integers(0, 2000))
def test_common_walks_the_rows_as_python_does(a_rows, b_rows, i, j, junk, cut):
    a = "".join(f"{d} {n}\n" for d, n in a_rows).encode()
    b = "".join(f"{d} {n}\n" for d, n in b_rows).encode()
    b = b[:cut] + junk + b[cut + len(junk):]
    starts = [0]
    for d, n in a_rows:
        starts.append(starts[-1] + len(f"{d} {n}\n"))
    pb = min(j * 70, len(b))
    k, end, nbytes = chunklist._chunkrows.common(a, starts[min(i, len(a_rows))], b, pb)
    from_a = a_rows[min(i, len(a_rows)):]
    expect = 0
    while expect < len(from_a):
        row = f"{from_a[expect][0]} {from_a[expect][1]}\n".encode()
        at = pb + sum(len(f"{d} {n}\n") for d, n in from_a[:expect])
        if b[at:at + len(row)] != row:
            break
        expect += 1
    assert k == expect and nbytes == sum(n for _, n in from_a[:k])
    assert end == starts[min(i, len(a_rows)) + k]


@needs_c
def test_rows_refuses_what_python_refuses():
    row = b"cd" * 32 + b" 5\n"
    for bad in (row.upper(), row.replace(b" 5", b" 05"), row.replace(b" 5", b" 0"), row.replace(b" ", b"  "),
                row.replace(b"\n", b"\r\n"), row[:-1], row + b"x", row.replace(b" 5", b" 1234567890"),
                row.replace(b"c", b"\xe9", 1), row.replace(b" 5", b" -5"), row.replace(b" 5", b" +5")):
        assert chunklist._native_rows(bad, 0, 1, 999_999_999, None) is None
        assert chunklist.rows_python(bad, 0, 1, 999_999_999, None) is None
    assert chunklist._native_rows(row, 0, 1, 4, None) is None  # above max_size
    assert chunklist._native_rows(row, 0, 1, 5, "cd" * 32) is None  # the excluded digest
    assert chunklist._native_rows(row, 0, 1, 5, None) == ([("cd" * 32, 5)], 5)
    assert chunklist._native_rows(b"", 0, 0, 5, None) == ([], 0)
    with pytest.raises(ValueError):
        chunklist._native_rows(row, len(row) + 1, 1, 5, None)
    with pytest.raises(ValueError):
        chunklist._native_rows(row, 0, -1, 5, None)
    with pytest.raises(TypeError):
        chunklist._native_rows(row, 0, 1, 5, b"cd")


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(DIGESTS), st.integers(1, 1 << 20)), min_size=1, max_size=30),
       st.integers(0, 300), st.binary(max_size=3), st.sampled_from([None, 0, 1, -1]))
def test_parse_through_c_and_python_agree_on_mutated_lists(chunks, cut, junk, size_off):
    total = sum(n for _, n in chunks)
    good = chunklist.ChunkList(D, total, tuple(chunks)).encode()
    mutated = good[:cut] + junk + good[cut + len(junk):]
    size = None if size_off is None else total + size_off
    with pytest.MonkeyPatch.context() as mp:
        for data in (good, mutated):
            a, b = _both(lambda: chunklist.parse(data, D, size), mp)
            assert a == b


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(DIGESTS), st.integers(1, 1 << 20)), min_size=1, max_size=30),
       st.integers(0, 300), st.binary(max_size=3), st.booleans())
def test_parse_idx_through_c_and_python_agree_on_mutated_indexes(rows, cut, junk, rename):
    good = chunkpacks.encode_idx(rows)
    mutated = good[:cut] + junk + good[cut + len(junk):]
    with pytest.MonkeyPatch.context() as mp:
        for data in (good, mutated):
            name = chunkpacks.idx_name(data) if rename else chunkpacks.idx_name(good)
            a, b = _both(lambda: chunkpacks.parse_idx(data, name), mp)
            assert a == b


@needs_c
@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.tuples(st.sampled_from(DIGESTS + ["77" * 32, "88" * 32]), st.integers(1, 1 << 24)),
                         max_size=12), min_size=1, max_size=4))
def test_places_in_c_and_python_agree(packs):
    """A chunk twice in a pack is at its first row; a chunk in two packs is in the first added."""
    got = []
    for native in ("1", "0"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("ARTVCS_NATIVE", native)
            where = chunkpacks.ChunkPlaces()
            for k, rows in enumerate(packs):
                where.add(f"{k:040x}", list(rows))
            got.append((where._pack, where._rows, [(d, where.get(d)) for d in where]))
    assert got[0] == got[1]


@needs_c
def test_places_refuses_rows_of_the_wrong_shape():
    for bad in ([("cd" * 32,)], [["cd" * 32, 1]], [(b"cd", 1)], [("cd" * 32, "1")], [("cd" * 32, 1 << 70)]):
        with pytest.raises((TypeError, OverflowError)):
            chunklist._native_places(bad, "p" * 40, {})


@needs_c
def test_a_real_store_reads_the_same_through_c_and_python(repo, tmp_path, monkeypatch):
    from test_chunks import _data, _put

    d = _put(repo, tmp_path, _data(12 << 20))
    with open(repo.store.list_path(d), "rb") as f:
        raw = f.read()
    a, b = _both(lambda: chunklist.parse(raw, d), monkeypatch)
    assert a == b and a[0] == "ok" and a[1].encode() == raw
    folder = chunkpacks.folder_of(repo.gitdir)
    for n in os.listdir(folder):
        if n.endswith(".idx"):
            with open(os.path.join(folder, n), "rb") as f:
                idx = f.read()
            a, b = _both(lambda: chunkpacks.parse_idx(idx, n[:-4]), monkeypatch)
            assert a == b and a[0] == "ok" and chunkpacks.encode_idx(a[1]) == idx


@needs_c
@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, (1 << 32) - 1), max_size=40), st.booleans())
def test_the_fanout_check_in_c_and_python_agree(numbers, sort):
    from array import array

    from artvcs.plumbing import chunkmidx

    fan = array("I", sorted(numbers) if sort else numbers)
    got = []
    for native in ("1", "0"):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("ARTVCS_NATIVE", native)
            got.append(chunkmidx._ascending(fan))
    assert got[0] == got[1] == (list(fan) == sorted(fan))
    with pytest.raises(ValueError):
        chunklist._chunkrows.ascending_u32(b"abc")
