"""Media benchmark: a 100,000-row Table through an artifact, beside writing the same data raw.

Usage: python bench/media.py [--rows N] [--runs K] [--work DIR]

Two tables of --rows rows (default 100,000): one from a DataFrame (int64,
float64, float32, string and categorical columns) and one from Python lists
(int, float, str per row). For each: ``artifact.add`` + ``run.log_artifact``
(encode, store, commit) and ``Api().artifact(...).get`` (read, decode), with
``get_dataframe()`` for the DataFrame table. The baseline does the least a
program could: the DataFrame's columns with numpy.save (strings with
json.dumps), the list rows with json.dumps, written and fsynced, then read
back with numpy.load / json.loads. Each figure is the median of --runs runs in
a fresh repository under --work (default ./bench-work/media). Speed is
reported, never asserted.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time


def _timed(fn, runs: int, setup=None) -> tuple[float, object]:
    """Median wall time of ``fn()`` over ``runs`` runs (``setup()`` before each, not timed), and its last result."""
    times, result = [], None
    for _ in range(runs):
        if setup is not None:
            setup()
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def _write(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(".", "bench-work", "media"))
    args = ap.parse_args()

    import io

    import numpy as np
    import pandas as pd

    import artvcs
    from artvcs.plumbing.repository import init_repository

    n, work = args.rows, os.path.abspath(args.work)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "id": np.arange(n, dtype=np.int64),
        "x": rng.random(n),
        "y": rng.random(n).astype(np.float32),
        "label": pd.Series([f"label-{i % 1000}" for i in range(n)], dtype="string"),
        "cat": pd.Categorical(rng.choice(["cat", "dog", "bird"], n)),
    })
    rows = [[i, i / 7, f"row-{i}"] for i in range(n)]

    def fresh_repo() -> str:
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        init_repository(work, entity="bench", project="media")
        return work

    def add_and_log(table) -> None:
        with artvcs.init(job_type="bench", dir=work) as run:  # first, so add stores into this repository
            art = artvcs.Artifact("bench", type="dataset")
            art.add(table, "t")
            run.log_artifact(art)

    def get(dir_: str):
        cwd = os.getcwd()
        os.chdir(dir_)
        try:
            return artvcs.Api().artifact("bench:latest").get("t")
        finally:
            os.chdir(cwd)

    def raw_frame_write() -> None:
        fresh = os.path.join(work, "raw")
        shutil.rmtree(fresh, ignore_errors=True)
        os.makedirs(fresh)
        for col in ("id", "x", "y"):
            buf = io.BytesIO()
            np.save(buf, df[col].to_numpy())
            _write(os.path.join(fresh, f"{col}.npy"), buf.getvalue())
        buf = io.BytesIO()
        np.save(buf, df["cat"].cat.codes.to_numpy())
        _write(os.path.join(fresh, "cat.npy"), buf.getvalue())
        _write(os.path.join(fresh, "label.json"), json.dumps(df["label"].tolist()).encode())

    def raw_frame_read() -> list:
        fresh = os.path.join(work, "raw")
        cols = [np.load(os.path.join(fresh, f"{col}.npy")) for col in ("id", "x", "y", "cat")]
        with open(os.path.join(fresh, "label.json"), "rb") as f:
            cols.append(json.loads(f.read()))
        return cols

    def raw_rows_from(cols: list) -> list:
        """What holding W&B's rows costs by itself: one list per row of per-cell objects."""
        return [list(r) for r in zip(*(list(c) for c in cols))]

    def raw_rows_write() -> None:
        _write(os.path.join(work, "rows.json"), json.dumps(rows).encode())

    def raw_rows_read() -> None:
        with open(os.path.join(work, "rows.json"), "rb") as f:
            json.loads(f.read())

    print(f"artvcs media benchmark — {n:,} rows, median of {args.runs}, CPython {sys.version.split()[0]}, "
          f"ARTVCS_FSYNC={os.environ.get('ARTVCS_FSYNC', '1')}")
    print(f"{'operation':44} {'seconds':>8}  {'raw baseline':>12}  {'ratio':>6}")
    print("-" * 78)

    def line(what: str, t: float, base: float | None) -> None:
        extra = f"  {base:12.3f}  {t / base:5.1f}×" if base else ""
        print(f"{what:44} {t:8.3f}{extra}")

    t_make, frame_table = _timed(lambda: artvcs.Table(dataframe=df), args.runs)
    line("Table(dataframe=df)", t_make, None)
    t_add, _ = _timed(lambda: add_and_log(frame_table), args.runs, fresh_repo)
    t_raw_w, _ = _timed(raw_frame_write, args.runs)
    line("DataFrame table: add + log_artifact", t_add, t_raw_w)
    t_get, got = _timed(lambda: get(work), args.runs)
    t_raw_r, cols = _timed(raw_frame_read, args.runs)
    line("DataFrame table: get", t_get, t_raw_r)
    t_rows, _ = _timed(lambda: raw_rows_from(cols), args.runs)
    line("  (W&B's rows built from the raw arrays)", t_rows, None)
    t_df, back = _timed(got.get_dataframe, args.runs)
    line("DataFrame table: get_dataframe()", t_df, None)
    assert back.equals(df) and (back.dtypes == df.dtypes).all(), "round trip lost data"

    t_make, list_table = _timed(lambda: artvcs.Table(columns=["i", "f", "s"], data=rows), args.runs)
    line("Table(columns=..., data=rows)", t_make, None)
    t_add, _ = _timed(lambda: add_and_log(list_table), args.runs, fresh_repo)
    t_raw_w, _ = _timed(raw_rows_write, args.runs)
    line("list table: add + log_artifact", t_add, t_raw_w)
    t_get, got = _timed(lambda: get(work), args.runs)
    t_raw_r, _ = _timed(raw_rows_read, args.runs)
    line("list table: get", t_get, t_raw_r)
    assert got == list_table, "round trip lost data"
    artvcs.finish()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
