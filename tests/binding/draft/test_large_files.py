"""Large files through the binding: chunked in the store, invisible above it."""
from __future__ import annotations

import os
import random

import blake3
import pytest

import artvcs
from artvcs.plumbing.repository import discover
from artvcs.plumbing.store import CHUNK_THRESHOLD, ContentStore


def test_a_large_file_is_chunked_logged_re_logged_from_the_stat_cache_and_read_back(project, monkeypatch):
    data = random.Random(1).randbytes(CHUNK_THRESHOLD + 12345)
    (project / "data").mkdir()
    (project / "data" / "big.bin").write_bytes(data)
    digest = blake3.blake3(data).hexdigest()
    with artvcs.init(job_type="t") as run:
        a = artvcs.Artifact("ds", type="dataset")
        a.add_dir(str(project / "data"))
        run.log_artifact(a)
    repo = discover(str(project))
    assert repo.store.is_chunked(digest)
    v0 = artvcs.Api().artifact("ds:v0")
    assert v0.manifest.entries["big.bin"].digest == digest and v0.size == len(data)  # chunking is invisible

    def refuse(*args, **kw):
        raise AssertionError("an unchanged large file was chunked again")

    monkeypatch.setattr(ContentStore, "put_chunked", refuse)
    with artvcs.init(job_type="t") as run:
        b = artvcs.Artifact("ds", type="dataset")
        b.add_dir(str(project / "data"))
        b.add_file(str(project / "data" / "big.bin"), name="again/big.bin")
        logged = run.log_artifact(b)
    assert logged.version == "v1"
    out = v0.download(str(project / "out"))
    assert open(os.path.join(out, "big.bin"), "rb").read() == data
    path = artvcs.Api().artifact("ds:v1").get_entry("again/big.bin").download(str(project / "one"))
    assert open(path, "rb").read() == data
    v0.verify(out)
