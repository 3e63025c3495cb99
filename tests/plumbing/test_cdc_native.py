"""The C FastCDC cutter gives exactly pyfastcdc's cut points, so stores written with either share chunks.

Both cut the same buffers: random bytes, all-zero, periodic patterns, buffers
around the minimum, average and maximum sizes, tiny ones, a large mixed one,
and hypothesis's choices of bytes and parameters. The C extension is built by
``pip install -e .``; on a machine with a compiler it must be there.
"""
from __future__ import annotations

import os
import random
import shutil

import pyfastcdc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import chunking

native = chunking._native_cut
KiB = 1024


def pyfastcdc_lengths(buf, min_size=chunking.MIN_SIZE, avg=chunking.AVG_SIZE, max_size=chunking.MAX_SIZE,
                      nc=chunking.NORMALIZATION) -> list[int]:
    cdc = pyfastcdc.FastCDC(avg, min_size=min_size, max_size=max_size, normalized_chunking=nc)
    return [c.length for c in cdc.cut_buf(buf)]


def same(buf, min_size=chunking.MIN_SIZE, avg=chunking.AVG_SIZE, max_size=chunking.MAX_SIZE,
         nc=chunking.NORMALIZATION) -> list[int]:
    """pyfastcdc's cuts of ``buf``, after checking the C cutter gives the same."""
    want = pyfastcdc_lengths(buf, min_size, avg, max_size, nc)
    assert native(buf, min_size, avg, max_size, nc) == want
    assert sum(want) == len(buf)
    return want


def test_the_c_cutter_is_built_where_a_compiler_is(monkeypatch):
    if shutil.which("gcc") or shutil.which("cc"):
        assert native is not None, "pip install -e . should have built artvcs.plumbing._cdc"
        monkeypatch.delenv("ARTVCS_NATIVE", raising=False)
        assert chunking.native()
    monkeypatch.setenv("ARTVCS_NATIVE", "0")
    assert not chunking.native()


pytestmark_native = pytest.mark.skipif(native is None, reason="the C cutter was not built (no compiler)")


def _random(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


MIN, AVG, MAX = chunking.MIN_SIZE, chunking.AVG_SIZE, chunking.MAX_SIZE
CASES = {
    "empty": b"",
    "one byte": b"\x00",
    "tiny": _random(63, 1),
    "one under the minimum": _random(MIN - 1, 2),
    "exactly the minimum": _random(MIN, 3),
    "one over the minimum": _random(MIN + 1, 4),
    "exactly the average": _random(AVG, 5),
    "exactly the maximum": _random(MAX, 6),
    "one over the maximum": _random(MAX + 1, 7),
    "odd length": _random(3 * MAX + 7, 8),
    "random 8 MiB": _random(8 << 20, 9),
    "all zero": bytes(4 << 20),
    "all 0xff": b"\xff" * (1 << 20) + b"\x01",
    "period 2": b"\x00\x01" * (512 * KiB),
    "period 3": b"abc" * (300 * KiB),
    "period 64": _random(64, 10) * (16 * KiB),
    "period of the minimum": _random(MIN, 11) * 64,
    "period of the minimum plus one": _random(MIN + 1, 12) * 64,
    "period of the maximum": _random(MAX, 13) * 16,
    "zeros then random": bytes(MAX * 3 + 5) + _random(MAX * 5, 14),
    "random then zeros": _random(MAX * 5, 15) + bytes(MAX * 3 + 5),
    "text-like": b"".join(b"line %d: value=%d\n" % (i, i * 7919 % 1000) for i in range(200000)),
}


@pytestmark_native
@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_cuts_as_pyfastcdc(name):
    buf = CASES[name]
    cuts = same(buf)
    assert all(n <= MAX for n in cuts) and all(n >= MIN for n in cuts[:-1])


@pytestmark_native
def test_the_same_cuts_on_a_large_mixed_buffer():
    """64 MiB of random, zero and repeated stretches: the huge input, cut in one call."""
    rnd = random.Random(21)
    parts = []
    while sum(map(len, parts)) < 64 << 20:
        kind = rnd.randrange(3)
        n = rnd.randrange(1, 4 << 20)
        parts.append(rnd.randbytes(n) if kind == 0 else bytes(n) if kind == 1 else rnd.randbytes(97) * (n // 97 + 1))
    same(b"".join(parts))


@pytestmark_native
@pytest.mark.parametrize("nc", [0, 1, 2, 3])
@pytest.mark.parametrize("avg", [256, 4 * KiB, 64 * KiB, 1 << 20])
def test_the_same_cuts_with_other_parameters(avg, nc):
    buf = _random(4 << 20, avg + nc)
    same(buf, max(64, avg // 4), avg, max(1024, avg * 4), nc)
    same(memoryview(bytearray(buf))[1:], max(64, avg // 4), avg, max(1024, avg * 4), nc)


@pytestmark_native
@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3 * 4096),
       st.sampled_from([(64, 256, 1024), (100, 300, 2000), (256, 1024, 4096), (1024, 1024, 1024)]),
       st.integers(0, 3), st.integers(1, 40))
def test_the_same_cuts_on_chosen_bytes(pattern, sizes, nc, repeat):
    buf = (pattern or b"\x00") * repeat
    same(buf, *sizes, nc)


@pytestmark_native
@pytest.mark.parametrize("args", [  # (average, minimum, maximum)
    (255, 64, 1024), (8 * KiB, 32 * KiB, 128 * KiB), (32 * KiB, 8 * KiB, 16 * KiB),
    (256, 32, 1024), (32 * KiB, 8 * KiB, 32 << 20), (8 << 20, 8 * KiB, 16 << 20),
])
def test_parameters_pyfastcdc_refuses_are_refused(args):
    avg, min_size, max_size = args
    with pytest.raises(ValueError):
        pyfastcdc.FastCDC(avg, min_size=min_size, max_size=max_size)
    with pytest.raises(ValueError, match="out of range"):
        native(b"x" * 100, min_size, avg, max_size, 1)
    with pytest.raises(ValueError, match="out of range"):
        native(b"x" * 100, MIN, AVG, MAX, 4)


@pytestmark_native
def test_a_file_cut_block_by_block_is_cut_the_same_with_and_without_the_extension(tmp_path, monkeypatch):
    """iter_blocks with the C cutter and with ARTVCS_NATIVE=0 (pyfastcdc): the same chunks of a file
    longer than several blocks, including a block boundary inside a long run of zeros."""
    monkeypatch.setattr(chunking, "BLOCK", 1 << 20)
    data = _random(3 << 20, 31) + bytes((1 << 20) + 777) + _random((2 << 20) + 5, 32)
    path = tmp_path / "f"
    path.write_bytes(data)

    def cuts() -> list[tuple[int, int]]:
        out, base = [], 0
        fd = os.open(path, os.O_RDONLY)
        try:
            for _view, block_cuts in chunking.iter_blocks(fd):
                out += [(base + off, n) for off, n in block_cuts]
                if block_cuts:
                    base += block_cuts[-1][0] + block_cuts[-1][1]
        finally:
            os.close(fd)
        return out

    monkeypatch.setenv("ARTVCS_NATIVE", "1")
    with_c = cuts()
    monkeypatch.setenv("ARTVCS_NATIVE", "0")
    without = cuts()
    assert with_c == without
    lengths = pyfastcdc_lengths(data)
    assert [n for _, n in with_c] == lengths


@pytestmark_native
def test_stores_written_with_and_without_the_extension_share_every_chunk(repo, tmp_path, monkeypatch):
    """A file stored with ARTVCS_NATIVE=0 (pyfastcdc) and the same file with one region changed
    stored with the C cutter: the same list for equal bytes, and only the changed region's chunks new."""
    from artvcs.plumbing import chunkstore

    monkeypatch.setattr(chunking, "BLOCK", 1 << 20)
    data = bytearray(_random(6 << 20, 41))
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    monkeypatch.setenv("ARTVCS_NATIVE", "0")
    d1, _ = repo.store.put_file(str(path), chunked=True)
    first = chunkstore.read_list(repo.store, d1).chunks
    data[3 << 20:(3 << 20) + 4096] = _random(4096, 42)
    path.write_bytes(data)
    monkeypatch.setenv("ARTVCS_NATIVE", "1")
    d2, _ = repo.store.put_file(str(path), chunked=True)
    second = chunkstore.read_list(repo.store, d2).chunks
    assert [n for _, n in second] == pyfastcdc_lengths(bytes(data))
    assert len(set(second) - set(first)) <= 3  # the chunk the change fell in, perhaps its neighbours
    assert len(set(second) & set(first)) >= len(second) - 3
