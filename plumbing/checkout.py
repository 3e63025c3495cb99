"""Materialising a manifest into a folder, and checking a folder against one.

:func:`materialize` works in two phases. *Planning* (:mod:`checkplan`)
changes nothing: it re-checks every entry path (a manifest pulled from a
remote is untrusted), confirms the content is stored, looks at each folder
and file once (the stat cache, the inode or the link target decides "up to
date"; only files the cache cannot vouch for are hashed) and, when pruning,
lists what is extra. Every refusal — an escaping path, missing content, a
file where a folder must go, an untracked file about to be lost — happens
there. *Applying*
then removes, creates each folder once, and writes each file: where nothing
is in its place, under its final name (O_EXCL); else under a temporary name
in its own folder, renamed over what is there, so no reader of an existing
path sees half a file. Nothing is written or deleted outside ``root``
(symbolic links in it are never followed out, and the repository itself is
never touched). Every stored file handed over is verified on the way
(:mod:`placefile`; new small copies a batch at a time, :mod:`copybatch`);
the verified copies are recorded in the stat cache (:mod:`checkrecord`), so the next look at
them is a stat each.
"""
from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import stat as _stat
import threading
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from itertools import chain

from . import copybatch, foldersums
from .checkindex import Fresh, Packed, all_paths, vouched
from .checkplan import (
    FETCH, LOOK, WRITE, LOOK_WORKERS, WORKERS, _File, _check_protected, _file_maker, _folder_states,
    _guard, _index, _inside, _Looker, _missing, _parallel, _plan, _protected, _refuse_losing_untracked, _Sources,
    _under_replaced, _walk,
)
from .checkrecord import Recorder
from .copyhash import check_stop
from .errors import ArtvcsError, ObjectMissingError, PathEscapeError, StoppedError, UsageError
from .hashing import hash_file
from .manifest import Entry
from .paths import refuse_git_symlinks, safe_join
from .placefile import TMP_PREFIX, place, reflink, tmp_beside, unlink_quiet
from .progress import report
from .scan import scan
from .statcache import Records, StatCache, now_ns
from .store import CHUNK_THRESHOLD, ContentStore

MODES = ("auto", "copy", "hardlink", "reflink", "symlink")


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


# -- nothing to do -------------------------------------------------------------------
def already_holds(store: ContentStore, root: str, statcache: StatCache | None, mode: str, commit: str,
                  digest: str) -> MaterializeResult | None:
    """The result of a checkout of version ``commit`` (digest ``digest``) into ``root`` that has
    nothing to do, told before its manifest is read: ``root`` holds exactly the version's folder
    sums (:mod:`foldersums`), every file a regular one with a single link that the stat cache
    vouches for. None at any doubt (no sums kept, a mode that judges files by their links, the
    repository inside the folder, a file changed, added, missing or replaced): then the full
    :func:`materialize` runs."""
    if mode not in ("auto", "copy", "reflink") or statcache is None or not os.path.isdir(root):
        return None
    real = os.path.realpath(root)
    if any(_inside(real, p) or _inside(p, real) for p in _protected(store)):
        return None
    held = foldersums.version_held(statcache, commit, digest, os.path.abspath(root), solo=True)
    return None if held is None else MaterializeResult(mode=mode, up_to_date=held)


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
    folders, groups = _index(entries)  # packed a folder at a time: no Entry per file is held (checkindex)
    if mode == "symlink":
        refuse_git_symlinks(all_paths(groups))
    protected = _protected(store)
    _check_protected(root, protected, groups, folders)
    has_refs = any(g.has_refs for g in groups.values())
    if has_refs and fetch_reference is None and not allow_missing_references:
        raise UsageError("the manifest has reference entries but no way to fetch them was given")

    # -- plan: look, hash where needed, decide; change nothing --------------------
    root_exists = os.path.isdir(root)
    states = _folder_states(root, folders, prune) if root_exists else {"": "absent", **{f: "absent" for f in folders}}
    samples = {folder: g.first_path for folder, g in groups.items()}
    for folder, sample in samples.items() if root_exists else ():  # (no root: no link in it yet, see below)
        if not _under_replaced(folder, states):
            _guard(root, sample, protected)  # once per folder: refuses a link that leads outside root
    sources = _Sources(store)
    loose = [e for g in groups.values() if not isinstance(g, Packed) for e in g]  # packed digests are checked
    sources.check_all(loose)
    if not sources.checked:
        for e in loose:
            sources(e)  # the error for the first bad digest (a hostile manifest must not name a path with it)
    del loose
    make = _file_maker(root, sources, has_refs)
    extras: list[str] = []
    stale_dirs: list[str] = []
    if prune and root_exists:
        extras, dirs = _walk(root, protected, groups)
        stale_dirs = [d for d in dirs if d not in folders]
    # records only matter for files that are there (a new folder has none)
    records = statcache.load_prefix(root) if statcache is not None and root_exists else {}
    # Folders with nothing of theirs there get all their files written: no _File for them until
    # they are (a million-entry checkout holds one batch of them at a time, its entries packed).
    # The files of folders that are there are settled by the stat-cache scan where it can; the
    # rest are looked at.
    plan, stored_new, current = _plan(groups, states, root, records, mode, make)
    _parallel(_Looker(store, records, statcache, mode, protect_untracked, states),
              [f for f in plan if f.action == LOOK], LOOK_WORKERS)
    missing = _missing(sources.root, [f.entry for f in plan if f.action == WRITE], stored_new)
    chunked = {e.digest for e in missing if store.is_chunked(e.digest)}  # large files: no single store file
    missing = [e for e in missing if e.digest not in chunked]
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
    # Large files are copied in every mode, from their whole store file or their chunks: a link to a
    # whole one would dangle (a symlink) once a later version converts it to chunks (store.py).
    chunked |= {f.entry.digest for f in writes if f.entry.ref is None and (f.entry.size or 0) >= CHUNK_THRESHOLD}
    chunked |= stored_new.large(CHUNK_THRESHOLD)
    first = next((f for f in writes if f.entry.digest not in chunked), None)
    if first is None:
        first = next((make(e) for e in stored_new if e.digest not in chunked), None)
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
    fetches = [f for f in plan if f.action == FETCH] + [make(e) for g in stored_new.groups if g.has_refs
                                                        for e in g if e.ref is not None]
    if first is not None or fetches:
        for sample in samples.values():
            _guard(root, sample, protected)  # again, now that the folders exist: the last word before any write
    result.up_to_date = current + len(plan) - len(writes) - sum(f.action == FETCH for f in plan)
    total = len(writes) + len(stored_new)
    result.mode = mode
    if total:
        result.mode = _write_all(store, statcache, mode, verify, root, writes, stored_new, make, total, chunked)
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


WRITE_BATCH = 2048  # files written, then recorded in the stat cache, per batch (the last batch's record is what the checkout waits for at its end)
MAKE_BATCH = 1024  # new folders' entries made into _Files (and handed to the writing) at a time


def _write_all(store, statcache, mode, verify, root, writes, stored_new: Fresh, make, total, chunked=frozenset()) -> str:
    """Write ``writes`` and then the entries ``stored_new`` (made into _Files a few at a time),
    recording each WRITE_BATCH of verified copies in the stat cache; the mode used. Chunked files
    (``chunked`` digests) cannot be linked: they are reassembled, checked on the way, in every mode.
    New small verified copies go through one :class:`copybatch.Pipeline` for the whole checkout,
    so that its reads and writes never wait for a batch boundary (nor for _Files to be made)."""
    used = mode
    done, nbytes = 0, 0
    total_bytes = sum(f.entry.size or 0 for f in writes) + stored_new.nbytes()

    def batches():
        if writes:
            yield writes
        for part in stored_new.slices(min(WRITE_BATCH, MAKE_BATCH)):
            yield [make(e) for e in part]

    # an unverified copy's digest is the manifest's word: not recorded
    recorder = Recorder(statcache if verify else None)
    undecided = mode in ("auto", "reflink", "hardlink")  # the first file written decides (see _first_write)
    pipe: copybatch.Pipeline | None = None
    # (only an explicit hardlink links: auto decides between reflink and copy)
    linker = (copybatch.Linker(partial(_place_verified, "hardlink"))
              if mode == "hardlink" and verify and copybatch.native_link() else None)
    done_files: list[_File] = []  # written, not yet handed to the recorder
    done_stats: list = []
    try:
        for batch in batches():
            used, files, stats, small = _write_batch(store, mode if undecided else None, used, verify, root, batch,
                                                     chunked, pipe is not None or copybatch.native(), linker)
            undecided = undecided and all(f.entry.digest in chunked for f in chain(files, small))  # none decided yet
            done_files += files
            done_stats += stats
            if small:
                if pipe is None:
                    pipe = copybatch.Pipeline(_copy_one)
                pipe.feed(small)
                files, stats = pipe.take()
                done_files += files
                done_stats += stats
            done += len(batch)
            nbytes += sum(f.entry.size or 0 for f in batch)
            report("writing", done, total, nbytes, total_bytes)
            if len(done_files) >= WRITE_BATCH:
                recorder.record(done_files, done_stats)
                done_files, done_stats = [], []
        if pipe is not None:
            files, stats = pipe.close()
            done_files += files
            done_stats += stats
        recorder.record(done_files, done_stats)
    except BaseException:
        if pipe is not None:
            pipe.abort()
            files, stats = pipe.take()  # what was written whole before the error is recorded too
            done_files += files
            done_stats += stats
        with contextlib.suppress(Exception):  # the error under way is the one that counts (the cache is advisory)
            recorder.record(done_files, done_stats)
        with contextlib.suppress(Exception):
            recorder.join()
        raise
    finally:
        if linker is not None:
            linker.close()  # (its threads are idle between batches: each batch's link waits for its slices)
    recorder.finish()
    return used


def _place_verified(mode: str, f: _File, stop: threading.Event | None = None) -> os.stat_result | None:
    """Place one file by ``mode``, verified (what a checkout does per file; ``_copy_one`` for
    every file the batches hand back); ``stop`` ends a large copy early (see placefile.place)."""
    return place(mode, f.src, f.target, f.present, f.entry.digest, f.entry.size, stop)


_copy_one = partial(_place_verified, "copy")


def _write_batch(store, decide, used, verify, root, batch, chunked, batched,
                 linker: copybatch.Linker | None = None) -> tuple[str, list[_File], list, list[_File]]:
    """Write one batch by mode ``used``: ``(mode used, files written, their stats, files left for
    the batched copy)``. With ``decide`` (the mode asked for, not yet tried), the first file
    decides the mode. With ``batched`` (the C batches are there), a verified copy leaves its new
    small files (:func:`copybatch.eligible`) to the caller's :class:`copybatch.Pipeline`, and a
    verified hard link links them a batch at a time through ``linker`` (:class:`copybatch.Linker`)."""
    rebuilt = [f for f in batch if f.entry.digest in chunked] if chunked else []
    plain = [f for f in batch if f.entry.digest not in chunked] if chunked else batch
    written: list[os.stat_result | None] = []
    small: list[_File] = []
    linked_stats: list[os.stat_result | None] = []
    if decide and plain:
        used, st = _first_write(decide, store.root, plain[0], root, verify)
        written.append(st)
    if verify:
        done, rest = plain[: len(written)], plain[len(written):]
        if used == "copy" and batched:  # new small files: read, hash, write in batches
            eligible = copybatch.eligible
            small = [f for f in rest if eligible(f)]
            if small:
                rest = [f for f in rest if not eligible(f)]
                plain = done + rest
        elif used == "hardlink" and linker is not None:  # new small files: read, hash, link a slice per thread
            eligible = copybatch.eligible
            linked = [f for f in rest if eligible(f)]
            if linked:
                rest = [f for f in rest if not eligible(f)]
                plain = done + rest + linked
                linked_stats = linker.link(linked)  # None for a link (not recorded), a stat for a copy (EMLINK)
        written += _parallel(partial(_place_verified, used), rest)
        written += linked_stats
    else:
        written += _parallel(lambda f: place(used, f.src, f.target, f.present), plain[len(written):])
    if rebuilt:
        written += _place_large(store, rebuilt, verify)
        plain = plain + rebuilt
    return used, plain, written, small


# Large files copied at once. The kernel's copy of one file does not go faster on two threads
# (ext4 takes the file's lock for each write: more CPU, the same wall time), but two files do:
# one file's copy and the hash behind it (copyhash.HashBehind) leave the second core idle a
# third of the time, since the hash costs less than the copy; two files fill both cores.
LARGE_WORKERS = min(2, os.cpu_count() or 1)


def _place_large(store: ContentStore, files: list[_File], verify: bool) -> list[os.stat_result | None]:
    """Place the large (or chunked) ``files``, LARGE_WORKERS at a time, largest first; their
    stats in the order of ``files``. The first error to happen is raised: once a copy fails (or the
    caller is interrupted) no further file starts, and those under way stop at their next step
    and remove their temporary files (nothing partial under a final name), before it goes up."""
    if len(files) < 2 or LARGE_WORKERS < 2:
        return [_place_chunked(store, f, verify) for f in files]
    order = sorted(range(len(files)), key=lambda i: -(files[i].entry.size or 0))
    stop = threading.Event()
    first: list[BaseException] = []  # the first failure by completion, set in the failing thread
    lock = threading.Lock()

    def failed(fut: Future) -> None:  # runs in the worker as its future fails, before it takes the next file
        if not fut.cancelled() and (e := fut.exception()) is not None and not isinstance(e, StoppedError):
            with lock:
                if not first:
                    first.append(e)
            stop.set()

    pool = ThreadPoolExecutor(LARGE_WORKERS)
    futures: dict[int, Future] = {}
    try:
        for i in order:
            futures[i] = pool.submit(_place_chunked, store, files[i], verify, stop)
            futures[i].add_done_callback(failed)
        wait(futures.values(), return_when=FIRST_EXCEPTION)
    finally:  # all done, or one failed, or an interrupt: whatever is not done stops (none starts)
        stop.set()
        for fut in futures.values():
            fut.cancel()
        pool.shutdown(wait=True)  # within a step: each removes its temporary file; every callback has run
    if first:
        raise first[0]
    return [futures[i].result() for i in range(len(files))]


def _place_chunked(store: ContentStore, f: _File, verify: bool = True,
                   stop: threading.Event | None = None) -> os.stat_result | None:
    """Copy a large file to its target from its whole store file, else reassemble it from its chunks
    (a whole file converted to chunks meanwhile is found by its list), its digest checked on the way;
    an error names the entry as well as the chunk. Without ``verify`` a whole store file is copied
    as it is (--no-verify trusts the store); chunks are always checked, as they are put together.
    Once ``stop`` is set the file is not started, or its copy ends at the next step (StoppedError)."""
    check_stop(stop)  # (another file failed while this one waited its turn)
    try:
        try:
            if not verify:  # (the size still puts it under a temporary name first: see place)
                return place("copy", f.src, f.target, f.present, size=f.entry.size, stop=stop)
            return _copy_one(f, stop)
        except FileNotFoundError:  # no whole store file (nothing was created): its chunks, if listed
            if not store.is_chunked(f.entry.digest):
                raise
        from . import chunkstore  # here: a checkout of whole store files never loads the chunk packs' modules

        return chunkstore.place_chunked(store, f.entry.digest, f.target, tmp_beside(f.target), stop)
    except StoppedError:
        raise
    except ArtvcsError as e:
        raise type(e)(f"{f.entry.path!r}: {e}") from None


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
    folders, groups = _index(entries)
    escaped: set[str] = set()
    for folder, group in groups.items():
        try:
            safe_join(root, group.first_path)
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
        found = scan(where, group.name_list(), row(where), False)
        if vouched(group, found):
            continue  # every file is vouched for as it should be: no Entry is made
        for e, r in zip(group, found):
            if r is None:
                problems.append((e.path, "missing"))
            elif r is False or e.ref is not None or r[0] != e.digest:
                items.append((e.path, e))
    problems += [p for p in _parallel(check, items, LOOK_WORKERS) if p is not None]
    if os.path.isdir(root):
        files, _ = _walk(root, [], groups)
        problems += [(p, "extra") for p in files if p not in folders]
    if statcache is not None:
        statcache.flush()
    problems.sort()
    return problems
