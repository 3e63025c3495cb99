"""Tables through a real repository: rows, columns, dtypes and cells come back equal."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

import artvcs
from artvcs.errors import UsageError
from artvcs.media.table_format import INLINE_ROWS

from .conftest import entry_json


def _frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({
        "i8": np.arange(n, dtype=np.int8) % 100,
        "u64": np.arange(n, dtype=np.uint64) * 2**40,
        "f32": np.where(np.arange(n) % 5 == 0, np.nan, rng.random(n)).astype(np.float32),
        "f64": rng.random(n),
        "b": np.arange(n) % 2 == 0,
        "c128": np.arange(n) * (1 + 2j),
        "ts": pd.date_range("2020-01-01", periods=n, freq="h"),
        "ts_ns": pd.to_datetime(np.arange(n) * 1_000_000_007, unit="ns").where(np.arange(n) % 7 != 0),
        "td": pd.to_timedelta(np.arange(n), unit="s"),
        "tz": pd.date_range("2021-03-27", periods=n, freq="h", tz="Europe/Paris"),
        "s": pd.Series([f"r{i}" if i % 3 else None for i in range(n)], dtype="str"),
        "string": pd.Series([f"s{i}" if i % 4 else None for i in range(n)], dtype="string"),
        "cat": pd.Categorical([("b", "a", None)[i % 3] for i in range(n)], categories=["b", "a", "z"], ordered=True),
        "Int64": pd.array([i if i % 3 else None for i in range(n)], dtype="Int64"),
        "UInt8": pd.array([i % 200 if i % 2 else None for i in range(n)], dtype="UInt8"),
        "Float64": pd.array([i / 3 if i % 3 else None for i in range(n)], dtype="Float64"),
        "boolean": pd.array([bool(i % 2) if i % 5 else None for i in range(n)], dtype="boolean"),
        "obj": pd.Series([{"k": i} if i % 2 else (i, "x") for i in range(n)], dtype=object),
    })


@pytest.mark.parametrize("n", [6, INLINE_ROWS + 1], ids=["row-layout", "column-layout"])
def test_dataframe_comes_back_with_its_dtypes(roundtrip, n):
    df = _frame(n)
    table = artvcs.Table(dataframe=df)
    got = roundtrip(table)
    assert got == table
    back = got.get_dataframe()
    assert back.dtypes.to_dict() == df.dtypes.to_dict()
    pd.testing.assert_frame_equal(back, df)
    kinds = [(type(c).__module__, getattr(c, "dtype", type(c))) for c in table.data[1]]
    assert [(type(c).__module__, getattr(c, "dtype", type(c))) for c in got.data[1]] == kinds


def test_list_table_keeps_every_python_value(roundtrip):
    rows = [
        [1, 2.5, "x", True, None, [1, [2, "3"]], {"a": {"b": 1}}],
        [2**70, math.nan, "é\n\"", False, math.inf, (1, 2), {1: "int key", "_type": "user"}],
        [-3, -math.inf, "", np.int16(-4), np.float32(0.1), np.array([[1, 2]], dtype=np.uint8), b"\0\xff"],
        [dt.datetime(2024, 5, 1, 12, 0, 1, 5, tzinfo=dt.timezone.utc), dt.date(2024, 5, 1),
         pd.Timestamp("2024-05-01 00:00:00.000000001", tz="Asia/Tokyo"), np.datetime64("2024-01-01T00:00", "m"),
         np.str_("np"), np.bool_(True), np.complex64(1 - 2j)],
        [pd.NA, pd.NaT, None, None, None, None, None],
    ]
    table = artvcs.Table(columns=["a", "b", "c", "d", "e", "f", "g"], data=rows, allow_mixed_types=True)
    got = roundtrip(table)
    assert got == table
    for r1, r2 in zip(got.data, rows):
        for x, y in zip(r1, r2):
            assert type(x) is type(y)
    assert got.data[3][2] == rows[3][2] and str(got.data[3][2].tz) == "Asia/Tokyo"


def test_large_list_table_uses_column_parts(log):
    table = artvcs.Table(columns=["i", "f", "s"], data=[[i, i / 7, str(i)] for i in range(INLINE_ROWS + 5)])
    art = log({"big": table})
    doc = entry_json(art, "big.table.json")
    assert "data" not in doc and [p["format"] for p in doc["column_data"]] == ["json"] * 3
    assert art.get("big") == table


def test_ndarray_tables_and_columns(roundtrip):
    arr = np.arange(12, dtype=np.float32).reshape(4, 3)
    table = artvcs.Table(data=arr)
    assert table.columns == ["Input", "Output", "Expected"]  # W&B's defaults for three columns
    table.add_column("extra", np.array([1, 2, 3, 4], dtype=np.int16))
    table.add_column("names", ["a", "b", "c", "d"])
    got = roundtrip(table)
    assert got == table
    assert got.get_column("extra", convert_to="numpy").dtype == np.int16
    assert got.get_column("Input", convert_to="numpy").tolist() == [0, 3, 6, 9]
    assert got.get_column("names") == ["a", "b", "c", "d"]
    dtypes = got.get_dataframe().dtypes.tolist()
    assert dtypes[:4] == [np.float32] * 3 + [np.int16]
    assert dtypes[4] == pd.Series(["a"]).dtype, "an untyped column's dtype is what pandas infers"
    cells = artvcs.Table(columns=["img"], data=np.zeros((2, 1, 3), dtype=np.uint8))
    assert roundtrip(cells) == cells


def test_equality_is_by_content_and_type():
    a = artvcs.Table(columns=["x"], data=[[1], [math.nan]])
    assert a == artvcs.Table(columns=["x"], data=[[1], [math.nan]])
    assert a != artvcs.Table(columns=["x"], data=[[1.0], [math.nan]])
    assert a != artvcs.Table(columns=["y"], data=[[1], [math.nan]])
    df = pd.DataFrame({"x": [1, 2]})
    assert artvcs.Table(dataframe=df) != artvcs.Table(dataframe=df.astype("int32"))


def test_add_data_and_wandb_api():
    t = artvcs.Table(columns=["a", "b"])
    t.add_data(1, "x")
    t.add_data(2, "y")
    assert t.data == [[1, "x"], [2, "y"]] and list(t.iterrows()) == [(0, [1, "x"]), (1, [2, "y"])]
    assert t.get_index() == [0, 1] and t.get_column("b") == ["x", "y"]
    assert artvcs.Table(columns=["a"], dtype="float32", data=[[1], [2]]).get_column("a", convert_to="numpy").dtype == np.float32
    with pytest.raises(UsageError, match="expects 2 values"):
        t.add_data(1)
    with pytest.raises(UsageError, match="appears twice"):
        artvcs.Table(columns=["a", "a"])
    with pytest.raises(UsageError, match="must be a new column name"):
        t.add_column("a", [1, 2])
    with pytest.raises(UsageError, match="2 rows"):
        t.add_column("c", [1])


def test_values_artvcs_cannot_store_are_refused_at_add(log):
    t = artvcs.Table(columns=["ok", "bad"], data=[[1, {1, 2}]])
    with pytest.raises(UsageError, match=r"Table column 'bad' holds a builtins.set"):
        log({"t": t})
    with pytest.raises(UsageError, match="period"):
        artvcs.Table(dataframe=pd.DataFrame({"p": pd.period_range("2020", periods=2, freq="M")}))
    cat = artvcs.Table(dataframe=pd.DataFrame({"c": pd.Categorical(["a"])}))
    cat.add_data("new")
    with pytest.raises(UsageError, match="not one of the column's categories"):
        log({"t": cat})


def test_an_unchanged_column_is_stored_once_across_versions(log, repo_dir):
    n = INLINE_ROWS * 3
    df = pd.DataFrame({"keep": np.arange(n), "change": np.zeros(n)})
    v0 = log({"t": artvcs.Table(dataframe=df)}, "cols")
    df["change"] = 1.0
    v1 = log({"t": artvcs.Table(dataframe=df)}, "cols")
    parts0 = {p for p in v0.manifest.entries if p.startswith("media/")}
    parts1 = {p for p in v1.manifest.entries if p.startswith("media/")}
    assert len(parts0) == len(parts1) == 2 and len(parts0 & parts1) == 1


def test_100k_rows_round_trip(log):
    n = 100_000
    df = pd.DataFrame({"id": np.arange(n), "x": np.random.default_rng(0).random(n), "label": [f"l{i % 10}" for i in range(n)]})
    table = artvcs.Table(dataframe=df)
    art = log({"big": table})
    got = art.get("big")
    pd.testing.assert_frame_equal(got.get_dataframe(), df)


def test_a_typed_column_refuses_a_cell_its_dtype_would_change(log):
    for column, bad, match in [
        ("i", 1.5, r"row 2 holds 1.5, which dtype int64 would store as"),
        ("s", "toolong", r"row 2 holds 'toolong', which dtype <U2"),
        ("n", 2.5, r"row 2 holds 2.5, which dtype 'Int64' would store as 2"),
    ]:
        t = artvcs.Table(dataframe=pd.DataFrame({"i": [1, 2], "n": pd.array([1, None], dtype="Int64")}))
        t.add_column("s", np.array(["ab", "cd"]))
        t.add_data(*[bad if c == column else t.data[0][j] for j, c in enumerate(t.columns)])
        with pytest.raises(UsageError, match=match):
            log({"t": t})
    ok = artvcs.Table(dataframe=pd.DataFrame({"i": [1, 2]}))
    ok.add_data(3)  # a Python int fits int64 exactly
    got = log({"t": ok}).get("t")
    assert got == ok and got.get_column("i") == [1, 2, 3] and type(got.data[2][0]) is np.int64


def test_column_types_are_enforced_as_in_wandb(roundtrip):
    """A column takes the type of its first value; another type is a TypeError unless allow_mixed_types,
    None only where optional; nothing changes when a row is refused."""
    t = artvcs.Table(columns=["id", "label"])
    t.add_data(1, "cat")
    t.add_data(2.5, None)  # int and float are both numbers; optional by default
    with pytest.raises(TypeError, match=r"column 'label' holds str values, not number .*allow_mixed_types=True"):
        t.add_data(3, 7)
    with pytest.raises(artvcs.errors.ArtvcsError):
        t.add_data("x", "dog")
    assert t.data == [[1, "cat"], [2.5, None]]
    strict = artvcs.Table(columns=["id", "label"], optional=[True, False])
    with pytest.raises(TypeError, match="column 'label' is not optional"):
        strict.add_data(1, None)
    with pytest.raises(TypeError):
        artvcs.Table(columns=["a"], data=[[1], ["one"]])
    with pytest.raises(TypeError, match="column 'flag'"):
        t.add_column("flag", [True, "yes"])
    assert t.columns == ["id", "label"] and t.data == [[1, "cat"], [2.5, None]]
    t.add_column("flag", [True, False])
    mixed = artvcs.Table(columns=["a"], data=[[1], ["one"]], allow_mixed_types=True)
    assert roundtrip(mixed) == mixed
