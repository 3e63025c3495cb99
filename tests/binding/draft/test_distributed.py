"""Distributed artifacts: ``Run.upsert_artifact`` / ``Run.finish_artifact`` as in W&B v0.17.9.

W&B's rules (wandb/sdk/wandb_run.py at v0.17.9): both need a ``distributed_id`` or a run in a
group (else TypeError, "Cannot upsert artifact unless run is in a group or distributed_id is
provided"); the group is the default id; upserts add to one draft that is not a version until
``finish_artifact``; "subsequent upserts with the same distributed ID will result in a new
version". W&B's own test (tests/system_tests/test_artifacts/test_object_references.py,
``test_image_reference_artifact``'s distributed part) upserts from several runs and checks the
finished version holds every run's entries. Here the runs are real processes, at once.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pygit2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import artvcs
from artvcs.draft import distributed
from artvcs.plumbing import refs
from artvcs.plumbing.errors import CorruptObjectError

WRITERS = 4
FILES_EACH = 5


def _draft_refs(project) -> list[str]:
    git = pygit2.Repository(str(project / ".artifacts"))
    return [n for n, _ in refs.iter_refs(git, distributed.PREFIX)]


def _run_script(project, body: str, *args: str) -> subprocess.CompletedProcess:
    script = project / f"script-{abs(hash(body))}.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run([sys.executable, str(script), *args], cwd=project, capture_output=True, text=True, timeout=300)


def test_upsert_and_finish_need_a_distributed_id_or_a_group(project):
    (project / "a.txt").write_text("a")
    run = artvcs.init()
    art = artvcs.Artifact("dist", "dataset")
    art.add_file("a.txt")
    with pytest.raises(TypeError, match="Cannot upsert artifact unless run is in a group or distributed_id is provided"):
        run.upsert_artifact(art)
    with pytest.raises(TypeError, match="Cannot finish artifact unless run is in a group or distributed_id is provided"):
        run.finish_artifact(artvcs.Artifact("dist", "dataset"))
    assert _draft_refs(project) == []
    assert not artvcs.Api().artifact_exists("dist:latest")
    assert art.is_draft() and art.distributed_id is None


def test_the_group_is_the_default_id_and_the_draft_is_no_version_until_finished(project):
    (project / "a.txt").write_text("a")
    run = artvcs.init(group="job-7")
    assert run.group == "job-7"
    art = artvcs.Artifact("dist", "dataset")
    art.add_file("a.txt")
    assert run.upsert_artifact(art) is art
    assert art.distributed_id == "job-7" and art.state == "PENDING"
    assert not artvcs.Api().artifact_exists("dist:latest")
    assert len(_draft_refs(project)) == 1
    # another run, the id given explicitly instead of through its group
    run.finish()
    run = artvcs.init()
    (project / "b.txt").write_text("b")
    last = artvcs.Artifact("dist", "dataset")
    last.add_file("b.txt")
    done = run.finish_artifact(last, distributed_id="job-7", aliases=["best"])
    assert done.state == "COMMITTED" and done.version == "v0" and done.distributed_id == "job-7"
    assert sorted(done.manifest.entries) == ["a.txt", "b.txt"]
    assert _draft_refs(project) == []
    got = artvcs.Api().artifact("dist:best")
    assert got.version == "v0" and got.get_entry("a.txt").size == 1
    assert got.logged_by().id == run.id


def test_finish_without_upserts_logs_the_artifact_alone(project):
    (project / "a.txt").write_text("a")
    run = artvcs.init(group="g")
    art = artvcs.Artifact("solo", "dataset")
    art.add_file("a.txt")
    assert run.finish_artifact(art).version == "v0"


def test_an_upsert_after_the_finish_starts_the_next_version(project):
    run = artvcs.init(group="g")
    for name in ("one", "two"):
        (project / f"{name}.txt").write_text(name)
        art = artvcs.Artifact("dist", "dataset")
        art.add_file(f"{name}.txt")
        run.upsert_artifact(art)
        run.finish_artifact(artvcs.Artifact("dist", "dataset"))
    api = artvcs.Api()
    assert sorted(api.artifact("dist:v0").manifest.entries) == ["one.txt"]
    assert sorted(api.artifact("dist:v1").manifest.entries) == ["two.txt"]


def test_a_later_upsert_of_a_path_replaces_the_earlier(project):
    run = artvcs.init(group="g")
    for text in ("old", "new!"):
        (project / "x.txt").write_text(text)
        art = artvcs.Artifact("dist", "dataset")
        art.add_file("x.txt")
        run.upsert_artifact(art)
    done = run.finish_artifact(artvcs.Artifact("dist", "dataset"))
    assert done.get_entry("x.txt").size == 4


def test_bad_input_changes_nothing(project):
    (project / "a.txt").write_text("a")
    run = artvcs.init(group="g")
    art = artvcs.Artifact("dist", "dataset")
    art.add_file("a.txt")
    run.upsert_artifact(art)
    before = _draft_refs(project)
    git = pygit2.Repository(str(project / ".artifacts"))
    tip = refs.read(git, before[0])
    other = artvcs.Artifact("dist", "model")
    other.add_file("a.txt")
    with pytest.raises(ValueError, match="already exists with type 'dataset'"):
        run.upsert_artifact(other)
    with pytest.raises(ValueError, match="already exists with type 'dataset'"):
        run.finish_artifact(other)
    with pytest.raises(ValueError, match="distributed_id"):
        run.upsert_artifact(artvcs.Artifact("dist", "dataset"), distributed_id="bad\nid")
    with pytest.raises(ValueError, match="alias"):
        run.upsert_artifact(artvcs.Artifact("dist", "dataset"), aliases=["a/b"])
    assert refs.read(git, before[0]) == tip
    assert not artvcs.Api().artifact_exists("dist:latest")


WRITER = """
    import sys, time, os
    import artvcs
    me, count, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(me, exist_ok=True)
    while not os.path.exists(go):  # every writer starts at once
        time.sleep(0.01)
    run = artvcs.init(group="shard-job")
    for i in range(count):
        path = os.path.join(me, f"part-{i}.txt")
        with open(path, "w") as f:
            f.write(f"{me} {i}\\n")
        art = artvcs.Artifact("shards", "dataset")
        art.add_file(path, name=f"{me}/part-{i}.txt")
        run.upsert_artifact(art)
    run.finish()
"""


def test_concurrent_processes_upsert_into_one_version_and_nothing_is_lost(project):
    go = project / "go"
    script = project / "writer.py"
    script.write_text(textwrap.dedent(WRITER))
    procs = [subprocess.Popen([sys.executable, str(script), f"w{n}", str(FILES_EACH), str(go)], cwd=project,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(WRITERS)]
    go.write_text("")
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert not artvcs.Api().artifact_exists("shards:latest")  # upserts make no version
    run = artvcs.init(group="shard-job")
    done = run.finish_artifact(artvcs.Artifact("shards", "dataset"))
    want = sorted(f"w{n}/part-{i}.txt" for n in range(WRITERS) for i in range(FILES_EACH))
    assert sorted(done.manifest.entries) == want
    root = done.download(str(project / "out"))
    for n in range(WRITERS):
        for i in range(FILES_EACH):
            assert (project / "out" / f"w{n}" / f"part-{i}.txt").read_text() == f"w{n} {i}\n"
    done.verify(root)
    assert _draft_refs(project) == []
    assert subprocess.run(["git", "--git-dir", str(project / ".artifacts"), "fsck", "--no-progress"]).returncode == 0


FINISHER = """
    import sys, time, os
    import artvcs
    go = sys.argv[1]
    while not os.path.exists(go):
        time.sleep(0.01)
    time.sleep(0.05)  # amid the writers' upserts
    run = artvcs.init(group="shard-job")
    print(run.finish_artifact(artvcs.Artifact("shards", "dataset")).version)
"""


def test_a_finish_amid_upserts_splits_them_between_versions_and_loses_none(project):
    go = project / "go"
    (project / "writer.py").write_text(textwrap.dedent(WRITER))
    (project / "finisher.py").write_text(textwrap.dedent(FINISHER))
    procs = [subprocess.Popen([sys.executable, str(project / "writer.py"), f"w{n}", str(FILES_EACH), str(go)], cwd=project,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in range(3)]
    procs.append(subprocess.Popen([sys.executable, str(project / "finisher.py"), str(go)], cwd=project,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    go.write_text("")
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    run = artvcs.init(group="shard-job")
    run.finish_artifact(artvcs.Artifact("shards", "dataset"))
    api = artvcs.Api()
    seen: list[str] = []
    for v in api.artifacts("dataset", "shards"):
        seen += list(v.manifest.entries)
    # every upsert is in exactly one version (an upsert of the finish's moment went to the next)
    assert sorted(seen) == sorted(f"w{n}/part-{i}.txt" for n in range(3) for i in range(FILES_EACH))
    assert _draft_refs(project) == []


UPSERT_ONE = """
    import sys
    import artvcs
    name = sys.argv[1]
    with open(name, "w") as f:
        f.write(name)
    run = artvcs.init(group="g")
    art = artvcs.Artifact("dist", "dataset")
    art.add_file(name)
    run.upsert_artifact(art)
"""

CRASH_FINISH = """
    import os, sys
    import artvcs
    from artvcs import runs
    from artvcs.draft import distributed
    where = sys.argv[1]
    if where == "before-version":
        runs.Run.log_artifact = lambda *a, **k: os._exit(9)
    else:
        distributed.drop = lambda *a, **k: os._exit(9)
    with open("late.txt", "w") as f:
        f.write("late")
    run = artvcs.init(group="g")
    art = artvcs.Artifact("dist", "dataset")
    art.add_file("late.txt")
    run.finish_artifact(art)
"""


def test_a_finisher_killed_before_its_version_leaves_the_draft_to_continue(project):
    assert _run_script(project, UPSERT_ONE, "first.txt").returncode == 0
    assert _run_script(project, CRASH_FINISH, "before-version").returncode == 9
    assert not artvcs.Api().artifact_exists("dist:latest")
    assert _run_script(project, UPSERT_ONE, "second.txt").returncode == 0
    run = artvcs.init(group="g")
    done = run.finish_artifact(artvcs.Artifact("dist", "dataset"))
    # nothing upserted is lost; the dead finisher's entry had been added to the draft
    assert sorted(done.manifest.entries) == ["first.txt", "late.txt", "second.txt"]
    assert done.version == "v0"


def test_a_finisher_killed_after_its_version_is_not_finished_twice(project):
    assert _run_script(project, UPSERT_ONE, "first.txt").returncode == 0
    assert _run_script(project, CRASH_FINISH, "after-version").returncode == 9
    api = artvcs.Api()
    assert sorted(api.artifact("dist:v0").manifest.entries) == ["first.txt", "late.txt"]
    assert len(_draft_refs(project)) == 1  # its removal was missed
    assert _run_script(project, UPSERT_ONE, "second.txt").returncode == 0
    run = artvcs.init(group="g")
    done = run.finish_artifact(artvcs.Artifact("dist", "dataset"))
    assert done.version == "v1" and sorted(done.manifest.entries) == ["second.txt"]
    assert _draft_refs(project) == []


def test_gc_keeps_what_a_draft_holds(project, run_cli):
    assert _run_script(project, UPSERT_ONE, "kept.txt").returncode == 0
    os.unlink(project / "kept.txt")
    from artvcs.core.context import context_for, find_or_create
    from artvcs.logged import gc

    ctx = context_for(find_or_create(str(project)), None, None)
    gc.gc(ctx, [], grace_seconds=0)
    run = artvcs.init(group="g")
    done = run.finish_artifact(artvcs.Artifact("dist", "dataset"))
    root = done.download(str(project / "out"))
    done.verify(root)
    assert (project / "out" / "kept.txt").read_text() == "kept.txt"


def test_fsck_checks_a_drafts_manifest_and_content(project):
    from artvcs.plumbing import repository
    from artvcs.plumbing.fsck import fsck

    (project / "a.txt").write_text("draft content")
    run = artvcs.init(group="g")
    art = artvcs.Artifact("dist", "dataset")
    art.add_file("a.txt")
    run.upsert_artifact(art)
    repo = repository.discover(str(project))
    assert fsck(repo) == []
    digest = art.manifest.entries["a.txt"].digest
    path = repo.store.path_of(digest)
    os.chmod(path, 0o644)
    with open(path, "w") as f:
        f.write("damaged")
    kinds = {(p.kind, p.object) for p in fsck(repo)}
    assert ("corrupt-content", digest) in kinds
    git = pygit2.Repository(str(project / ".artifacts"))
    name = _draft_refs(project)[0]
    sig = pygit2.Signature("t", "t@t")
    empty = git.create_commit(None, sig, sig, "x", git.TreeBuilder().write(), [])
    refs.update(git, name, empty, refs.read(git, name), "break it")
    assert ("bad-draft", name) in {(p.kind, p.object) for p in fsck(repo)}


_RECORDS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["type", "aliases", "runs", "finishing", "digest", "pid", "host"]), inner, max_size=5),
    max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(st.binary(max_size=64), _RECORDS.map(lambda r: json.dumps(r).encode()),
                      st.sampled_from([b'{"type": "d", "x": NaN}', b"[" * 100000, b'{"type": "\xff"}'])),
       tree_kind=st.sampled_from(["blob", "tree-record", "blob-manifest", "no-commit"]))
def test_a_damaged_draft_record_is_corrupt_never_a_traceback(project, data, tree_kind):
    """draft.json and the draft's commit are stored data: read() gives a Pending whose fields have the
    shapes the writers use, or CorruptObjectError; never another exception."""
    git = pygit2.Repository(str(project / ".artifacts"))
    name = "refs/drafts/me/p/fuzz/d"
    blob = git.create_blob(data)
    empty = git.TreeBuilder().write()
    tb = git.TreeBuilder()
    tb.insert(distributed.RECORD, empty if tree_kind == "tree-record" else blob,
              pygit2.GIT_FILEMODE_TREE if tree_kind == "tree-record" else pygit2.GIT_FILEMODE_BLOB)
    tb.insert(distributed.MANIFEST, blob if tree_kind == "blob-manifest" else empty,
              pygit2.GIT_FILEMODE_BLOB if tree_kind == "blob-manifest" else pygit2.GIT_FILEMODE_TREE)
    sig = pygit2.Signature("t", "t@t")
    target = blob if tree_kind == "no-commit" else git.create_commit(None, sig, sig, "x", tb.write(), [])
    git.references.create(name, target, force=True)
    try:
        found = distributed.read(git, name)
    except CorruptObjectError:
        return
    assert tree_kind == "blob" and isinstance(found.record, dict) and isinstance(found.record["type"], str)
    assert all(isinstance(a, str) for a in found.record.get("aliases", []) + found.record.get("runs", []))
    assert found.finishing is None or isinstance(found.finishing.get("digest", ""), str)
