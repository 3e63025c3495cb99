"""Runs found from the texts of a list and its pack indexes (chunkruns, in C) against the parsed walk
(chunkstore._runs) on the same stores; and every case it must leave to the parsed walk (None)."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.plumbing import chunking, chunkmidx, chunkpacks, chunkruns, chunkstore
from artvcs.plumbing.errors import CorruptObjectError, ObjectMissingError

from test_chunks import _data, _put

MiB = 1 << 20
needs_c = pytest.mark.skipif(not chunkruns.available(), reason="the C row parser was not built, or ARTVCS_NATIVE=0")


def _both(repo, digest):
    """``(text_runs's answer, (size, runs) from the parsed list)`` for ``digest``."""
    raw = chunkruns.list_bytes(repo.store.list_path(digest))
    packs = chunkstore.local_packs(repo.store)
    try:
        text = chunkruns.text_runs(packs, raw, digest)
        lst = chunkstore.read_list(repo.store, digest)
        return text, (lst.size, list(chunkstore._runs(packs, lst)))
    finally:
        packs.close()


def _fold(repo):
    """Fold every pack into the multi-pack index (as a reader does once FOLD_AT are outside it)."""
    folder = chunkpacks.folder_of(repo.gitdir)
    chunkmidx.remove(folder)
    chunkstore.local_packs(repo.store).close()  # no index: rebuilt over every pack on close
    assert os.path.exists(os.path.join(folder, chunkmidx.FILENAME))


def _small_packs(monkeypatch):
    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 * MiB)
    monkeypatch.setattr(chunking, "BLOCK", 1 * MiB)


@needs_c
def test_text_runs_are_the_parsed_runs_of_a_fresh_file_and_of_a_second_version(repo, tmp_path, monkeypatch):
    _small_packs(monkeypatch)
    v1 = _data(8 * MiB)
    d1 = _put(repo, tmp_path, v1)
    v2 = v1[: 2 * MiB] + _data(1 * MiB, 5) + v1[3 * MiB: 6 * MiB] + _data(3000, 6) + v1[6 * MiB:]
    d2 = _put(repo, tmp_path, v2)
    _fold(repo)
    for d, size in ((d1, len(v1)), (d2, len(v2))):
        text, parsed = _both(repo, d)
        assert text is not None and text == parsed and text[0] == size
        assert len(text[1]) >= 4 and text[1][0][3] == 0
    out = tmp_path / "out.bin"
    chunkstore.place_chunked(repo.store, d2, str(out), str(tmp_path / ".tmp-out"))
    assert out.read_bytes() == v2


@needs_c
def test_a_file_of_a_few_chunks(repo, tmp_path):
    d = _put(repo, tmp_path, _data(5 * MiB, 9))
    _fold(repo)
    text, parsed = _both(repo, d)
    assert text == parsed and text is not None


@needs_c
@pytest.mark.parametrize("order", ["reversed", "scattered"])
def test_runs_met_in_any_order_in_their_packs_are_the_parsed_runs(repo, tmp_path, order):
    """A file made of another's pieces in reverse or shuffled order: its runs go back and forth in
    the same packs (each looked up by its row number, not walked to), and are the parsed walk's."""
    import random

    v1 = _data(8 * MiB, 11)
    d1 = _put(repo, tmp_path, v1)
    pieces = [v1[k:k + 256 * 1024] for k in range(0, len(v1), 256 * 1024)]
    if order == "reversed":
        pieces.reverse()
    else:
        random.Random(3).shuffle(pieces)
    v2 = b"".join(pieces)
    d2 = _put(repo, tmp_path, v2, "other.bin")
    _fold(repo)
    text, parsed = _both(repo, d2)
    assert text is not None and text == parsed and text[0] == len(v2)
    (first,) = {p for p, _, _, _ in _both(repo, d1)[0][1]}  # (v1 is in one pack; v2's new chunks in another)
    met = [offset for p, offset, _, _ in text[1] if p == first]
    assert sum(b < a for a, b in zip(met, met[1:])) >= 8  # the walk went back in that pack's rows, many times
    out = tmp_path / "out.bin"
    chunkstore.place_chunked(repo.store, d2, str(out), str(tmp_path / ".tmp-out"))
    assert out.read_bytes() == v2


def _corrupt(repo, digest, how):
    folder = chunkpacks.folder_of(repo.gitdir)
    lst = chunkstore.read_list(repo.store, digest)
    if how == "packs outside the multi-pack index":
        chunkmidx.remove(folder)
        open(os.path.join(folder, chunkmidx.FILENAME), "wb").close()  # an empty one: ignored, every pack read
    elif how == "a pack index that is not its name's":
        idx = next(os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".idx"))
        os.chmod(idx, 0o644)
        with open(idx, "ab") as f:
            f.write(b"x")
    elif how == "a list row of another size":
        rows = list(lst.chunks)
        i = next(k for k in range(1, len(rows)) if rows[k][1] != rows[k - 1][1])
        (a, n), (b, m) = rows[i - 1], rows[i]
        rows[i - 1], rows[i] = (a, m), (b, n)
        _rewrite_list(repo, digest, lst.size, rows)
    elif how == "a chunk in no pack":
        rows = list(lst.chunks)
        rows[len(rows) // 2] = ("0" * 64, rows[len(rows) // 2][1])
        _rewrite_list(repo, digest, lst.size, rows)
    elif how == "a multi-pack index naming the wrong row":
        packs = {n: r for n, r in chunkstore.local_packs(repo.store).packs.items()}
        name = sorted(packs)[0]
        shuffled = packs[name][1:] + packs[name][:1]  # every chunk of this pack one row off
        chunkmidx.write(folder, chunkmidx.encode([(name, shuffled)] + [(n, r) for n, r in sorted(packs.items()) if n != name]))
    else:
        raise AssertionError(how)


def _rewrite_list(repo, digest, size, rows):
    from artvcs.plumbing import chunklist

    path = repo.store.list_path(digest)
    os.chmod(path, 0o644)
    with open(path, "wb") as f:
        f.write(chunklist.ChunkList(digest, size, tuple(rows)).encode())


@needs_c
@pytest.mark.parametrize("how", ["packs outside the multi-pack index", "a pack index that is not its name's",
                                 "a list row of another size", "a chunk in no pack",
                                 "a multi-pack index naming the wrong row"])
def test_anything_amiss_is_left_to_the_parsed_walk_which_names_it(repo, tmp_path, monkeypatch, how):
    _small_packs(monkeypatch)
    data = _data(6 * MiB, 3)
    d = _put(repo, tmp_path, data)
    _fold(repo)
    assert _both(repo, d)[0] is not None
    _corrupt(repo, d, how)
    raw = chunkruns.list_bytes(repo.store.list_path(d))
    packs = chunkstore.local_packs(repo.store)
    try:
        assert chunkruns.text_runs(packs, raw, d) is None
    finally:
        packs.close()
    out, tmp = tmp_path / "out.bin", tmp_path / ".tmp-out"
    if how.startswith("a list row") or how.startswith("a chunk in no pack") or how.startswith("a pack index"):
        with pytest.raises((CorruptObjectError, ObjectMissingError), match=f"content {d}: chunk \\d+ of"):
            chunkstore.place_chunked(repo.store, d, str(out), str(tmp))
        assert not out.exists() and not tmp.exists()
    else:  # the parsed walk reads the pack indexes themselves: the file comes out whole
        # (a damaged pack index's chunks count as absent: named missing above)
        chunkstore.place_chunked(repo.store, d, str(out), str(tmp))
        assert out.read_bytes() == data


@needs_c
def test_with_the_c_module_turned_off_the_parsed_walk_runs(repo, tmp_path, monkeypatch):
    d = _put(repo, tmp_path, _data(5 * MiB, 4))
    _fold(repo)
    monkeypatch.setenv("ARTVCS_NATIVE", "0")
    assert not chunkruns.available() and _both(repo, d)[0] is None


_STORE: dict = {}


@needs_c
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 1 << 30), st.binary(max_size=4), st.booleans())
def test_fuzz_mutated_lists_give_the_parsed_runs_or_none(tmp_path_factory, at, junk, insert):
    """A list mutated anywhere (a byte changed, inserted or dropped): the text walk answers exactly
    what parsing and walking the rows answers, or None; it never accepts what parse refuses."""
    if not _STORE:
        from artvcs.plumbing.repository import init_repository

        root = tmp_path_factory.mktemp("fuzzstore")
        repo = init_repository(str(root / "repo"))
        with pytest.MonkeyPatch.context() as mp:
            _small_packs(mp)
            d = _put(repo, root, _data(4 * MiB, 8))
        _fold(repo)
        _STORE.update(repo=repo, digest=d, raw=chunkruns.list_bytes(repo.store.list_path(d)))
        text, parsed = _both(repo, d)
        assert text is not None and text == parsed
    repo, d, good = _STORE["repo"], _STORE["digest"], _STORE["raw"]
    at %= len(good) + 1
    mutated = good[:at] + junk + good[at + (0 if insert else len(junk)):]
    packs = chunkstore.local_packs(repo.store)
    try:
        text = chunkruns.text_runs(packs, mutated, d)
        try:
            lst = chunkstore.parse(mutated, d)
        except CorruptObjectError:
            assert text is None
            return
        try:
            parsed = (lst.size, list(chunkstore._runs(packs, lst)))
        except (CorruptObjectError, ObjectMissingError):
            assert text is None
            return
        assert text is None or text == parsed
        if mutated == good:
            assert text == parsed
    finally:
        packs.close()


def teardown_module():
    if _STORE:
        _STORE.pop("repo").close()


@pytest.mark.parametrize("size", [0, 1, 5, 70_000])
def test_read_bounded_reads_the_file_up_to_its_limit(tmp_path, size):
    data = os.urandom(size)
    path = tmp_path / "f"
    path.write_bytes(data)
    for limit in (1, 3, 5, 6, size, size + 1, 1 << 40):
        if limit:
            assert chunkruns.read_bounded(str(path), limit) == data[:limit]
    with pytest.raises(FileNotFoundError):
        chunkruns.read_bounded(str(tmp_path / "absent"), 10)
