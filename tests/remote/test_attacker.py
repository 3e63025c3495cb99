"""A hostile remote, against a real folder remote and a real SeaweedFS one.

Each case crafts what a writer with access to the bucket could put there and runs it through
clone, fetch and pull. For each: the error names the value and the rule; local refs, stored
content and installed packs are unchanged and nothing is written outside the repository; the
honest versions still download, verify and pass fsck; and once the remote is repaired the next
honest pull works.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pygit2
import pytest

from artvcs.sync import sync
from artvcs.plumbing import refs, versions
from artvcs.plumbing.errors import ArtvcsError, CorruptObjectError, PathEscapeError
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.manifest import LISTING, iter_entries
from artvcs.plumbing.paths import check_entry_path
from artvcs.plumbing.remote.errors import RemoteFormatError
from artvcs.plumbing.remote.layout import PACKS, content_key
from artvcs.plumbing.remote.provenance import reference_origin

from attacker import COLL, Attacker, Snapshot
from conftest import make_remote_spec

V0, V1, V2 = (COLL.version_ref(n) for n in range(3))
HOW = ("pull", "fetch", "clone")


class Scene:
    """An honest writer, a victim clone, and an attacker, sharing one remote."""

    def __init__(self, workspace, url: str, opts: dict) -> None:
        self.ws, self.url, self.opts = workspace, url, opts
        self.honest = workspace.project("honest", url, opts)
        self.v0 = self.honest.log({"x.txt": "zero"})
        self.honest.push()
        self.victim = workspace.clone("victim", url, opts)
        self.attacker = Attacker(str(workspace.root / "evil"), url, opts)
        self.honest_refs = {n: self.attacker.ref(n) for n in self.attacker.remote.list_refs()}
        self.checks = workspace.root / "checks"  # where the honest versions are downloaded after each attempt
        self.skip = (self.honest.folder, str(workspace.root / "evil"), str(workspace.root / "remote"), str(self.checks))
        self.before = self.snapshot()

    def snapshot(self) -> Snapshot:
        return Snapshot(self.victim.repo, str(self.ws.root), self.skip)

    def attempt(self, how: str, match: str, error: type = RemoteFormatError) -> ArtvcsError:
        """Run ``how`` against the hostile remote: it must fail with ``error`` matching ``match``, changing nothing."""
        fresh = self.ws.root / "fresh"
        with pytest.raises(error, match=match) as caught:
            if how == "pull":
                self.victim.pull()
            elif how == "fetch":
                sync.fetch(self.victim.repo, self.victim.remote())
            else:
                sync.clone(self.url, str(fresh), self.opts)
        assert not fresh.exists(), "a refused clone left its folder"
        self.before.same_as(self.victim.repo, str(self.ws.root), self.skip)
        self.honest_versions_still_work()
        return caught.value

    def honest_versions_still_work(self) -> None:
        art = self.victim.api().artifact("mnist:v0")
        out = self.checks / "out"
        art.download(str(out))
        assert (out / "x.txt").read_text() == "zero"
        assert art.verify(str(out)) is None
        assert fsck(self.victim.repo) == []

    def repair(self) -> None:
        """Put the honest refs back (as a team would after noticing), then check the next honest pull."""
        remote = self.attacker
        for name in remote.remote.list_refs():
            if name not in self.honest_refs:
                remote.set_ref(name, None)
        for name, oid in self.honest_refs.items():
            remote.set_ref(name, oid)
        self.honest.log({"x.txt": "one"})
        self.honest.push()
        self.victim.pull()
        assert sorted(self.victim.numbers()) == [0, 1]
        assert versions.read_version(self.victim.repo.git, refs.read(self.victim.repo.git, V0)).commit == self.v0.commit
        self.victim.api().artifact("mnist:v1").checkout(str(self.ws.root / "victim" / "co"))
        assert (self.ws.root / "victim" / "co" / "x.txt").read_text() == "one"
        assert fsck(self.victim.repo) == []


# Every case runs on the folder remote. What the victim makes of hostile bytes does not depend on the
# backend that served them, so on SeaweedFS (the second backend) each test runs once, with one of
# its parameter sets (conftest's pytest_collection_modifyitems picks them, rotating the ways in): every
# attack still crosses a real S3 server. ``pytest --deep`` runs every case on all four backends.
ATTACKED = ("file", "s3")


def attacked_backends(config) -> tuple[str, ...]:
    from conftest import BACKENDS

    return tuple(BACKENDS) if config.getoption("--deep") else ATTACKED


def pytest_generate_tests(metafunc):
    if "scene" in metafunc.fixturenames:
        metafunc.parametrize("scene", attacked_backends(metafunc.config), indirect=True)


@pytest.fixture
def scene(request, workspace, tmp_path, aws_env):
    return Scene(workspace, *make_remote_spec(request, request.param, tmp_path))


# -- 1. a published version never changes ---------------------------------------------------
@pytest.mark.parametrize("how", ["pull", "fetch"])
def test_a_remote_that_rewrites_a_published_version_is_refused(scene, how, capsys):
    evil = scene.attacker
    forged = evil.version(evil.manifest({"x.txt": b"evil"}), 0)
    evil.upload(forged)
    evil.set_ref(V0, forged)
    err = scene.attempt(how, "published version never changes")
    assert f"me/proj/mnist:v0 is {scene.v0.commit} here but the remote now names {forged}" in str(err)
    code, out, stderr = _cli(scene, capsys, how)
    assert (code, out) == (1, "") and stderr.count("\n") == 1 and str(forged) in stderr and "Traceback" not in stderr
    scene.before.same_as(scene.victim.repo, str(scene.ws.root), scene.skip)
    scene.repair()


def _cli(scene, capsys, *args: str) -> tuple[int, str, str]:
    """``artvcs ARGS`` run in the victim's folder, in-process: (exit code, stdout, stderr)."""
    from artvcs.porcelain.cli import main

    here = os.getcwd()
    os.chdir(scene.victim.folder)
    try:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
    finally:
        os.chdir(here)
    return code, out, err


def test_a_new_version_built_on_a_rewritten_history_is_refused(scene):
    evil = scene.attacker
    forged0 = evil.version(evil.manifest({"x.txt": b"evil"}), 0)
    forged1 = evil.version(evil.manifest({"x.txt": b"evil 1"}), 1, parent=forged0)
    evil.upload(forged1)
    evil.set_ref(V0, None)  # "deleted" on the remote, then a v1 whose history holds another v0
    evil.set_ref(V1, forged1)
    evil.set_ref(COLL.collection_ref, forged1)
    err = scene.attempt("pull", "published version never changes")
    assert str(forged0) in str(err) and str(scene.v0.commit) in str(err)
    scene.repair()


# -- 2. recorded facts are recomputed -------------------------------------------------------
@pytest.mark.parametrize("field,how", [("digest", "pull"), ("size", "fetch"), ("file_count", "clone"), ("digest", "clone")])
def test_a_version_whose_facts_lie_is_refused(scene, how, field):
    evil = scene.attacker
    honest = scene.v0.facts
    lie = {"digest": honest["digest"], "size": 10**9, "file_count": 0}[field]
    bad = evil.version(evil.manifest({"x.txt": b"attacker's bytes"}), 1, parent=scene.v0.commit, **{field: lie})
    evil.upload(bad)
    evil.set_ref(V1, bad)
    evil.set_ref(COLL.collection_ref, bad)
    err = scene.attempt(how, f"artifact.json says {field} {lie!r}")
    assert "me/proj/mnist:v1" in str(err) and "facts lie" in str(err)
    # log finds versions by their stored digest: the lie must not have taken the honest content's place
    scene.victim.log({"x.txt": "zero"}, aliases=("prod",))
    assert scene.victim.aliases()["prod"] == 0
    scene.before = scene.snapshot()
    scene.repair()


def test_a_refused_pull_installs_nothing_and_the_next_pull_is_refused_too(scene):
    evil = scene.attacker
    bad = evil.version(evil.manifest({"x.txt": b"attacker"}), 1, parent=scene.v0.commit, digest=scene.v0.facts["digest"])
    evil.upload(bad)
    evil.set_ref(V1, bad)
    for _ in range(2):
        scene.attempt("pull", "artifact.json says digest")
        assert bad not in pygit2.Repository(scene.victim.repo.gitdir)  # the pack never left quarantine
    scene.repair()


# -- 3. history walks are bounded ------------------------------------------------------------------
@pytest.mark.parametrize("how", HOW)
def test_a_version_ref_naming_an_older_commit_is_refused(scene, how):
    scene.attacker.set_ref(V1, scene.v0.commit)
    err = scene.attempt(how, f"ref {V1} names commit {scene.v0.commit}, which is me/proj/mnist:v0, not me/proj/mnist:v1")
    assert "damaged or forged" in str(err)
    scene.repair()


def test_a_history_that_skips_a_number_is_refused(scene):
    evil = scene.attacker
    v2 = evil.version(evil.manifest({"x.txt": b"two"}), 2, parent=scene.v0.commit)
    evil.upload(v2)
    evil.set_ref(V2, v2)
    scene.attempt("pull", "has first parent .*, which is me/proj/mnist:v0, not v1: version numbers must count down")
    scene.repair()


def _bounded(seconds: int):
    def boom(*_):
        raise TimeoutError(f"still running after {seconds} s: a walk that does not end")

    signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)


def test_a_local_version_ref_naming_an_older_commit_is_an_error_not_a_loop(scene):
    git = scene.victim.repo.git
    refs.update(git, V1, scene.v0.commit, None, "damage")
    _bounded(60)
    try:
        with pytest.raises(CorruptObjectError, match=f"ref {V1} names commit {scene.v0.commit}, which is me/proj/mnist:v0"):
            versions.chain(git, COLL)
        with pytest.raises(CorruptObjectError, match=V1):
            scene.victim.log({"x.txt": "new"})
    finally:
        signal.alarm(0)
    for args in (["versions", "mnist"], ["checkout", "mnist:latest", "co"], ["log", "data", "--name", "mnist", "--type", "dataset"]):
        r = subprocess.run([sys.executable, "-m", "artvcs.porcelain.cli", *args], cwd=scene.victim.folder,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1 and r.stdout == "", (args, r)
        assert r.stderr.count("\n") == 1 and V1 in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)


# -- 4. packs: everything is checked before it is installed -------------------------------------------
def _new_pack(scene, files: dict[str, str]) -> str:
    before = set(scene.attacker.remote.list_packs())
    scene.honest.log(files)
    scene.honest.push()
    (name,) = set(scene.attacker.remote.list_packs()) - before
    return name


@pytest.mark.parametrize("how", HOW)
def test_a_truncated_pack_is_refused(scene, how):
    name = _new_pack(scene, {"x.txt": "one"})
    backend = scene.attacker.remote.backend
    whole = backend.read(f"{PACKS}{name}.pack")[0]
    backend.write(f"{PACKS}{name}.pack", whole[: len(whole) // 2])
    scene.attempt(how, f"pack origin/{PACKS}{name} is (unreadable|damaged)")
    backend.write(f"{PACKS}{name}.pack", whole)
    scene.victim.pull()
    assert sorted(scene.victim.numbers()) == [0, 1]


@pytest.mark.parametrize("how", HOW)
def test_a_pack_object_whose_bytes_are_swapped_is_refused(scene, how):
    evil = scene.attacker
    real = evil.version(evil.manifest({"x.txt": b"one"}), 1, parent=scene.v0.commit)
    # the index names the new commit, the bytes are v0's: what a remote that swaps objects serves
    forged = evil.forged_pack([(str(real), 1, evil.git[scene.v0.commit].read_raw())])
    evil.set_ref(V1, real)
    scene.attempt(how, f"pack origin/{PACKS}{forged} holds object {real} whose bytes hash to {scene.v0.commit}", CorruptObjectError)
    evil.remote.backend.remove(f"{PACKS}{forged}.idx")
    scene.repair()


def test_swapped_content_is_refused_before_any_ref_moves(scene):
    scene.honest.log({"x.txt": "one"})
    v1 = versions.read_version(scene.honest.repo.git, refs.read(scene.honest.repo.git, V1))
    scene.honest.push()
    digest = next(e.digest for e in iter_entries(scene.honest.repo.git, v1.manifest))
    scene.attacker.remote.backend.write(content_key(digest), b"not the bytes")
    before = scene.snapshot()
    with pytest.raises(CorruptObjectError, match=f"served corrupt content for {digest}"):
        scene.victim.pull()
    after = scene.snapshot()
    assert after.refs == before.refs and after.content == before.content  # the (valid) pack may stay
    scene.honest_versions_still_work()
    scene.attacker.remote.backend.write(content_key(digest), b"one")
    scene.victim.pull()
    assert sorted(scene.victim.numbers()) == [0, 1]


# -- 5. crafted manifests and reserved names ----------------------------------------------------------
def _git_names_refused() -> bool:
    try:
        check_entry_path(".git/config")
    except PathEscapeError:
        return True
    return False


def _crafted(scene, kind: str) -> pygit2.Oid:
    evil = scene.attacker
    d = evil.repo.store.put_bytes(b"x")
    layouts = {
        "escaping": {"%2E%2E": {"%files": [["passwd", d, 1]]}},
        "duplicate": {"a": {"b": {"%files": [["x", d, 1]]}}, "a%2Fb": {"%files": [["x", d, 1]]}},
        "duplicate-listings": {"%files": [["x", d, 1]], "%files.00": [["x", d, 1]]},
        "file-and-folder": {"%files": [["a", d, 1]], "a": {"%files": [["x", d, 1]]}},
        "dotgit": {"%2Egit": {"%files": [["config", d, 1]]}},
    }
    if kind == "deep":  # deep folders are allowed; its facts lie, so it is refused however deep
        return evil.version(evil.deep_tree(DEPTH, d), 1, parent=scene.v0.commit, file_count=2)
    return evil.version(evil.raw_tree(layouts[kind]), 1, parent=scene.v0.commit)


DEPTH = 1100  # past Python's recursion limit


def _deep_manifests_readable() -> bool:
    """True once manifests are read without recursion (issue 12's reader): any depth is then a valid manifest."""
    import tempfile

    from artvcs.plumbing.manifest import canonical_json

    with tempfile.TemporaryDirectory() as tmp:
        git = pygit2.init_repository(tmp, bare=True)
        tb = git.TreeBuilder()
        tb.insert(LISTING, git.create_blob(canonical_json([["f", "a" * 64, 1]])), pygit2.GIT_FILEMODE_BLOB)
        oid = tb.write()
        for _ in range(DEPTH):
            tb = git.TreeBuilder()
            tb.insert("d", oid, pygit2.GIT_FILEMODE_TREE)
            oid = tb.write()
        try:
            return len(list(iter_entries(git, oid))) == 1
        except RecursionError:
            return False


_DOTGIT = pytest.mark.xfail(not _git_names_refused(), strict=True, reason="the .git component rule comes with issue 12's path rules")
# each kind through one way in, the ways taken in turn (every way meets several kinds)
CRAFTED = [
    ("escaping", "pull", r"'\.\.'"),  # the path rules name the '..' component (or its escaped spelling)
    ("escaping", "clone", r"'\.\.'"),
    ("duplicate", "fetch", r"'a/b(/x)?'"),  # 'a/b/x' twice (or a%2Fb refused as a non-canonical escape)
    ("duplicate-listings", "pull", "manifest holds entry path 'x' twice"),
    ("file-and-folder", "clone", "entry path 'a' is both a file and a folder"),
    ("deep", "pull", "(?i)too deeply|facts lie"),
    ("deep", "fetch", "(?i)too deeply|facts lie"),
    pytest.param("dotgit", "pull", r"\.git", marks=_DOTGIT),
    pytest.param("dotgit", "clone", r"\.git", marks=_DOTGIT),
]


@pytest.mark.parametrize("kind,how,match", CRAFTED)
def test_a_crafted_manifest_is_refused(scene, how, kind, match):
    bad = _crafted(scene, kind)
    scene.attacker.upload(bad)
    scene.attacker.set_ref(V1, bad)
    err = scene.attempt(how, match)
    assert V1 in str(err) or "me/proj/mnist:v1" in str(err)
    scene.repair()


@pytest.mark.xfail(not _deep_manifests_readable(), strict=True, reason="manifests read without recursion come with issue 12")
@pytest.mark.parametrize("how", ["pull", "clone"])
def test_a_deep_honest_manifest_is_taken_not_a_traceback(scene, how):
    evil = scene.attacker
    deep = evil.version(evil.deep_tree(DEPTH, evil.repo.store.put_bytes(b"x")), 1, parent=scene.v0.commit)
    evil.upload(deep)
    evil.set_ref(V1, deep)
    evil.set_ref(COLL.collection_ref, deep)
    repo = scene.victim.repo if how == "pull" else sync.clone(scene.url, str(scene.ws.root / "fresh"), scene.opts)[0]
    if how == "pull":
        scene.victim.pull()
    assert refs.read(repo.git, V1) == deep


@pytest.mark.parametrize("alias,how", [("v0", "pull"), ("v7", "fetch"), ("latest", "clone"), ("latest", "pull")])
def test_an_alias_named_like_a_version_or_latest_is_refused(scene, how, alias):
    scene.attacker.set_ref(COLL.alias_ref(alias), scene.v0.commit)
    scene.attempt(how, f"alias ref '{COLL.alias_ref(alias)}' is named '{alias}'; 'latest' and v<N> are reserved")
    scene.repair()


# -- 6. clone is all or nothing ---------------------------------------------------------------------
def test_a_failed_clone_leaves_nothing_and_can_be_run_again(scene):
    evil = scene.attacker
    bad = evil.version(evil.manifest({"x.txt": b"attacker"}), 1, parent=scene.v0.commit, size=1)
    evil.upload(bad)
    evil.set_ref(V1, bad)
    target = scene.ws.root / "project"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(RemoteFormatError, match="artifact.json says size 1"):
        sync.clone(scene.url, str(target), scene.opts)
    assert os.listdir(target) == ["notes.txt"]
    evil.set_ref(V1, None)
    repo, _ = sync.clone(scene.url, str(target), scene.opts)
    assert sorted(os.listdir(target)) == [".artifacts", "notes.txt"]
    assert [v.number for v in versions.iter_versions(repo.git, COLL)] == [0]


# -- 7. references that came from a remote are marked ------------------------------------------------
def test_file_references_from_a_remote_are_marked_for_the_reader(scene, tmp_path):
    import artvcs

    local = tmp_path / "outside.csv"
    local.write_text("a,b\n")
    uri = f"file://{local}"
    run = artvcs.init(dir=scene.honest.folder, job_type="test")
    art = artvcs.Artifact("refs", type="dataset")
    art.add_reference(uri)
    run.log_artifact(art)
    run.finish()
    assert reference_origin(scene.honest.repo.gitdir, uri) is None  # added here: the user's own
    scene.honest.push()
    scene.victim.pull()
    assert reference_origin(scene.victim.repo.gitdir, uri) == "origin"
    assert reference_origin(scene.victim.repo.gitdir, "file:///never/seen") is None


# -- 8. a folder remote is files others may write: only regular files inside it are objects --------------
@pytest.fixture
def folder_scene(request, workspace, tmp_path, aws_env):
    """A Scene on a folder remote: links, FIFOs and devices exist only there."""
    return Scene(workspace, *make_remote_spec(request, "file", tmp_path))


def _root(scene) -> str:
    return scene.url[len("file://"):]


def test_a_fifo_or_link_planted_in_a_folder_remote_is_no_object_and_no_hang(folder_scene):
    scene = folder_scene
    root = _root(scene)
    os.mkfifo(os.path.join(root, V1))  # a FIFO among the refs: reading it would wait for ever
    planted = os.path.join(os.path.dirname(root), "planted")  # a file outside the remote (/dev/zero would never end)
    with open(planted, "w") as f:
        f.write(f"{scene.v0.commit}\n")
    os.makedirs(os.path.dirname(os.path.join(root, COLL.alias_ref("zero"))), exist_ok=True)
    os.symlink(planted, os.path.join(root, COLL.alias_ref("zero")))
    _bounded(120)
    try:  # a listing leaves both out: pull and clone see the honest refs only
        scene.victim.pull()
        fresh, _ = sync.clone(scene.url, str(scene.ws.root / "fresh"), scene.opts)
    finally:
        signal.alarm(0)
    for repo in (scene.victim.repo, fresh):
        names = {n for n, _ in refs.iter_refs(repo.git)}
        assert V0 in names and V1 not in names and COLL.alias_ref("zero") not in names
    from artvcs.plumbing.remote.layout import open_backend

    backend = open_backend(scene.url, scene.opts)
    for key, words in ((COLL.alias_ref("zero"), "is a symbolic link"), (V1, "not a regular file")):
        with pytest.raises(ArtvcsError, match=words) as caught:
            backend.read(key)
        assert key in str(caught.value)


def test_a_folder_remote_subfolder_linked_elsewhere_is_never_written_through(folder_scene, tmp_path):
    scene = folder_scene
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    scene.victim.log({"x.txt": "zero", "y.txt": "new content"})
    digest = next(e.digest for e in iter_entries(scene.victim.repo.git, versions.read_version(
        scene.victim.repo.git, refs.read(scene.victim.repo.git, V1)).manifest) if e.path == "y.txt")
    fan = os.path.dirname(os.path.join(_root(scene), content_key(digest)))
    if os.path.isdir(fan):
        os.rmdir(fan)
    os.symlink(elsewhere, fan)  # content/<fan-out> -> a folder of someone's own
    with pytest.raises(ArtvcsError, match=f"{content_key(digest)}.* leads out of the remote folder through a symbolic link"):
        scene.victim.push()
    assert os.listdir(elsewhere) == []
    os.unlink(fan)
    scene.victim.push()
    scene.honest.pull()
    assert sorted(scene.honest.numbers()) == [0, 1]


# -- 9. sizes are checked before bytes are read -----------------------------------------------------------
@pytest.mark.parametrize("how", ["pull", "clone"])
def test_a_ref_object_larger_than_a_commit_id_is_refused_unread(scene, how, monkeypatch):
    big = (str(scene.v0.commit) + "\n").encode() * 4096  # 164 KiB under a ref's name (a gigabyte would do the same)
    scene.attacker.remote.backend.write(V1, big)
    from artvcs.plumbing.remote.layout import RemoteRepo

    names_read = []
    read = RemoteRepo.read_ref

    def watched(self, name):
        names_read.append(name)
        return read(self, name)

    monkeypatch.setattr(RemoteRepo, "read_ref", watched)
    err = scene.attempt(how, f"ref {V1} is {len(big)} bytes, not a commit id \\(41 bytes\\)")
    assert V1 not in names_read, "the oversized ref was read"
    assert "damaged or forged" in str(err)
    monkeypatch.setattr(RemoteRepo, "read_ref", read)
    scene.repair()


@pytest.mark.parametrize("how", ["pull", "clone"])
def test_a_ref_object_listed_small_but_served_large_is_read_no_further_than_a_commit_id(scene, how, monkeypatch):
    """The listing is the remote's word: an S3 server can list 41 bytes and serve a gigabyte, and a folder
    remote's file can be swapped between the listing and the read. The read itself is bounded."""
    import dataclasses

    big = (str(scene.v0.commit) + "\n").encode() * 4096
    scene.attacker.remote.backend.write(V1, big)
    backend_type = type(scene.attacker.remote.backend)
    listed, read = backend_type.list, backend_type.read
    served = []

    def lying_list(self, prefix):
        return (dataclasses.replace(s, size=41) if s.key == V1 else s for s in listed(self, prefix))

    def watched(self, key, *args, **kwargs):
        found = read(self, key, *args, **kwargs)
        if key == V1 and found is not None:
            served.append(len(found[0]))
        return found

    monkeypatch.setattr(backend_type, "list", lying_list)
    monkeypatch.setattr(backend_type, "read", watched)
    err = scene.attempt(how, f"remote ref {V1} of .* is larger than a commit id \\(41 bytes\\)")
    assert "damaged or forged" in str(err)
    assert served and max(served) <= 42, served
    monkeypatch.setattr(backend_type, "list", listed)
    monkeypatch.setattr(backend_type, "read", read)
    scene.repair()


# -- 10. records not named by a digest are read with a bound ------------------------------------------------
def _served_no_more_than(monkeypatch, backend_type, key: str) -> list[int]:
    """Record how many bytes each read of ``key`` returned (the bound is on the read, not on a listing)."""
    read, served = backend_type.read, []

    def watched(self, k, *args, **kwargs):
        found = read(self, k, *args, **kwargs)
        if k == key and found is not None:
            served.append(len(found[0]))
        return found

    monkeypatch.setattr(backend_type, "read", watched)
    return served, lambda: monkeypatch.setattr(backend_type, "read", read)  # (undo() would drop aws_env's too)


@pytest.mark.parametrize("how", ["pull", "clone"])
def test_an_oversized_layout_record_is_refused_naming_its_bound(scene, how, monkeypatch):
    from artvcs.plumbing.remote.layout import FORMAT_KEY, FORMAT_LIMIT

    backend = scene.attacker.remote.backend
    honest = backend.read(FORMAT_KEY)[0]
    backend.write(FORMAT_KEY, honest + b" " * (1 << 20))  # still "two words": only the bound refuses it
    served, restore = _served_no_more_than(monkeypatch, type(backend), FORMAT_KEY)
    err = scene.attempt(how, f"layout record 'artvcs-remote' is larger than its bound of {FORMAT_LIMIT} bytes")
    assert "damaged or forged" in str(err) and scene.url.rstrip("/") in str(err)
    assert served and max(served) <= FORMAT_LIMIT + 1, served
    restore()
    backend.write(FORMAT_KEY, honest)
    scene.repair()


def test_an_oversized_namespace_record_is_refused_by_clone(scene, monkeypatch):
    from artvcs.plumbing.remote.layout import NAMESPACE_KEY, NAMESPACE_LIMIT

    backend = scene.attacker.remote.backend
    honest = backend.read(NAMESPACE_KEY)[0]
    backend.write(NAMESPACE_KEY, honest + b" " * (1 << 20))  # JSON allows the blanks: only the bound refuses it
    served, restore = _served_no_more_than(monkeypatch, type(backend), NAMESPACE_KEY)
    scene.attempt("clone", f"namespace record 'namespace' is larger than its bound of {NAMESPACE_LIMIT} bytes")
    assert served and max(served) <= NAMESPACE_LIMIT + 1, served
    restore()
    backend.write(NAMESPACE_KEY, honest)
    scene.repair()


# -- 11. text from a remote never drives the terminal ------------------------------------------------------
EVIL_TEXT = "d\x1b[2J\x1b]0;pwned\x07\rhidden\x08\x9b31m\x7f"  # clear screen, set title, bell, CR, BS, C1 CSI, DEL
EVIL_ALIAS = "best\x9b2J\x7f"  # an alias may hold C1 controls and DEL (C0 ones are refused)
_RAW = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if chr(c) not in "\t\n"]


def _raw_controls(text: str) -> list[str]:
    return sorted({repr(c) for c in text if c in _RAW})


def test_control_characters_from_a_remote_are_shown_escaped(scene, capsys):
    import artvcs

    honest = scene.honest
    honest.write({"x.txt": "one", "p\x9b2J\x7f.txt": "a path may hold C1 controls and DEL"})
    run = artvcs.init(dir=honest.folder, job_type="test")
    art = artvcs.Artifact("mnist", type="dataset", description=EVIL_TEXT, metadata={"k" + EVIL_TEXT: EVIL_TEXT})
    art.add_dir(os.path.join(honest.folder, "data"))
    run.log_artifact(art, aliases=[EVIL_ALIAS])
    run.finish()
    honest.push()
    scene.victim.pull()
    assert _cli(scene, capsys, "checkout", "mnist:v1", "co")[0] == 0
    for args in (("ls",), ("versions", "mnist"), ("show", "mnist:v1"), ("show", f"mnist:{EVIL_ALIAS}"),
                 ("history", "mnist"), ("diff", "mnist:v0", "mnist:v1"), ("status",), ("status", "co"),
                 ("show", f"mnist:{EVIL_ALIAS}x")):  # the last: an error line quoting it
        code, out, err = _cli(scene, capsys, *args)
        assert _raw_controls(out + err) == [], (args, out, err)
        if args[0] == "show" and code == 0:
            # (click removes CSI sequences itself, off a terminal: tests/porcelain/test_safetext.py runs one)
            assert "\\x1b]0;pwned\\x07\\x0dhidden\\x08\\x9b31m\\x7f" in out and "best\\x9b2J\\x7f" in out, out
        if args[0] == "diff":
            assert "p\\x9b2J\\x7f.txt" in out, out
        if args[-1].endswith("x"):
            assert code != 0 and err.count("\n") == 1, err
        code, out, err = _cli(scene, capsys, *args[:1], "--json", *args[1:])
        if code == 0 and args[0] == "show":  # JSON escapes them itself, unchanged
            import json

            assert json.loads(out)["description"] == EVIL_TEXT and "\\u001b[2J" in out
        assert _raw_controls(out + err) == [], (args, out, err)
