"""A streamed checkout (materialize.Listed: a version of more than STREAM_FROM entries) of a partial
clone fetches the content it lacks from a folder remote, as the listed checkout does."""
from __future__ import annotations

import os

from artvcs.logged import materialize
from artvcs.plumbing import foldersums


def _files(root) -> dict[str, bytes]:
    out = {}
    for r, _, fs in os.walk(root):
        for f in fs:
            with open(os.path.join(r, f), "rb") as fh:
                out[os.path.relpath(os.path.join(r, f), root)] = fh.read()
    return out


def test_streamed_checkout_and_download_fetch_missing_content_as_listed_ones_do(workspace, tmp_path, monkeypatch):
    url = f"file://{tmp_path / 'remote'}"
    a = workspace.project("a", url)
    a.log({f"d{i % 3}/f{i}.txt": f"file {i}\n" for i in range(12)} | {"top.txt": "top\n"})
    a.push()
    got = {}
    for how in ("listed", "streamed"):
        for op in ("checkout", "download"):
            monkeypatch.setattr(materialize, "STREAM_FROM", 0 if how == "streamed" else 10**9)
            clone = workspace.clone(f"{how}-{op}", url, only=["mnist"])  # versions only: content on demand
            assert list(clone.repo.store.iter_digests()) == []
            art = clone.api().artifact("mnist:latest")
            entries = materialize._entries(art, None)
            assert isinstance(entries, materialize.Listed if how == "streamed" else list)
            root = workspace.root / f"out-{how}-{op}"
            if op == "checkout":
                r = materialize.checkout(art, str(root), mode="copy")
                counts = (r.written, r.up_to_date, r.removed)
                kept = clone.repo.statcache.sums(str(art._source.commit))
            else:
                art.download(str(root), path_prefix="d1/")
                counts, kept = None, None
            got[how, op] = (_files(root), counts, kept, len(list(clone.repo.store.iter_digests())))
    for op in ("checkout", "download"):
        assert got["streamed", op] == got["listed", op]
    files, counts, kept, fetched = got["streamed", "checkout"]
    assert len(files) == 13 and counts == (13, 0, 0) and fetched == 13
    assert kept is not None and foldersums.unpack(kept[1]).keys() == {"", "d0", "d1", "d2"}
    assert sorted(got["streamed", "download"][0]) == [os.path.join("d1", f"f{i}.txt") for i in (1, 10, 4, 7)]
    assert got["streamed", "download"][3] == 4
