"""checkout and download of a logged version streamed from its manifest (materialize.Listed, what a
version of more than STREAM_FROM entries gets) against the same version handed over as a list: the
same files, the same counts, the same folder sums kept, on odd orders and with references."""
from __future__ import annotations

import os

import pytest

import artvcs
from artvcs.logged import materialize
from artvcs.plumbing import foldersums
from artvcs.plumbing import manifest as _manifest

# interleaved folders, names on both sides of "/" in git's tree order, a deep folder, one name at the top
NAMES = ["b/2.txt", "a/1.txt", "b/1.txt", "a.b", "a-c", "a0/x", "a/z/deep.txt", "top.txt", "a/2.txt", "b/3.txt"]


def _files(root) -> dict[str, bytes]:
    out = {}
    for r, _, fs in os.walk(root):
        for f in fs:
            path = os.path.join(r, f)
            with open(path, "rb") as fh:
                out[os.path.relpath(path, root).replace(os.sep, "/")] = fh.read()
    return out


def _draft(project, run, references: bool) -> artvcs.Artifact:
    """A draft of NAMES, added in their (interleaved) order, two with the same content; with
    ``references`` also a file:// reference and a reference to another artifact's entry."""
    src = project / "src"
    src.mkdir(exist_ok=True)
    if references:
        other = artvcs.Artifact("other", "dataset")
        (src / "o.txt").write_text("other's bytes\n")
        other.add_file(str(src / "o.txt"), name="o.txt")
        run.log_artifact(other)
    a = artvcs.Artifact("odd", "dataset")
    for i, name in enumerate(NAMES):
        local = src / f"{i}.txt"
        local.write_text(f"{name}\n" if i != 3 else "b/2.txt\n")  # a.b has b/2.txt's content
        a.add_file(str(local), name=name)
    if references:
        (src / "far.txt").write_text("far away\n")
        a.add_reference(f"file://{src / 'far.txt'}", name="b/far.txt")
        a.add_reference(other.get_entry("o.txt"), name="a/o.txt")
    return a


def _log(project, references: bool) -> None:
    with artvcs.init() as run:
        run.log_artifact(_draft(project, run, references))


def _streamed(monkeypatch) -> artvcs.Artifact:
    monkeypatch.setattr(materialize, "STREAM_FROM", 0)
    art = artvcs.Api().artifact("odd:latest")
    assert isinstance(materialize._entries(art, None), materialize.Listed)
    return art


def _stale(root) -> None:
    """Work for a checkout to undo: a changed file, a missing one, an extra file and folder."""
    (root / "a" / "1.txt").write_text("changed\n")
    (root / "b" / "1.txt").unlink()
    (root / "extra").mkdir()
    (root / "extra" / "x.txt").write_text("x")
    (root / "a" / "extra.txt").write_text("x")


def _counts(r) -> tuple:
    return (r.written, r.up_to_date, r.removed, r.references, r.skipped_references)


@pytest.mark.parametrize("references", [False, True])
def test_streamed_and_listed_checkouts_agree(project, monkeypatch, references):
    """The list: the version's entries read into the artifact, put in the order the draft added
    them (folders interleaved); the stream: the manifest, in tree order."""
    ls, st = project / "listed", project / "streamed"
    results = {}

    def run_twice(name, art, root):
        first = materialize.checkout(art, str(root), mode="copy")
        _stale(root)
        again = materialize.checkout(art, str(root), mode="copy")
        results[name] = (_counts(first), _counts(again), _files(root))

    _log(project, references)
    logged = artvcs.Api().artifact("odd:latest")
    held = logged._entry_map()
    order = NAMES + (["b/far.txt", "a/o.txt"] if references else [])
    logged._entries = {p: held[p] for p in order}
    listed = materialize._entries(logged, None)
    assert isinstance(listed, list) and [e.path for e in listed] == order
    run_twice("listed", logged, ls)
    streamed = _streamed(monkeypatch)
    run_twice("streamed", streamed, st)
    assert results["listed"] == results["streamed"]
    files = results["streamed"][2]
    assert sorted(files) == sorted(NAMES + (["a/o.txt", "b/far.txt"] if references else []))
    assert files["a.b"] == files["b/2.txt"] == b"b/2.txt\n" and files["a/z/deep.txt"] == b"a/z/deep.txt\n"
    streamed.verify(str(st))
    cache, commit = streamed._context.repo.statcache, str(streamed._source.commit)
    kept = cache.sums(commit)
    if references:
        assert kept is None, "a version with references has no sums"
    else:
        entries = list(_manifest.iter_entries(streamed._context.repo.git, streamed._source.manifest))
        assert kept == (streamed._source.facts["digest"], foldersums.pack(foldersums.sums_of(entries)))


@pytest.mark.parametrize("prefix", [None, "a", "a/", "b/1", "nothing/"])
def test_streamed_and_listed_downloads_agree(project, monkeypatch, prefix):
    _log(project, references=True)
    logged = artvcs.Api().artifact("odd:latest")
    assert isinstance(materialize._entries(logged, None), list)
    streamed = _streamed(monkeypatch)
    for art, root in ((logged, project / "listed"), (streamed, project / "streamed")):
        root.mkdir()
        (root / "mine.txt").write_text("stays")
        art.download(str(root), path_prefix=prefix)
    got = _files(project / "streamed")
    assert got == _files(project / "listed")
    want = {n for n in NAMES + ["a/o.txt", "b/far.txt"] if n.startswith(prefix or "")} | {"mine.txt"}
    assert set(got) == want


def test_a_streamed_checkout_refuses_what_the_listed_one_refuses(project, monkeypatch):
    """Without force, an untracked file whose content is not stored stops both, changing nothing."""
    _log(project, references=False)
    logged = artvcs.Api().artifact("odd:latest")
    streamed = _streamed(monkeypatch)
    for name, art in (("listed", logged), ("streamed", streamed)):
        root = project / name
        materialize.checkout(art, str(root), mode="copy")
        (root / "mine.txt").write_text("work that exists nowhere else")
        before = _files(root)
        with pytest.raises(artvcs.errors.UsageError, match="mine.txt"):
            materialize.checkout(art, str(root), force=False, mode="copy")
        assert _files(root) == before
