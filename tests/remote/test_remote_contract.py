"""One contract for every remote backend (a folder, and a real SeaweedFS server): push, clone, pull,
renumbering, deletion, resumption, verification, laziness and remote gc."""
from __future__ import annotations

import os

import pytest

from artvcs.sync import remote_gc, remotes
from artvcs.plumbing import versions
from artvcs.plumbing.errors import CorruptObjectError
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.gc import reachable_digests
from artvcs.plumbing.remote.errors import RemoteFormatError
from artvcs.plumbing.remote.layout import content_key
from remote_helpers import COLL, Counting


def _files(n: int, tag: str = "") -> dict[str, str]:
    return {f"part{i % 3}/f{i}.txt": f"file {i} {tag}" for i in range(n)}


def test_push_then_clone_round_trip(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    v0 = a.log(_files(12), aliases=("best",))
    a.log(_files(12, "changed") | {"extra.txt": "new"})
    result = a.push()
    assert result.objects == 25 and result.packs == 1
    assert "refs/versions/me/proj/mnist/v1" in result.refs
    b = workspace.clone("b", url, opts)
    assert b.numbers() == a.numbers() and b.aliases() == {"best": 0}
    assert sorted(b.repo.store.iter_digests()) == sorted(a.repo.store.iter_digests())
    assert fsck(b.repo) == []
    path = b.api().artifact("mnist:best").download(str(workspace.root / "out"))
    assert open(os.path.join(path, "part0", "f0.txt")).read() == "file 0 "
    assert b.api().artifact("mnist:v0").commit_hash == str(v0.commit)


def test_push_with_nothing_to_send_costs_a_handful_of_requests(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log(_files(40))
    a.push()
    remote = a.remote()
    counting = Counting(remote.backend)
    remote.backend = counting
    from artvcs.sync import pushing

    result = pushing.push(a.repo, remote)
    assert result.refs == [] and result.objects == 0
    assert len(counting.calls) <= 3, counting.calls


def test_second_version_sends_only_what_changed(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log(_files(30))
    a.push()
    a.log({"part1/f1.txt": "edited"})
    result = a.push()
    assert result.objects == 1 and result.packs == 1
    assert result.pack_bytes < 5000


def test_concurrent_writers_are_renumbered_and_nothing_is_lost(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log({"x.txt": "base"})
    a.push()
    b = workspace.clone("b", url, opts)
    b.log({"x.txt": "from b"}, aliases=("prod",))
    a.log({"x.txt": "from a 1"}, aliases=("best",))
    a.log({"x.txt": "from a 2"})
    b.push()
    result = a.push()
    assert result.integration.renumbered == ["me/proj/mnist:v1 -> v2", "me/proj/mnist:v2 -> v3"]
    b.pull()
    assert a.numbers() == b.numbers() and sorted(a.numbers()) == [0, 1, 2, 3]
    assert a.aliases() == b.aliases() == {"best": 2, "prod": 1}
    # the run that logged a's versions follows them to their new numbers
    run = a.api().runs()[-1]
    logged = {x.version for x in run.logged_artifacts()}
    assert logged == {"v3"}
    assert fsck(b.repo) == []
    a.pull()  # the push took b's version without its content (content is fetched when needed)
    assert fsck(a.repo) == []


def test_alias_moved_on_both_sides_is_refused_then_reconciled_by_pull(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log({"x.txt": "0"})
    a.log({"x.txt": "1"})
    a.log({"x.txt": "2"})
    a.push()
    b = workspace.clone("b", url, opts)
    art = b.api().artifact("mnist:v1")
    art.aliases.append("prod")
    art.save()
    b.push()
    art = a.api().artifact("mnist:v2")
    art.aliases.append("prod")
    art.save()
    result = a.push()
    assert list(result.integration.refused) == ["refs/aliases/me/proj/mnist/prod"]
    assert "artvcs pull" in next(iter(result.integration.refused.values()))
    assert b.remote().read_ref("refs/aliases/me/proj/mnist/prod")[0] == b.api().artifact("mnist:v1").commit_hash
    pulled = a.pull()
    assert any("prod" in n for n in pulled.integration.notes)
    assert a.push().integration.refused == {}
    b.pull()
    assert b.aliases() == {"prod": 2}


def test_deleting_a_version_reaches_the_other_clone(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log({"x.txt": "0"})
    a.log({"x.txt": "1"})
    a.push()
    b = workspace.clone("b", url, opts)
    a.api().artifact("mnist:v0").delete()
    a.push()
    assert a.remote().read_ref("refs/versions/me/proj/mnist/v0") is None
    b.pull()
    assert sorted(b.numbers()) == [1]
    b.log({"x.txt": "2"})
    b.push()
    a.pull()
    assert sorted(a.numbers()) == [1, 2]


def test_interrupted_push_leaves_the_remote_consistent_and_a_rerun_finishes(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log(_files(20))
    remote = a.remote()
    real = remote.backend.create

    def dying(key, data):
        if key.startswith("refs/"):
            raise KeyboardInterrupt("killed")
        return real(key, data)

    remote.backend.create = dying
    from artvcs.sync import pushing

    with pytest.raises(KeyboardInterrupt):
        pushing.push(a.repo, remote)
    assert remote.list_refs() == {}
    assert sorted(s.key for s in remote.list_content()) != []
    b = workspace.project("b", url, opts)
    assert b.pull().integration.updated == []  # nothing is visible: content and packs are not versions
    result = a.push()
    assert result.objects == 0 and "refs/versions/me/proj/mnist/v0" in result.refs
    assert b.pull().objects == 20


def test_corrupt_remote_content_is_refused(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    v = a.log({"x.txt": "good bytes"})
    a.push()
    b = workspace.clone("b", url, opts, only=["mnist"])
    digest = next(iter(reachable_digests(a.repo.git, [v.manifest], stored_only=True)))
    b.remote().backend.write(content_key(digest), b"evil bytes")
    with pytest.raises(CorruptObjectError):
        b.api().artifact("mnist:v0").download(str(workspace.root / "out"))
    assert not b.repo.store.has(digest)
    assert not os.path.exists(workspace.root / "out" / "x.txt")


def test_manifest_escaping_its_folder_is_refused_at_fetch(workspace, remote_spec):
    import pygit2

    from artvcs.plumbing.manifest import canonical_json
    from artvcs.plumbing.versions import commit_version, version_facts

    url, opts = remote_spec
    evil = workspace.project("evil", url, opts)
    git = evil.repo.git
    digest = evil.repo.store.put_bytes(b"pwned")
    listing = git.create_blob(canonical_json([["passwd", digest, 5]]))
    inner = git.TreeBuilder()
    inner.insert("%files", listing, pygit2.GIT_FILEMODE_BLOB)
    outer = git.TreeBuilder()
    outer.insert("%2E%2E", inner.write(), pygit2.GIT_FILEMODE_TREE)
    commit_version(git, COLL, outer.write(), version_facts("dataset", "x" * 64, 5, 1))
    from artvcs.sync import pushing

    real = pushing.content_to_send
    pushing.content_to_send = lambda git, commits, published=None: {digest}  # a hostile client skips the checks
    try:
        evil.push()
    finally:
        pushing.content_to_send = real
    victim = workspace.project("victim", url, opts)
    with pytest.raises(RemoteFormatError, match=r"subfolder entry '%2E%2E' that is not a canonically escaped name \(it decodes to '\.\.'"):
        victim.pull()
    assert versions.iter_collections(victim.repo.git) == []


def test_partial_clone_fetches_content_lazily_and_only_what_is_needed(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log(_files(9))
    a.log({"x.txt": "other"}, name="other")
    a.push()
    b = workspace.clone("b", url, opts, only=["mnist"])
    assert list(b.repo.store.iter_digests()) == []
    assert [str(c) for c in versions.iter_collections(b.repo.git)] == ["me/proj/mnist"]
    b.api().artifact("mnist:latest").download(str(workspace.root / "out"), path_prefix="part1")
    assert len(list(b.repo.store.iter_digests())) == 3
    assert sorted(os.listdir(workspace.root / "out" / "part1")) == ["f1.txt", "f4.txt", "f7.txt"]
    b.api().artifact("mnist:latest").checkout(str(workspace.root / "all"))
    assert len(list(b.repo.store.iter_digests())) == 9


def test_gc_remote_removes_only_unreachable_content_past_the_grace_period(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log({"keep.txt": "kept", "gone.txt": "old"})
    a.log({"gone.txt": "new"})
    a.push()
    young = remote_gc.remote_gc(a.repo, a.remote(), grace_seconds=3600, dry_run=True)
    assert young.removed == [] and young.kept_young == 0
    a.api().artifact("mnist:v0").delete()
    a.push()
    young = remote_gc.remote_gc(a.repo, a.remote(), grace_seconds=3600)
    assert young.removed == [] and young.kept_young == 1
    result = remote_gc.remote_gc(a.repo, a.remote(), grace_seconds=0)
    assert len(result.removed) == 1 and result.reachable == 2
    b = workspace.clone("b", url, opts)
    assert sorted(b.numbers()) == [1]
    assert fsck(b.repo) == []


def test_conflicting_type_is_refused(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log({"x.txt": "0"})
    a.push()
    b = workspace.project("b", url, opts)
    import artvcs

    run = artvcs.init(dir=b.folder)
    art = artvcs.Artifact("mnist", type="model")
    b.write({"y.txt": "m"})
    art.add_dir(os.path.join(b.folder, "data"))
    run.log_artifact(art)
    run.finish()
    with pytest.raises(Exception, match="type"):
        b.push()


def test_remote_settings_never_hold_credentials(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    with pytest.raises(ValueError, match="credentials"):
        remotes.add_remote(a.repo, "x", "s3://KEY:SECRET@bucket/p")
    with pytest.raises(ValueError, match="not allowed"):
        remotes.add_remote(a.repo, "y", url, {"aws_secret_access_key": "s"})
    text = open(a.repo.config_path).read()
    assert os.environ["AWS_SECRET_ACCESS_KEY"] not in text and os.environ["AWS_ACCESS_KEY_ID"] not in text
    assert "url:" in text


def test_two_clones_pushing_one_after_the_other_converge(workspace, remote_spec):
    url, opts = remote_spec
    a = workspace.project("a", url, opts)
    a.log({"x.txt": "0"})
    a.push()
    b = workspace.clone("b", url, opts)
    a.log({"x.txt": "a"})
    b.log({"x.txt": "b"})
    a.push()
    b.push()
    a.pull()
    assert a.numbers() == b.numbers() and sorted(a.numbers()) == [0, 1, 2]
