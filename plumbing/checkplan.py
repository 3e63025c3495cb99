"""Planning a checkout: what is in the folder, what is current, what writing would lose.

Planning changes nothing. It re-checks every entry path (a manifest pulled
from a remote is untrusted), confirms the content is stored, looks at each
folder once and settles the files the stat cache vouches for a folder at a
time (:mod:`scan`: one lstat each, in C where built); only the files left
are looked at in Python (:class:`_Looker`: a hard link is judged by its
inode, a symbolic link by its target, and a file the cache cannot vouch for
is hashed). With pruning it lists what is extra. Every refusal happens here,
before :mod:`checkout` changes anything.
"""
from __future__ import annotations

import os
import stat as _stat
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from itertools import chain, islice
from dataclasses import dataclass

from .checkindex import Fresh, Group, Packed, holds_file, index, vouched
from .errors import PathEscapeError, UsageError
from .hashing import all_digests, hash_file, is_digest
from .manifest import Entry
from .paths import safe_join
from .progress import report
from .placefile import TMP_PREFIX
from .repository import FORMAT_FILE
from .scan import scan
from .statcache import Records, StatCache, now_ns
from .store import FANOUT, ContentStore

# Listing a fan-out folder beats a stat per wanted file when it holds fewer than about
# LIST_PER_STAT entries per wanted file; its size says roughly how many (DIRENT_BYTES each on ext4).
LIST_PER_STAT, DIRENT_BYTES = 16, 80

BULK = 65536  # paths or digests checked in one scan

WORKERS = 8  # for fetching references (network bound)
# File system work is mostly system calls, which run in parallel, but the
# Python around them does not: more threads than cores only adds contention.
FS_WORKERS = min(WORKERS, os.cpu_count() or 1)
# Looking at files (an lstat and a stat-cache lookup each, or hashing a small file) is
# GIL-bound Python: measured on 2 cores, one thread is 20-40 % faster than two.
LOOK_WORKERS = 1
PARALLEL_MIN = 64  # below this many files a thread pool costs more than it saves


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


# what planning decided for one file
CURRENT, WRITE, FETCH, LOOK = "current", "write", "fetch", "look"


@dataclass(slots=True)
class _File:
    target: str
    entry: Entry
    src: str  # the store file (for a reference: unused)
    action: str = WRITE
    present: bool = False  # something is at target now (so a write must replace it)
    old: str | None = None  # what is there now: None (nothing), "ok" (losing it loses nothing), "dir", or a digest
    in_way: bool = False  # a folder stands where the file goes


def _index(entries: Iterable[Entry]) -> tuple[set[str], dict[str, Group]]:
    """Every folder path and each folder's entries (:func:`checkindex.index`: packed where plain)."""
    return index(entries)


def _protected(store: ContentStore) -> list[str]:
    """Real paths never written into or pruned: the store, and the repository holding it."""
    out = [os.path.realpath(store.root)]
    parent = os.path.dirname(out[0])
    if os.path.exists(os.path.join(parent, FORMAT_FILE)):
        out.append(parent)
    return out


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _check_protected(root: str, protected: list[str], groups: dict[str, Group], folders: set) -> None:
    real_root = os.path.realpath(root)
    for p in protected:
        if _inside(real_root, p):
            raise UsageError(f"refusing to write files into {root!r}: it is inside the artvcs repository {p!r}")
        if not _inside(p, real_root):
            continue
        rel = os.path.relpath(p, real_root).replace(os.sep, "/")
        probe = rel
        while probe:
            if holds_file(groups, probe) or (probe == rel and probe in folders):
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


def _walk(root: str, protected: list[str], known: dict[str, Group] | None = None) -> tuple[list[str], list[str]]:
    """``(non-folders, folders)`` under root as entry-style paths, leaving out the files of
    ``known`` (each folder's names are looked at as the walk reaches it, so a large up-to-date
    folder costs no list of its files, nor a set of every path); links are not followed."""
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
        group = known.get(rel) if known else None
        names = set(group.name_list()) if group is not None else ()
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
                elif d.name not in names:
                    files.append(sub)
    return files, dirs


def _file_maker(root: str, sources: "_Sources", has_refs: bool) -> Callable[[Entry], _File]:
    """Entry → its _File (target and store path), without a call per entry where it can."""
    sep = os.sep
    if sources.checked and sep == "/" and not has_refs:  # the common case
        head, fan = sources.root + "/", FANOUT
        return lambda e: _File(f"{root}/{e.path}", e, f"{head}{e.digest[:fan]}/{e.digest[fan:]}")
    return lambda e: _File(root + sep + (e.path if sep == "/" else e.path.replace("/", sep)), e, sources(e))


def _plan(groups, states, root, records, mode, make) -> tuple[list[_File], Fresh, int]:
    """``(plan, fresh, current)``: the files of existing folders that are not settled as current
    (action WRITE or FETCH when nothing is there, LOOK when something is), the stored entries of
    folders with nothing of theirs there yet (made into _Files only as they are written), and how
    many files the stat-cache scan settled as current."""
    plan: list[_File] = []
    fresh: list[Group] = []
    current = 0
    by_cache = mode in ("copy", "auto", "reflink")  # a link is judged by its inode or target instead
    kept = isinstance(records, Records)
    row = records.row if kept else lambda _: None
    sep = os.sep
    for folder, group in groups.items():
        if states.get(folder, "dir") != "dir":
            fresh.append(group)  # absent, or about to be replaced: nothing is there
            continue
        where = root + sep + folder.replace("/", sep) if folder else root
        found = scan(where, group.name_list(), row(where), True)
        looks = False
        if by_cache and vouched(group, found):
            current += len(found)  # every file is current (an up-to-date folder): no Entry is made
        elif found.count(None) == len(found):
            fresh.append(group)  # none of its files is there
        else:
            for e, r in zip(group, found):
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
                    looks = True
        if kept and not looks:
            records.forget(where)  # only the files looked at read their folder's row again
    return plan, Fresh(fresh), current


def _missing(store_root: str, writes: list[Entry], fresh: Fresh) -> list[Entry]:
    """The stored entries of ``writes`` and ``fresh`` (digests already checked) whose content is
    not in the store, in order.

    The digests wanted are grouped by fan-out folder, and each folder is
    compared as a whole: listed once (one getdents for dozens of stats)
    where it holds many of them, else asked about each file (a store much
    larger than the artifact). The order of the entries is looked at only
    when something is missing. The fresh folders' digests are read a
    folder at a time (a million-entry checkout would hold them all).
    """
    fan = FANOUT
    wanted: dict[str, set[str]] = {}  # fan-out folder -> the names wanted from it
    for d in chain([e.digest for e in writes], chain.from_iterable(digests for _, digests in fresh.digests())):
        names = wanted.get(d[:fan])
        if names is None:
            names = wanted[d[:fan]] = set()
        names.add(d[fan:])
    gone: set[str] = set()  # digests not in the store
    while wanted:  # (each folder's names let go once compared: no more held than the store's listing was)
        part, names = wanted.popitem()
        folder = os.path.join(store_root, part)
        try:
            size = os.stat(folder).st_size
        except (FileNotFoundError, NotADirectoryError):
            gone.update(part + n for n in names)
            continue
        if len(names) * LIST_PER_STAT * DIRENT_BYTES >= size:
            absent = names.difference(os.listdir(folder))
        else:
            absent = {n for n in names if not os.path.exists(os.path.join(folder, n))}
        gone.update(part + n for n in absent)
    if not gone:
        return []
    missing = [e for e in writes if e.digest in gone]
    for group, digests in fresh.digests():
        lost = {i for i, d in enumerate(digests) if d in gone}
        if lost:
            stored = group if isinstance(group, Packed) else group.stored_items()
            missing += [e for i, e in enumerate(stored) if i in lost]
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
        """Check every stored entry's digest in a few scans (a slice at a time, so that a million
        digests are never one string), so that each call need not."""
        digests = (e.digest for e in entries if e.ref is None)
        self.checked = True
        while self.checked and (part := list(islice(digests, BULK))):
            self.checked = all_digests(part)

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
        linked = e.ref is None and self.mode in ("hardlink", "symlink") and not self.store.is_chunked(e.digest)
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
