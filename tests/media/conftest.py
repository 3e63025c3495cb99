"""Fixtures for media tests: log objects into a real repository and read them back through Api."""
from __future__ import annotations

import itertools
import json
import struct
import zlib

import pytest

import artvcs


@pytest.fixture
def log(repo_dir):
    """``log({name: obj, ...})``: add the objects to a new artifact, log it in a run, return it read back via Api."""
    counter = itertools.count()

    def run(objects: dict, collection: str | None = None):
        coll = collection or f"media{next(counter)}"
        art = artvcs.Artifact(coll, type="dataset")
        for name, obj in objects.items():
            art.add(obj, name)
        with artvcs.init(job_type="media-test", dir=str(repo_dir)) as r:
            r.log_artifact(art)
        return artvcs.Api().artifact(f"{coll}:latest")

    yield run
    artvcs.finish()


@pytest.fixture
def roundtrip(log):
    """``roundtrip(obj)``: the object read back by ``get`` after logging; checks ``artifact[name]`` agrees."""

    def run(obj):
        art = log({"obj": obj})
        got = art.get("obj")
        assert got == art["obj"]
        return got

    return run


def entry_json(art, path: str) -> dict:
    """The JSON document stored as entry ``path`` of a logged artifact, as a file a user would download."""
    with open(art.get_entry(path).download(), encoding="utf-8") as f:
        return json.load(f)


def tiny_png(pixels: list[list[int]]) -> bytes:
    """A greyscale 8-bit PNG built by hand with stored (level 0) deflate: the same bytes on every machine."""
    h, w = len(pixels), len(pixels[0])

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    raw = b"".join(b"\0" + bytes(row) for row in pixels)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b""))
