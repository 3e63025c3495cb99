"""plumbing/settled.py and scan.c's settle/render: render's listing, sum lines and digest lines are
what manifest.py and foldersums.py make of the same files; settle takes any stat-cache row."""
from __future__ import annotations

import os
import re
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from artvcs.plumbing import manifestwrite, settled
from artvcs.plumbing.manifest import Entry, _row, canonical_json
from artvcs.plumbing.settled import Settled

pytestmark = pytest.mark.skipif(settled._settle is None, reason="the C scan was not built")

_name = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1, max_size=12)
_digest = st.text("0123456789abcdef", min_size=64, max_size=64)


def _records(files: list[tuple[str, str, int]]) -> bytes:
    """Records in the C layout (u32 name length, name, 64-digit digest, i64 size), sorted by name."""
    out = b""
    for name, digest, size in sorted(files, key=lambda f: f[0].encode()):
        raw = name.encode()
        out += struct.pack("=I", len(raw)) + raw + struct.pack("=64sq", digest.encode(), size)
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_name, st.tuples(_digest, st.integers(0, 2**40), st.booleans()), max_size=30),
       st.lists(_name, max_size=4, unique=True), st.sampled_from(["", "d", "a/b"]))
def test_render_gives_what_the_python_writers_give(files, subfolders, folder):
    subfolders = [s for s in subfolders if s not in files]
    # plain names may be settled; any name can be an extra (quotes, control characters, ...)
    bulk = [(n, d, size) for n, (d, size, settle) in files.items() if settle and settled._settle and '"' not in n
            and "\\" not in n and not any(ord(c) < 0x20 for c in n)]
    extras = {n: Entry(f"{folder}/{n}" if folder else n, d, size) for n, (d, size, _) in files.items()
              if (n, d, size) not in bulk}
    s = Settled("/nowhere", folder, _records(bulk), len(bulk), sum(b[2] for b in bulk), "/".join(b[0] for b in bulk), "")
    cuts = sorted((n + "/").encode() for n in subfolders)
    prefix = (folder + "/").encode() if folder else b""
    ex = sorted((n.encode(), e.digest.encode(), manifestwrite._row_json(e, n)) for n, e in extras.items())
    listing, lines, pieces = settled.render(s, ex, cuts, prefix)
    every = {n: (d, size) for n, (d, size, _) in files.items()}
    names = sorted(every)
    assert listing == canonical_json([_row(Entry(n, *every[n]), n) for n in names])
    assert lines == "\n".join(f"{n}\0{every[n][0]}" for n in names).encode()
    assert pieces == manifestwrite._pieces(prefix, [(n.encode(), every[n][0].encode()) for n in names], cuts)
    # the pieces, with each subfolder's lines between them, are the lines sorted by entry path
    marks = [f"{folder}/{c.decode()}" if folder else c.decode() for c in cuts]
    whole = b"".join(p + (m.encode() + b"\0" if i < len(marks) else b"") for i, (p, m) in
                     enumerate(zip(pieces, marks + [""])))
    paths = sorted([(f"{folder}/{n}" if folder else n) + "\0" + every[n][0] + "\0" for n in names]
                   + [m + "\0" for m in marks])
    assert whole == "".join(paths).encode()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=600))
def test_settle_takes_any_row(tmp_path, row):
    """A stat-cache row is advisory and may be damaged: settle never fails on one, and vouches
    for nothing a damaged row does not describe (the file here was never recorded)."""
    (tmp_path / "f.txt").write_bytes(b"x")
    (tmp_path / "sub").mkdir(exist_ok=True)
    if not os.path.lexists(tmp_path / "link"):
        os.symlink("f.txt", tmp_path / "link")
    dirs, files, rest, got = settled.settle(str(tmp_path), "", row, 0, 1 << 30)
    assert dirs == ["sub"] and files == ["f.txt"] and rest == ["link"] and got is None


def test_settle_of_a_folder_that_is_gone_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        settled.settle(str(tmp_path / "gone"), "", None, 0, 1 << 30)
    assert os.path.isdir(tmp_path)


@pytest.mark.parametrize("folder, names, bad", [
    ("", "ok.txt/C:x", "C:x"), ("d", "a/.GIT", "d/.GIT"), ("d", "git~1", "d/git~1"),
    ("", "ok.txt/.github/.gitignore", None), ("d", "C:x", None), ("d/.git", "x", "d/.git"), ("C:d", "x", "C:d"),
])
def test_check_names_refuses_what_entry_paths_refuse(folder, names, bad):
    """A vouched name is an entry path component like any other: the same refusal, naming the path."""
    from artvcs.plumbing.errors import PathEscapeError

    s = Settled("/nowhere", folder, b"", 0, 0, names, "")
    if bad is None:
        settled.check_names(s)
    else:
        with pytest.raises(PathEscapeError, match=re.escape(repr(bad))):
            settled.check_names(s)


def test_two_settled_listings_of_one_folder_are_refused_before_anything_is_written(tmp_path):
    """manifestwrite.write takes one settled listing per folder: a second would silently replace
    the first, and its files would drop out of the manifest."""
    import pygit2

    repo = pygit2.init_repository(str(tmp_path / "r.git"), bare=True)
    one = Settled("/nowhere", "d", _records([("a", "0" * 64, 1)]), 1, 1, "a", "0" * 64)
    two = Settled("/nowhere", "d", _records([("b", "1" * 64, 2)]), 1, 2, "b", "1" * 64)
    before = sorted(os.listdir(tmp_path / "r.git" / "objects"))
    with pytest.raises(manifestwrite.UsageError, match="two settled listings of folder 'd'"):
        manifestwrite.write(repo, [], [one, two])
    assert sorted(os.listdir(tmp_path / "r.git" / "objects")) == before


_names = st.lists(st.one_of(_name, st.sampled_from([".git", ".GIT", "GIT~1", "a.github", "C:x", "x:", ".gıt", "ok\u200c"])),
                  min_size=1, max_size=6).map("/".join)


@settings(max_examples=300, deadline=None)
@given(_names, st.booleans())
def test_the_quick_name_filter_passes_on_whatever_the_regexes_find(names, root):
    """check_names' filter may say "look closer" more often than the regexes, never less."""
    from artvcs.plumbing.paths import _SUSPECT

    if _SUSPECT.search(names) or (root and settled._DRIVE_ANY.search(names)):
        assert settled._suspect(names, root)
