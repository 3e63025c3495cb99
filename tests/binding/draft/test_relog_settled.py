"""A re-log's unchanged files as settled folders (plumbing/settled.py, C settle and render): the
version written is the one the per-file path (ARTVCS_NATIVE=0) writes, and the draft reads as
before when someone asks for its entries."""
from __future__ import annotations

import os
import time

import pytest

import artvcs
from artvcs.logged import folders
from artvcs.plumbing import foldersums, settled
from artvcs.plumbing import manifest as _manifest
from artvcs.plumbing.errors import UsageError

pytestmark = pytest.mark.skipif(not settled.NATIVE, reason="the C scan was not built, or ARTVCS_NATIVE=0")


def _data(root) -> None:
    """Names that test the listing's JSON, the sort by bytes, and the digest's order where a
    folder's files sort between its subfolders' ('a.b' < 'a/' < 'a0')."""
    files = {
        "top.txt": b"top\n", "a.b": b"1", "a0": b"2", "a/x": b"3", "a/y/z.bin": bytes(range(256)),
        'q"uote.txt': b"quoted", "\u00e9t\u00e9.csv": b"1,2\n", ".hidden": b"h",
        "empty": b"", "mix/f.txt": b"f", "mix/sub/g.txt": b"g", "mix/sub.txt": b"s", "mix/sub0": b"t",
    }
    files.update({f"many/f{i:03d}.bin": str(i).encode() * (i % 7 + 1) for i in range(150)})
    for rel, data in files.items():
        path = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    os.symlink("top.txt", os.path.join(root, "link.txt"))


def _edit(root) -> None:
    with open(os.path.join(root, "many", "f007.bin"), "r+b") as f:
        f.write(b"changed")
    with open(os.path.join(root, "mix", "sub", "new.txt"), "wb") as f:
        f.write(b"new")
    os.remove(os.path.join(root, "many", "f100.bin"))


def _relog(project, native: bool, monkeypatch, name: str = "ds"):
    """Log data, edit it, add it to a new draft (settled unless ``native`` is False); the draft."""
    data = project / f"data-{name}"
    data.mkdir()
    _data(data)
    time.sleep(0.05)  # older than the log's clock: the stat cache records every file
    with artvcs.init(job_type="t") as run:
        first = artvcs.Artifact(name, type="dataset")
        first.add_dir(str(data))
        run.log_artifact(first)
    _edit(data)
    monkeypatch.setattr(settled, "NATIVE", native)
    art = artvcs.Artifact(name, type="dataset")
    art.add_dir(str(data))
    return art, data


def test_relog_settled_writes_the_version_the_per_file_path_writes(project, monkeypatch):
    art, data = _relog(project, True, monkeypatch)
    assert art._pending and sum(s.count for s in art._pending[0].settled) > 150, "the unchanged files were settled"
    with artvcs.init(job_type="t") as run:
        run.log_artifact(art)
    plain, _ = _relog(project, False, monkeypatch, "other")
    assert not plain._pending
    with artvcs.init(job_type="t") as run:
        run.log_artifact(plain)
    assert art.digest == plain.digest and art.size == plain.size and art.file_count == plain.file_count
    assert art._source.manifest == plain._source.manifest, "the same trees and listing blobs"
    entries = [e.to_entry() for e in art.manifest.entries.values()]
    assert _manifest.manifest_digest(entries) == art.digest
    assert _manifest.write_manifest(art._context.repo.git, entries) == art._source.manifest
    kept = art._context.repo.statcache.sums(art.commit_hash)
    assert kept is not None and foldersums.unpack(kept[1]) == foldersums.sums_of(entries)
    paths = set(art.manifest.entries)
    assert {"many/f007.bin", "mix/sub/new.txt", "a.b", "a/y/z.bin", 'q"uote.txt', "link.txt"} <= paths
    assert "many/f100.bin" not in paths
    assert art.get_entry("many/f007.bin").digest == plain.get_entry("many/f007.bin").digest
    # one folder taken whole: it is remembered as holding the version, as for a draft of entries
    held = folders.recorded(art._context, str(data))
    assert held is not None and held.commit == art.commit_hash and held.how == "log"


def test_a_settled_draft_reads_and_changes_as_any_draft(project, monkeypatch):
    art, data = _relog(project, True, monkeypatch)
    assert art._pending
    e = art.manifest.entries["many/f001.bin"]  # asked for: the entries are made
    assert not art._pending and e.size == 2 and e.local_path == str(data / "many" / "f001.bin")
    assert art.get_added_local_path_name(str(data / "a" / "y" / "z.bin")) == "a/y/z.bin"
    other = project / "other.txt"
    other.write_text("different")
    with pytest.raises(UsageError, match="already has a different 'top.txt'"):
        art.add_file(str(other), name="top.txt")
    art.remove("many")
    with artvcs.init(job_type="t") as run:
        run.log_artifact(art)
    assert not any(p.startswith("many/") for p in art.manifest.entries) and art.file_count == len(art.manifest.entries)


def test_a_second_add_dir_and_a_named_one_take_the_per_file_path(project, monkeypatch):
    art, data = _relog(project, True, monkeypatch)
    art.add_dir(str(data / "a"), name="copy-of-a")  # a draft that holds something: entries as before
    assert not art._pending
    assert art.manifest.entries["copy-of-a/y/z.bin"].digest == art.manifest.entries["a/y/z.bin"].digest
    named = artvcs.Artifact("ds", type="dataset")
    named.add_dir(str(data), name="under")
    assert named._pending and all(s.folder.startswith("under") for s in named._pending[0].settled)
    with artvcs.init(job_type="t") as run:
        run.log_artifact(named)
    assert folders.recorded(named._context, str(data)).commit != named.commit_hash, "not the folder's own version"
    assert "under/a/y/z.bin" in named.manifest.entries
    entries = [e.to_entry() for e in named.manifest.entries.values()]
    assert _manifest.manifest_digest(entries) == named.digest


def test_a_gc_during_the_add_makes_settled_files_looked_for_and_stored_again(project, monkeypatch):
    """Settled files are trusted hits: when the sweep generation moves between the scan and the
    draft's listing of their digests (a gc began), each is looked for, and what went is stored."""
    from artvcs.artifact import Artifact
    from artvcs.plumbing import sweepgen

    data = project / "data"
    data.mkdir()
    _data(data)
    time.sleep(0.05)
    with artvcs.init(job_type="t") as run:
        first = artvcs.Artifact("ds", type="dataset")
        first.add_dir(str(data))
        run.log_artifact(first)
    repo = first._context.repo
    gone = first.get_entry("many/f042.bin").digest
    hold = Artifact._hold_now

    def hold_then_gc(self, digests):
        hold(self, digests)
        if any(gone in d for d in digests if len(d) > 64):  # the settled folders' digests: a gc removes one
            os.remove(repo.store._path(gone))
            sweepgen.renew(os.path.dirname(repo.statcache.db_path))

    monkeypatch.setattr(Artifact, "_hold_now", hold_then_gc)
    art = artvcs.Artifact("ds", type="dataset")
    art.add_dir(str(data))
    assert not art._pending, "settled folders became files looked for one by one"
    assert repo.store.has(gone)
    assert art.manifest.entries["many/f042.bin"].digest == gone


def test_a_logged_settled_draft_still_names_the_local_files_it_was_made_of(project, monkeypatch):
    """``get_added_local_path_name`` after the log, as W&B's answers it: from the settled folders
    (unchanged files) and the staged ones (the edit, the new file), without their entries made."""
    art, data = _relog(project, True, monkeypatch)
    with artvcs.init(job_type="t") as run:
        run.log_artifact(art)
    assert art._logged_dirs and not art._pending
    assert art.get_added_local_path_name(str(data / "a" / "y" / "z.bin")) == "a/y/z.bin"  # settled
    assert art.get_added_local_path_name(str(data / "many" / "f007.bin")) == "many/f007.bin"  # edited
    assert art.get_added_local_path_name(str(data / "mix" / "sub" / "new.txt")) == "mix/sub/new.txt"  # new
    assert art.get_added_local_path_name(str(data / "many" / "f100.bin")) is None  # removed before the add
    assert art.get_added_local_path_name(str(project / "elsewhere.txt")) is None


@pytest.mark.parametrize("native", [True, False])
def test_a_link_to_a_file_is_still_served_by_its_record_and_changed_files_are_hashed(project, monkeypatch, native):
    """A changed regular file is hashed without its record looked up again (the folder's scan did
    that); a symbolic link to a file, which the scan does not follow, is still looked up, so an
    unchanged one is not hashed again: its record stays the one written before."""
    from blake3 import blake3

    from artvcs.plumbing import statcache
    from artvcs.plumbing.repository import discover

    art, data = _relog(project, native, monkeypatch)
    with artvcs.init(job_type="t") as run:
        run.log_artifact(art)
    got = {e.path: e.digest for e in art.manifest.entries.values()}
    for rel in ("many/f007.bin", "mix/sub/new.txt", "link.txt", "top.txt"):
        with open(os.path.join(str(data), *rel.split("/")), "rb") as f:
            assert got[rel] == blake3(f.read()).hexdigest(), rel
    assert "many/f100.bin" not in got
    db = discover(str(project)).statcache.db_path
    link = os.path.join(str(data), "link.txt")
    before = statcache.StatCache(db).load_prefix(str(data)).get(link)
    assert before is not None, "the logs recorded the link's file"
    again = artvcs.Artifact("ds", type="dataset")
    again.add_dir(str(data))
    assert statcache.StatCache(db).load_prefix(str(data)).get(link) == before, "not hashed again"
    assert again.manifest.entries["link.txt"].digest == got["link.txt"]


def test_settle_many_gives_what_settle_gives_folder_by_folder(project, monkeypatch):
    """The C call that settles a level of folders on threads of its own gives, folder by folder,
    what settle gives (real stat-cache rows of a logged folder, an edit, odd names, a link, a
    folder without a row), and the OSError of the first folder it could not read."""
    art, data = _relog(project, True, monkeypatch)
    repo = art._repo()
    records = repo.statcache.load_prefix(str(data))
    records.prefetch()
    from artvcs.plumbing.store import CHUNK_THRESHOLD
    from artvcs.plumbing import sweepgen

    gen = sweepgen.current(os.path.dirname(repo.statcache.db_path))
    (data / "norow").mkdir()
    (data / "norow" / "f").write_bytes(b"f")
    locals_ = [str(data / f) for f in ("", "a", "a/y", "many", "mix", "mix/sub", "norow")]
    folders = [f"p/{f}" if f else "p" for f in ("", "a", "a/y", "many", "mix", "mix/sub", "norow")]
    rows = [records.row(f) for f in locals_]
    assert sum(r is not None for r in rows) >= 5
    many = settled.settle_many(locals_, folders, rows, gen, CHUNK_THRESHOLD)
    one = [settled.settle(loc, f, r, gen, CHUNK_THRESHOLD) for loc, f, r in zip(locals_, folders, rows)]
    assert many == one
    assert sum(s.count for _, _, _, s in many if s is not None) > 150, "vouched files were settled"
    with pytest.raises(FileNotFoundError) as e:
        settled.settle_many([locals_[0], str(data / "gone"), str(data / "gone2")], ["", "x", "y"], [None] * 3, gen, 1 << 30)
    assert e.value.filename == os.fsencode(str(data / "gone")) or e.value.filename == str(data / "gone")
    with pytest.raises(ValueError):
        settled.settle_many(locals_, folders, rows[:-1], gen, CHUNK_THRESHOLD)
