"""A fetched chunked file's runs land in the local packs at its page phase (filler chunks), as a
logged one's do, so its checkout copies whole pages; a corrupt range still keeps what was checked."""
from __future__ import annotations

from artvcs.plumbing import chunkpacks, chunkstore
from artvcs.plumbing.remote import chunks as remote_chunks
from remote_helpers import pushed_big
from remote_helpers import random_bytes as _data

MiB = 1 << 20


def test_a_fetched_file_is_stored_in_its_page_phase_and_checks_out_whole(workspace, remote_spec, monkeypatch, tmp_path):
    url, opts = remote_spec
    monkeypatch.setattr(remote_chunks, "RANGE_BYTES", 1 * MiB)  # many reads, each a run of the file
    data = _data(6 * MiB, 21)
    _, d = pushed_big(workspace, url, opts, data)
    b = workspace.clone("b", url, opts, only=["mnist"])
    monkeypatch.setattr(chunkpacks, "PACK_BYTES", 1 * MiB)  # local packs of ~1 MiB: each starts mid-file
    remote_chunks.download(b.remote(), b.repo.store, [d])
    lst = chunkstore.read_list(b.repo.store, d)
    offsets = lst.offsets()
    packs = chunkstore.local_packs(b.repo.store)
    try:
        runs = list(chunkstore._runs(packs, lst))
    finally:
        packs.close()
    long = [(poff, offsets[first]) for _, poff, n, first in runs if n >= chunkpacks.FILL_MIN_RUN]
    assert long and all((poff - foff) % chunkpacks.PAGE == 0 for poff, foff in long)
    assert any(foff % chunkpacks.PAGE for _, foff in long)  # (a pack written from offset 0 would miss these)
    out = tmp_path / "out.bin"
    chunkstore.place_chunked(b.repo.store, d, str(out), str(tmp_path / ".tmp-out"))
    assert out.read_bytes() == data
