"""A small repository for the web view's tests, written through the binding: two versions of a
dataset (files in folders, CSV, JSON, HTML, a PNG), a run that used it and logged a model with a
Table and an Image with boxes, a second project, and hostile strings in every user-set field."""
from __future__ import annotations

import os

XSS_ALIAS = "<img src=x onerror=alert('alias')>"
XSS_TEXT = "<script>alert('description')</script>"
XSS_META = {"note": "<script>alert('metadata')</script>", "link": "javascript:alert('meta-link')",
            "<b onmouseover=alert(1)>key": "<iframe src=javascript:alert('frame')>"}
XSS_FILE = "<img src=x onerror=alert('file')>.txt"
JS_FILE = "javascript:alert('file-url')"



def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def _wav(path: str) -> None:
    import wave

    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(bytes(1600))


def build(root: str) -> None:
    """Write the sample repository in ``root`` (entity ``me``, project ``proj``; also project ``other``)."""
    import artvcs
    from artvcs.plumbing.repository import init_repository

    init_repository(root)
    data = os.path.join(root, "data")
    os.makedirs(os.path.join(data, "sub", "deep"))
    files = {
        "a.txt": "alpha\n", "sub/b.txt": "beta\n", "sub/deep/c.txt": "gamma\n",
        "table.csv": "id,label,score\n1,cat,0.9\n2,dog,0.7\n",
        "notes.json": '{"b": [1, 2], "a": "x"}', "page.html": "<h1>hello</h1><script>parent.alert('html')</script>",
        XSS_FILE: "hostile name\n", JS_FILE: "a file named like a URL\n",
    }
    for rel, text in files.items():
        with open(os.path.join(data, rel), "w") as f:
            f.write(text)
    with open(os.path.join(data, "img.png"), "wb") as f:
        f.write(_png())
    _wav(os.path.join(data, "tone.wav"))
    kw = dict(entity="me", project="proj", dir=root)
    with artvcs.init(job_type="prep", **kw) as run:
        a = artvcs.Artifact("mnist", type="dataset", description=XSS_TEXT, metadata=XSS_META)
        a.add_dir(data)
        run.log_artifact(a, aliases=["raw", XSS_ALIAS])
    with open(os.path.join(data, "a.txt"), "w") as f:
        f.write("alpha, changed\n")
    os.remove(os.path.join(data, "sub", "b.txt"))
    with open(os.path.join(data, "new.txt"), "w") as f:
        f.write("new\n")
    with artvcs.init(job_type="prep", **kw) as run:
        a = artvcs.Artifact("mnist", type="dataset", metadata={"rows": 2})
        a.add_dir(data)
        run.log_artifact(a, aliases=["best"])
    with artvcs.init(job_type="train", **kw) as run:
        run.use_artifact("mnist:v1")
        m = artvcs.Artifact("cnn", type="model")
        m.add(artvcs.Table(columns=["x", "label"], data=[[i, f"row-{i}"] for i in range(120)]), "preds")
        boxes = {"pred": {"box_data": [{"position": {"minX": 4, "maxX": 30, "minY": 6, "maxY": 40}, "domain": "pixel",
                                        "class_id": 1, "box_caption": "cat"}], "class_labels": {1: "cat"}}}
        import numpy as np

        mask = np.zeros((48, 64), dtype=np.uint8)
        mask[10:30, 20:50] = 2
        masks = {"seg": {"mask_data": mask, "class_labels": {1: "cat", 2: "dog"}}}
        m.add(artvcs.Image(os.path.join(data, "img.png"), boxes=boxes, masks=masks), "sample")
        m.add_reference("file://" + os.path.join(data, "table.csv"), name="external.csv")
        with m.new_file("weights.bin", "wb") as f:
            f.write(bytes(range(256)))
        run.log_artifact(m)
    api = artvcs.Api(overrides={"entity": "me", "project": "proj"}, dir=root)
    v0 = api.artifact("me/proj/mnist:v0")
    v0.tags = ["reviewed"]
    v0.save()
    with artvcs.init(project="other", entity="me", job_type="misc", dir=root) as run:
        e = artvcs.Artifact("extra", type="dataset")
        with e.new_file("x.txt") as f:
            f.write("x\n")
        run.log_artifact(e)
