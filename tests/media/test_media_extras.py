"""Without the media extra: artvcs imports, light media work, and a clear error naming the extra.

Each check runs a real interpreter in which the library is made unimportable
(``sys.modules[name] = None`` makes ``import name`` raise ImportError, as a
missing package does).
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import artvcs

EXTRA = "pip install 'artvcs[media]'"


def _run(blocked: list[str], code: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    prelude = "import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in blocked)
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})


def test_import_and_light_media_need_no_optional_library():
    p = _run(["numpy", "pandas", "PIL", "imageio", "soundfile"], (
        "import artvcs\n"
        "t = artvcs.Table(columns=['a', 'b'], data=[[1, 'x']]); t.add_data(2, 'y')\n"
        "parts = artvcs.media.encode(t, 't')\n"
        "back = artvcs.media.decode('t', frozenset(parts), parts.__getitem__)\n"
        "assert back == t, back\n"
        "h = artvcs.Html('<p>hi</p>'); c = artvcs.Classes([{'id': 1, 'name': 'a'}])\n"
        "artvcs.Bokeh({'roots': []}); artvcs.JoinedTable(t, 'u', 'a'); artvcs.PartitionedTable('p')\n"
        "print('ok')\n"
    ))
    assert p.returncode == 0 and p.stdout == "ok\n", p.stderr


def test_nothing_heavy_is_imported_by_artvcs_itself():
    p = _run([], (
        "import artvcs, artvcs.media\n"
        "artvcs.Table(columns=['a'], data=[[1]]); artvcs.Image; artvcs.Video\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'PIL', 'imageio', 'soundfile') if m in sys.modules))\n"
    ))
    assert p.stdout == "[]\n", p.stderr


@pytest.mark.parametrize("blocked, code, package", [
    (["numpy"], "artvcs.Audio([0.0, 0.5], sample_rate=8000)", "numpy"),
    (["numpy"], "artvcs.Table(columns=['a'], data=[[1]], dtype='int8')", "pandas"),
    (["pandas"], "artvcs.Table(columns=['a'], data=[[1]]).get_dataframe()", "pandas"),
    (["PIL"], "import numpy; artvcs.Image(numpy.zeros((2, 2), dtype=numpy.uint8))", "pillow"),
    (["imageio"], "import numpy; artvcs.Video(numpy.zeros((1, 3, 4, 4), dtype=numpy.uint8))", "imageio"),
    (["imageio_ffmpeg"], "import numpy; artvcs.Video(numpy.zeros((1, 3, 4, 4), dtype=numpy.uint8))", "imageio-ffmpeg"),
])
def test_a_missing_library_names_the_extra(blocked, code, package):
    p = _run(blocked, "import artvcs\n" + code + "\n")
    assert p.returncode == 1
    last = p.stderr.strip().splitlines()[-1]
    assert last == f"artvcs.errors.MediaDependencyError: {last.split(': ', 1)[1]}"
    assert f"needs the Python package '{package}', which is not installed: {EXTRA}" in last
    assert "ModuleNotFoundError" not in p.stderr and "During handling" not in p.stderr, p.stderr


def test_reading_back_without_pillow_fails_only_when_pixels_are_needed(repo_dir):
    art = artvcs.Artifact("imgs", type="dataset")
    art.add(artvcs.Image(np.zeros((3, 5), dtype=np.uint8), caption="c"), "img")
    with artvcs.init() as run:
        run.log_artifact(art)
    artvcs.finish()
    p = _run(["PIL", "numpy"], (
        "import artvcs\n"
        "img = artvcs.Api().artifact('imgs:latest').get('img')\n"
        "print(img.width, img.height, img.caption, img.format)\n"
        "try:\n"
        "    img.image\n"
        "except artvcs.errors.MediaDependencyError as e:\n"
        "    print(e)\n"
    ), cwd=str(repo_dir))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["5 3 c png", f"reading Image needs the Python package 'pillow', which is not installed: {EXTRA}"]
