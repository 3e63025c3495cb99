"""A C extension built from other source than the one beside it is refused, with one warning."""
from __future__ import annotations

import importlib
import os
import types
import warnings
import zlib

import pytest

from artvcs.plumbing import native

MODULES = ("_scan", "_cdc", "_copybatch", "_chunkrows")


def _stamp(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    return f"{zlib.crc32(data)}:{len(data)}:{os.stat(path).st_mtime_ns}"


@pytest.mark.parametrize("name", MODULES)
def test_this_install_was_built_from_its_source(name):
    # where the C extensions were built, they were built from the source here: a stale venv
    # fails this test instead of testing (and timing) the pure-Python path unawares
    try:
        module = importlib.import_module(f"artvcs.plumbing.{name}")
    except ImportError:
        pytest.skip(f"{name} is not built here (no compiler): the pure-Python path is what runs")
    source = os.path.join(native.HERE, name[1:] + ".c")
    assert os.path.isfile(source)
    assert native.matches(module.SOURCE_ID, source), f"rebuild: pip install -e . ({name} is older than {source})"


def test_same_bytes_match_whatever_the_mtime(tmp_path):
    src = tmp_path / "x.c"
    src.write_bytes(b"int x;\n")
    stamp = _stamp(str(src))
    assert native.matches(stamp, str(src))
    os.utime(src, ns=(1, 1))  # a checkout rewrote it with the same bytes
    assert native.matches(stamp, str(src))


def test_other_bytes_do_not_match(tmp_path):
    src = tmp_path / "x.c"
    src.write_bytes(b"int x;\n")
    stamp = _stamp(str(src))
    src.write_bytes(b"int y;\n")  # same size, other bytes
    os.utime(src, ns=(1, 1))
    assert not native.matches(stamp, str(src))
    src.write_bytes(b"int x; /* longer */\n")
    assert not native.matches(stamp, str(src))


@pytest.mark.parametrize("source_id", ["", "1:2", "a:b:c"])
def test_a_module_without_a_source_id_is_stale_where_the_source_is(tmp_path, source_id):
    src = tmp_path / "x.c"
    src.write_bytes(b"int x;\n")
    assert not native.matches(source_id, str(src))


def test_without_the_source_the_installed_module_is_used(tmp_path):
    assert native.matches("", str(tmp_path / "absent.c"))


def test_fresh_refuses_a_stale_module_once_with_a_warning(monkeypatch, tmp_path):
    src = tmp_path / "fake.c"
    src.write_bytes(b"int fake;\n")
    monkeypatch.setattr(native, "HERE", str(tmp_path))
    monkeypatch.setattr(native, "_checked", {})
    stale = types.ModuleType("artvcs.plumbing._fake")
    stale.SOURCE_ID = "0:0:0"
    with pytest.warns(native.StaleBuildWarning, match=r"_fake was built from other source.*pip install -e \."):
        assert native.fresh(stale) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert native.fresh(stale) is None  # looked at once: no second warning
    monkeypatch.setattr(native, "_checked", {})
    good = types.ModuleType("artvcs.plumbing._fake")
    good.SOURCE_ID = _stamp(str(src))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert native.fresh(good) is good
    assert native.fresh(None) is None
