"""Reading a ref from the files backend without libgit2 gives what libgit2 gives, or says it cannot tell."""
from __future__ import annotations

import datetime
import os
import subprocess

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.plumbing import refs
from artvcs.plumbing.refpeek import CannotTell, RefPeek


def test_loose_packed_missing_and_symbolic_refs(tmp_path):
    git = pygit2.init_repository(str(tmp_path / "r.git"), bare=True)
    blob = git.create_blob(b"x")
    tree = git.TreeBuilder().write()
    sig = pygit2.Signature("t", "t@localhost")
    one = git.create_commit(None, sig, sig, "1", tree, [])
    two = git.create_commit(None, sig, sig, "2", tree, [one])
    git.references.create("refs/versions/e/p/c/v0", one)
    git.references.create("refs/versions/e/p/c/v1", two)
    subprocess.run(["git", "--git-dir", git.path, "pack-refs", "--all"], check=True)  # both packed now
    git.references.create("refs/versions/e/p/c/v1", one, force=True)  # a loose file hides the packed line
    git.references.create("refs/aliases/e/p/c/sym", "refs/versions/e/p/c/v0")
    peek = RefPeek(git.path)
    for name in ("refs/versions/e/p/c/v0", "refs/versions/e/p/c/v1", "refs/versions/e/p/c/v9"):
        got = refs.read(git, name)
        assert peek.peek(name) == (str(got) if got is not None else None), name
    assert peek.peek("refs/versions/e/p/c/v1") == str(one) and str(blob)
    with pytest.raises(CannotTell):
        peek.peek("refs/aliases/e/p/c/sym")  # symbolic: libgit2's reader decides
    with pytest.raises(CannotTell):
        peek.peek("refs/versions/e/p/c")  # a folder of refs, not a ref


@settings(max_examples=100, deadline=datetime.timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
@given(packed=st.binary(max_size=300), loose=st.binary(max_size=60))
def test_any_ref_file_bytes_give_a_value_nothing_or_cannot_tell(tmp_path_factory, packed, loose):
    gitdir = tmp_path_factory.mktemp("g")
    os.makedirs(gitdir / "refs" / "versions")
    (gitdir / "packed-refs").write_bytes(packed)
    (gitdir / "refs" / "versions" / "loose").write_bytes(loose)
    peek = RefPeek(str(gitdir))
    for name in ("refs/versions/loose", "refs/versions/packed", "refs/x"):
        try:
            value = peek.peek(name)
        except CannotTell:
            continue
        assert value is None or (len(value) == 40 and set(value) <= set("0123456789abcdef"))
