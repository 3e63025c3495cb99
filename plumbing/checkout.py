"""Materialising a manifest into a folder, and checking a folder against one.

:func:`materialize` works in two phases. *Planning* changes nothing: it
re-checks every entry path (a manifest pulled from a remote is untrusted),
confirms the content is stored, looks at each folder and file once (the stat
cache, the inode or the link target decides "up to date"; only files the
cache cannot vouch for are hashed) and, when pruning, lists what is extra.
Every refusal — an escaping path, missing content, a file where a folder
must go, an untracked file about to be lost — happens there. *Applying*
then removes, creates each folder once, and writes each file: where nothing
is in its place, under its final name (O_EXCL); else under a temporary name
in its own folder, renamed over what is there, so no reader of an existing
path sees half a file. Nothing is written or deleted outside ``root``
(symbolic links in it are never followed out, and the repository itself is
never touched). The copies written are recorded in the stat cache, so the
next look at them is a stat each.
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import stat as _stat
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .errors import ArtvcsError, ObjectMissingError, PathEscapeError, UsageError
from .hashing import hash_file, is_digest
from .manifest import Entry
from .progress import report
from .paths import check_entry_path, check_entry_paths, safe_join
from .placefile import TMP_PREFIX, place, reflink, tmp_beside, unlink_quiet
from .repository import FORMAT_FILE
from .scan import scan
from .statcache import Records, StatCache, fs_clock_ns, now_ns
from .store import FANOUT, ContentStore

MODES = ("auto", "copy", "hardlink", "reflink", "symlink")
WORKERS = 8  # for fetching references (network bound)
# File system work is mostly system calls, which run in parallel, but the
# Python around them does not: more threads than cores only adds contention.
FS_WORKERS = min(WORKERS, os.cpu_count() or 1)
# Looking at files (an lstat and a stat-cache lookup each, or hashing a small file) is
# GIL-bound Python: measured on 2 cores, one thread is 20-40 % faster than two.
LOOK_WORKERS = 1
PARALLEL_MIN = 64  # below this many files a thread pool costs more than it saves
# Listing a fan-out folder beats a stat per wanted file when it holds fewer than about
# LIST_PER_STAT entries per wanted file; its size says roughly how many (DIRENT_BYTES each on ext4).
LIST_PER_STAT, DIRENT_BYTES = 16, 80

_HEX_LINES = re.compile(r"(?:[0-9a-f]{64}\n)*")

# what planning decided for one file
CURRENT, WRITE, FETCH, LOOK = "current", "write", "fetch", "look"


@dataclass
class MaterializeResult:
    """What :func:`materialize` did. ``mode`` is the mode files were written with
    ("auto" only when nothing needed writing, so nothing was decided)."""

    mode: str
    written: int = 0
    up_to_date: int = 0
    removed: int = 0
    references: int = 0
    skipped_references: list[str] = field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.skipped_references)


class ReferenceFetchError(ArtvcsError):
    """A reference entry could not be fetched."""


# -- the plan -----------------------------------------------------------------
@dataclass(slots=True)
class _File:
    target: str
    entry: Entry
    src: str  # the store file (for a reference: unused)
    action: str = WRITE
    present: bool = False  # something is at target now (so a write must replace it)
    old: str | None = None  # what is there now: None (nothing), "ok" (losing it loses nothing), "dir", or a digest
    in_way: bool = False  # a folder stands where the file goes


def _index(entries: Iterable[Entry]) -> tuple[dict[str, Entry], set[str], dict[str, list[Entry]]]:
    """``{path: entry}``, every folder path, and the entries of each folder (in order), refusing
    bad, duplicate or clashing paths."""
    by_path: dict[str, Entry] = {}
    folders: set[str] = set()
    groups: dict[str, list[Entry]] = {}
    last, group = None, None
    for e in entries:
        if type(e.path) is not str:
            check_entry_path(e.path)
        if e.path in by_path:
            check_entry_path(e.path)
            raise UsageError(f"entry path {e.path!r} appears twice in the manifest")
        by_path[e.path] = e
        folder = e.path.rpartition("/")[0]
        if folder != last:  # manifests list a folder's entries together: one lookup per folder
            group = groups.get(folder)
            if group is None:
                group = groups[folder] = []
            last = folder
            while folder and folder not in folders:
                folders.add(folder)
                folder = folder.rpartition("/")[0]
        group.append(e)
    check_entry_paths(list(by_path))  # in bulk, before anything uses a path
    for f in folders:
        if f in by_path:
            raise UsageError(f"entry path {f!r} is both a file and a folder in the manifest")
    return by_path, folders, groups


def _protected(store: ContentStore) -> list[str]:
    """Real paths never written into or pruned: the store, and the repository holding it."""
    out = [os.path.realpath(store.root)]
    parent = os.path.dirname(out[0])
    if os.path.exists(os.path.join(parent, FORMAT_FILE)):
        out.append(parent)
    return out


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _check_protected(root: str, protected: list[str], by_path: dict, folders: set) -> None:
    real_root = os.path.realpath(root)
    for p in protected:
        if _inside(real_root, p):
            raise UsageError(f"refusing to write files into {root!r}: it is inside the artvcs repository {p!r}")
        if not _inside(p, real_root):
            continue
        rel = os.path.relpath(p, real_root).replace(os.sep, "/")
        probe = rel
        while probe:
            if probe in by_path or (probe == rel and probe in folders):
                raise PathEscapeError(f"entry path {probe!r} would overwrite the artvcs repository {p!r}")
            probe = probe.rpartition("/")[0]


def _folder_states(root: str, folders: set[str], prune: bool) -> dict[str, str]:
    """``folder → "dir" | "absent" | "replace"`` with one lstat per existing folder.

    Without ``prune`` a file in a folder's place is an error, and so is a
    symbolic link, unless it leads to a folder inside root (_guard decides).
    """
    states: dict[str, str] = {}
    for f in sorted(folders, key=lambda s: s.count("/")):
        parent = f.rpartition("/")[0]
        if states.get(parent, "dir") != "dir":
            states[f] = "absent"
            continue
        p = os.path.join(root, f)
        try:
            st = os.lstat(p)
        except FileNotFoundError:
            states[f] = "absent"
            continue
        if _stat.S_ISDIR(st.st_mode):
            states[f] = "dir"
        elif prune:
            states[f] = "replace"
        elif _stat.S_ISLNK(st.st_mode) and os.path.isdir(p):
            states[f] = "dir"  # a link to a folder: allowed only if it stays inside root (see _guard)
        else:
            kind = "symbolic link" if _stat.S_ISLNK(st.st_mode) else "file"
            raise UsageError(f"{p!r} is a {kind} but the artifact has a folder {f!r} there: remove it, or check out (which replaces it)")
    return states


def _walk(root: str, protected: list[str], known: Collection[str] = ()) -> tuple[list[str], list[str]]:
    """``(non-folders, folders)`` under root as entry-style paths, leaving out the non-folders in
    ``known`` (so a large up-to-date folder costs no list of its files); links are not followed."""
    skip = set()
    for p in protected:
        try:
            st = os.stat(p)
            skip.add((st.st_dev, st.st_ino))
        except OSError:
            pass
    files: list[str] = []
    dirs: list[str] = []
    stack = [""]
    while stack:
        rel = stack.pop()
        try:
            it = os.scandir(os.path.join(root, rel) if rel else root)
        except (FileNotFoundError, NotADirectoryError):
            continue
        with it:
            for d in it:
                sub = f"{rel}/{d.name}" if rel else d.name
                if d.is_dir(follow_symlinks=False):
                    if skip and any(ino == d.inode() for _, ino in skip):
                        st = d.stat(follow_symlinks=False)
                        if (st.st_dev, st.st_ino) in skip:
                            continue
                    dirs.append(sub)
                    stack.append(sub)
                elif sub not in known:
                    files.append(sub)
    return files, dirs


def _parallel(fn: Callable, items: list, workers: int | None = None, stage: str | None = None) -> list:
    """``[fn(x) for x in items]``, on a thread pool when there are many; the first error stops the rest.

    With ``stage``, progress is reported (see :mod:`progress`) as slices finish.
    """
    workers = workers or FS_WORKERS
    if len(items) < PARALLEL_MIN or workers < 2:
        return [fn(x) for x in items]
    step = max(16, len(items) // (workers * 8))
    with ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(lambda part: [fn(x) for x in part], items[i : i + step]) for i in range(0, len(items), step)]
        out: list = []
        try:
            for f in futures:
                out.extend(f.result())
                if stage:
                    report(stage, len(out), len(items))
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    return out


# -- materialize --------------------------------------------------------------------
def materialize(
    store: ContentStore,
    entries: Iterable[Entry],
    root: str,
    *,
    mode: str = "auto",
    prune: bool = False,
    statcache: StatCache | None = None,
    fetch_reference: Callable[[Entry, str], None] | None = None,
    allow_missing_references: bool = False,
    protect_untracked: bool = False,
    known_paths: Collection[str] = (),
    verify: bool = True,
) -> MaterializeResult:
    """Write ``entries`` under ``root``; with ``prune``, delete every other file there.

    ``mode``: "copy", "hardlink" (the read-only store file itself), "reflink",
    "symlink" (to the store file), or "auto" (reflink where the file system
    can, else copy; tried once per call). An explicit mode the file system
    cannot do is an error. Reference entries are written by
    ``fetch_reference(entry, tmp_path)``; one that cannot be fetched is an
    error unless ``allow_missing_references`` (then it is skipped).
    ``protect_untracked`` refuses, before changing anything, to delete or
    overwrite a file whose content is not in the store, unless its path
    (relative to root, or absolute) is in ``known_paths``. ``verify`` (the
    default) hashes every stored file handed over on the way (see
    :mod:`placefile`): one that does not hash to its digest is a
    CorruptObjectError naming the path and both digests, and leaves nothing
    under its name. Without it, copies are trusted and not recorded in the
    stat cache (the next look hashes them).
    """
    if mode not in MODES:
        raise UsageError(f"invalid link mode {mode!r}: use one of {', '.join(MODES)}")
    try:
        return _materialize(store, entries, os.path.abspath(root), mode, prune, statcache, fetch_reference,
                            allow_missing_references, protect_untracked, known_paths, verify)
    finally:
        if statcache is not None:
            statcache.flush()  # what was hashed stays known, even when a later step failed


def _materialize(store, entries, root, mode, prune, statcache, fetch_reference, allow_missing_references,
                 protect_untracked, known_paths, verify) -> MaterializeResult:
    if os.path.exists(root) and not os.path.isdir(root):
        raise UsageError(f"{root!r} is not a folder: cannot write the artifact's files into it")
    by_path, folders, groups = _index(entries)
    protected = _protected(store)
    _check_protected(root, protected, by_path, folders)
    has_refs = any(e.ref is not None for e in by_path.values())
    if has_refs and fetch_reference is None and not allow_missing_references:
        raise UsageError("the manifest has reference entries but no way to fetch them was given")

    # -- plan: look, hash where needed, decide; change nothing --------------------
    root_exists = os.path.isdir(root)
    states = _folder_states(root, folders, prune) if root_exists else {"": "absent", **{f: "absent" for f in folders}}
    samples = {folder: es[0].path for folder, es in groups.items()}
    for folder, sample in samples.items():
        if not _under_replaced(folder, states):
            _guard(root, sample, protected)  # once per folder: refuses a link that leads outside root
    sources = _Sources(store)
    sources.check_all(by_path.values())
    if not sources.checked:
        for e in by_path.values():
            sources(e)  # the error for the first bad digest (a hostile manifest must not name a path with it)
    make = _file_maker(root, sources, has_refs)
    extras: list[str] = []
    stale_dirs: list[str] = []
    if prune and root_exists:
        extras, dirs = _walk(root, protected, by_path)
        stale_dirs = [d for d in dirs if d not in folders]
    # records only matter for files that are there (a new folder has none)
    records = statcache.load_prefix(root) if statcache is not None and root_exists else {}
    # Folders not there yet get all their files written: no _File for them until they are
    # (a million-entry checkout holds one batch of them at a time). The files of folders that
    # are there are settled by the stat-cache scan where it can; the rest are looked at.
    plan, fresh, current = _plan(groups, states, root, records, mode, make)
    _parallel(_Looker(store, records, statcache, mode, protect_untracked, states),
              [f for f in plan if f.action == LOOK], LOOK_WORKERS)
    stored_new = [e for es in fresh for e in es if e.ref is None]
    missing = _missing([f.entry for f in plan if f.action == WRITE] + stored_new, sources.root)
    if missing:
        e = missing[0]
        raise ObjectMissingError(
            f"content {e.digest} of {e.path!r} is not in the store ({len(missing)} entries missing): "
            "pull it from a remote (artvcs pull) or run artvcs fsck"
        )
    in_way = [f for f in plan if f.in_way]
    if in_way and not prune:
        raise UsageError(
            f"{in_way[0].target!r} is a folder but the artifact has a file {in_way[0].entry.path!r} there: "
            "remove it, or check out (which replaces it)"
        )
    if protect_untracked:
        _refuse_losing_untracked(store, root, records, plan, extras, known_paths)
    writes = [f for f in plan if f.action == WRITE]
    first = writes[0] if writes else make(stored_new[0]) if stored_new else None
    if mode in ("hardlink", "reflink") and first is not None:
        _check_mode_possible(mode, store.root, first.src, root)

    # -- apply ----------------------------------------------------------------------
    result = MaterializeResult(mode=mode)
    os.makedirs(root, exist_ok=True)
    for rel in extras:
        unlink_quiet(os.path.join(root, rel))
        result.removed += 1
    for f in in_way:
        shutil.rmtree(f.target)  # its files were extras, so already counted (and checked)
    for folder in sorted(folders, key=lambda s: s.count("/")):
        if states.get(folder) != "dir":
            _make_folder(os.path.join(root, folder), prune)
    fetches = [f for f in plan if f.action == FETCH] + [make(e) for es in fresh for e in es if e.ref is not None]
    if first is not None or fetches:
        for sample in samples.values():
            _guard(root, sample, protected)  # again, now that the folders exist: the last word before any write
    result.up_to_date = current + len(plan) - len(writes) - sum(f.action == FETCH for f in plan)
    total = len(writes) + len(stored_new)
    result.mode = mode
    if total:
        result.mode = _write_all(store, statcache, mode, verify, root, writes, stored_new, make, total)
        result.written = total
    if fetches:
        for outcome, f in zip(_parallel(lambda f: _fetch(f, fetch_reference, allow_missing_references), fetches, WORKERS), fetches):
            if outcome:
                result.references += 1
            else:
                result.skipped_references.append(f.entry.path)
    for d in sorted(stale_dirs, key=lambda s: s.count("/"), reverse=True):
        try:
            os.rmdir(os.path.join(root, d))
        except OSError:
            pass  # not empty (the repository, or a file that appeared): keep it
    return result


WRITE_BATCH = 8192  # files written, then recorded in the stat cache, per batch


def _file_maker(root: str, sources: "_Sources", has_refs: bool) -> Callable[[Entry], _File]:
    """Entry → its _File (target and store path), without a call per entry where it can."""
    sep = os.sep
    if sources.checked and sep == "/" and not has_refs:  # the common case
        head, fan = sources.root + "/", FANOUT
        return lambda e: _File(f"{root}/{e.path}", e, f"{head}{e.digest[:fan]}/{e.digest[fan:]}")
    return lambda e: _File(root + sep + (e.path if sep == "/" else e.path.replace("/", sep)), e, sources(e))


def _plan(groups, states, root, records, mode, make) -> tuple[list[_File], list[list[Entry]], int]:
    """``(plan, fresh, current)``: the files of existing folders that are not settled as current
    (action WRITE or FETCH when nothing is there, LOOK when something is), the entries of folders
    not there yet, and how many files the stat-cache scan settled as current."""
    plan: list[_File] = []
    fresh: list[list[Entry]] = []
    current = 0
    by_cache = mode in ("copy", "auto", "reflink")  # a link is judged by its inode or target instead
    row = records.row if isinstance(records, Records) else lambda _: None
    sep = os.sep
    for folder, es in groups.items():
        if states.get(folder, "dir") != "dir":
            fresh.append(es)  # absent, or about to be replaced: nothing is there
            continue
        where = root + sep + folder.replace("/", sep) if folder else root
        for e, r in zip(es, scan(where, [e.path.rpartition("/")[2] for e in es], row(where), True)):
            if r is None:
                f = make(e)
                f.action = WRITE if e.ref is None else FETCH
                plan.append(f)
            elif r is not False and by_cache and e.ref is None and r[0] == e.digest:
                current += 1
            else:
                f = make(e)
                f.action = LOOK
                plan.append(f)
    return plan, fresh, current


def _write_all(store, statcache, mode, verify, root, writes, stored_new, make, total) -> str:
    """Write ``writes`` and then the entries ``stored_new`` (made into _Files a batch at a time),
    recording each batch's verified copies in the stat cache; the mode used."""
    used = mode
    done = 0

    def batches():
        if writes:
            yield writes
        for i in range(0, len(stored_new), WRITE_BATCH):
            yield [make(e) for e in stored_new[i : i + WRITE_BATCH]]

    for batch in batches():
        written: list[os.stat_result | None] = []
        if used in ("auto", "reflink", "hardlink") and done == 0:
            used, st = _first_write(mode, store.root, batch[0], root, verify)
            written.append(st)
        if verify:
            written += _parallel(lambda f: place(used, f.src, f.target, f.present, f.entry.digest, f.entry.size),
                                 batch[len(written):])
        else:
            written += _parallel(lambda f: place(used, f.src, f.target, f.present), batch[len(written):])
        done += len(batch)
        report("writing", done, total)
        if statcache is not None and verify:  # an unverified copy's digest is the manifest's word: not recorded
            _record_written(statcache, batch, written)
            statcache.flush()
    return used


def _missing(entries: list[Entry], store_root: str) -> list[Entry]:
    """The stored entries of ``entries`` (digests already checked) whose content is not in the
    store, in order.

    A fan-out folder holding many of the digests is listed once (one
    getdents for dozens of stats); one holding few of them, in a store much
    larger than the artifact, is asked about each file. No path is built per
    entry (a million-entry checkout would hold them all).
    """
    fan = FANOUT
    wanted = Counter(e.digest[:fan] for e in entries)  # fan-out folder → files wanted from it
    listed: dict[str, set[str] | None] = {}  # its names, or None: ask per file
    for part, count in wanted.items():
        folder = os.path.join(store_root, part)
        try:
            size = os.stat(folder).st_size
        except (FileNotFoundError, NotADirectoryError):
            listed[part] = set()
            continue
        listed[part] = set(os.listdir(folder)) if count * LIST_PER_STAT * DIRENT_BYTES >= size else None
    missing = []
    for e in entries:
        d = e.digest
        names = listed[d[:fan]]
        if (d[fan:] not in names) if names is not None else not os.path.exists(os.path.join(store_root, d[:fan], d[fan:])):
            missing.append(e)
    return missing


def _guard(root: str, entry_path: str, protected: list[str]) -> None:
    """safe_join, and no way into the repository either (a link inside root may lead there)."""
    real = os.path.realpath(os.path.dirname(safe_join(root, entry_path)))
    for p in protected:
        if _inside(real, p):
            raise PathEscapeError(f"entry path {entry_path!r} leads into the artvcs repository {p!r} through a symbolic link")


def _under_replaced(folder: str, states: dict[str, str]) -> bool:
    while folder:
        if states.get(folder) == "replace":
            return True
        folder = folder.rpartition("/")[0]
    return False


class _Sources:
    """The absolute store path of an entry's content (a symbolic link to it must not depend on the cwd)."""

    def __init__(self, store: ContentStore) -> None:
        self.root = os.path.abspath(store.root)
        self.fan = FANOUT
        self.checked = False

    def check_all(self, entries: Iterable[Entry]) -> None:
        """Check every stored entry's digest in one scan, so that each call need not."""
        digests = [e.digest for e in entries if e.ref is None]
        try:
            self.checked = _HEX_LINES.fullmatch("".join(d + "\n" for d in digests)) is not None
        except TypeError:
            self.checked = False

    def __call__(self, e: Entry) -> str:
        if e.ref is not None:
            return ""
        d = e.digest
        if not self.checked and not is_digest(d):  # a hostile manifest must not name a path with it
            raise UsageError(f"invalid digest {d!r} for entry {e.path!r}: expected 64 lowercase hex characters")
        return f"{self.root}{os.sep}{d[: self.fan]}{os.sep}{d[self.fan :]}"


class _Looker:
    """Decides, for one file, whether it is current, and what replacing it would lose.

    About one lstat per file: a hard link is judged by its inode, a symbolic
    link by its target, anything else by the stat cache; only a file the
    cache cannot vouch for is hashed (and then recorded, so the next run
    need not). ``old`` is worked out fully only when it matters (protection).
    """

    def __init__(self, store, records, statcache, mode, protect, states):
        self.store, self.records, self.statcache = store, records, statcache
        self.mode, self.protect, self.states = mode, protect, states

    def __call__(self, f: _File) -> None:
        e = f.entry
        f.action = FETCH if e.ref is not None else WRITE
        if self.states.get(e.path.rpartition("/")[0], "dir") != "dir":
            return  # its folder is absent or about to be replaced: nothing is there
        try:
            st = os.lstat(f.target)
        except FileNotFoundError:
            return
        f.present = True
        kind = _stat.S_IFMT(st.st_mode)
        if kind == _stat.S_IFDIR:
            f.in_way, f.old = True, "dir"
            return
        if kind == _stat.S_IFLNK:
            if e.ref is None and self.mode == "symlink" and os.readlink(f.target) == f.src:
                f.action = CURRENT
            f.old = "ok"  # replacing a link loses no content
            return
        if kind != _stat.S_IFREG:
            f.old = "special"
            return
        linked = e.ref is None and self.mode in ("hardlink", "symlink")
        if e.ref is None and (self.mode == "hardlink" or st.st_nlink > 1):
            try:
                sst = os.stat(f.src)
                if (sst.st_dev, sst.st_ino) == (st.st_dev, st.st_ino):
                    f.old = "ok"
                    if self.mode == "hardlink":
                        f.action = CURRENT
                    return  # the store's own inode where an independent file was asked for
            except FileNotFoundError:
                pass
        cached = StatCache.lookup(self.records, f.target, st)
        sized = e.size is None or st.st_size == e.size
        checkable = e.ref is None or is_digest(e.digest)  # a reference's digest may be an ETag or the URI's
        if linked or not sized or not checkable:
            # cannot be current (a link is wanted, or the size or kind of digest rules it out)
            f.old = self._content(f.target, st, cached) if self.protect else None
            return
        f.old = self._content(f.target, st, cached)
        if f.old == e.digest:
            f.action = CURRENT

    def _content(self, target: str, st: os.stat_result, cached: str | None) -> str:
        if cached:
            return cached
        t0 = now_ns()
        digest, _ = hash_file(target)
        if self.statcache is not None:
            self.statcache.record(target, st, digest, t0)
        return digest


def _refuse_losing_untracked(store, root, records, plan, extras, known_paths) -> None:
    known = set(known_paths)

    def is_known(rel: str) -> bool:
        return rel in known or os.path.join(root, rel) in known

    def lost(rel: str) -> str | None:
        if is_known(rel) or rel.rpartition("/")[2].startswith(TMP_PREFIX):
            return None
        path = os.path.join(root, rel)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        if not _stat.S_ISREG(st.st_mode):
            return None if _stat.S_ISLNK(st.st_mode) else rel
        digest = StatCache.lookup(records, path, st) or hash_file(path)[0]
        return None if store.has(digest) else rel

    at_risk = [
        f.entry.path for f in plan
        if f.action != CURRENT and f.old not in (None, "ok", "dir")
        and (f.old == "special" or not store.has(f.old)) and not is_known(f.entry.path)
    ]
    at_risk += [r for r in _parallel(lost, extras) if r is not None]
    if at_risk:
        at_risk.sort()
        more = f" (and {len(at_risk) - 1} more)" if len(at_risk) > 1 else ""
        raise UsageError(
            f"checkout would delete or overwrite {at_risk[0]!r}{more} in {root!r}, whose content is not in the "
            "artifact store: move it away, log it, or force the checkout"
        )


def _make_folder(path: str, prune: bool) -> None:
    """Create one folder (its parent exists); with ``prune`` a file or link in its place goes."""
    try:
        os.mkdir(path)
        return
    except FileExistsError:
        pass
    st = os.lstat(path)
    if _stat.S_ISDIR(st.st_mode):
        return
    if not prune:
        raise UsageError(f"{path!r} is in the way of a folder of the artifact: remove it, or check out (which replaces it)")
    os.unlink(path)  # the file or link only, never what a link points to
    os.mkdir(path)


def _first_write(mode: str, store_root: str, f: _File, root: str, verify: bool) -> tuple[str, os.stat_result | None]:
    """Write the first file, deciding what ``auto`` means and whether an explicit mode works here;
    the mode used, and the file's stat as place gives it."""
    src = f.src
    digest, size = (f.entry.digest, f.entry.size) if verify else (None, None)
    if mode == "auto":
        try:
            return "reflink", place("reflink", src, f.target, f.present, digest, size)
        except OSError:  # (a CorruptObjectError is not one: it goes up)
            return "copy", place("copy", src, f.target, f.present, digest, size)
    try:
        st = place(mode, src, f.target, f.present, digest, size)
    except OSError as e:
        if mode == "reflink" or e.errno in (errno.EXDEV, errno.EPERM, errno.EACCES, errno.EOPNOTSUPP):
            raise UsageError(
                f"{mode} checkout is not possible from {store_root!r} to {root!r} ({e.strerror}): "
                "use copy, or auto (reflink where possible, else copy)"
            ) from None
        raise
    return mode, st


def _record_written(statcache: StatCache, writes: list[_File], stats: list[os.stat_result | None]) -> None:
    """Record the copies just written, so that the next checkout, status or verify is a stat per file.

    Each stat was taken when its file was complete (after the last write, or
    after the rename and unchanged since); the clock is read after all of
    them. The racy rule then trusts a record only while the file's stamps
    are older than that reading: an edit after it stamps the file anew, so
    its stat no longer matches. Links are not recorded: a hard link is
    judged by its inode, a symbolic link by its target.
    """
    if not any(stats):
        return
    now, dev = fs_clock_ns(os.path.dirname(statcache.db_path))
    for f, st in zip(writes, stats):
        if st is not None:
            statcache.record(f.target, st, f.entry.digest, now, dev)


def _check_mode_possible(mode: str, store_root: str, src: str, root: str) -> None:
    """Say before changing anything when an explicitly asked hardlink or reflink cannot be made.

    Neither crosses file systems; whether this file system can reflink (or
    link a file of the store's owner) is learned by trying once, in root.
    """
    existing = root
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    reason = None
    if os.stat(existing).st_dev != os.stat(store_root).st_dev:
        reason = "they are on different file systems"
    elif existing == root:
        probe = os.path.join(root, f"{TMP_PREFIX}probe-{secrets.token_hex(4)}")
        try:
            if mode == "hardlink":
                os.link(src, probe)
            else:
                reflink(src, probe)
        except OSError as e:
            reason = e.strerror
        finally:
            unlink_quiet(probe)
    if reason:
        raise UsageError(
            f"{mode} checkout from the store {store_root!r} to {root!r} is not possible ({reason}): "
            "use copy, or auto (reflink where possible, else copy)"
        )


def _fetch(f: _File, fetch_reference, allow_missing: bool) -> bool:
    """Fetch one reference into place; False when it failed and failures are allowed."""
    e = f.entry
    if fetch_reference is None:
        return False
    tmp = tmp_beside(f.target)
    try:
        fetch_reference(e, tmp)
        os.replace(tmp, f.target)
        return True
    except Exception as err:
        unlink_quiet(tmp)
        if allow_missing:
            return False
        if isinstance(err, ArtvcsError):
            raise
        raise ReferenceFetchError(f"reference {e.ref} of {e.path!r} could not be fetched: {err}") from err
    except BaseException:
        unlink_quiet(tmp)
        raise


# -- verify ---------------------------------------------------------------------------
def verify_folder(entries: Iterable[Entry], root: str, statcache: StatCache | None = None) -> list[tuple[str, str]]:
    """``(path, problem)`` for every file under ``root`` that differs from ``entries``, sorted.

    Problems: "modified", "missing", "extra", "not a file", "outside root"
    (reached through a link leading out of root). Every file is hashed
    unless the stat cache vouches for it; references are not verified
    (W&B does not), but must exist.
    """
    root = os.path.abspath(root)
    by_path, folders, groups = _index(entries)
    escaped: set[str] = set()
    for folder, sample in {p.rpartition("/")[0]: p for p in by_path}.items():
        try:
            safe_join(root, sample)
        except PathEscapeError:
            escaped.add(folder)
    records = statcache.load_prefix(root) if statcache is not None else {}

    def check(item: tuple[str, Entry]) -> tuple[str, str] | None:
        path, e = item
        if path.rpartition("/")[0] in escaped:
            return (path, "outside root")
        target = os.path.join(root, path)
        try:
            st = os.stat(target)
        except (FileNotFoundError, NotADirectoryError):
            return (path, "missing")
        if not _stat.S_ISREG(st.st_mode):
            return (path, "not a file")
        if e.ref is not None:
            return None
        if e.size is not None and st.st_size != e.size:
            return (path, "modified")
        if StatCache.lookup(records, target, st) == e.digest:
            return None
        t0 = now_ns()
        digest, _ = hash_file(target)
        if statcache is not None:
            statcache.record(target, st, digest, t0)
        return None if digest == e.digest else (path, "modified")

    # what the stat cache vouches for is settled a folder at a time (scan: one lstat per file)
    items: list[tuple[str, Entry]] = []
    problems: list[tuple[str, str]] = []
    row = records.row if isinstance(records, Records) else lambda _: None
    for folder, group in groups.items():
        if folder in escaped:
            problems += [(e.path, "outside root") for e in group]
            continue
        where = os.path.join(root, folder) if folder else root
        for e, r in zip(group, scan(where, [e.path.rpartition("/")[2] for e in group], row(where), False)):
            if r is None:
                problems.append((e.path, "missing"))
            elif r is False or e.ref is not None or r[0] != e.digest:
                items.append((e.path, e))
    problems += [p for p in _parallel(check, items, LOOK_WORKERS) if p is not None]
    if os.path.isdir(root):
        files, _ = _walk(root, [], by_path)
        problems += [(p, "extra") for p in files if p not in folders]
    if statcache is not None:
        statcache.flush()
    problems.sort()
    return problems
