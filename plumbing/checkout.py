"""Materialising a manifest into a folder, and checking a folder against one.

Every write goes through :func:`paths.safe_join` (a manifest may come from
an untrusted remote), lands under a temporary name in its own folder and is
renamed into place, so nothing is ever written outside ``root`` and no
reader sees half a file. A file that is already right costs one stat (stat
cache) or, for a hard link, one inode comparison.
"""
from __future__ import annotations

import errno
import fcntl
import os
import secrets
import shutil
import stat as _stat
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from .errors import ArtvcsError, ObjectMissingError, PathEscapeError, UsageError
from .hashing import hash_file
from .manifest import Entry
from .paths import safe_join
from .statcache import StatCache, now_ns
from .store import ContentStore

MODES = ("auto", "copy", "hardlink", "reflink", "symlink")
FICLONE = 0x40049409
WORKERS = 8
TMP_PREFIX = ".artvcs-tmp-"


@dataclass
class MaterializeResult:
    """What a materialisation did."""

    mode: str
    written: int = 0
    up_to_date: int = 0
    removed: int = 0
    references: int = 0
    skipped_references: list[str] = field(default_factory=list)


class ReferenceFetchError(ArtvcsError):
    """A reference entry could not be fetched."""


def _reflink(src: str, dst: str) -> None:
    with open(src, "rb") as s, open(dst, "wb") as d:
        fcntl.ioctl(d.fileno(), FICLONE, s.fileno())


def _probe_reflink(store_file: str, folder: str) -> bool:
    tmp = os.path.join(folder, f"{TMP_PREFIX}probe-{secrets.token_hex(4)}")
    try:
        _reflink(store_file, tmp)
        return True
    except OSError:
        return False
    finally:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass


def _place(mode: str, src: str, final: str) -> None:
    """Put the store file ``src`` at ``final`` by ``mode``, atomically."""
    folder = os.path.dirname(final)
    tmp = os.path.join(folder, f"{TMP_PREFIX}{secrets.token_hex(6)}")
    try:
        if mode == "hardlink":
            os.link(src, tmp)
        elif mode == "symlink":
            os.symlink(src, tmp)
        elif mode == "reflink":
            _reflink(src, tmp)
            os.chmod(tmp, 0o644)
        else:
            shutil.copyfile(src, tmp)
            os.chmod(tmp, 0o644)
        os.replace(tmp, final)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _clear_for_file(target: str, prune: bool, path: str) -> None:
    """Make room for a file at ``target`` (a folder or symlink there is in the way)."""
    if os.path.islink(target):
        os.unlink(target)
    elif os.path.isdir(target):
        if not prune:
            raise UsageError(f"{target!r} is a folder but the artifact has a file {path!r} there: use checkout (or remove it)")
        shutil.rmtree(target)


def _is_current(store: ContentStore, records: dict, target: str, e: Entry, mode: str) -> bool:
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return False
    if _stat.S_ISLNK(st.st_mode):
        return mode == "symlink" and os.readlink(target) == store._path(e.digest)
    if not _stat.S_ISREG(st.st_mode) or (e.size is not None and st.st_size != e.size):
        return False
    if mode == "hardlink":
        try:
            return os.stat(store._path(e.digest)).st_ino == st.st_ino
        except FileNotFoundError:
            return False
    if e.ref is None:
        try:
            sst = os.stat(store._path(e.digest))
            if (sst.st_ino, sst.st_dev) == (st.st_ino, st.st_dev):
                return mode != "copy"
        except FileNotFoundError:
            pass
    if StatCache.lookup(records, target, st) == e.digest:
        return True
    if e.ref is not None and not _is_blake3(e.digest):
        return False
    return hash_file(target)[0] == e.digest


def _is_blake3(digest: str) -> bool:
    from .hashing import is_digest

    return is_digest(digest)


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
) -> MaterializeResult:
    """Write ``entries`` under ``root``; with ``prune``, delete every other file there.

    ``mode``: copy, hardlink (read-only store files linked in), reflink,
    symlink, or auto (reflink where the file system can, else copy).
    ``protect_untracked`` refuses, before changing anything, to delete a file
    whose content is not in the store (the CLI's checkout without --force).
    """
    if mode not in MODES:
        raise UsageError(f"invalid link mode {mode!r}: use one of {', '.join(MODES)}")
    entries = list(entries)
    os.makedirs(root, exist_ok=True)
    root = os.path.abspath(root)
    targets: dict[str, Entry] = {}
    for e in entries:
        targets[safe_join(root, e.path)] = e  # refuses escaping paths before any write
    missing = [e for e in entries if e.ref is None and not os.path.exists(store._path(e.digest))]
    if missing:
        e = missing[0]
        raise ObjectMissingError(
            f"content {e.digest} of {e.path!r} is not in the store ({len(missing)} entries missing): "
            "pull it from a remote (artvcs pull) or run artvcs fsck"
        )
    doomed: list[str] = []
    if prune:
        doomed = _extra_files(root, targets)
        if protect_untracked:
            known = set(known_paths)
            for path in doomed:
                if path in known:
                    continue
                try:
                    digest, _ = hash_file(path)
                except OSError:
                    continue
                if not os.path.exists(store._path(digest)):
                    raise UsageError(
                        f"checkout would delete {path!r}, which is not in the artifact store: "
                        "move it away or use --force"
                    )
    sample = next((e for e in entries if e.ref is None), None)
    used = mode
    if mode in ("auto", "reflink") and sample is not None:
        can = _probe_reflink(store._path(sample.digest), root)
        if mode == "reflink" and not can:
            raise UsageError(f"reflink checkout is not supported on the file system of {root!r}: use copy or hardlink")
        used = "reflink" if can else "copy"
    elif mode == "auto":
        used = "copy"
    result = MaterializeResult(mode=used)
    for path in doomed:
        os.unlink(path)
        result.removed += 1
    if prune:
        _remove_empty_dirs(root, targets)
    records = statcache.load_prefix(root) if statcache is not None else {}
    started = now_ns()
    folders = sorted({os.path.dirname(t) for t in targets})
    for folder in folders:
        _make_folder(root, folder, prune)

    def one(item: tuple[str, Entry]) -> str:
        target, e = item
        if _is_current(store, records, target, e, used):
            return "current"
        _clear_for_file(target, prune, e.path)
        if e.ref is not None and not os.path.exists(store._path(e.digest)):
            if fetch_reference is None:
                raise UsageError(f"no way to fetch reference {e.ref!r} for {e.path!r}")
            tmp = os.path.join(os.path.dirname(target), f"{TMP_PREFIX}{secrets.token_hex(6)}")
            try:
                fetch_reference(e, tmp)
                os.replace(tmp, target)
            except (ArtvcsError, OSError) as err:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                if allow_missing_references:
                    return "skipped:" + e.path
                if isinstance(err, ArtvcsError):
                    raise
                raise ReferenceFetchError(f"reference {e.ref!r} for {e.path!r} could not be fetched: {err}") from None
            return "reference"
        try:
            _place(used, store._path(e.digest), target)
        except OSError as err:
            if used == "hardlink" and err.errno in (errno.EXDEV, errno.EMLINK, errno.EPERM):
                _place("copy", store._path(e.digest), target)
            else:
                raise
        if statcache is not None and used != "symlink":
            statcache.record(target, os.stat(target), e.digest, started)
        return "written"

    items = list(targets.items())
    if len(items) < 16:
        outcomes = [one(i) for i in items]
    else:
        step = max(16, len(items) // (WORKERS * 4))
        with ThreadPoolExecutor(WORKERS) as pool:
            outcomes = [o for part in pool.map(lambda sl: [one(i) for i in sl], [items[i : i + step] for i in range(0, len(items), step)]) for o in part]
    for o in outcomes:
        if o == "current":
            result.up_to_date += 1
        elif o == "written":
            result.written += 1
        elif o == "reference":
            result.references += 1
        else:
            result.skipped_references.append(o.split(":", 1)[1])
    if statcache is not None:
        statcache.flush()
    return result


def _make_folder(root: str, folder: str, prune: bool) -> None:
    """Create ``folder`` under root, replacing a file in the way only when pruning."""
    rel = os.path.relpath(folder, root)
    cur = root
    if rel == ".":
        return
    for part in rel.split(os.sep):
        cur = os.path.join(cur, part)
        if os.path.islink(cur) or (os.path.exists(cur) and not os.path.isdir(cur)):
            if not prune:
                raise UsageError(f"{cur!r} is a file but the artifact has a folder there: use checkout (or remove it)")
            os.unlink(cur)
        if not os.path.isdir(cur):
            os.mkdir(cur)


def _extra_files(root: str, targets: dict[str, Entry]) -> list[str]:
    """Files (and symlinks) under root that the manifest does not name."""
    out = []
    for folder, dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(folder, name)
            if p not in targets:
                out.append(p)
        for name in list(dirs):
            p = os.path.join(folder, name)
            if os.path.islink(p):
                dirs.remove(name)
                if p not in targets:
                    out.append(p)
    return out


def _remove_empty_dirs(root: str, targets: dict[str, Entry]) -> None:
    keep = set()
    for t in targets:
        d = os.path.dirname(t)
        while d.startswith(root) and d not in keep:
            keep.add(d)
            d = os.path.dirname(d)
    for folder, dirs, files in os.walk(root, topdown=False):
        if folder != root and folder not in keep and not os.listdir(folder):
            os.rmdir(folder)


def verify_folder(entries: Iterable[Entry], root: str, statcache: StatCache | None = None) -> list[tuple[str, str]]:
    """``(path, problem)`` for every modified, missing or extra file under ``root``.

    References are not re-hashed (W&B does not verify them) but must exist.
    """
    root = os.path.abspath(root)
    targets = {safe_join(root, e.path): e for e in entries}
    records = statcache.load_prefix(root) if statcache is not None else {}
    problems: list[tuple[str, str]] = []

    def check(item: tuple[str, Entry]) -> tuple[str, str] | None:
        target, e = item
        try:
            st = os.stat(target)
        except FileNotFoundError:
            return (e.path, "missing")
        if not _stat.S_ISREG(st.st_mode):
            return (e.path, "not a file")
        if e.ref is not None and not _is_blake3(e.digest):
            return None
        if e.size is not None and st.st_size != e.size:
            return (e.path, "modified")
        if StatCache.lookup(records, target, st) == e.digest:
            return None
        return None if hash_file(target)[0] == e.digest else (e.path, "modified")

    with ThreadPoolExecutor(WORKERS) as pool:
        problems = [p for p in pool.map(check, targets.items()) if p is not None]
    for path in _extra_files(root, targets):
        problems.append((os.path.relpath(path, root).replace(os.sep, "/"), "extra"))
    problems.sort()
    return problems



