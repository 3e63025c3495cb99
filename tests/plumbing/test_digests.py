"""hashing.all_digests: the bulk check of many digests says what is_digest says of each."""
from __future__ import annotations

import os

from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.plumbing.hashing import all_digests, hash_bytes, is_digest

DIGEST = hash_bytes(b"x")


def _near_misses(d: str) -> list[object]:
    """Values one step from a digest: each of the ways the joined scan could be fooled."""
    return [
        d.upper(), d[:-1], d + "0", d[:63] + "\n", "\n" + d[1:], d[:32] + "\n" + d[33:], d[:63] + "g",
        d[:63] + "é", d[:63] + "\x00", d.encode(), None, 7, "", d + "\n" + d[:-1],
    ]


def test_each_near_miss_is_refused_alone_and_among_digests():
    for bad in _near_misses(DIGEST):
        for values in ([bad], [DIGEST, bad], [bad, DIGEST], [DIGEST, bad, DIGEST]):
            assert all_digests(values) is False, values
    assert all_digests([]) is True
    assert all_digests([DIGEST]) is True
    assert all_digests([hash_bytes(os.urandom(8)) for _ in range(1000)]) is True


class _Str(str):
    pass


_item = st.one_of(
    st.builds(lambda b: hash_bytes(b), st.binary(max_size=8)),
    st.builds(lambda b, i: _near_misses(hash_bytes(b))[i], st.binary(max_size=8), st.integers(0, 13)),
    st.text(alphabet="0123456789abcdefABCDEF\n", min_size=60, max_size=70),
    st.text(max_size=70),
    st.builds(lambda b: _Str(hash_bytes(b)), st.binary(max_size=8)),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_item, max_size=12))
def test_it_agrees_with_is_digest_on_any_list(values):
    assert all_digests(values) == all(is_digest(v) for v in values)
