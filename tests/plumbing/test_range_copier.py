"""copyhash.RangeCopier: ranges whose source and target offsets differ in page phase are spliced in
rounds aligned on the target (a chunked file's runs); every range must come out exactly as
copy_range copies it, including a source that ends first and a splice refused midway."""
from __future__ import annotations

import errno
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing import copyhash

SIZE = 3 * 1024 * 1024 + 777
SOURCE = os.urandom(SIZE)


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("src") / "pack"
    path.write_bytes(SOURCE)
    fd = os.open(path, os.O_RDONLY)
    yield fd
    os.close(fd)


def _copy(source_fd: int, folder, src_off: int, dst_off: int, n: int, copier) -> tuple[int, bytes]:
    path = os.path.join(folder, f"t-{src_off}-{dst_off}-{n}")
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        done = copier.copy(source_fd, fd, n, src_off, dst_off)
    finally:
        os.close(fd)
    with open(path, "rb") as f:
        data = f.read()
    os.unlink(path)
    return done, data


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 70_000), st.integers(0, 700_000), st.integers(0, SIZE))
def test_every_page_phase_is_copied_exactly(source, tmp_path_factory, src_off, dst_off, n):
    folder = tmp_path_factory.mktemp("dst", numbered=True)
    with copyhash.RangeCopier() as copier:
        assert copier._pipe is not None, "splice and a pipe are at hand on Linux: the spliced rounds are what is tested"
        done, data = _copy(source, folder, src_off, dst_off, n, copier)
    want = SOURCE[src_off:src_off + n]
    assert done == len(want)  # fewer only where the source ends first
    assert data == b"\0" * dst_off + want if want else data == b""


def test_rounds_on_both_sides_of_several_align_boundaries(source, tmp_path):
    """Heads shorter and longer than the range, whole rounds, and a last partial round, in one copier."""
    A, R = copyhash.ALIGN, None
    cases = [(1000, 0, 5 * A + 17), (1, A - 3, 2), (4095, 3 * A + 1, 2 * A), (123, 4096, SIZE), (0, 4096, A + 5)]
    with copyhash.RangeCopier() as copier:
        R = copier._round
        assert R >= A and R % A == 0
        for src_off, dst_off, n in cases:
            done, data = _copy(source, tmp_path, src_off, dst_off, n, copier)
            want = SOURCE[src_off:src_off + n]
            assert done == len(want) and data[dst_off:] == want and data[:dst_off] == b"\0" * dst_off


def test_a_splice_refused_midway_finishes_the_plain_way(source, tmp_path, monkeypatch):
    """A file system that refuses splice into the target (EINVAL) after a round was read into the pipe:
    the bytes in the pipe are dropped, the rest is copied from where the target stands, and later
    ranges go the plain way."""
    real, calls = os.splice, []

    def refusing(src, dst, count, *args, **kwargs):
        calls.append(count)
        if len(calls) == 4:  # the second round's splice into the target
            raise OSError(errno.EINVAL, "refused")
        return real(src, dst, count, *args, **kwargs)

    monkeypatch.setattr(os, "splice", refusing)
    copier = copyhash.RangeCopier()
    try:
        done, data = _copy(source, tmp_path, 1000, 0, 3 * copier._round, copier)
        assert len(calls) == 4 and copier._pipe is None
        assert done == 3 * copier._round and data == SOURCE[1000:1000 + done]
        done, data = _copy(source, tmp_path, 5, 7, 100_000, copier)
        assert len(calls) == 4 and data == b"\0" * 7 + SOURCE[5:100_005]
    finally:
        copier.close()


def test_an_error_other_than_refusal_is_raised(source, tmp_path):
    fd = os.open(tmp_path / "ro", os.O_RDONLY | os.O_CREAT, 0o644)  # a target not open for writing
    try:
        with copyhash.RangeCopier() as copier, pytest.raises(OSError) as e:
            copier.copy(source, fd, 3 * copyhash.ALIGN, 1000, 0)
        assert e.value.errno == errno.EBADF
    finally:
        os.close(fd)
