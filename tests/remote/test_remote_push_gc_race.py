"""A push and a ``gc --remote`` run at the same moment, interleaved step by step: the remote stays readable.

The push publishes a version that re-uses content of a version deleted from
the remote (so unreachable there, and old enough for a gc with no grace),
and uploads a new file; the gc, run from another clone, would remove both.
Two real processes (``artvcs push`` and ``artvcs gc --remote --grace 0``) are
held at their named steps (:mod:`artvcs.plumbing.remote.steps`) and released
in the order a schedule gives: for every pair of a push step and a gc step,
a schedule runs them in each order after the same steps of both. Whatever
the order, a fresh clone must pull every version and every byte, verified.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

import artvcs
from artvcs.plumbing.remote.steps import ENV
from remote_helpers import random_bytes, write_big

BIN = os.path.dirname(sys.executable)
PUSH = ["push-view", "push-mark", "push-check", "push-settle", "push-wait", "push-recheck", "push-publish", "push-unmark"]
GC = ["gc-mark", "gc-check", "gc-list", "gc-remove", "gc-unmark"]
# push-view happens twice (refs read before and after the marker); wait and recheck only after a gc was seen
PUSH_MAIN = [s for s in PUSH if s not in ("push-view", "push-wait", "push-recheck")]


def schedules() -> list[tuple[str, ...]]:
    """``A[:x] B[:y] A[x:] B[y:]`` for either process as A: every pair of steps, in both orders, after
    the same steps of both (duplicates dropped)."""
    out: dict[tuple, None] = {}
    for first, second in ((PUSH_MAIN, GC), (GC, PUSH_MAIN)):
        for x in range(len(first)):
            for y in range(len(second)):
                out[tuple(first[:x + 1] + second[:y + 1] + first[x + 1:] + second[y + 1:])] = None
    return list(out)


class Held:
    """A real artvcs process that pauses at each named step until released."""

    def __init__(self, args: list[str], cwd: str, folder: str) -> None:
        os.makedirs(folder)
        self.folder, self.n = folder, 0
        env = dict(os.environ, **{ENV: folder})
        self.proc = subprocess.Popen([os.path.join(BIN, "artvcs"), *args], cwd=cwd, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def paused(self) -> str | None:
        """The step it waits at, or None while it runs."""
        prefix = f"{self.n}-"
        for name in os.listdir(self.folder):
            if name.startswith(prefix) and name != f"{self.n}-go":
                return name[len(prefix):]
        return None

    def next(self) -> str | None:
        """Wait until it pauses at its next step (its name) or ends (None)."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            at = self.paused()
            if at is not None:
                return at
            if self.proc.poll() is not None:
                return self.paused()
            time.sleep(0.002)
        raise AssertionError(f"{self.proc.args} neither paused nor ended in 300 s")

    def release(self) -> None:
        open(os.path.join(self.folder, f"{self.n}-go"), "w").close()
        self.n += 1

    def finish(self) -> str:
        out, err = self.proc.communicate(timeout=300)
        assert self.proc.returncode == 0, err
        return out


def run(schedule: tuple[str, ...], push: Held, gc: Held) -> list[str]:
    """Release the two processes in ``schedule``'s order; a step the process skipped (it went on to a
    later one) is passed over. A push that waits for the gc lets the gc run to its end first. The
    steps as they happened."""
    order = {"push": PUSH, "gc": GC}
    happened = []

    def drain(who: Held, kind: str) -> None:
        while (at := who.next()) is not None:
            happened.append(at)
            who.release()

    for want in schedule:
        kind = want.split("-")[0]
        who = push if kind == "push" else gc
        while (at := who.next()) is not None:
            if at == "push-wait":  # it waits until the gc's marker is gone: the gc runs to its end
                happened.append(at)
                who.release()
                drain(gc, "gc")
                continue
            if at in ("push-recheck", "push-view") and want != at:  # a step no schedule names
                happened.append(at)
                who.release()
                continue
            if at == want:
                happened.append(at)
                who.release()
                break
            assert order[kind].index(at) > order[kind].index(want), (at, want, happened)
            break  # the step wanted was skipped
    while True:  # the rest, each as it comes
        moved = False
        for who in (push, gc):
            if who.paused() is not None:
                happened.append(who.paused())
                who.release()
                moved = True
        if not moved and push.proc.poll() is not None and gc.proc.poll() is not None:
            break
        time.sleep(0.002)
    return happened


BIG = random_bytes(5 * 1024 * 1024, 7)  # stored as chunks on the remote (a chunk list and a chunk pack)


def _scene(workspace, url, opts, big: bool = False):
    """Remote with a deleted version whose file the next version re-uses; the pusher and the collector."""
    a = workspace.project("a", url, opts)
    if big:
        write_big(a, BIG)
    a.log({"x.txt": "shared between a deleted version and the next\n", "old.txt": "only in the old\n"}, name="old")
    a.push()
    artvcs.Api(dir=a.folder).artifact("me/proj/old:v0").delete(delete_aliases=True)
    a.push()  # old:v0 is gone from the remote; x.txt is unreachable there
    admin = workspace.clone("admin", url, opts)
    os.unlink(os.path.join(a.folder, "data", "old.txt"))
    a.log({"z.txt": "new in this version\n"}, name="new")
    time.sleep(0.01)  # x.txt is older than a gc with no grace period looks for
    return a, admin


SCHEDULES = schedules()


def _check(workspace, url, opts, tag: str, big: bool = False) -> None:
    check = workspace.clone(f"check-{tag}", url, opts)  # pulls and verifies every byte of every version
    api = artvcs.Api(dir=check.folder)
    got = api.artifact("me/proj/new:v0").download(root=os.path.join(check.folder, "out"))
    if big:
        with open(os.path.join(got, "big.bin"), "rb") as f:
            assert f.read() == BIG
    assert open(os.path.join(got, "x.txt")).read() == "shared between a deleted version and the next\n"
    assert open(os.path.join(got, "z.txt")).read() == "new in this version\n"


@pytest.mark.parametrize("schedule", SCHEDULES, ids=[f"s{i}" for i in range(len(SCHEDULES))])
def test_push_beside_remote_gc_on_a_folder(workspace, tmp_path, schedule):
    url = f"file://{tmp_path / 'remote'}"
    a, admin = _scene(workspace, url, {})
    push = Held(["push"], a.folder, str(tmp_path / "steps-push"))
    gc = Held(["gc", "--remote", "--grace", "0"], admin.folder, str(tmp_path / "steps-gc"))
    happened = run(schedule, push, gc)
    push.finish()
    said = gc.finish()
    _check(workspace, url, {}, "1")
    assert "push-unmark" in happened and "gc-unmark" in happened
    after_check = happened[happened.index("gc-check") + 1:]
    next_gc = next(s for s in after_check if s.startswith("gc-"))
    # the push paused at push-check only once its marker was written; the gc paused at its next step
    # only once its listing was done: then the gc saw the marker
    if happened.index("push-check") < happened.index("gc-check") and happened.index(next_gc) < happened.index("push-unmark"):
        assert "removed nothing: 1 push(es) under way" in said
    assert not os.listdir(tmp_path / "remote" / "inflight")  # both markers gone


# On SeaweedFS: the schedules in which the gc reads the refs before the push publishes (the ones
# that lose content without the protocol), each pair still in both orders through the two leaders.
S3_SCHEDULES = [s for s in SCHEDULES if s.index("gc-list") < s.index("push-publish")][::3]


@pytest.mark.parametrize("schedule", S3_SCHEDULES, ids=[f"s{i}" for i in range(len(S3_SCHEDULES))])
def test_push_beside_remote_gc_on_seaweedfs(workspace, tmp_path, request, schedule):
    from conftest import make_remote_spec

    url, opts = make_remote_spec(request, "s3", tmp_path)
    a, admin = _scene(workspace, url, opts)
    push = Held(["push"], a.folder, str(tmp_path / "steps-push"))
    gc = Held(["gc", "--remote", "--grace", "0"], admin.folder, str(tmp_path / "steps-gc"))
    run(schedule, push, gc)
    push.finish(), gc.finish()
    _check(workspace, url, opts, "1")


@pytest.mark.parametrize("schedule", S3_SCHEDULES, ids=[f"s{i}" for i in range(len(S3_SCHEDULES))])
def test_push_beside_remote_gc_with_a_chunked_file(workspace, tmp_path, schedule):
    """The file re-used is large: on the remote a chunk list and a chunk pack, both dead until the push."""
    url = f"file://{tmp_path / 'remote'}"
    a, admin = _scene(workspace, url, {}, big=True)
    push = Held(["push"], a.folder, str(tmp_path / "steps-push"))
    gc = Held(["gc", "--remote", "--grace", "0"], admin.folder, str(tmp_path / "steps-gc"))
    run(schedule, push, gc)
    push.finish(), gc.finish()
    _check(workspace, url, {}, "1", big=True)


def test_the_schedules_cover_every_pair_in_both_orders():
    for p in PUSH_MAIN:
        for g in GC:
            assert any(s.index(p) < s.index(g) for s in SCHEDULES) and any(s.index(g) < s.index(p) for s in SCHEDULES)


def test_a_version_whose_parent_was_deleted_and_collected_sends_what_it_names(workspace, spec_file_s3):
    """Not a race: v0 is pushed, deleted from the remote, and its content collected; v1 (its child,
    with the same files and one more) must send them all, not only what differs from v0."""
    from artvcs.sync.remote_gc import remote_gc

    url, opts = spec_file_s3
    a = workspace.project("a", url, opts)
    a.log({"x.txt": "kept by v1\n", "y.txt": "also\n"})
    a.push()
    artvcs.Api(dir=a.folder).artifact("me/proj/mnist:v0").delete(delete_aliases=True)
    a.push()
    assert len(remote_gc(a.repo, a.remote(), grace_seconds=0).removed) == 2
    v1 = a.log({"z.txt": "new\n"})
    assert v1.number == 1 and a.repo.git[v1.commit].parent_ids  # v0 is its parent
    a.push()
    check = workspace.clone("check", url, opts)
    got = artvcs.Api(dir=check.folder).artifact("me/proj/mnist:v1").download(root=os.path.join(check.folder, "out"))
    assert sorted(os.listdir(got)) == ["x.txt", "y.txt", "z.txt"]


def test_a_push_marker_keeps_gc_from_removing_until_it_is_stale(workspace, tmp_path):
    """A push marker younger than an hour (a push under way) makes gc remove nothing and say so; one
    older (a killed push's) is ignored."""
    from artvcs.plumbing.remote import inflight
    from artvcs.sync.remote_gc import remote_gc

    url = f"file://{tmp_path / 'remote'}"
    a, admin = _scene(workspace, url, {})
    marker = tmp_path / "remote" / "inflight" / "push-0123456789abcdef01234567"
    marker.parent.mkdir(exist_ok=True)  # earlier pushes made it (and left it empty)
    marker.write_text("1\n")
    result = remote_gc(admin.repo, admin.remote(), grace_seconds=0)
    assert result.busy_pushes == 1 and result.removed == []
    assert os.listdir(marker.parent) == [marker.name]  # its own marker is gone again
    old = time.time() - inflight.STALE_SECONDS - 60
    os.utime(marker, (old, old))
    result = remote_gc(admin.repo, admin.remote(), grace_seconds=0)
    assert result.busy_pushes == 0 and len(result.removed) == 2  # x.txt and old.txt of the deleted version


def test_a_gc_wholly_between_the_push_reading_refs_and_writing_its_marker(workspace, tmp_path):
    """A's push reads the refs (v0 published) and is held before its marker; B deletes v0, pushes and
    collects x.txt. The push must not take v0 as published: v1 sends x.txt again."""
    from artvcs.sync.remote_gc import remote_gc

    url = f"file://{tmp_path / 'remote'}"
    a = workspace.project("a", url, {})
    a.log({"x.txt": "in v0 and v1\n"})
    a.push()
    b = workspace.clone("b", url, {})
    a.log({"z.txt": "new in v1\n"})
    push = Held(["push"], a.folder, str(tmp_path / "steps-push"))
    while (at := push.next()) != "push-mark":  # the refs are read; no marker yet
        assert at is not None, push.proc.stderr.read()
        push.release()
    artvcs.Api(dir=b.folder).artifact("me/proj/mnist:v0").delete(delete_aliases=True)
    b.push()
    time.sleep(0.01)  # x.txt is older than a gc with no grace period looks for
    assert len(remote_gc(b.repo, b.remote(), grace_seconds=0).removed) >= 1  # x.txt is gone
    while push.next() is not None:
        push.release()
    push.finish()
    check = workspace.clone("check", url, {})  # pulls and verifies every byte
    got = artvcs.Api(dir=check.folder).artifact("me/proj/mnist:v1").download(root=os.path.join(check.folder, "out"))
    assert open(os.path.join(got, "x.txt")).read() == "in v0 and v1\n"
    assert open(os.path.join(got, "z.txt")).read() == "new in v1\n"


def _pushed(workspace, tmp_path):
    url = f"file://{tmp_path / 'remote'}"
    a = workspace.project("a", url, {})
    a.log({"x.txt": "x\n"})
    a.push()
    return a, a.remote()


def test_settle_rechecks_when_its_marker_is_gone_or_old_on_the_store_or_the_machine_slept(workspace, tmp_path):
    """Before publishing, a push looks at its own marker on the store: gone, or old there (a gc may
    take it for a killed push's), it writes it again, and rechecks. Its own age is the larger of the
    monotonic and wall-clock ages: a monotonic clock stops while a laptop sleeps."""
    from artvcs.plumbing.remote import inflight

    a, remote = _pushed(workspace, tmp_path)
    m = inflight.Pushing(remote)
    path = tmp_path / "remote" / m.key
    rechecks = []
    assert m.settle(lambda: rechecks.append(1)) is False and rechecks == []  # fresh, no gc seen
    old = time.time() - inflight.STALE_SECONDS / 2 - 60
    os.utime(path, (old, old))
    assert m.settle(lambda: rechecks.append(1)) is True and len(rechecks) == 1
    assert time.time() - path.stat().st_mtime < inflight.STALE_SECONDS / 2  # written again
    path.unlink()
    assert m.settle(lambda: rechecks.append(1)) is True and len(rechecks) == 2 and path.exists()
    # the machine slept an hour: the wall clock went on, the monotonic clock did not
    m.written = (time.monotonic(), time.time() - inflight.STALE_SECONDS)
    assert m.settle(lambda: rechecks.append(1)) is True and len(rechecks) == 3
    m.end()
    assert not path.exists()


def test_settle_rechecks_again_when_the_recheck_outlived_the_marker(workspace, tmp_path):
    """A wait plus a long resend can make the marker old: settle loops until a pass neither saw a gc
    nor found its marker old."""
    from artvcs.plumbing.remote import inflight

    a, remote = _pushed(workspace, tmp_path)
    m = inflight.Pushing(remote)
    path = tmp_path / "remote" / m.key
    m.saw_gc = True
    rechecks = []

    def slow_recheck():  # as if the resend took more than half an hour
        rechecks.append(1)
        if len(rechecks) == 1:
            old = time.time() - inflight.STALE_SECONDS / 2 - 60
            os.utime(path, (old, old))

    assert m.settle(slow_recheck) is True and len(rechecks) == 2
    m.end()


def test_a_push_waits_for_a_gc_marker_no_longer_than_its_deadline(workspace, tmp_path, monkeypatch):
    """A gc marker that never goes away (a store giving no modification time counts it live forever)
    must not hold every push: the wait ends in an artvcs error naming the marker."""
    from artvcs.plumbing.errors import ArtvcsError
    from artvcs.plumbing.remote import inflight

    a, remote = _pushed(workspace, tmp_path)
    (tmp_path / "remote" / "inflight" / "gc-0123456789abcdef01234567").write_text("1\n")
    monkeypatch.setattr(inflight, "WAIT_DEADLINE", 0.2)
    a.log({"z.txt": "z\n"})
    with pytest.raises(ArtvcsError, match="inflight/gc-0123456789abcdef01234567"):
        a.push()
    assert os.listdir(tmp_path / "remote" / "inflight") == ["gc-0123456789abcdef01234567"]  # its own is gone
    published = [f for _, _, fs in os.walk(tmp_path / "remote" / "refs") for f in fs]
    assert "v0" in published and "v1" not in published  # nothing published


class _RemoveFails:
    """A backend whose removals of markers fail (a store that refuses deletes for a moment)."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def remove(self, key: str) -> None:
        if key.startswith("inflight/"):
            raise OSError(f"refused to delete {key}")
        self.inner.remove(key)


def test_a_marker_that_cannot_be_removed_only_warns(workspace, tmp_path):
    """The removal of a marker in a ``finally`` must neither fail a push that succeeded nor hide the
    error that ends one: it warns (the marker goes stale in an hour)."""
    from artvcs.sync.remote_gc import remote_gc

    a, remote = _pushed(workspace, tmp_path)
    a.log({"z.txt": "z\n"})
    remote.backend = _RemoveFails(remote.backend)
    with pytest.warns(UserWarning, match="could not remove marker inflight/push-"):
        result = pushing_push(a, remote)
    assert any(r.endswith("/v1") for r in result.refs)
    with pytest.warns(UserWarning, match="could not remove marker inflight/gc-"):
        remote_gc(a.repo, remote, grace_seconds=0)


def pushing_push(project, remote):
    from remote_helpers import pushing, sync

    return pushing.push(project.repo, remote, sync.Selection())
