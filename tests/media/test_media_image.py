"""Images, masks, boxes and classes through a real repository: same pixels back."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image as PILImage

import artvcs
from artvcs.errors import UsageError

RNG = np.random.default_rng(3)


@pytest.mark.parametrize("pixels", [
    RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8),
    RNG.integers(0, 256, (5, 7, 4), dtype=np.uint8),
    RNG.integers(0, 256, (5, 7), dtype=np.uint8),
    RNG.integers(0, 256, (5, 7, 1), dtype=np.uint8),
    RNG.integers(0, 2**16, (5, 7), dtype=np.uint16),
    RNG.random((5, 7)) > 0.5,
], ids=["rgb", "rgba", "grey", "grey-1", "uint16", "bool"])
def test_arrays_come_back_pixel_for_pixel(roundtrip, pixels):
    img = artvcs.Image(pixels, caption="c")
    got = roundtrip(img)
    assert got == img and got.format == "png" and got.caption == "c"
    back = np.asarray(got.image)
    assert back.dtype == pixels.dtype and np.array_equal(back, pixels.squeeze())


def test_pil_images_and_files_keep_their_data(roundtrip, tmp_path):
    pal = PILImage.fromarray(RNG.integers(0, 256, (6, 6, 3), dtype=np.uint8)).convert("P")
    got = roundtrip(artvcs.Image(pal))
    assert got.image.mode == "P" and got.image.getpalette() == pal.getpalette()
    assert np.array_equal(np.asarray(got.image), np.asarray(pal))
    jpg = tmp_path / "photo.jpg"
    PILImage.fromarray(RNG.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(jpg, quality=70)
    from_file = artvcs.Image(str(jpg))
    got = roundtrip(from_file)
    assert got == from_file and got.format == "jpeg" and got._data == jpg.read_bytes()


def test_float_arrays_are_scaled_as_wandb_does(roundtrip):
    data = np.array([[0.0, 0.5], [1.0, 0.25]])
    got = roundtrip(artvcs.Image(data))
    assert np.asarray(got.image).tolist() == [[0, 127], [255, 63]]
    assert np.asarray(artvcs.Image(data * 255, normalize=False).image).tolist() == [[0, 127], [255, 63]]


def test_masks_boxes_and_classes(roundtrip, log):
    mask = RNG.integers(0, 3, (4, 6))  # int64, as np.random makes it
    img = artvcs.Image(
        RNG.integers(0, 256, (4, 6, 3), dtype=np.uint8),
        masks={"pred": {"mask_data": mask, "class_labels": {0: "sky", 1: "tree", 2: "car"}},
               "truth": artvcs.ImageMask({"mask_data": mask.astype(np.uint8)}, "truth")},
        boxes={"gt": {"box_data": [
            {"position": {"minX": 1, "maxX": 3, "minY": 0.5, "maxY": 2}, "class_id": 2, "box_caption": "car",
             "scores": {"p": np.float32(0.75)}},
            {"position": {"middle": [2, 2], "width": 1, "height": 1.5}, "class_id": 1, "domain": "pixel"},
        ], "class_labels": {1: "tree", 2: "car"}}},
    )
    assert img.classes.class_set == [{"id": 0, "name": "sky"}, {"id": 1, "name": "tree"}, {"id": 2, "name": "car"}]
    got = roundtrip(img)
    assert got == img
    assert got.masks["pred"].mask_data.dtype == np.int64 and np.array_equal(got.masks["pred"].mask_data, mask)
    assert got.masks["truth"].class_labels == {0: "class_0", 1: "class_1", 2: "class_2"}
    assert got.boxes["gt"].box_data[0]["scores"] == {"p": 0.75}
    # the classes are one entry however many images name them
    art = log({"a": img, "b": artvcs.Image(img)})
    assert len([p for p in art.manifest.entries if p.startswith("media/classes/")]) == 1


def test_a_table_stores_a_shared_image_once(log, repo_dir):
    pixels = RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    img = artvcs.Image(pixels)
    table = artvcs.Table(columns=["id", "image"])
    for i in range(50):
        table.add_data(i, img if i % 2 else artvcs.Image(pixels.copy()))  # the same pixels, often a new object
    table.add_data(50, artvcs.Image(255 - pixels))
    before = sum(len(files) for _, _, files in os.walk(repo_dir / ".artifacts" / "content"))
    art = log({"t": table})
    after = sum(len(files) for _, _, files in os.walk(repo_dir / ".artifacts" / "content"))
    images = [p for p in art.manifest.entries if p.startswith("media/images/")]
    assert len(images) == 2
    assert sorted(art.manifest.entries) == sorted(["t.table.json", *images])
    assert after - before == 3, "the table document and two PNGs"
    got = art.get("t")
    assert got == table and got.data[1][1] == img


@pytest.mark.parametrize("bad, match", [
    (np.zeros((3, 8, 8), dtype=np.uint8), r"shape \(3, 8, 8\) is not an image.*transpose"),
    (np.zeros((2, 2, 2, 2), dtype=np.uint8), "not an image"),
    (np.zeros((0, 4), dtype=np.uint8), "not an image"),
    (np.zeros((2, 2), dtype=np.complex64), "dtype complex64"),
    ([[1, 2]], "numpy array, a PIL image, a path"),
    ("/no/such/file.png", "is not a file"),
])
def test_bad_images_are_refused(bad, match):
    with pytest.raises(UsageError, match=match):
        artvcs.Image(bad)


def test_bad_annotations_are_refused():
    pixels = np.zeros((4, 4), dtype=np.uint8)
    with pytest.raises(UsageError, match=r"mask 'm' is \(3, 4\)"):
        artvcs.Image(pixels, masks={"m": {"mask_data": np.zeros((3, 4), dtype=np.uint8)}})
    with pytest.raises(UsageError, match="class ids 0..255"):
        artvcs.ImageMask({"mask_data": np.full((2, 2), 300)}, "m")
    with pytest.raises(UsageError, match="must be a 2-D integer array"):
        artvcs.ImageMask({"mask_data": np.zeros((2, 2, 2), dtype=np.uint8)}, "m")
    with pytest.raises(UsageError, match=r"box_data\[0\] position must have minX"):
        artvcs.BoundingBoxes2D({"box_data": [{"position": {"x": 1}, "class_id": 0}]}, "b")
    with pytest.raises(UsageError, match="class_id must be an int"):
        artvcs.BoundingBoxes2D({"box_data": [{"position": {"middle": [0, 0], "width": 1, "height": 1}}]}, "b")
    with pytest.raises(UsageError, match="finite number"):
        artvcs.BoundingBoxes2D({"box_data": [{"position": {"minX": float("nan"), "maxX": 1, "minY": 0, "maxY": 1}, "class_id": 0}]})
    with pytest.raises(UsageError, match="cannot be stored as PNG"):
        artvcs.Image(PILImage.new("CMYK", (2, 2)))
    with pytest.raises(UsageError, match="appears twice"):
        artvcs.Classes([{"id": 1, "name": "a"}, {"id": 1, "name": "b"}])
