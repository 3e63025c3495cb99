"""The small records a remote holds that are not named by their digest (layout, namespace, lock objects):
every read is bounded, and whatever bytes they hold, only artvcs's own errors come out (fuzzed)."""
from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.plumbing.namespace import Namespace
from artvcs.plumbing.remote import lockobject
from artvcs.plumbing.remote.backend import SWAP_LIMIT, Backend, FileBackend, tag_of
from artvcs.plumbing.remote.errors import RemoteError, RemoteFormatError
from artvcs.plumbing.remote.layout import FORMAT_KEY, FORMAT_LIMIT, NAMESPACE_KEY, NAMESPACE_LIMIT, RemoteRepo


class Served(Backend):
    """A backend serving fixed bytes per key, as a hostile server would (whatever size it is asked for),
    and recording how many bytes each read handed over."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.url, self.objects, self.served = "s3://evil/remote", dict(objects), []

    def read(self, key, limit=None):
        if key not in self.objects:
            return None
        data = self.objects[key] if limit is None else self.objects[key][:limit + 1]
        self.served.append(len(data))
        return data, tag_of(data)


def _remote(tmp_path, objects: dict[str, bytes]) -> RemoteRepo:
    root = tmp_path / "remote"
    os.makedirs(root, exist_ok=True)
    for key, data in objects.items():
        (root / key).write_bytes(data)
    return RemoteRepo(FileBackend(f"file://{root}", str(root)))


def test_the_honest_records_read_as_before(tmp_path):
    remote = _remote(tmp_path, {FORMAT_KEY: b"artvcs-remote 2\n", NAMESPACE_KEY: b'{"entity":"me","project":"proj"}\n'})
    assert remote.check_format() is True
    assert remote.read_namespace() == Namespace("me", "proj")


@pytest.mark.parametrize("key, limit, what", [(FORMAT_KEY, FORMAT_LIMIT, "layout record"),
                                              (NAMESPACE_KEY, NAMESPACE_LIMIT, "namespace record")])
def test_a_record_above_its_bound_is_refused_naming_key_and_bound(tmp_path, key, limit, what):
    honest = {FORMAT_KEY: b"artvcs-remote 1\n", NAMESPACE_KEY: b'{"entity":"me","project":"proj"}\n'}[key]
    backend = Served({FORMAT_KEY: b"artvcs-remote 1\n", key: honest + b" " * (64 << 20)})
    with pytest.raises(RemoteFormatError, match=f"{what} '{key}' is larger than its bound of {limit} bytes"):
        RemoteRepo(backend).check_format() if key == FORMAT_KEY else RemoteRepo(backend).read_namespace()
    assert max(backend.served) <= limit + 1
    # exactly at the bound is still read (blanks around the words or the JSON are allowed)
    remote = _remote(tmp_path, {key: honest + b" " * (limit - len(honest))})
    assert (remote.check_format() if key == FORMAT_KEY else remote.read_namespace()) in (True, Namespace("me", "proj"))


def test_an_oversized_lock_object_is_refused_not_read_whole(tmp_path):
    backend = Served({"refs/x.lock": b"1.0 " + b"0" * (10 << 20)})
    backend.create = lambda key, data: False  # somebody holds it
    with pytest.raises(RemoteFormatError, match=f"lock object 'refs/x.lock' is larger than its bound of {lockobject.LOCK_LIMIT} bytes"):
        lockobject.acquire(backend, "refs/x", wait=0)
    assert max(backend.served) <= lockobject.LOCK_LIMIT + 1


def test_a_folder_remote_compares_no_more_than_it_writes(tmp_path):
    """A create-only write that lost, or a compare-and-swap, reads the object it compares with a bound."""
    root = tmp_path / "remote"
    backend = FileBackend(f"file://{root}", str(root))
    big = b"x" * (SWAP_LIMIT + 10)
    backend.write("refs/a", big)
    assert backend.create("refs/a", b"y" * 41) is False
    assert backend.swap("refs/a", b"y" * 41, tag_of(big)) is False  # its tag cannot be known from a bounded read
    assert (root / "refs" / "a").read_bytes() == big
    backend.write("refs/a", b"z" * 41)
    assert backend.create("refs/a", b"z" * 41) is True
    assert backend.swap("refs/a", b"y" * 41, tag_of(b"z" * 41)) is True
    assert (root / "refs" / "a").read_bytes() == b"y" * 41


_RECORD = st.one_of(st.binary(max_size=300),
                    st.builds(lambda n, pad: f"artvcs-remote {n}".encode() + pad, st.integers(-5, 10**30),
                              st.sampled_from([b"", b"\n", b" \n", b"\x00", b"\n\n\n"])),
                    st.builds(lambda e, p: f'{{"entity":{e},"project":{p}}}'.encode(),
                              st.sampled_from(['"me"', '""', '1', 'null', '"a/b"', '"' + "a" * 129 + '"', '"\\u001b[2J"']),
                              st.sampled_from(['"proj"', '[]', '{}', '"x\\ny"'])))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(record=_RECORD, key=st.sampled_from([FORMAT_KEY, NAMESPACE_KEY]))
def test_fuzzed_records_give_a_value_or_an_artvcs_error(record, key):
    remote = RemoteRepo(Served({FORMAT_KEY: b"artvcs-remote 1\n", key: record}))
    try:
        found = remote.check_format() if key == FORMAT_KEY else remote.read_namespace()
    except (RemoteFormatError, RemoteError):
        return
    assert found is True or isinstance(found, Namespace)


@settings(max_examples=200)
@given(held=st.binary(max_size=400))
def test_fuzzed_lock_objects_give_a_token_none_or_an_artvcs_error(held):
    backend = Served({"refs/x.lock": held})
    backend.create = lambda key, data: False
    backend.stat = lambda key: None
    try:
        assert lockobject.acquire(backend, "refs/x", wait=0) is None
    except RemoteFormatError:
        assert len(held) > lockobject.LOCK_LIMIT
