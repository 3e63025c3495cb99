"""Every parser of what a remote holds, or of what this repository recorded about remotes, fed arbitrary
bytes: the remote's format record and ref objects, ref and pack names in a listing, packs and their
indexes, and the state files under .artifacts/remotes/. Only artvcs's own errors may come out, never
another exception, and each example is bounded by a deadline (a hang fails it).
"""
from __future__ import annotations

import os
import shutil

import pygit2
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from artvcs.plumbing.errors import ArtvcsError
from artvcs.plumbing.remote import provenance
from artvcs.plumbing.remote.backend import FileBackend, Stat
from artvcs.plumbing.remote.incoming import check_ref_name
from artvcs.plumbing.remote.layout import FORMAT_KEY, PACKS, RemoteRepo, value_from_listing
from artvcs.plumbing.remote.packs import verify_pack
from artvcs.plumbing.remote.quarantine import Quarantine
from artvcs.plumbing.remote.state import RemoteState, seen_versions
from artvcs.plumbing.repository import init_repository

FUZZ = settings(max_examples=60, deadline=10_000, suppress_health_check=[HealthCheck.function_scoped_fixture])
junk = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.lists(st.sampled_from([b"artvcs-remote", b" ", b"1", b"\xb2", b"\n", b"\t", b"refs/versions/a/b/c/v0", b"0" * 40,
                              b"f" * 40, b"%", b"\xff", b"latest", b"v01", "²".encode(), "١".encode()]), max_size=12).map(b"".join),
)


def _remote(tmp_path_factory) -> tuple[RemoteRepo, str]:
    root = str(tmp_path_factory.mktemp("remote"))
    return RemoteRepo(FileBackend(f"file://{root}", root), "fuzzed"), root


@FUZZ
@given(data=junk)
@example(data="artvcs-remote ²\n".encode())
@example(data=b"artvcs-remote 99\n")
def test_format_record(tmp_path_factory, data):
    remote, root = _remote(tmp_path_factory)
    with open(os.path.join(root, FORMAT_KEY), "wb") as f:
        f.write(data)
    try:
        assert remote.check_format() is True
    except ArtvcsError:
        pass


@FUZZ
@given(data=junk)
def test_ref_objects(tmp_path_factory, data):
    remote, root = _remote(tmp_path_factory)
    os.makedirs(os.path.join(root, "refs", "versions"))
    with open(os.path.join(root, "refs", "versions", "v0"), "wb") as f:
        f.write(data)
    try:
        oid, tag = remote.read_ref("refs/versions/v0")
        pygit2.Oid(hex=oid)
    except ArtvcsError:
        pass
    stat = next(iter(remote.list_refs().values()))
    assert value_from_listing(Stat(stat.key, stat.size, "x", None), [None, "0" * 40]) is None


names = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(["refs", "versions", "aliases", "collections", "attrs", "runs", "latest", "drafts", "me", "proj",
                              "mnist", "v0", "v01", "latest", "%2E", "%2e", "..", ".", "", "a%ZZ", "%C3%A9"]),
             max_size=8).map("/".join),
)


@settings(max_examples=300, deadline=10_000)
@given(name=names)
def test_ref_names(name):
    try:
        check_ref_name(name, "fuzzed")
    except ArtvcsError:
        pass


def test_local_only_namespaces_are_refused_from_a_remote():
    # refs/latest and refs/drafts (distributed drafts) are never pushed: a remote naming one is refused
    for name in ("refs/latest/me/proj/mnist/v0", "refs/drafts/me/proj/mnist/job%201"):
        with pytest.raises(ArtvcsError, match="not a valid artvcs ref name"):
            check_ref_name(name, "test")


@FUZZ
@given(keys=st.lists(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1,
                             max_size=50), max_size=6))
def test_pack_and_content_listings(tmp_path_factory, keys):
    remote, root = _remote(tmp_path_factory)
    for folder in ("packs", "content/ab"):
        os.makedirs(os.path.join(root, folder), exist_ok=True)
        for k in keys:
            if k not in (".", ".."):
                with open(os.path.join(root, folder, k), "wb") as f:
                    f.write(b"x")
    assert all(len(n) == 40 for n in remote.list_packs())
    assert all(len(s.key) == len("content/") + 65 for s in remote.list_content())


@FUZZ
@given(pack=junk, idx=junk)
def test_packs_and_indexes(tmp_path_factory, pack, idx):
    folder = str(tmp_path_factory.mktemp("objects"))
    os.makedirs(os.path.join(folder, "pack"))
    for ext, data in (("pack", pack), ("idx", idx)):
        with open(os.path.join(folder, "pack", f"pack-{'a' * 40}.{ext}"), "wb") as f:
            f.write(data)
    try:
        verify_pack(folder, "fuzzed")
    except ArtvcsError:
        pass


@FUZZ
@given(cut=st.integers(min_value=0, max_value=400), flip=st.integers(min_value=0, max_value=400))
def test_damaged_real_packs_through_the_quarantine(tmp_path_factory, cut, flip):
    repo = init_repository(str(tmp_path_factory.mktemp("repo")))
    remote, root = _remote(tmp_path_factory)
    src = pygit2.Repository(repo.gitdir)
    tb = src.TreeBuilder()
    tb.insert("f", src.create_blob(b"some bytes " * 20), pygit2.GIT_FILEMODE_BLOB)
    sig = pygit2.Signature("a", "a@b", 0, 0)
    src.create_commit(None, sig, sig, "m", tb.write(), [])
    out = str(tmp_path_factory.mktemp("out"))
    pb = pygit2.PackBuilder(src)
    for oid in list(pygit2.OdbBackendLoose(os.path.join(repo.gitdir, "objects"), 0, False)):
        pb.add(oid)
    pb.write(out)
    name = "b" * 40
    os.makedirs(os.path.join(root, "packs"))
    for ext in ("pack", "idx"):
        (found,) = [f for f in os.listdir(out) if f.endswith("." + ext)]
        data = bytearray(open(os.path.join(out, found), "rb").read())
        if ext == "pack":
            data = data[: max(cut, 12)] if cut < len(data) else data
            if flip < len(data):
                data[flip] ^= 0x55
        with open(os.path.join(root, PACKS, f"{name}.{ext}"), "wb") as f:
            f.write(bytes(data))
    fresh = init_repository(str(tmp_path_factory.mktemp("fresh")))
    with Quarantine(fresh.gitdir) as q:
        q.fetch(remote, [name])
        assert q.names == [name] or name in q.refused
    assert os.listdir(os.path.join(fresh.gitdir, "objects", "pack")) == []
    shutil.rmtree(root)


@FUZZ
@given(base=junk, fetched=junk, packs=junk, seen=junk, references=junk)
def test_state_files(tmp_path_factory, base, fetched, packs, seen, references):
    repo = init_repository(str(tmp_path_factory.mktemp("repo")))
    state = RemoteState(repo.gitdir, "origin")
    os.makedirs(state.folder)
    for what, data in (("base", base), ("fetched", fetched), ("packs", packs)):
        with open(os.path.join(state.folder, what), "wb") as f:
            f.write(data)
    for what, data in ((".seen", seen), (".references", references)):
        with open(os.path.join(repo.gitdir, "remotes", what), "wb") as f:
            f.write(data)
    for which in ("base", "fetched"):
        for name, oid in state.refs(which).items():
            assert name.startswith("refs/")
            pygit2.Oid(hex=oid)
    assert all(isinstance(p, str) for p in state.packs())
    for name, oid in seen_versions(repo.gitdir).items():
        pygit2.Oid(hex=oid)
    assert all(isinstance(u, str) for u in provenance.remote_references(repo.gitdir))
    provenance.record_references(repo.gitdir, ["file:///x\ny\tz"], "origin")
    assert provenance.reference_origin(repo.gitdir, "file:///x\ny\tz") is not None
