"""The format spec (man/artvcs-format.5) states what the code does.

Each test reads a fact out of the page and checks it against the code (a
constant, or what a real repository holds), so that neither can change
without the other.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import struct
import stat
import subprocess

import blake3
import pygit2
import pytest

import artvcs
from artvcs.plumbing import fsck, hashing, manifest, names, namespace, paths, refs, repository, statcache, store, versions
from artvcs.plumbing.errors import FormatVersionError, NotARepositoryError, PathEscapeError
from artvcs.plumbing.repository import init_repository

SPEC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "man", "artvcs-format.5")

SECTIONS = (
    "NAME", "DESCRIPTION", "TERMINOLOGY", "LAYOUT", "FORMAT VERSION", "CONTENT STORE", "MANIFEST ENCODING",
    "ARTIFACT DIGEST", "VERSION COMMITS", "REF NAMESPACES", "DEFAULT NAMESPACE", "AUTHORS", "MUTABLE ATTRIBUTES", "RUNS",
    "PORTFOLIOS AND THE MODEL REGISTRY", "WRITE ORDERING", "VERSION NUMBERING", "LOCKING", "STAT CACHE",
    "INVARIANTS", "THREAT MODEL", "SECURITY", "COMPATIBILITY", "SEE ALSO",
)


# -- reading the page ----------------------------------------------------------------------------
def _raw() -> str:
    with open(SPEC, encoding="utf-8") as f:
        return f.read()


def _plain(roff: str) -> str:
    """Roff source → the characters a reader sees (fonts and escapes removed)."""
    for a, b in (("\\-", "-"), ("\\(lq", '"'), ("\\(rq", '"'), ("\\(bu", ""), ("\\['e]", "é"), ("\\&", ""), ("\\e", "\\")):
        roff = roff.replace(a, b)
    return re.sub(r"\\f[BIRP]", "", roff)


def _sections_raw() -> dict[str, str]:
    out: dict[str, str] = {}
    name = None
    for line in _raw().splitlines(keepends=True):
        if line.startswith(".SH "):
            name = line[4:].strip().strip('"')
            out[name] = ""
        elif name is not None:
            out[name] += line
    return out


def _section(name: str) -> str:
    return _plain(_sections_raw()[name])


def _tags(roff: str) -> list[str]:
    """The bold tags of ``.TP`` items (``\\fBa\\fR, \\fBb\\fR`` gives a and b)."""
    out = []
    for tag in re.findall(r"^\.TP\n(.*)$", roff, re.M):
        out += re.findall(r"\\fB([a-z_]+)\\fR", tag)
    return out


def _example_block(section: str, start: str) -> str:
    """The first no-fill line of ``section`` that begins with ``start``."""
    for line in _section(section).splitlines():
        if line.startswith(start):
            return line
    raise AssertionError(f"no line starting {start!r} in {section}")


# -- the page itself -----------------------------------------------------------------------------
def test_page_has_every_section_in_order():
    names_found = list(_sections_raw())
    positions = [names_found.index(s) for s in SECTIONS]
    assert positions == sorted(positions), names_found


def test_name_line_states_the_format_version():
    assert f"version {repository.FORMAT_VERSION}" in _section("NAME")


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_page_renders_without_warnings():
    p = subprocess.run(["groff", "-man", "-ww", "-Tutf8", SPEC], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


@pytest.mark.skipif(shutil.which("man") is None, reason="man is not installed")
def test_man_displays_the_page():
    p = subprocess.run(["man", "-l", SPEC], capture_output=True, text=True, env={**os.environ, "MANPAGER": "cat", "PAGER": "cat"})
    assert p.returncode == 0, p.stderr
    assert "FORMAT VERSION" in p.stdout


# -- format version ------------------------------------------------------------------------------
def test_format_record_bytes(tmp_path):
    text = _section("FORMAT VERSION")
    record = f"artvcs-format {repository.INIT_FORMAT_VERSION}\n"
    assert f"artvcs-format {repository.INIT_FORMAT_VERSION}\\n" in text
    assert f'"artvcs-format {repository.FORMAT_VERSION}\\n"' in text
    assert f"exactly the {len(record.encode())} bytes" in text
    assert f"This page describes format version {repository.FORMAT_VERSION}." in text
    init_repository(str(tmp_path))
    assert (tmp_path / ".artifacts" / repository.FORMAT_FILE).read_bytes() == record.encode()
    assert versions.FORMAT == 1  # the per-commit format field: format 2 changed only the store
    assert f"the format version of its manifest and facts, {versions.FORMAT}" in " ".join(_section("VERSION COMMITS").split())


def test_chunked_files_are_as_documented(tmp_path):
    from artvcs.plumbing import chunking, chunklist, chunkpacks, chunkstore

    text = " ".join(_section("CHUNKED FILES").split())
    assert f"4 MiB ({store.CHUNK_THRESHOLD} bytes)" in text
    assert (f"target size {chunking.AVG_SIZE}, minimum {chunking.MIN_SIZE} and maximum {chunking.MAX_SIZE} bytes"
            in text)
    assert f"min(size, {chunklist.MAX_COUNT})" in text and f"csize <= {chunklist.MAX_CHUNK}" in text
    assert f"private {chunking.BLOCK >> 20} MiB blocks" in text
    assert f"count <= {chunkpacks.MAX_PACK_CHUNKS}" in text and f"holds {chunkpacks.PACK_BYTES >> 20} MiB" in text
    assert (f"a run of {chunkpacks.FILL_MIN_RUN} bytes or more" in text
            and f"within a {chunkpacks.PAGE}-byte page" in text and f"1 to {chunkpacks.PAGE - 1} zero bytes" in text)
    repo = init_repository(str(tmp_path))
    data = os.urandom(store.CHUNK_THRESHOLD)
    (tmp_path / "big").write_bytes(data)
    digest, _ = repo.store.put_file(str(tmp_path / "big"))
    assert digest == blake3.blake3(data).hexdigest()
    assert "A log stores a large file whole" in text and "only ever goes from whole to chunks" in text
    assert os.path.isfile(repo.store.path_of(digest))  # a new large file: whole, format still 1
    assert (tmp_path / ".artifacts" / repository.FORMAT_FILE).read_bytes() == b"artvcs-format 1\n"
    assert repo.store.convert_to_chunks(digest) and not os.path.exists(repo.store.path_of(digest))
    path = os.path.join(repo.gitdir, store.LISTS, digest[:2], digest[2:])
    body = open(path, "rb").read()
    head, *rows = body.decode("ascii").splitlines()
    assert head == f"artvcs-chunks 1 {digest} {len(data)} {len(rows)}"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    folder = os.path.join(repo.gitdir, chunkpacks.DIRNAME)
    (idx,) = [n for n in os.listdir(folder) if n.endswith(".idx")]  # one pack: below 64 MiB
    idx_bytes = open(os.path.join(folder, idx), "rb").read()
    assert idx[:-4] == blake3.blake3(idx_bytes).hexdigest()[:40]
    ihead, *irows = idx_bytes.decode("ascii").splitlines()
    assert ihead == f"artvcs-chunkpack 1 {len(irows)}"
    pack = open(os.path.join(folder, idx[:-4] + ".pack"), "rb").read()
    offsets, off = {}, 0
    for r in irows:
        c, n = r.split()
        assert blake3.blake3(pack[off:off + int(n)]).hexdigest() == c
        offsets[c] = (off, int(n))
        off += int(n)
    assert off == len(pack)
    rebuilt = b"".join(pack[offsets[r.split()[0]][0]:][: int(r.split()[1])] for r in rows)
    assert rebuilt == data
    assert chunkstore.read_list(repo.store, digest).encode() == body
    assert (tmp_path / ".artifacts" / repository.FORMAT_FILE).read_bytes() == b"artvcs-format 2\n"
    small = init_repository(str(tmp_path / "small"))
    (tmp_path / "s").write_bytes(data[:-1])  # one byte below the threshold: stored whole, format stays 1
    d, _ = small.store.put_file(str(tmp_path / "s"))
    assert os.path.isfile(small.store.path_of(d))
    assert (tmp_path / "small" / ".artifacts" / repository.FORMAT_FILE).read_bytes() == b"artvcs-format 1\n"


def test_newer_format_is_refused_with_the_documented_error(tmp_path):
    v = repository.FORMAT_VERSION
    init_repository(str(tmp_path))
    (tmp_path / ".artifacts" / "artvcs-format").write_text(f"artvcs-format {v + 1}\n")
    with pytest.raises(FormatVersionError) as err:
        repository.Repository(str(tmp_path / ".artifacts"))
    documented = " ".join(_section("FORMAT VERSION").split())
    shown = str(err.value).split(" uses ", 1)[1]
    assert f"<dir> uses {shown}" in documented.replace(f"format 2, newer than this artvcs understands (1)",
                                                        f"format {v + 1}, newer than this artvcs understands ({v})")
    (tmp_path / ".artifacts" / "artvcs-format").write_text("artvcs-format one\n")
    with pytest.raises(FormatVersionError):
        repository.Repository(str(tmp_path / ".artifacts"))


def test_missing_record_is_not_a_repository(tmp_path):
    init_repository(str(tmp_path))
    os.unlink(tmp_path / ".artifacts" / "artvcs-format")
    with pytest.raises(NotARepositoryError, match="not an artvcs repository"):
        repository.Repository(str(tmp_path / ".artifacts"))
    assert '"not an artvcs repository"' in _section("FORMAT VERSION")
    assert repository.find_gitdir(str(tmp_path)) != str(tmp_path / ".artifacts")  # discovery passes over it


# -- content store -------------------------------------------------------------------------------
def test_content_store_layout_and_writes(tmp_path):
    text = _section("CONTENT STORE")
    assert f"first {store.FANOUT} and rest the remaining {hashing.DIGEST_HEX_LEN - store.FANOUT} characters" in " ".join(text.split())
    assert f"{hashing.MMAP_THRESHOLD // (1024 * 1024)} MiB" in text
    assert store.TMP_PREFIX in text and f"content/<xx>/{store.TMP_PREFIX}<pid>-<12 hex>" in text
    assert "mode 0444" in text
    repo = init_repository(str(tmp_path))
    digest = repo.store.put_bytes(b"hello\n")
    path = os.path.join(repo.gitdir, "content", digest[: store.FANOUT], digest[store.FANOUT:])
    assert os.path.isfile(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert blake3.blake3(open(path, "rb").read()).hexdigest() == digest
    assert sorted(os.listdir(os.path.join(repo.gitdir, "content"))) == [f"{i:02x}" for i in range(256)]


# -- manifests -----------------------------------------------------------------------------------
def _example_entries() -> list[manifest.Entry]:
    d1 = blake3.blake3(b"hello\n").hexdigest()
    d2 = blake3.blake3(b"1,2\n").hexdigest()
    return [
        manifest.Entry("a.txt", d1, 6),
        manifest.Entry("data/x.csv", d2, 4),
        manifest.Entry("remote/y", "abc123", None, "https://example.com/y", {"etag": "abc123"}),
    ]


def test_listing_constants_and_sharding(tmp_path):
    text = " ".join(_section("MANIFEST ENCODING").split())
    n = manifest.SHARD_THRESHOLD
    assert f"one blob named {manifest.LISTING} when the folder has {n} files or fewer; above {n} files, blobs named {manifest.LISTING}.XX" in text
    assert f"the file x.csv is listed in {manifest.LISTING}.{manifest._shard('x.csv')}" in text
    repo = init_repository(str(tmp_path)).git
    digest = "0" * 64
    tree = repo[manifest.write_manifest(repo, [manifest.Entry(f"f{i}", digest, 1) for i in range(n)])]
    assert [o.name for o in tree] == [manifest.LISTING]
    many = [f"f{i}" for i in range(n + 1)]
    tree = repo[manifest.write_manifest(repo, [manifest.Entry(p, digest, 1) for p in many])]
    expected = {f"{manifest.LISTING}.{blake3.blake3(p.encode()).hexdigest()[:2]}" for p in many}
    assert {o.name for o in tree} == expected
    assert sum(len(json.loads(repo[o.id].data)) for o in tree) == n + 1


def test_listing_example_bytes_and_digests(tmp_path):
    repo = init_repository(str(tmp_path)).git
    entries = _example_entries()
    tree = repo[manifest.write_manifest(repo, entries)]
    assert sorted(o.name for o in tree) == [manifest.LISTING, "data", "remote"]
    remote = repo[repo[tree["remote"].id][manifest.LISTING].id].data
    shown = _example_block("MANIFEST ENCODING", '[["y"')
    assert remote == (shown + "\n").encode()
    text = " ".join(_section("MANIFEST ENCODING").split())
    assert f"holds the {len(remote)} bytes" in text
    root = repo[tree[manifest.LISTING].id].data
    assert root == manifest.canonical_json([["a.txt", entries[0].digest, 6]])
    assert entries[0].digest in _section("MANIFEST ENCODING")
    digests = _section("ARTIFACT DIGEST")
    assert manifest.manifest_digest([]) in digests
    assert manifest.manifest_digest(entries) in digests
    # order of addition, sizes, refs and extras do not enter the digest
    changed = [manifest.Entry(e.path, e.digest, 999, "s3://b/k" if e.ref else None, {}) for e in reversed(entries)]
    assert manifest.manifest_digest(changed) == manifest.manifest_digest(entries)


def test_artifact_digest_is_the_documented_concatenation():
    entries = _example_entries() + [manifest.Entry("é/z", "1" * 64, 1), manifest.Entry("Z", "2" * 64, 1)]
    data = b"".join(e.path.encode() + b"\0" + e.digest.encode() + b"\0" for e in sorted(entries, key=lambda e: e.path.encode()))
    assert manifest.manifest_digest(entries) == blake3.blake3(data).hexdigest()
    assert "path NUL entry-digest NUL" in _section("ARTIFACT DIGEST")


def test_canonical_json_is_as_documented():
    text = " ".join(_section("MANIFEST ENCODING").split())
    for arg in ("sort_keys=True", 'separators=(",", ":")', "ensure_ascii=False", "allow_nan=False"):
        assert arg in text
    assert manifest.canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}\n'.encode()
    with pytest.raises(ValueError):
        manifest.canonical_json({"x": float("nan")})


def test_subfolder_escaping_examples():
    text = " ".join(_section("MANIFEST ENCODING").split())
    examples = re.findall(r"(\S+) (?:is stored )?as (\S+?)[,;]", text.split("Examples:", 1)[1].split("unchanged", 1)[0])
    assert len(examples) == 3, examples
    for name, escaped in examples:
        assert manifest.escape_name(name) == escaped, name
        assert manifest.unescape_name(escaped) == name
    assert "a.b is stored unchanged" in text and manifest.escape_name("a.b") == "a.b"


@pytest.mark.parametrize("bad", ["", "/a", "a/", "a//b", "./a", "a/./b", "a/../b", "..", "a\\b", "a\x00b", "a\x1fb", "C:x"])
def test_entry_path_rules_refuse(bad):
    with pytest.raises(PathEscapeError):
        paths.check_entry_path(bad)


def test_entry_path_rules_accept_and_normalise():
    for good in ("a", "a/b.txt", "é/x y", ".hidden/x", "x/a:b"):
        assert paths.check_entry_path(good) == good
    text = _section("MANIFEST ENCODING")
    for given, result in re.findall(r'"([^"\s]+)" becomes "([^"\s]+)"', text):
        assert paths.normalize_entry_path(given) == result


# -- refs ----------------------------------------------------------------------------------------
def test_every_ref_namespace_is_specified_and_nothing_else():
    raw = _sections_raw()["REF NAMESPACES"]
    documented = set(re.findall(r"^\\fBrefs/([a-z]+)/", raw, re.M))
    assert documented == set(refs.NAMESPACES)
    words = {3: "three", 4: "four", 5: "five", 6: "six", 7: "seven"}
    assert f"in {words[len(refs.NAMESPACES)]} namespaces" in _section("REF NAMESPACES")
    assert f"the {words[len(refs.NAMESPACES)]} namespaces" in _section("INVARIANTS")


def test_ref_name_templates_match_the_code():
    text = _section("REF NAMESPACES")
    c = refs.CollectionId("E", "P", "C")
    for name in (c.collection_ref, c.version_ref(7).replace("v7", "vN"), c.alias_ref("A"), c.attrs_ref, refs.run_ref("E", "P", "ID"),
                 c.latest_ref(7).replace("v7", "vT")):
        assert name in text, name


def test_percent_encoding_examples():
    text = " ".join(_section("REF NAMESPACES").split())
    for plain in ("mnist.v2", "best model", "é"):
        enc = names.encode_component(plain)
        assert re.search(rf'"{re.escape(plain)}" (is written )?{re.escape(enc)}\b', text), plain
        assert names.decode_component(enc) == plain


# -- stat cache and locks ------------------------------------------------------------------------
def test_racy_window_matches_the_code():
    text = _section("STAT CACHE")
    assert statcache.RACY_NS == 1_000_000_000
    assert f"max(mtime_ns, ctime_ns) + {statcache.RACY_NS} <= hashed_ns" in text
    assert f"at least {statcache.RACY_NS // 1_000_000_000} second older" in " ".join(text.split())
    st = os.stat_result((0o100644, 5, 3, 1, 0, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0))  # st_ino=5, st_dev=3, size 10
    key = statcache.stat_key(st)
    t = max(st.st_mtime_ns, st.st_ctime_ns)
    assert statcache.StatCache.lookup({"/p": (key, "d", t + statcache.RACY_NS, None)}, "/p", st) == "d"
    assert statcache.StatCache.lookup({"/p": (key, "d", t + statcache.RACY_NS - 1, None)}, "/p", st) is None
    assert statcache.StatCache.lookup({"/p": (key, "d", t + statcache.RACY_NS - 1, 4)}, "/p", st) is None  # another clock
    # the file system's own clock (clock_dev == dev): strictly older is enough
    assert "max(mtime_ns, ctime_ns) < hashed_ns" in text
    assert statcache.StatCache.lookup({"/p": (key, "d", t + 1, st.st_dev)}, "/p", st) == "d"
    assert statcache.StatCache.lookup({"/p": (key, "d", t, st.st_dev)}, "/p", st) is None
    assert key == (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def test_stat_cache_schema(tmp_path):
    repo = init_repository(str(tmp_path))
    cache = repo.statcache
    f = tmp_path / "x"
    f.write_text("x")
    cache.record(str(f), os.stat(f), "0" * 64, statcache.now_ns() + 2 * statcache.RACY_NS, 7, None)
    cache.close()
    db = sqlite3.connect(os.path.join(repo.gitdir, "cache", "stat.db"))
    columns = [r[1] for r in db.execute("PRAGMA table_info(folder)")]
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    created = db.execute("SELECT sql FROM sqlite_master WHERE name = 'folder'").fetchone()[0]
    # one record is a folder's recent row; the folder row comes when the recent row is folded in
    path, row = db.execute("SELECT path, records FROM recent").fetchone()
    assert db.execute("SELECT count(*) FROM folder").fetchone()[0] == 0
    recent_columns = [r[1] for r in db.execute("PRAGMA table_info(recent)")]
    recent_created = db.execute("SELECT sql FROM sqlite_master WHERE name = 'recent'").fetchone()[0]
    db.close()
    block = _section("STAT CACHE")
    for table, cols, sql in (("folder", columns, created), ("recent", recent_columns, recent_created)):
        schema = _example_block("STAT CACHE", f"CREATE TABLE {table}")
        schema = block[block.index(schema):block.index(")", block.index(schema) + 20) + 1]
        assert re.findall(r"(\w+) (?:TEXT|BLOB)", schema) == cols == ["path", "records"]
        assert sql.endswith("WITHOUT ROWID")
    assert ") WITHOUT ROWID" in block
    text = " ".join(block.split())
    assert f"more than {statcache.FOLD_MIN} records and their fixed parts are more than an eighth" in text and statcache.FOLD_SHARE == 8
    # the row as the spec lays it out: count, fixed parts of 128 bytes, NUL-ended names
    st = os.stat(f)
    text = " ".join(block.split())
    assert f"fixed parts of {statcache.FIXED.size} bytes" in text and "4-byte little-endian count" in text
    assert path == str(tmp_path) and row[:4] == (1).to_bytes(4, "little")
    fixed = struct.unpack("<8q64s", row[4:132])
    assert fixed[:5] == statcache.stat_key(st) and fixed[6:8] == (7, -1) and fixed[8] == b"0" * 64
    assert row[132:] == b"x\0"


def test_checkout_temporary_names_match_the_code(tmp_path):
    from artvcs.plumbing import placefile

    text = _section("CHECKOUT")
    assert f"{placefile.TMP_PREFIX}<16 hex>" in text and "O_CREAT|O_EXCL" in text
    name = os.path.basename(placefile.tmp_beside(str(tmp_path / "f")))
    assert re.fullmatch(re.escape(placefile.TMP_PREFIX) + "[0-9a-f]{16}", name)


def test_lock_staleness_and_retry_numbers():
    text = " ".join(_section("LOCKING").split())
    assert f"older than {refs.STALE_LOCK_SECONDS} seconds" in text
    assert fsck.STALE_SECONDS == 3600 and "older than an hour as stale" in text
    numbering = " ".join(_section("VERSION NUMBERING").split())
    assert f"at most {versions.MAX_ATTEMPTS} times" in numbering
    assert "at most 0.2 s" in numbering


# -- a real repository ---------------------------------------------------------------------------
@pytest.fixture
def populated(tmp_path, monkeypatch):
    """A repository after init, two logged versions, v0's content logged again, two links, an edit, a run and
    a distributed draft."""
    monkeypatch.chdir(tmp_path)
    for var in ("ARTVCS_DIR", "ARTVCS_ENTITY", "ARTVCS_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ARTVCS_AUTHOR_NAME", "Ann Author")
    monkeypatch.setenv("ARTVCS_AUTHOR_EMAIL", "ann@example.org")
    init_repository(str(tmp_path), entity="me", project="proj")
    data = tmp_path / "data"
    (data / ".hidden").mkdir(parents=True)
    (data / "a.txt").write_text("alpha\n")
    (data / ".hidden" / "b").write_text("beta\n")
    run = artvcs.init(job_type="train", config={"lr": 0.1}, group="sweep-1")
    run.log({"loss": 0.5})
    first = artvcs.Artifact("cnn", type="model", metadata={"acc": 0.9})
    first.add_dir(str(data))
    run.log_artifact(first, aliases=["best"])
    (data / "a.txt").write_text("alpha 2\n")
    second = artvcs.Artifact("cnn", type="model")
    second.add_dir(str(data))
    run.log_artifact(second)
    run.link_artifact(second, "model-registry/Digits", aliases=["prod"])
    (data / "a.txt").write_text("alpha\n")
    again = artvcs.Artifact("cnn", type="model")
    again.add_dir(str(data))
    assert run.log_artifact(again).version == "v0"  # v0's content again: refs/latest names v0
    shard = artvcs.Artifact("shards", type="dataset")
    shard.add_file(str(data / "a.txt"))
    run.upsert_artifact(shard, distributed_id="job 1")  # left unfinished: a refs/drafts/ ref
    run.finish()
    api = artvcs.Api()
    v0 = api.artifact("cnn:v0")
    v0.description = "first"
    v0.aliases.append("old")
    v0.save()
    v0.link("model-registry/Digits")  # after the alias edit: registry members' aliases are frozen
    yield repository.discover(str(tmp_path))
    artvcs.finish()


def test_layout_names_every_file_of_a_real_repository(populated):
    layout = _section("LAYOUT")
    root = populated.gitdir
    for name in os.listdir(root):
        assert re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-])", layout), f".artifacts/{name} is not in LAYOUT"
    for name in ("HEAD", "config", "objects", "refs", "logs", "artvcs-format", "content/00", "content/ff", "cache/stat.db", "drafts"):
        assert os.path.exists(os.path.join(root, name)), name
        assert name.split("/")[-1] in layout
    fresh = os.path.join(os.path.dirname(root), "fresh")
    init_repository(fresh)
    made = set(os.listdir(os.path.join(fresh, ".artifacts")))
    assert {"artvcs-format", "content", "cache", "HEAD", "config", "objects", "refs"} <= made
    assert "made at init" in layout
    cfg = pygit2.Repository(root).config
    for key, value in (("core.logAllRefUpdates", "always"), ("gc.auto", "0")):
        assert cfg[key] == value and f"{key}={value}" in layout
    with open(os.path.join(root, "config"), encoding="utf-8") as f:
        assert "[user]" not in f.read()  # the repository names no person: AUTHORS


def test_stored_files_hash_to_their_names(populated):
    seen = 0
    for digest in populated.store.iter_digests():
        path = populated.store.path_of(digest)
        assert hashing.hash_file(path)[0] == digest
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
        seen += 1
    assert seen >= 3


def test_refs_live_in_the_documented_namespaces_with_reflogs(populated):
    git = populated.git
    found = set()
    for name, _ in refs.iter_refs(git, "refs/"):
        assert os.path.isfile(os.path.join(populated.gitdir, "logs", name)), name
        if name == namespace.REF:
            continue
        ns, _, _ = refs.parse_ref(name)
        found.add(ns)
    assert found == set(refs.NAMESPACES)
    for entry in git.references["refs/aliases/me/proj/cnn/best"].log():
        assert (entry.committer.name, entry.committer.email) == ("Ann Author", "ann@example.org")
    assert refs.read(git, refs.CollectionId("me", "proj", "cnn").alias_ref("latest")) is None  # latest is never an alias ref


def _documented_fields() -> tuple[set[str], set[str], set[str]]:
    raw = _sections_raw()["VERSION COMMITS"]
    every, rest = raw.split("Fields of a version (", 1)
    version_only, link_only = rest.split("Fields of a link (", 1)
    return set(_tags(every)), set(_tags(version_only)), set(_tags(link_only))


def test_version_commits_are_as_documented(populated):
    git = populated.git
    every, version_only, link_only = _documented_fields()
    text = " ".join(_section("VERSION COMMITS").split())
    coll = refs.CollectionId("me", "proj", "cnn")
    v0, v1 = (versions.read_version(git, refs.read(git, coll.version_ref(n))) for n in (0, 1))
    for v in (v0, v1):
        commit = git[v.commit]
        assert sorted(o.name for o in commit.tree) == [versions.FACTS, versions.MANIFEST]
        assert commit.tree[versions.FACTS].filemode == pygit2.GIT_FILEMODE_BLOB
        assert commit.tree[versions.MANIFEST].filemode == pygit2.GIT_FILEMODE_TREE
        blob = git[commit.tree[versions.FACTS].id].data
        assert blob == manifest.canonical_json(json.loads(blob))
        assert set(v.facts) == every | version_only
        assert set(v.facts["attrs"]) == {"description", "metadata", "ttl", "tags"}
        for key in v.facts["attrs"]:
            assert f"{key} (" in text
        assert commit.message == f"{v.facts['name']} v{v.number}\n\ndigest {v.facts['digest']}\n"
        assert (commit.author.name, commit.author.email) == ("Ann Author", "ann@example.org") == (commit.committer.name, commit.committer.email)
        assert commit.author.time == int(versions.parse_time(v.facts["created_at"]).timestamp()) and commit.author.offset == 0
        entries = list(manifest.iter_entries(git, v.manifest))
        assert (v.facts["digest"], v.facts["size"], v.facts["file_count"]) == manifest.summarize(entries)
        assert set(v.facts["run"]) == {"entity", "id", "project"}
    assert "<name> v<N>" in _section("VERSION COMMITS") and "digest <artifact digest>" in _section("VERSION COMMITS")
    assert "the author of the version (see AUTHORS)" in text
    assert '"%Y-%m-%dT%H:%M:%S.%fZ"' in text
    assert git[v0.commit].parent_ids == [] and git[v1.commit].parent_ids == [v0.commit]

    portfolio = refs.CollectionId("me", "model-registry", "Digits")
    l0, l1 = (versions.read_version(git, refs.read(git, portfolio.version_ref(n))) for n in (0, 1))
    for link, source in ((l0, v1), (l1, v0)):
        assert link.kind == "link"
        assert set(link.facts) == every | link_only
        assert link.manifest == source.manifest
        assert link.facts["source"] == {"commit": str(source.commit), "entity": "me", "name": "cnn", "project": "proj", "version": source.number}
        assert git[link.commit].parent_ids[-1] == source.commit
    assert git[l0.commit].parent_ids == [v1.commit]  # portfolio v0: the source is its only parent
    assert git[l1.commit].parent_ids == [l0.commit, v0.commit]


def test_mutable_attributes_are_as_documented(populated):
    git = populated.git
    coll = refs.CollectionId("me", "proj", "cnn")
    raw = _sections_raw()["MUTABLE ATTRIBUTES"]
    documented = {"description", "metadata", "ttl", "tags"} | set(_tags(raw))
    tip = git[refs.read(git, coll.attrs_ref)]
    assert [o.name for o in tip.tree] == ["v0.json"]
    record = json.loads(git[tip.tree["v0.json"].id].data)
    assert set(record) <= documented and {"updated_at", "aliases"} <= set(record)
    assert record["aliases"] == ["best", "old"]
    commit = tip
    while commit is not None:
        assert re.fullmatch(r"v0: .+\n", commit.message), commit.message
        assert (commit.author.name, commit.author.email) == ("Ann Author", "ann@example.org")
        assert len(commit.parents) <= 1
        commit = commit.parents[0] if commit.parents else None


def test_run_records_are_as_documented(populated):
    git = populated.git
    raw = _sections_raw()["RUNS"]
    documented = set(_tags(raw))
    [(name, tip)] = list(refs.iter_refs(git, "refs/runs/"))
    record = json.loads(git[git[tip].tree["run.json"].id].data)
    only_when_resumed = {"resume", "resumed_at"}  # written for runs started with resume="auto" / resumed
    assert only_when_resumed <= documented
    assert set(record) == documented - only_when_resumed
    assert [o.name for o in git[tip].tree] == ["run.json"]
    assert record["logged"] and set(record["logged"][0]) == {"commit", "entity", "name", "project", "version"}
    messages = []
    commit = git[tip]
    while commit is not None:
        messages.append(commit.message.rstrip("\n"))
        commit = commit.parents[0] if commit.parents else None
    assert messages[-1] == "start" and messages[0] == "finish"
    for m in messages:
        assert re.fullmatch(r"start|finish|log|(logged|used) [A-Za-z0-9_.-]+:v\d+", m), m
    text = _section("RUNS")
    for word in ('"start"', '"logged C:vN"', '"used C:vN"', '"log"', '"finish"'):
        assert word in text


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_fsck_strict_is_clean(populated):
    p = subprocess.run(["git", "--git-dir", populated.gitdir, "fsck", "--strict"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "fsck --strict SHOULD report no error" in " ".join(_section("INVARIANTS").split())


def test_model_registry_rule(populated):
    assert "Portfolios whose project is model-registry" in " ".join(_section("PORTFOLIOS AND THE MODEL REGISTRY").split())
    from artvcs.plumbing import links

    assert links.MODEL_REGISTRY == "model-registry"


def test_same_digest_creates_no_version(populated):
    coll = refs.CollectionId("me", "proj", "cnn")
    data = os.path.join(populated.worktree, "data")
    with open(os.path.join(data, "a.txt"), "w") as f:
        f.write("alpha\n")  # back to the content of v0, which is not the newest version
    again = artvcs.Artifact("cnn", type="model")
    again.add_dir(data)
    logged = artvcs.init().log_artifact(again)
    assert logged.version == "v0"
    assert versions.live_numbers(populated.git, coll) == [0, 1]
    assert "equals that of any live version of the same collection creates no version" in " ".join(_section("ARTIFACT DIGEST").split())


def test_a_lagging_tip_is_repaired_by_the_next_writer(populated):
    git = populated.git
    coll = refs.CollectionId("me", "proj", "cnn")
    v0, v1 = (refs.read(git, coll.version_ref(n)) for n in (0, 1))
    refs.update(git, coll.collection_ref, v0, v1, "simulate a crash between the version ref and the tip")
    tip = versions.collection_tip(git, coll)
    assert tip.number == 1 and refs.read(git, coll.collection_ref) == v1
    assert [p.message for p in fsck.fsck(populated, full=False) if p.kind == "lagging-tip"] == []
    assert '"lagging-tip"' in _section("WRITE ORDERING")


# -- once BUGS entries, now fixed ------------------------------------------------------------------
def test_first_parent_walk_stops_at_version_zero(populated):
    portfolio = refs.CollectionId("me", "model-registry", "Digits")
    assert {v.collection for v in versions.chain(populated.git, portfolio)} == {portfolio}


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_no_subfolder_name_looks_like_dotgit_to_git_fsck(tmp_path):
    repo = init_repository(str(tmp_path)).git
    with pytest.raises(PathEscapeError, match="HFS"):  # a name HFS+ reads as .git is not an entry path at all
        manifest.write_manifest(repo, [manifest.Entry("\u200c.git/config", "0" * 64, 1)])
    names = ["\u200c.gitx/config", ".github/w", "%files/x", "~1/x", "git~2/x", ".gitmodules/x"]
    tree = manifest.write_manifest(repo, [manifest.Entry(n, "0" * 64, 1) for n in names])
    sig = pygit2.Signature("a", "a@b")
    repo.create_commit("refs/heads/probe", sig, sig, "probe", tree, [])
    p = subprocess.run(["git", "--git-dir", repo.path, "fsck", "--strict"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_sweep_generation_file_matches_the_code(tmp_path):
    from artvcs.plumbing import gc, sweepgen

    text = " ".join(_section("GC PROTECTION").split())
    assert f"cache/{sweepgen.FILENAME}" in text and f"cache/{sweepgen.LOCKNAME}" in text
    assert f'"{sweepgen.SWEEPING}"' in text and "below 2^62" in text
    cache = tmp_path / gc.CACHE
    gen = sweepgen.current(str(cache))
    assert (cache / sweepgen.FILENAME).read_text() == f"{gen}\n" and 0 <= gen < 2**62
    with sweepgen.Sweeping(str(cache)):
        assert (cache / sweepgen.FILENAME).read_text() == f"{sweepgen.SWEEPING}\n"
    assert "sweep_gen" in _section("STAT CACHE")


def test_workspace_records_are_as_documented(populated):
    """The data folder logged whole has a record named and shaped as WORKSPACES says."""
    from artvcs.plumbing import workspaces
    from blake3 import blake3

    raw = _sections_raw()["WORKSPACES"]
    folder = os.path.join(populated.gitdir, "workspaces")
    [name] = os.listdir(folder)
    data = os.path.realpath(os.path.join(os.path.dirname(populated.gitdir), "data"))
    assert name == blake3(data.encode()).hexdigest()[:32] and "first 32 hexadecimal digits" in _section("WORKSPACES")
    with open(os.path.join(folder, name), "rb") as f:
        record = json.loads(f.read())
    assert set(record) == set(_tags(raw)) == set(workspaces.Workspace._fields)
    assert record["path"] == data and record["how"] == "log" and "64 KiB" in _section("WORKSPACES")
    assert workspaces.MAX_RECORD == 64 * 1024 and set(workspaces.HOWS) == {"checkout", "download", "log"}


def test_the_default_namespace_is_as_documented(populated):
    """refs/namespace: a chain of commits whose tree holds namespace.json, canonical JSON, authored by who set it."""
    git = populated.git
    text = " ".join(_section("DEFAULT NAMESPACE").split())
    tip = git[refs.read(git, namespace.REF)]
    assert [o.name for o in tip.tree] == [namespace.FILE] and namespace.FILE in text
    assert tip.tree[namespace.FILE].filemode == pygit2.GIT_FILEMODE_BLOB
    blob = git[tip.tree[namespace.FILE].id].data
    assert blob == manifest.canonical_json({"entity": "me", "project": "proj"})
    assert tip.message == "init: me/proj\n" and tip.parent_ids == []
    assert (tip.author.name, tip.author.email) == ("Ann Author", "ann@example.org")
    for reason in ("init", "clone", "set", "pin"):
        assert f"“{reason}”" in text or f"\\(lq{reason}\\(rq" in _sections_raw()["DEFAULT NAMESPACE"]
    assert "refs/namespace" in _section("REF NAMESPACES")
    git.references["refs/namespace"].set_target(git.create_commit(None, tip.author, tip.author, "bad\n",
                                                                   git.TreeBuilder().write(), [tip.id]))
    assert [p.kind for p in fsck.fsck(populated, full=False) if p.kind == "bad-namespace"] == ["bad-namespace"]


def test_folder_sums_match_the_spec(tmp_path):
    from blake3 import blake3

    from artvcs.plumbing import foldersums
    from artvcs.plumbing.manifest import Entry

    text = " ".join(_section("STAT CACHE").split())
    cache = statcache.StatCache(str(tmp_path / "stat.db"))
    entries = [Entry("b.txt", "2" * 64, 1, None, {}), Entry("a.txt", "1" * 64, 1, None, {}), Entry("sub/c", "3" * 64, 1, None, {})]
    foldersums.keep(cache, "c" * 40, "d" * 64, entries)
    cache.keep_parsed("e" * 64, "{}")
    cache.close()
    db = sqlite3.connect(str(tmp_path / "stat.db"))
    for table, columns in (("version_sums", ["commit_id", "digest", "sums"]), ("parsed", ["digest", "value"])):
        assert [r[1] for r in db.execute(f"PRAGMA table_info({table})")] == columns
        spec = text[text.index(f"CREATE TABLE {table} (") :]
        assert re.findall(r"(\w+) (?:TEXT|BLOB)", spec[: spec.index(")")]) == columns
    digest, blob = db.execute("SELECT digest, sums FROM version_sums WHERE commit_id = ?", ("c" * 40,)).fetchone()
    db.close()
    # the sum as the spec words it: blake3 of "name NUL digest" lines, sorted by name, joined by LF
    top = blake3(("a.txt\0" + "1" * 64 + "\nb.txt\0" + "2" * 64).encode()).digest()
    sub = blake3(("c\0" + "3" * 64).encode()).digest()
    assert "4-byte little-endian count" in text and "sums of 32 bytes" in text
    assert digest == "d" * 64 and blob == (2).to_bytes(4, "little") + top + sub + b"\0sub\0"
    assert foldersums.sums_of([Entry("x", "1" * 64, 1, "s3://b/x", {})]) is None, "a version with references has none"
    assert f"more than {foldersums.MAX_ENTRIES:,} entries gets none" in text


def test_chunk_pack_gc_is_as_documented():
    from artvcs.plumbing import chunkpacks, chunkprune, packplan

    text = " ".join(_section("GC PROTECTION").split())
    assert packplan.REWRITE_DEAD_FRACTION == 0.25 and "a quarter of its bytes or more" in text
    assert f"(REWRITE_DEAD_FRACTION, {packplan.REWRITE_DEAD_FRACTION})" in text
    assert f"waiting up to {chunkprune.LOCK_WAIT_SECONDS:g} s" in text
    assert f"chunks/{chunkpacks.LOCKFILE}" in text


def test_the_multi_pack_index_is_as_documented(tmp_path):
    """A real index read by the layout the spec gives, with struct alone."""
    import struct

    from artvcs.plumbing import chunkmidx, chunkpacks

    text = " ".join(_section("CHUNKED FILES").split())
    assert f"when {chunkpacks.FOLD_AT} or more packs present are outside it" in text
    assert chunkmidx.MAGIC == b"artvcs-midx 1\n\0\0" and '"artvcs-midx 1" LF NUL NUL (16 bytes)' in text
    assert f"fanout {chunkmidx.FANOUT} x u32" in text and "chunks/multi-pack-index (mode 0444)" in text
    repo = init_repository(str(tmp_path))
    data = os.urandom(store.CHUNK_THRESHOLD + 12345)
    (tmp_path / "big").write_bytes(data)
    digest, _ = repo.store.put_file(str(tmp_path / "big"), chunked=True)
    folder = os.path.join(repo.gitdir, chunkpacks.DIRNAME)
    path = os.path.join(folder, "multi-pack-index")
    raw = open(path, "rb").read()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o444
    assert raw[:16] == b"artvcs-midx 1\n\0\0"
    packs, chunks = struct.unpack_from("<II", raw, 16)
    at = 24 + packs * 24
    names = [raw[24 + i * 24:44 + i * 24].hex() for i in range(packs)]
    rows_of = [struct.unpack_from("<I", raw, 44 + i * 24)[0] for i in range(packs)]
    fanout = struct.unpack_from("<65536I", raw, at)
    digests = [raw[at + 262144 + i * 32:at + 262144 + i * 32 + 32] for i in range(chunks)]
    places = [struct.unpack_from("<II", raw, at + 262144 + chunks * 32 + i * 8) for i in range(chunks)]
    end = at + 262144 + chunks * 40
    assert len(raw) == end + 32 and raw[end:] == blake3.blake3(raw[:end]).digest()
    assert digests == sorted(set(digests)) and fanout[-1] == chunks
    assert all(fanout[b] == sum(1 for d in digests if d[0] << 8 | d[1] <= b) for b in (0, 255, 4096, 65535))
    idx = {n: open(os.path.join(folder, f"{n}.idx"), "rb").read().decode().splitlines()[1:] for n in names}
    assert sorted(idx) == sorted(n[:-4] for n in os.listdir(folder) if n.endswith(".idx"))
    assert [len(idx[n]) for n in names] == rows_of
    for d, (p, r) in zip(digests, places):
        assert idx[names[p]][r].split()[0] == d.hex()
    assert {d.hex() for d in digests} == {c for c, _ in _list_rows(repo, digest)}


def _list_rows(repo, digest):
    from artvcs.plumbing import chunkstore

    return chunkstore.read_list(repo.store, digest).chunks


def test_racy_recheck_limits_match_the_code():
    """CHECKOUT states how long a checkout waits for the clock and how many bytes of racily clean
    copies it hashes again: the code's numbers."""
    from artvcs.plumbing import checkrecord

    text = " ".join(_section("CHECKOUT").split())
    assert f"at most {int(checkrecord.RACY_WAIT_S * 1000)} ms" in text
    assert f"at most {checkrecord.RECHECK_BYTES >> 20} MiB of such copies" in text
