"""plumbing.copybatch: the C read and write batches against their Python loops, on the same real files.

The checkout tests (test_checkout.py, test_verified_reads.py) run every
checkout both through the batches and placing one file at a time
(ARTVCS_NATIVE=0) with the :func:`copy_path` fixture below.
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap

import pytest

from artvcs.plumbing import copybatch

NATIVE = {"read": copybatch._native_read, "write": copybatch._native_write}
PYTHON = {"read": copybatch.read_batch_python, "write": copybatch.write_batch_python}
needs_c = pytest.mark.skipif(copybatch._native_read is None, reason="the C batches were not built (no compiler)")
ODD = ["plain.bin", "with space.txt", "new\nline", "ünïcødé-名前", os.fsdecode(b"latin1-\xe9"), "-dash", ".hidden", "x" * 200]


@pytest.fixture(params=["batched", "per-file"])
def copy_path(request, monkeypatch):
    """Runs a checkout test through the C batches, then placing one file at a time (ARTVCS_NATIVE=0)."""
    if request.param == "per-file":
        monkeypatch.setenv("ARTVCS_NATIVE", "0")
    elif not copybatch.native():
        pytest.skip("the C batches were not built (no compiler), or ARTVCS_NATIVE=0")
    return request.param


def test_the_extension_was_built():
    if os.environ.get("ARTVCS_NATIVE") != "0":
        assert copybatch._native_read is not None, "pip install -e . should have built artvcs.plumbing._copybatch"


def sources(tmp_path) -> tuple[list[str], list[int], dict[str, bytes]]:
    """Store-like files and the sizes a manifest gives them: right, too small, too large, and
    paths that are no file (missing, a folder, a link to a file, a dangling link)."""
    src = tmp_path / "src"
    src.mkdir()
    paths, sizes, datas = [], [], {}
    for i, name in enumerate(ODD):
        data = os.urandom(i * 997)
        (src / name).write_bytes(data)
        paths.append(str(src / name))
        sizes.append(len(data))
        datas[name] = data
    (src / "grown").write_bytes(b"a" * 100)
    (src / "shrunk").write_bytes(b"b" * 10)
    (src / "folder").mkdir()
    os.symlink(str(src / "plain.bin"), src / "link")
    os.symlink(str(src / "nowhere"), src / "dangling")
    for name, size in [("grown", 99), ("shrunk", 50), ("missing", 5), ("folder", 3), ("link", 0), ("dangling", 1)]:
        paths.append(str(src / name))
        sizes.append(size)
    return paths, sizes, datas


@needs_c
def test_read_batch_gives_what_the_python_loop_gives(tmp_path):
    paths, sizes, datas = sources(tmp_path)
    c = NATIVE["read"](paths, sizes)
    py = PYTHON["read"](paths, sizes)
    assert c == py
    by_name = dict(zip((os.path.basename(p) for p in paths), c))
    for name in ODD:
        assert by_name[name] == datas[name]
    assert by_name["grown"] == b"a" * 100, "one byte more than the size shows a larger file"
    assert by_name["shrunk"] == b"b" * 10
    assert by_name["missing"] is None and by_name["folder"] is None and by_name["dangling"] is None
    assert by_name["link"] == datas["plain.bin"][:1]


@needs_c
def test_read_batch_refuses_bad_arguments_like_python():
    with pytest.raises(ValueError):
        NATIVE["read"](["a", "b"], [1])
    with pytest.raises(ValueError):
        NATIVE["read"](["a"], [-1])
    with pytest.raises(ValueError):
        NATIVE["read"](["a\0b"], [1])
    with pytest.raises(ValueError):
        PYTHON["read"](["a\0b"], [1])
    with pytest.raises(TypeError):
        NATIVE["write"](["a"], ["not bytes"])


def targets(root) -> tuple[list[str], list[bytes]]:
    """New files with odd names, and targets that must not be written: an existing file, a link
    to a file elsewhere, a dangling link, a folder, a missing folder, a folder replaced by a link."""
    root.mkdir()
    (root / "d").mkdir()
    outside = root.parent / f"{root.name}-outside"
    outside.mkdir()
    (outside / "victim").write_bytes(b"keep")
    (root / "exists").write_bytes(b"old")
    os.symlink(str(outside / "victim"), root / "link")
    os.symlink(str(outside / "made-through-link"), root / "dangling")
    os.symlink(str(outside), root / "linked-folder")
    dsts, datas = [], []
    for i, name in enumerate(ODD):
        dsts.append(str(root / "d" / name))
        datas.append(os.urandom(i * 1013))
    for name in ["exists", "link", "dangling", "d", "no-folder/f", "no-folder/g", "linked-folder/through",
                 "exists/f", "d/after-others", "d/after-others"]:
        dsts.append(str(root / name))
        datas.append(b"new bytes")
    return dsts, datas


def outcome(results) -> list:
    return [r if type(r) is int else "written" for r in results]


@needs_c
def test_write_batch_does_what_the_python_loop_does(tmp_path):
    got = {}
    for kind, impl in (("c", NATIVE), ("py", PYTHON)):
        root = tmp_path / kind
        dsts, datas = targets(root)
        results = impl["write"](dsts, datas)
        for dst, data, r in zip(dsts, datas, results):
            if type(r) is not int:
                st = os.lstat(dst)
                assert r == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
                assert open(dst, "rb").read() == data
                mask = os.umask(0)
                os.umask(mask)
                assert st.st_mode & 0o777 == 0o666 & ~mask
        assert (root / "exists").read_bytes() == b"old"
        assert (tmp_path / f"{kind}-outside" / "victim").read_bytes() == b"keep", "a link at the target is never written through"
        assert not (tmp_path / f"{kind}-outside" / "made-through-link").exists()
        got[kind] = (outcome(results), sorted(os.listdir(root / "d")), sorted(os.listdir(tmp_path / f"{kind}-outside")))
        assert (root / "d" / "after-others").read_bytes() == b"new bytes", "a folder's files need not follow one another"
    assert got["c"] == got["py"]
    out = got["c"][0]
    assert out[: len(ODD)] == ["written"] * len(ODD)
    assert out[len(ODD):] == [errno.EEXIST, errno.EEXIST, errno.EEXIST, errno.EEXIST, errno.ENOENT, errno.ENOENT,
                              "written", errno.ENOTDIR, "written", errno.EEXIST], \
        "a folder replaced by a link is followed by both, as by a path write (checkout's guard decides before)"


@pytest.mark.parametrize("impl", ["c", "python"])
def test_a_write_cut_short_leaves_nothing_and_says_why(tmp_path, impl):
    """A real failure half-way through a write (the file-size limit stands in for a full disk):
    the errno comes back and nothing is left under the name; the files before it are whole."""
    if impl == "c" and copybatch._native_read is None:
        pytest.skip("the C batches were not built")
    code = textwrap.dedent(f"""
        import resource, signal
        from artvcs.plumbing import copybatch
        write = copybatch._native_write if {impl!r} == "c" else copybatch.write_batch_python
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (3000, 3000))
        print(write([{str(tmp_path / 'a')!r}, {str(tmp_path / 'b')!r}], [b"a" * 2000, b"b" * 5000]))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith(f", {errno.EFBIG}]")
    assert (tmp_path / "a").read_bytes() == b"a" * 2000
    assert not (tmp_path / "b").exists()


@needs_c
def test_slices_are_bounded_by_count_and_bytes():
    class F:
        def __init__(self, size):
            self.entry = type("E", (), {"size": size})

    files = [F(1000)] * 600 + [F(copybatch.BATCH_BYTES // 2)] * 5
    parts = copybatch._slices(files)
    assert sum(map(len, parts)) == len(files)
    assert all(len(p) <= copybatch.BATCH_FILES for p in parts)
    assert all(sum(f.entry.size for f in p[:-1]) < copybatch.BATCH_BYTES for p in parts)


@needs_c
@pytest.mark.parametrize("writers", [1, 2])
def test_a_pipeline_fed_batch_by_batch_writes_every_file_and_pairs_each_with_its_own_stat(tmp_path, monkeypatch, writers):
    """The pipeline is fed a few files at a time (slices of 3 here) and keeps going across feeds,
    its batches written by one thread or by two at once (WRITERS);
    files it cannot create (something appeared at the target) or whose bytes do not match (a
    rotten store file) go to ``place_one``, which here replaces or refuses them as a checkout
    does. Every file handed back is paired with its own stat, whichever way it was written."""
    from artvcs.plumbing import placefile
    from artvcs.plumbing.errors import CorruptObjectError
    from artvcs.plumbing.hashing import hash_bytes

    monkeypatch.setattr(copybatch, "BATCH_FILES", 3)
    monkeypatch.setattr(copybatch, "WRITERS", writers)
    src, out = tmp_path / "store", tmp_path / "out"
    src.mkdir()
    out.mkdir()

    class E:
        def __init__(self, digest, size):
            self.digest, self.size = digest, size

    class F:
        def __init__(self, name, data):
            (src / name).write_bytes(data)
            self.src, self.target, self.present = str(src / name), str(out / name), False
            self.entry = E(hash_bytes(data), len(data))

    datas = {f"{i:02d}-{n}": os.urandom(100 + 37 * i) for i, n in enumerate(ODD * 2)}
    files = [F(name, data) for name, data in datas.items()]
    (out / files[4].target.rsplit("/", 1)[1]).write_bytes(b"appeared after planning")
    (out / files[9].target.rsplit("/", 1)[1]).write_bytes(b"this one too")
    placed = []

    def place_one(f):
        placed.append(f)
        return placefile.place("copy", f.src, f.target, True, f.entry.digest, f.entry.size)

    pipe = copybatch.Pipeline(place_one)
    got_files, got_stats = [], []
    for i in range(0, len(files), 5):
        pipe.feed(files[i : i + 5])
        more = pipe.take()
        got_files += more[0]
        got_stats += more[1]
    more = pipe.close()
    got_files += more[0]
    got_stats += more[1]
    assert sorted(f.target for f in got_files) == sorted(f.target for f in files)
    assert {f.target for f in placed} == {files[4].target, files[9].target}
    for f, st in zip(got_files, got_stats):
        now = os.lstat(f.target)
        key = st if type(st) is tuple else (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        assert key == (now.st_dev, now.st_ino, now.st_size, now.st_mtime_ns, now.st_ctime_ns), f.target
    assert {os.path.basename(f.target): open(f.target, "rb").read() for f in files} == datas

    # a rotten store file among them: its placing raises; what was written before is handed back
    out2 = tmp_path / "out2"
    out2.mkdir()
    for f in files:
        f.target = str(out2 / os.path.basename(f.target))
    with open(files[7].src, "r+b") as fh:
        fh.write(b"X")
    pipe = copybatch.Pipeline(lambda f: placefile.place("copy", f.src, f.target, False, f.entry.digest, f.entry.size))
    with pytest.raises(CorruptObjectError):
        try:
            for i in range(0, len(files), 5):
                pipe.feed(files[i : i + 5])
            pipe.close()
        except BaseException:
            pipe.abort()
            raise
    written, stats = pipe.take()
    assert len(written) == len(stats) and files[7] not in written
    assert not os.path.exists(files[7].target), "nothing under the rotten file's name"
    for f, st in zip(written, stats):
        assert st[1] == os.lstat(f.target).st_ino and open(f.target, "rb").read() == datas[os.path.basename(f.target)]


@needs_c
def test_python_code_run_by_a_path_cannot_change_what_the_batch_writes(tmp_path):
    """A path's __fspath__ (Python code, run while the paths are encoded) that empties the
    caller's lists: the batch writes what it was given, read from its own copies of the lists
    (not from lists shrunk, or bytes freed, under it). In a child: a bad read could crash it."""
    code = textwrap.dedent(f"""
        import os
        from artvcs.plumbing import copybatch

        datas = [os.urandom(3000), os.urandom(5000)]
        given = list(datas)

        class Path:
            def __init__(self, p):
                self.p = p

            def __fspath__(self):
                dsts.clear()
                datas[:] = ["not bytes"]  # the bytes given are freed but for the copy kept in `given`
                return self.p

        dsts = [Path({str(tmp_path / 'a')!r}), Path({str(tmp_path / 'b')!r})]
        out = copybatch._native_write(dsts, datas)
        assert [type(r) for r in out] == [tuple, tuple], out
        assert [open(p, "rb").read() for p in ({str(tmp_path / 'a')!r}, {str(tmp_path / 'b')!r})] == given
        print("ok")
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (run.returncode, run.stdout.strip()) == (0, "ok"), run.stderr


def test_the_python_loop_given_what_is_not_bytes_leaks_no_fd_and_leaves_no_file(tmp_path):
    """write_batch_python handed something memoryview refuses: the error goes up, with the file it
    created removed and its fd closed (the C loop refuses it before creating anything)."""
    fds = len(os.listdir("/proc/self/fd"))
    with pytest.raises(TypeError):
        copybatch.write_batch_python([str(tmp_path / "a"), str(tmp_path / "b")], [b"fine", 12345])
    assert len(os.listdir("/proc/self/fd")) == fds, "the fd of the refused file was left open"
    assert os.listdir(tmp_path) == ["a"] and (tmp_path / "a").read_bytes() == b"fine"


def link_cases(tmp_path, kind: str) -> tuple[list[str], list[str]]:
    """Store files with odd names linked into new targets, and what must not be linked: a target
    that exists, a link at the target (to a file elsewhere, dangling), a folder, a missing folder,
    a missing store file, and store paths that are no regular file: a symbolic link (to a store file,
    dangling) and a folder (refused, EPERM: the read followed the link, so its target was hashed)."""
    src, root = tmp_path / f"{kind}-store", tmp_path / kind
    src.mkdir()
    root.mkdir()
    (root / "d").mkdir()
    outside = tmp_path / f"{kind}-outside"
    outside.mkdir()
    (outside / "victim").write_bytes(b"keep")
    (root / "exists").write_bytes(b"old")
    os.symlink(str(outside / "victim"), root / "link")
    os.symlink(str(outside / "made-through-link"), root / "dangling")
    srcs, dsts = [], []
    for i, name in enumerate(ODD):
        (src / name).write_bytes(os.urandom(i * 101))
        srcs.append(str(src / name))
        dsts.append(str(root / "d" / name))
    os.symlink(str(src / "plain.bin"), src / "a-link")
    os.symlink(str(src / "nowhere"), src / "a-dangling-link")
    (src / "a-folder").mkdir()
    for s, d in [("plain.bin", "exists"), ("plain.bin", "link"), ("plain.bin", "dangling"), ("plain.bin", "d"),
                 ("plain.bin", "no-folder/f"), ("missing", "d/from-missing"), ("a-link", "d/the-link"),
                 ("a-dangling-link", "d/the-dangling-link"), ("a-folder", "d/the-folder"), ("plain.bin", "d/again")]:
        srcs.append(str(src / s))
        dsts.append(str(root / d))
    return srcs, dsts


@needs_c
def test_link_batch_does_what_the_python_loop_does(tmp_path):
    got = {}
    for kind, link in (("c", copybatch._native_link), ("py", copybatch.link_batch_python)):
        srcs, dsts = link_cases(tmp_path, kind)
        results = link(srcs, dsts)
        for s, d, r in zip(srcs, dsts, results):
            if r is None:
                a, b = os.lstat(s), os.lstat(d)
                assert (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino), d
        assert (tmp_path / kind / "exists").read_bytes() == b"old"
        assert (tmp_path / f"{kind}-outside" / "victim").read_bytes() == b"keep"
        assert sorted(os.listdir(tmp_path / f"{kind}-outside")) == ["victim"], "a link at the target is never followed"
        for name in ("the-link", "the-dangling-link", "the-folder"):
            assert not os.path.lexists(tmp_path / kind / "d" / name), "a store path that is no regular file is not linked"
        got[kind] = (results, sorted(os.listdir(tmp_path / kind / "d")))
    assert got["c"] == got["py"]
    assert got["c"][0] == [None] * len(ODD) + [errno.EEXIST, errno.EEXIST, errno.EEXIST, errno.EEXIST, errno.ENOENT,
                                               errno.ENOENT, errno.EPERM, errno.EPERM, errno.EPERM, None]


@needs_c
def test_link_batch_refuses_bad_arguments():
    with pytest.raises(ValueError):
        copybatch._native_link(["a", "b"], ["c"])
    with pytest.raises(ValueError):
        copybatch._native_link(["a\0b"], ["c"])
    with pytest.raises(TypeError):
        copybatch._native_link(["a"], [3])


@needs_c
@pytest.mark.parametrize("linkers", [1, 2])
def test_a_linker_links_verified_files_and_hands_over_the_rest(tmp_path, monkeypatch, linkers):
    """Each store file that hashes to its digest is hard-linked; one that appeared at its target goes
    to ``place_one`` (which replaces it), and a store file rotted in place is never linked: its
    ``place_one`` raises the error naming it, and no link is under its name."""
    from artvcs.plumbing import placefile
    from artvcs.plumbing.errors import CorruptObjectError
    from artvcs.plumbing.hashing import hash_bytes

    monkeypatch.setattr(copybatch, "BATCH_FILES", 3)
    monkeypatch.setattr(copybatch, "LINKERS", linkers)
    src, out = tmp_path / "store", tmp_path / "out"
    src.mkdir()
    out.mkdir()

    class E:
        def __init__(self, digest, size):
            self.digest, self.size = digest, size

    class F:
        def __init__(self, name, data):
            (src / name).write_bytes(data)
            self.src, self.target, self.present = str(src / name), str(out / name), False
            self.entry = E(hash_bytes(data), len(data))

    files = [F(f"{i:02d}-{n}", os.urandom(50 + 31 * i)) for i, n in enumerate(ODD * 2)]
    (out / os.path.basename(files[5].target)).write_bytes(b"appeared after planning")
    placed = []

    def place_one(f):
        placed.append(f)
        return placefile.place("hardlink", f.src, f.target, True, f.entry.digest, f.entry.size)

    linker = copybatch.Linker(place_one)
    try:
        for i in range(0, len(files), 7):  # a batch at a time, as a checkout hands them over
            linker.link(files[i : i + 7])
    finally:
        linker.close()
    assert placed == [files[5]]
    for f in files:
        assert os.lstat(f.target).st_ino == os.lstat(f.src).st_ino, f.target

    out2 = tmp_path / "out2"
    out2.mkdir()
    for f in files:
        f.target = str(out2 / os.path.basename(f.target))
    with open(files[7].src, "r+b") as fh:
        fh.write(b"X")
    linker = copybatch.Linker(lambda f: placefile.place("hardlink", f.src, f.target, False, f.entry.digest, f.entry.size))
    with pytest.raises(CorruptObjectError) as err:
        try:
            linker.link(files)
        finally:
            linker.close()
    assert files[7].target in str(err.value)
    assert not os.path.lexists(files[7].target), "no link to the rotten file"
    for f in files:
        if f is not files[7]:
            assert os.lstat(f.target).st_ino == os.lstat(f.src).st_ino, "every good file is linked"


def exhaust_links(path: str, side, leave: int) -> None:
    """Hard-link ``path`` into folder ``side`` until its file system says EMLINK (ext4: 65000
    links), then drop ``leave`` of them, so ``leave`` more links can be made; skip where no
    such limit is met."""
    side.mkdir()
    made = []
    for i in range(70000):
        try:
            os.link(path, side / str(i))
        except OSError as e:
            if e.errno != errno.EMLINK:
                raise
            break
        made.append(side / str(i))
    else:
        pytest.skip("this file system gives no EMLINK within 70000 links")
    for p in made[len(made) - leave:]:
        os.unlink(p)


class _Entry:
    def __init__(self, digest, size):
        self.digest, self.size = digest, size


class _File:
    def __init__(self, src, target, data):
        from artvcs.plumbing.hashing import hash_bytes

        self.src, self.target, self.present = str(src), str(target), False
        self.entry = _Entry(hash_bytes(data), len(data))


@needs_c
@pytest.mark.parametrize("impl", ["c", "python"])
def test_a_linker_hands_a_store_link_to_place_one_and_links_nothing_of_it(tmp_path, monkeypatch, impl):
    """A store file that is a symbolic link to the right bytes: the read followed it, so the
    batch must not link the link itself (what was hashed is not what would be linked); it is
    handed to place_one, like every file the batch does not link."""
    if impl == "python":
        monkeypatch.setattr(copybatch, "_native_link", copybatch.link_batch_python)
    src, out = tmp_path / "store", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    data = b"the right bytes"
    (src / "real").write_bytes(data)
    os.symlink(str(src / "real"), src / "tampered")
    (src / "plain").write_bytes(b"plain")
    files = [_File(src / "plain", out / "plain", b"plain"), _File(src / "tampered", out / "tampered", data)]
    placed = []
    linker = copybatch.Linker(lambda f: placed.append(f) or "placed")
    try:
        assert linker.link(files) == [None, "placed"]
    finally:
        linker.close()
    assert placed == [files[1]], "the store link went to place_one"
    assert not os.path.lexists(out / "tampered"), "the batch linked nothing of it"
    assert os.lstat(out / "plain").st_ino == os.lstat(src / "plain").st_ino


@needs_c
def test_a_linker_returns_the_stat_of_a_copy_made_for_emlink(tmp_path):
    """A store file with all the links its file system allows is copied (verified) by place_one:
    the Linker hands back that copy's stat, for the stat cache; a link's is None."""
    from artvcs.plumbing import placefile

    src, out = tmp_path / "store", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    (src / "full").write_bytes(b"linked to the limit")
    (src / "free").write_bytes(b"free")
    exhaust_links(str(src / "full"), tmp_path / "side", 0)
    files = [_File(src / "free", out / "free", b"free"), _File(src / "full", out / "full", b"linked to the limit")]
    linker = copybatch.Linker(lambda f: placefile.place("hardlink", f.src, f.target, False, f.entry.digest,
                                                        f.entry.size))
    try:
        stats = linker.link(files)
    finally:
        linker.close()
    assert stats[0] is None and os.lstat(out / "free").st_ino == os.lstat(src / "free").st_ino
    st = os.lstat(out / "full")
    assert stats[1] is not None and (stats[1].st_ino, stats[1].st_size) == (st.st_ino, st.st_size)
    assert st.st_ino != os.lstat(src / "full").st_ino and (out / "full").read_bytes() == b"linked to the limit"


@needs_c
def test_a_build_without_link_batch_keeps_the_read_and_write_batches(tmp_path):
    """A stale build of _copybatch from before link_batch: only the Linker falls back (a hardlink
    checkout then places one file at a time), the copy batches stay on."""
    code = textwrap.dedent("""
        import artvcs.plumbing._copybatch as built
        del built.link_batch  # the module as a build from before link_batch has it
        from artvcs.plumbing import copybatch
        print(copybatch.native(), copybatch.native_link(), copybatch._native_read is built.read_batch)
    """)
    env = {k: v for k, v in os.environ.items() if k != "ARTVCS_NATIVE"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "False", "True"]


@pytest.mark.parametrize("mode", ["hardlink", "symlink"])
def test_place_refuses_a_store_file_that_is_a_link_and_makes_nothing(tmp_path, mode):
    """placefile.place (where the Linker hands what it does not link) verifies a store file before
    linking to it; a store file that is a symbolic link to the right bytes is refused, naming it,
    since a link to it would hand over the symlink, not the bytes hashed."""
    import blake3

    from artvcs.plumbing import placefile
    from artvcs.plumbing.errors import CorruptObjectError

    data = b"the right bytes"
    (tmp_path / "real").write_bytes(data)
    os.symlink(str(tmp_path / "real"), tmp_path / "tampered")
    digest = blake3.blake3(data).hexdigest()
    for present in (False, True):
        target = tmp_path / f"out-{present}"
        if present:
            target.write_bytes(b"old")
        with pytest.raises(CorruptObjectError, match="symbolic link in the store") as e:
            placefile.place(mode, str(tmp_path / "tampered"), str(target), present=present, digest=digest)
        assert digest in str(e.value)
        assert (target.read_bytes() == b"old") if present else not os.path.lexists(target)
    placefile.place(mode, str(tmp_path / "real"), str(tmp_path / "fine"), present=False, digest=digest)
    assert (tmp_path / "fine").read_bytes() == data
