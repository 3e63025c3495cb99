"""Paths that git or the OS give meaning to are refused wherever a path enters and at checkout.

A manifest entry ``.git/config`` checked out into a git work tree would
replace git's own configuration (``core.fsmonitor`` runs a command), so the
components git refuses in its trees (``.git`` in any case, its NTFS and HFS+
aliases) are no entry path at all, and ``.gitmodules`` and its kin are never
made symbolic links. Each refusal names the path and the rule, writes
nothing and leaves refs and content as they were.
"""
from __future__ import annotations

import os

import pygit2
import pytest

from artvcs.plumbing import manifest, paths, refs, versions
from artvcs.plumbing.checkout import materialize
from artvcs.plumbing.errors import CorruptObjectError, PathEscapeError
from artvcs.plumbing.fsck import fsck
from artvcs.plumbing.manifest import Entry

# name -> a word of the rule the error must state
DOTGIT_ALIASES = {
    ".git": "git's own folder",
    ".GIT": "git's own folder",
    ".GiT": "git's own folder",
    ".git.": "NTFS",
    ".git ": "NTFS",
    ".git. .": "NTFS",
    ".git::$INDEX_ALLOCATION": "NTFS",
    "git~1": "short name",
    "GIT~1": "short name",
    "git~1.": "short name",
    ".g\u200cit": "HFS+",
    "\u200d.git": "HFS+",
    ".gi\ufefft": "HFS+",
    ".\u206aGIT\u202e": "HFS+",
}
NEAR_MISSES = [".github", ".gitignore", ".gitmodules", "git~2", "git", "x.git", ".git-x", ".gitx.", "g\u200cit", "a.git"]


def snapshot(root) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for a folder)."""
    out: dict[str, bytes | None] = {}
    for folder, dirs, files in os.walk(root):
        for d in dirs:
            out[os.path.relpath(os.path.join(folder, d), root)] = None
        for f in files:
            p = os.path.join(folder, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def objects(git: pygit2.Repository) -> set[str]:
    return {str(o) for o in git.odb}


def refs_of(git: pygit2.Repository) -> dict[str, str]:
    return {name: str(oid) for name, oid in refs.iter_refs(git)}


@pytest.mark.parametrize("name,rule", sorted(DOTGIT_ALIASES.items()))
def test_every_alias_of_dotgit_is_refused_naming_the_rule(name, rule):
    assert rule in paths.git_component_rule(name)
    for path in (name, f"{name}/config", f"data/{name}/hooks/pre-commit"):
        with pytest.raises(PathEscapeError) as e:
            paths.normalize_entry_path(path)
        assert repr(path) in str(e.value) and rule in str(e.value)
        with pytest.raises(PathEscapeError, match=rule.replace("+", r"\+")):
            paths.check_entry_path(path)
        with pytest.raises(PathEscapeError):
            paths.check_entry_paths(["ok/a", path])


@pytest.mark.parametrize("name", NEAR_MISSES)
def test_near_misses_are_ordinary_names(name):
    assert paths.git_component_rule(name) is None
    assert paths.check_entry_path(f"{name}/x") == f"{name}/x"
    assert paths.normalize_entry_path(f"./{name}//x") == f"{name}/x"
    paths.check_entry_paths([f"{name}/x", name + "y"])


@pytest.mark.parametrize(
    "name", [".gitmodules", ".GITMODULES", ".gitmodules.", ".gitmodules :x", "gitmod~1", "GI7EBA~3", ".git\u200cmodules",
             ".gitattributes", "gi7d29~1", ".gitignore", ".mailmap", ".MailMap "],
)
def test_git_refuses_these_as_symbolic_links(name):
    assert "symbolic link" in paths.git_symlink_rule(name)


@pytest.mark.parametrize("name", [".gitmodulesx", "gitmodules", "gitmod~5x", "gi7eba~", ".gitmodule", "x.gitmodules"])
def test_other_names_may_be_symbolic_links(name):
    assert paths.git_symlink_rule(name) is None


def test_write_manifest_refuses_before_writing_any_object(repo):
    before = objects(repo.git)
    for bad in (".git/config", "a/GIT~1/x", "b/.git./hooks/post-checkout"):
        with pytest.raises(PathEscapeError, match="entry path"):
            manifest.write_manifest(repo.git, [Entry("ok", "a" * 64, 1), Entry(bad, "b" * 64, 1)])
        with pytest.raises(PathEscapeError):
            manifest.update_manifest(repo.git, None, {bad: Entry(bad, "b" * 64, 1)})
    assert objects(repo.git) == before


def test_mktree_refuses_a_dotgit_record(repo_dir, cli):
    (repo_dir / "c").write_text("[core]\n\tfsmonitor = touch pwned\n")
    digest, size, _ = cli("hash-object", "-w", "c").out.strip().split("\t")
    git = pygit2.Repository(str(repo_dir / ".artifacts"))
    before = objects(git)
    r = cli("mktree", input=f"{digest}\t{size}\t.git/config\n")
    assert r.code == 1 and r.out == ""
    assert "'.git/config'" in r.err and "git's own folder" in r.err and r.err.count("\n") == 1
    assert objects(git) == before


# -- crafted manifests: what a hostile pack could hold ------------------------------------------
def _blob_tree(git: pygit2.Repository, rows: list) -> pygit2.Oid:
    tb = git.TreeBuilder()
    tb.insert(manifest.LISTING, git.create_blob(manifest.canonical_json(rows)), pygit2.GIT_FILEMODE_BLOB)
    return tb.write()


def _nest(git: pygit2.Repository, raw_names: list[str], leaf: pygit2.Oid) -> pygit2.Oid:
    """A tree holding ``leaf`` under the raw (already escaped) tree entry names, outermost first."""
    oid = leaf
    for raw in reversed(raw_names):  # written raw: libgit2's TreeBuilder refuses a ".git" entry
        oid = git.odb.write(pygit2.GIT_OBJECT_TREE, b"40000 " + raw.encode() + b"\0" + oid.raw)
    return oid


@pytest.fixture
def hostile(repo, repo_dir):
    """A version ``evil:v0`` whose manifest stores .git/config as the %2Egit subtree (canonical escape)."""
    digest = repo.store.put_bytes(b"[core]\n\tfsmonitor = touch pwned\n")
    git = repo.git
    tree = _nest(git, ["%2Egit"], _blob_tree(git, [["config", digest, 31]]))
    facts = versions.version_facts("dataset", "0" * 64, 31, 1)
    v = versions.commit_version(git, refs.CollectionId("me", "proj", "evil"), tree, facts)
    return v


def test_a_dotgit_subtree_is_refused_by_every_reader(hostile, repo, repo_dir, cli, tmp_path):
    with pytest.raises(PathEscapeError, match=r"'\.git/config'.*git's own folder"):
        list(manifest.iter_entries(repo.git, hostile.manifest))
    r = cli("ls-manifest", str(hostile.manifest))
    assert r.code == 1 and ".git/config" in r.err and "git's own folder" in r.err
    found = [p for p in fsck(repo) if p.kind == "bad-manifest"]
    assert found and "git's own folder" in found[0].message


def test_checkout_of_a_dotgit_entry_writes_nothing(hostile, repo, tmp_path, cli):
    work = tmp_path / "work"
    work.mkdir()
    (work / ".git").mkdir()
    (work / ".git" / "config").write_text("[core]\n")
    before, refs_before = snapshot(work), refs_of(repo.git)
    target = work / "sub"
    r = cli("checkout", "evil:v0", str(target))
    assert r.code == 1 and "'.git/config'" in r.err and "git's own folder" in r.err
    r = cli("download", "evil:v0", str(work))
    assert r.code == 1 and "git's own folder" in r.err
    entries = [Entry(".git/config", "a" * 64, 1)]
    with pytest.raises(PathEscapeError):
        materialize(repo.store, entries, str(work))
    assert snapshot(work) == before and not target.exists()
    assert refs_of(repo.git) == refs_before


@pytest.mark.parametrize("raw,decoded", [("%2egit", ".git"), ("%2E%67it", ".git"), ("a%2Fb", "a/b"), ("%FF", "\ufffd"), (".git", ".git")])
def test_a_subfolder_not_in_canonical_escaped_form_is_corrupt(repo, raw, decoded):
    git = repo.git
    tree = _nest(git, [raw], _blob_tree(git, [["config", "a" * 64, 1]]))
    with pytest.raises(CorruptObjectError) as e:
        list(manifest.iter_entries(git, tree))
    assert repr(raw) in str(e.value) and "canonically escaped" in str(e.value) and repr(decoded) in str(e.value)
    with pytest.raises(CorruptObjectError):
        manifest.update_manifest(git, tree, {"x": Entry("x", "b" * 64, 1)})
    with pytest.raises(CorruptObjectError):
        list(manifest.diff_manifests(git, None, tree))


@pytest.mark.parametrize("name", [".gitmodules", "sub/.GitModules.", "gitmod~1", ".mailmap"])
def test_symlink_checkout_refuses_gitmodules_and_kin(repo, tmp_path, name):
    digest = repo.store.put_bytes(b"[submodule]\n")
    entries = [Entry("a.txt", digest, 12), Entry(name, digest, 12)]
    target = tmp_path / "out"
    with pytest.raises(PathEscapeError, match="symbolic link") as e:
        materialize(repo.store, entries, str(target), mode="symlink")
    assert repr(name) in str(e.value)
    assert not target.exists()
    materialize(repo.store, entries, str(target), mode="copy")  # a regular file is fine
    assert (target / name).read_bytes() == b"[submodule]\n" and not (target / name).is_symlink()


@pytest.mark.parametrize("bad", ["a/b\udcff", "\udcc3\udca9t\udce9", "ok/\ud800"])
def test_a_name_that_is_not_utf8_is_refused_naming_it_by_every_check(bad):
    """A file name whose bytes are not UTF-8 reaches Python as lone surrogates (os.fsdecode); no
    manifest can hold it, so every check refuses it with the rule instead of a writer's traceback."""
    for check in (paths.normalize_entry_path, paths.check_entry_path, lambda v: paths.check_entry_paths(["x", v])):
        with pytest.raises(PathEscapeError, match="must be valid UTF-8") as e:
            check(bad)
        assert repr(bad) in str(e.value)
    assert paths.check_entry_path("\u00e9t\u00e9/\U0001f600.csv") == "\u00e9t\u00e9/\U0001f600.csv"
    paths.check_entry_paths(["\u00e9", "plain"])

