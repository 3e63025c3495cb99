"""Golden files of the stored layouts (artvcs-media(5)): every entry an add writes, byte for byte.

Each golden file lists the entries (path, size, blake3) and then the JSON
documents in full. Only inputs whose bytes do not depend on a library's
encoder are used (hand-made PNGs, our own WAV and JSON, numpy's NPY), so the
files are the same on every machine. Reading the entries back gives an equal
object, and writing that object again gives the same bytes.
"""
from __future__ import annotations

import datetime as dt
import math
import os

import blake3
import numpy as np
import pandas as pd
import pytest

import artvcs
from artvcs import media
from artvcs.media.base import REGISTRY

from .conftest import tiny_png


def _cases(tmp_path) -> dict:
    png = tmp_path / "pixels.png"
    png.write_bytes(tiny_png([[0, 64, 128], [255, 32, 16]]))
    mask_png = tmp_path / "mask.png"
    mask_png.write_bytes(tiny_png([[0, 1, 1], [2, 2, 0]]))
    (tmp_path / "clip.mp4").write_bytes(b"\0\0\0\x18ftypmp42" + bytes(range(64)))
    (tmp_path / "model.glb").write_bytes(b"glTF\x02\0\0\0" + bytes(range(32)))
    (tmp_path / "page.html").write_text("<html><body>café</body></html>", encoding="utf-8")
    image = artvcs.Image(
        str(png), caption="two rows", grouping=2,
        masks={"pred": {"path": str(mask_png), "class_labels": {0: "bg", 1: "cat", 2: "dog"}}},
        boxes={"gt": {"box_data": [{"position": {"minX": 0, "maxX": 2, "minY": 0, "maxY": 1}, "class_id": 1,
                                    "box_caption": "cat", "scores": {"p": 0.5}}], "class_labels": {1: "cat"}}},
    )
    frame = pd.DataFrame({
        "i": np.array([1, -2, 3], dtype=np.int32),
        "f": np.array([0.5, np.nan, np.inf], dtype=np.float32),
        "s": pd.Series(["a", None, "ç"], dtype="string"),  # not "str": pandas 2 makes that object
        "cat": pd.Categorical([20, 10, None], categories=[10, 20]),
        "n": pd.array([1, None, 3], dtype="Int64"),
        "when": pd.to_datetime(["2024-01-01 00:00", "2024-06-30 12:30", None]).tz_localize("UTC").as_unit("ns"),
        "o": pd.Series([{"k": [1, 2]}, (1, "t"), None], dtype=object),
    })
    left = artvcs.Table(columns=["id", "name"], data=[[1, "one"], [2, "two"]])
    return {
        "table_rows": artvcs.Table(columns=["a", "b", "c"], data=[
            [1, 2.5, "x"], [None, math.nan, {"k": [True, None]}], [np.int64(7), (1, 2), dt.date(2024, 2, 29)]], allow_mixed_types=True),
        "table_dtypes": artvcs.Table(dataframe=frame),
        "table_columns": artvcs.Table(dataframe=pd.DataFrame({
            "id": np.arange(1001, dtype=np.int64), "x": np.arange(1001) / 8,
            "tag": pd.Series([f"t{i % 3}" for i in range(1001)], dtype="string")})),
        "table_images": artvcs.Table(columns=["id", "image"], data=[[0, image], [1, image], [2, artvcs.Image(str(png))]]),
        "image": image,
        "mask": artvcs.ImageMask({"path": str(mask_png)}, "m"),
        "boxes": artvcs.BoundingBoxes2D({"box_data": [
            {"position": {"middle": [1.5, 2], "width": 3, "height": 1}, "class_id": 0, "domain": "pixel"}]}, "b"),
        "classes": artvcs.Classes([{"id": 0, "name": "bg"}, {"id": 1, "name": "cat"}]),
        "audio": artvcs.Audio(np.array([[0.0, -0.5], [0.25, 1.0], [-1.0, 0.125]], dtype=np.float32),
                              sample_rate=8000, caption="chirp"),
        "audio_int16": artvcs.Audio(np.array([0, 1, -1, 32767, -32768], dtype=np.int16), sample_rate=16000),
        "video_file": artvcs.Video(str(tmp_path / "clip.mp4"), caption="clip", fps=25),
        "object3d_points": artvcs.Object3D(np.arange(12, dtype=np.float32).reshape(4, 3), caption="cloud"),
        "object3d_scene": artvcs.Object3D({"type": "lidar/beta", "points": np.arange(6, dtype=np.float64).reshape(2, 3),
                                           "vectors": [{"start": [0, 0, 0], "end": [1, 1, 1]}]}),
        "object3d_file": artvcs.Object3D(str(tmp_path / "model.glb")),
        "html": artvcs.Html(str(tmp_path / "page.html")),
        "bokeh": artvcs.Bokeh({"version": "3.4.0", "title": "plot", "roots": [{"type": "object", "name": "Plot", "id": "p1"}]}),
        "joined": artvcs.JoinedTable(left, "tables/right", ["id", "key"]),
        "partitioned": artvcs.PartitionedTable("parts"),
    }


CASES = [
    "table_rows", "table_dtypes", "table_columns", "table_images", "image", "mask", "boxes", "classes", "audio",
    "audio_int16", "video_file", "object3d_points", "object3d_scene", "object3d_file", "html", "bokeh", "joined",
    "partitioned",
]


def _listing(parts: dict[str, bytes]) -> str:
    lines = [f"{p} {len(b)} {blake3.blake3(b).hexdigest()}" for p, b in sorted(parts.items())]
    kinds = tuple(f".{k}.json" for k in REGISTRY)
    for p, b in sorted(parts.items()):
        if p.endswith(kinds):
            lines += ["", f"== {p}", b.decode("utf-8")]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", CASES)
def test_layout(case, tmp_path, golden):
    obj = _cases(tmp_path)[case]
    parts = media.encode(obj, f"objs/{case}")
    golden(f"{case}.txt", _listing(parts))
    entries = dict(parts)
    if case == "joined":  # it refers to a table by path: the artifact holds that table too
        entries.update(media.encode(artvcs.Table(columns=["key", "v"], data=[[2, 0.5]]), "tables/right"))
    back = media.decode(f"objs/{case}", frozenset(entries), entries.__getitem__)
    assert back == obj
    if case != "joined":  # a table read through a path reference is written back as a copy
        assert media.encode(back, f"objs/{case}") == parts, "what was read is written again byte for byte"


def test_every_kind_has_a_golden_case(tmp_path):
    assert {type(o) for o in _cases(tmp_path).values()} == set(REGISTRY.values())
    assert set(_cases(tmp_path)) == set(CASES)


def test_the_man_page_example_is_what_is_stored():
    page = os.path.join(os.path.dirname(__file__), "..", "..", "man", "artvcs-media.5")
    with open(page, encoding="utf-8") as f:
        text = f.read()
    block = text.split("A row-layout table as stored:", 1)[1].split(".RS 4\n", 1)[1].split("\n.RE", 1)[0]
    parts = media.encode(artvcs.Table(columns=["a", "b"], data=[[1, "x"], [math.nan, "y"]]), "t")
    assert parts["t.table.json"].decode() == block.replace("\n", "").replace("\\-", "-")
