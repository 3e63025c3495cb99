"""records.real_time accepts exactly the times datetime.strptime accepts (of the record's shape):
it replaced strptime so that reading a version loads no _strptime."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, settings, strategies as st

from artvcs.plumbing.records import _TIME, real_time, time_of

digits = st.sampled_from("0123456789٣")  # \d also matches other scripts' digits, as strptime's %Y does


def _strptime_says(value: str) -> bool:
    try:
        dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
        return True
    except ValueError:
        return False


def _mine_says(value: str) -> bool:
    try:
        real_time(value)
        return True
    except ValueError:
        return False


def _time(parts) -> str:
    y, mo, d, h, mi, s, f, end = parts
    return f"{y}-{mo}-{d}T{h}:{mi}:{s}.{f}{end}"


@settings(max_examples=1500, deadline=None)
@given(st.tuples(*(st.text(digits, min_size=n, max_size=n) for n in (4, 2, 2, 2, 2, 2, 6)),
                 st.sampled_from(["Z", "Z\n"])))
def test_real_time_is_strptimes_check(parts):
    value = _time(parts)
    if _TIME.match(value):
        assert _mine_says(value) == _strptime_says(value), value
    if _strptime_says(value):
        assert time_of(value) == dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")


def test_edges():
    for value, ok in (("2026-11-02T09:15:30.123456Z", True), ("2024-02-29T23:59:59.999999Z", True),
                      ("2023-02-29T00:00:00.000000Z", False), ("2026-13-01T00:00:00.000000Z", False),
                      ("2026-01-01T24:00:00.000000Z", False), ("2026-01-01T00:60:00.000000Z", False),
                      ("2026-01-01T00:00:60.000000Z", False), ("0000-01-01T00:00:00.000000Z", False),
                      ("2026-01-01T00:00:00.000000Z\n", False)):
        assert _mine_says(value) == _strptime_says(value) == ok, value
