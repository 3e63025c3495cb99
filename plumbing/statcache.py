"""A cache of file digests keyed by what ``stat`` says about the file.

A file whose (device, inode, size, mtime_ns, ctime_ns) are unchanged since
it was hashed is not hashed again. It never serves a stale digest: ``ctime``
cannot be set back by a user, and an entry is trusted only when the file's
timestamps are older than the moment hashing began (git's "racily clean"
rule) — otherwise the file could have changed again within the same
timestamp tick. When that moment was read from the clock of the file's own
file system (``clock_dev`` equals the file's device), "older" is a plain
``<``: both stamps come from one clock at one granularity, so any later
change gets a stamp at least as new as the moment, never the old one. Any
other clock (the local one, or another file system's) keeps a 1 s margin.

A record also remembers the store's sweep generation (``sweep_gen``, see
:mod:`sweepgen`) under which its digest was last seen stored, so that a
writer can trust the content is still there without looking.

A folder's records are one row of table ``folder``; the records written since
that row was last rewritten are a row of table ``recent`` laid over it, so a
re-log that changed a few files of a folder rewrites a few records, not the
folder (the row is folded in once ``recent`` holds :data:`FOLD_SHARE` of it).
Every record is a true statement about one stat of one file, so which of two
records of a name is read changes only whether a file is hashed again.
"""
from __future__ import annotations

import operator
import os
import sqlite3
import struct
import sys
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from itertools import islice

# Linux stamps files from a coarse clock (one jiffy), so 1 s is ample for the
# file systems artvcs targets (not FAT, whose mtimes tick every 2 s). Writers
# compare it against the file system's own clock (fs_clock_ns), so a skewed
# local clock cannot make a changed file look old.
RACY_NS = 1_000_000_000

Key = tuple[int, int, int, int, int]
# records: path -> (stat key, digest, hashed_ns, clock_dev or None, sweep_gen or None)
Record = tuple[Key, str, int, "int | None", "int | None"]
# One folder's records are one row: a count, then that many fixed parts (the five stat fields,
# hashed_ns, clock_dev and sweep_gen as signed 64-bit little-endian, -1 for NULL, then the 64 hex
# digits of the digest), then the file names (os.fsencode) each ended by a NUL.
FIXED = struct.Struct("<8q64s")
COUNT = struct.Struct("<I")
NULL = -1
# A folder's ``recent`` row is folded into its ``folder`` row once it holds more than FOLD_MIN
# records whose fixed parts are more than 1/FOLD_SHARE of the folder row's length: a re-log of a
# few changed files then writes a few records (a page or so of the sqlite log), and a read lays
# at most about that share of records over the row.
FOLD_MIN = 16
FOLD_SHARE = 8
# A flush that wrote this many bytes of rows (a first log, a checkout) folds sqlite's log into the
# database at once; smaller ones leave it to sqlite's automatic checkpoint (at 1000 pages).
CHECKPOINT_BYTES = 1 << 20


def stat_key(st: os.stat_result) -> Key:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def fixed_part(r: tuple) -> bytes:
    """One record's fixed part from ``(dev, ino, size, mtime, ctime, hashed_ns, clock_dev, sweep_gen, digest)``
    (``clock_dev`` and ``sweep_gen`` may be None)."""
    dev, ino, size, mtime, ctime, hashed_ns, clock_dev, sweep_gen, digest = r
    return FIXED.pack(dev, ino, size, mtime, ctime, hashed_ns, NULL if clock_dev is None else clock_dev,
                      NULL if sweep_gen is None else sweep_gen, digest.encode())


def pack(records: dict[bytes, tuple]) -> bytes:
    """A folder's row from ``{name: (dev, ino, size, mtime, ctime, hashed_ns, clock_dev, sweep_gen, digest)}``."""
    return _join({name: fixed_part(r) for name, r in records.items()})


def _join(parts: dict[bytes, bytes]) -> bytes:
    names = sorted(parts)
    return COUNT.pack(len(names)) + b"".join(map(parts.__getitem__, names)) + b"".join(n + b"\0" for n in names)


def split(blob: bytes | None) -> tuple[list[bytes], bytes]:
    """``(names, fixed parts)`` of a row; a malformed row (the cache is advisory) is an empty folder.
    A row whose names are not strictly increasing is malformed too: a repeated name would leave
    which of its records is read to each reader (scan.c's table takes the first, a dict the last)."""
    if not blob or len(blob) < COUNT.size:
        return [], b""
    (n,) = COUNT.unpack_from(blob)
    end = COUNT.size + n * FIXED.size
    names = blob[end:].split(b"\0")
    if len(blob) < end or len(names) != n + 1 or names[-1]:
        return [], b""
    names.pop()
    if not all(map(operator.lt, names, islice(names, 1, None))):
        return [], b""
    return names, blob[COUNT.size:end]


def count(blob: bytes | None) -> int:
    """The record count a row says it holds (0 for a row too short to say)."""
    return COUNT.unpack_from(blob)[0] if blob and len(blob) >= COUNT.size else 0


def overlay(base: bytes | None, recent: bytes | None) -> bytes | None:
    """The row ``base`` with the records of row ``recent`` laid over it (by name: ``recent``'s
    win); the names of both stay sorted. A ``recent`` that does not parse (:func:`split`: names
    not strictly increasing included) lays nothing; such a ``base`` is empty."""
    names, fixed = split(recent)
    if not names:
        return base
    under, below = split(base)
    if not under:
        return recent
    size = FIXED.size
    tail = base[COUNT.size + len(under) * size :]  # the base's names, each ended by a NUL
    parts: list[bytes] = []  # fixed parts, in order
    text: list[bytes] = []  # names, in the same order
    i = at = replaced = 0  # the next record of base not yet placed, and where its name starts in tail
    for j, name in enumerate(names):
        k = bisect_left(under, name, i)
        if k > i:  # base's records before this name, moved as two slices
            n = sum(map(len, under[i:k])) + k - i
            parts.append(below[i * size : k * size])
            text.append(tail[at : at + n])
            at += n
        parts.append(fixed[j * size : (j + 1) * size])
        text.append(name + b"\0")
        if k < len(under) and under[k] == name:  # replaced
            at += len(name) + 1
            k += 1
            replaced += 1
        i = k
    parts.append(below[i * size :])
    text.append(tail[at:])
    return COUNT.pack(len(under) + len(names) - replaced) + b"".join(parts) + b"".join(text)


def unpack(blob: bytes | None) -> dict[bytes, tuple]:
    """The inverse of :func:`pack`."""
    names, fixed = split(blob)
    return {name: _record_tuple(r) for name, r in zip(names, FIXED.iter_unpack(fixed))}


def _record_tuple(r: tuple) -> tuple:
    return (*r[:6], None if r[6] == NULL else r[6], None if r[7] == NULL else r[7], r[8].rstrip(b"\0").decode("ascii", "replace"))


def merge(blob: bytes | None, new: dict[bytes, bytes], confirms: list[tuple[bytes, str, int]]) -> bytes:
    """A row updated with the fixed parts ``new`` (by name), and the sweep generation set for each
    ``(name, digest, gen)`` whose record still holds that digest; records are moved as bytes."""
    names, fixed = split(blob)
    size = FIXED.size
    parts = {name: fixed[i * size : (i + 1) * size] for i, name in enumerate(names)}
    parts.update(new)
    for name, digest, gen in confirms:
        r = parts.get(name)
        if r is not None and r[64:].rstrip(b"\0") == digest.encode():
            parts[name] = r[:56] + struct.pack("<q", gen) + r[64:]
    return _join(parts)


class Records(Mapping):
    """The records below one folder: absolute path → :data:`Record`, read a folder's row at a
    time when first asked for (``get``: its names are decoded in one call, a record is unpacked
    only when asked for); iterating reads them all. ``row(folder)`` is the raw row that
    :mod:`scan` reads."""

    def __init__(self, cache: "StatCache", prefix: str) -> None:
        self._cache = cache
        self._prefix = prefix
        self._folders: dict[str, tuple[dict[str, int], bytes]] = {}
        self._rows: dict[str, bytes | None] = {}
        self._all = False
        self._fetched = False  # prefetch read every row below the prefix: a folder not among them has none

    def row(self, folder: str) -> bytes | None:
        # kept: the scan reads a folder's row, then the lookups of its changed files read it again
        try:
            return self._rows[folder]
        except KeyError:
            if self._fetched and (folder == self._prefix or folder.startswith(self._prefix + os.sep)):
                return None
            blob = self._rows[folder] = self._cache.row(folder)
            return blob

    def forget(self, folder: str) -> None:
        """Drop ``folder``'s row kept by :meth:`row` (it is read again if asked for): a checkout
        of a million files up to date would otherwise hold every folder's row at once."""
        self._rows.pop(folder, None)
        self._fetched = False  # after a prefetch, a row not kept is no longer known to be absent

    def prefetch(self) -> None:
        """Read the rows of every folder below the prefix in one query (a walk of many folders
        then asks sqlite once, not once per folder)."""
        if not self._all and not self._fetched:
            self._fetched = True
            rows = dict(self._cache.rows_below(self._prefix))
            for folder, blob in rows.items():
                self._rows.setdefault(folder, blob)

    def _parse(self, folder: str, blob: bytes | None) -> tuple[dict[str, int], bytes]:
        names, fixed = split(blob)
        text = b"\0".join(names).decode("utf-8", "surrogateescape")  # os.fsdecode of every name at once
        index = dict(zip(text.split("\0"), range(len(names)))) if names else {}
        out = self._folders[folder] = (index, fixed)
        return out

    def get(self, path: str, default=None) -> Record | None:
        folder, _, name = path.rpartition(os.sep)
        index, fixed = self._folders.get(folder) or self._parse(folder, None if self._all else self.row(folder))
        i = index.get(name)
        if i is None:
            return default
        r = FIXED.unpack_from(fixed, i * FIXED.size)
        return ((r[0], r[1], r[2], r[3], r[4]), r[8].rstrip(b"\0").decode("ascii", "replace"), r[5],
                None if r[6] == NULL else r[6], None if r[7] == NULL else r[7])

    def __getitem__(self, path: str) -> Record:
        rec = self.get(path)
        if rec is None:
            raise KeyError(path)
        return rec

    def _load_all(self) -> None:
        if not self._all:
            for folder, blob in self._cache.rows_below(self._prefix):
                if folder not in self._folders:
                    self._parse(folder, blob)
            self._all = True

    def __iter__(self):
        self._load_all()
        for folder, (index, _) in list(self._folders.items()):
            for name in index:
                yield f"{folder}{os.sep}{name}"

    def __len__(self) -> int:
        self._load_all()
        return sum(len(index) for index, _ in self._folders.values())


class StatCache:
    """sqlite-backed map of absolute path → (stat key, digest, hashed_at_ns), one row per folder
    (and one of its recent records, laid over it: see the module)."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple] = []
        self._packed: dict[str, dict[bytes, bytes]] = {}  # folder -> {name: fixed part}, from record_written
        self._confirmed: list[tuple[int, list[tuple[str, str]]]] = []

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            os.makedirs(os.path.dirname(self.db_path), exist_ok=True)
            db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS folder (path TEXT PRIMARY KEY, records BLOB NOT NULL) WITHOUT ROWID")
            db.execute("CREATE TABLE IF NOT EXISTS recent (path TEXT PRIMARY KEY, records BLOB NOT NULL) WITHOUT ROWID")
            db.execute("CREATE TABLE IF NOT EXISTS version_sums (commit_id TEXT PRIMARY KEY, digest TEXT NOT NULL, "
                       "sums BLOB NOT NULL) WITHOUT ROWID")
            db.execute("CREATE TABLE IF NOT EXISTS parsed (digest TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID")
            # the one-row-per-file table of earlier versions: the cache is advisory, so it just goes
            db.execute("DROP TABLE IF EXISTS stat")
            self._db = db
        return self._db

    def row(self, folder: str) -> bytes | None:
        """The row of ``folder`` (absolute, no trailing separator), its recent records laid over it, or None."""
        return overlay(*self._raw(folder))

    def _raw(self, folder: str) -> tuple[bytes | None, bytes | None]:
        """``folder``'s rows in tables ``folder`` and ``recent`` (None where it has none)."""
        base = recent = None
        for table, blob in self._conn().execute(
                "SELECT 0, records FROM folder WHERE path = ? UNION ALL SELECT 1, records FROM recent WHERE path = ?",
                (folder, folder)):
            if table:
                recent = blob
            else:
                base = blob
        return base, recent

    def rows_below(self, folder: str) -> list[tuple[str, bytes]]:
        """``(folder, row)`` for ``folder`` and every folder below it (recent records laid over)."""
        folder = folder.rstrip(os.sep)
        args = (folder, folder + os.sep, folder + chr(ord(os.sep) + 1))
        # both tables in one statement, so from one snapshot (a writer may fold between two reads),
        # without a transaction of its own: the connection is shared by threads, and a BEGIN here
        # would land inside (or end) a Recorder thread's BEGIN IMMEDIATE in flush
        rows: list[tuple[str, bytes]] = []
        recent: list[tuple[str, bytes]] = []
        for table, path, blob in self._conn().execute(
                "SELECT 0, path, records FROM folder WHERE path = ? OR (path >= ? AND path < ?)"
                " UNION ALL SELECT 1, path, records FROM recent WHERE path = ? OR (path >= ? AND path < ?)",
                args + args):
            (recent if table else rows).append((path, blob))
        if recent:
            out = dict(rows)
            for path, blob in recent:
                row = overlay(out.get(path), blob)
                if row is not None:
                    out[path] = row
            rows = list(out.items())
        return rows

    def sums(self, commit: str) -> tuple[str, bytes] | None:
        """``(digest, sums)`` kept for version ``commit`` (:mod:`foldersums`), or None."""
        try:
            r = self._conn().execute("SELECT digest, sums FROM version_sums WHERE commit_id = ?", (commit,)).fetchone()
        except sqlite3.Error:
            return None
        return (r[0], r[1]) if r else None

    def keep_sums(self, commit: str, digest: str, sums: bytes) -> None:
        """Keep the folder sums of version ``commit`` (whose digest is ``digest``); the cache is
        advisory, so errors are ignored."""
        try:
            self._conn().execute("INSERT OR REPLACE INTO version_sums (commit_id, digest, sums) VALUES (?, ?, ?)",
                                 (commit, digest, sums))
        except sqlite3.Error:
            pass

    def sums_commits(self) -> set[str]:
        """The versions whose folder sums are kept (empty if the cache cannot be read)."""
        try:
            return {r[0] for r in self._conn().execute("SELECT commit_id FROM version_sums")}
        except sqlite3.Error:
            return set()

    def drop_sums(self, commits: set[str]) -> int:
        """Forget the folder sums of ``commits``, in one transaction (a crash keeps all or none);
        return how many rows went (0 when the cache cannot be written: it is advisory)."""
        if not commits:
            return 0
        db = self._conn()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                n = sum(db.execute("DELETE FROM version_sums WHERE commit_id = ?", (c,)).rowcount
                        for c in sorted(commits))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return n
        except sqlite3.Error:
            return 0

    def parsed(self, digest: str) -> str | None:
        """The JSON kept for a YAML file whose bytes have blake3 ``digest`` (:func:`config.parse`), or None."""
        try:
            r = self._conn().execute("SELECT value FROM parsed WHERE digest = ?", (digest,)).fetchone()
        except sqlite3.Error:
            return None
        return r[0] if r else None

    def keep_parsed(self, digest: str, value: str) -> None:
        """Keep ``value``, the JSON of what the YAML bytes of blake3 ``digest`` hold (errors ignored)."""
        try:
            self._conn().execute("INSERT OR REPLACE INTO parsed (digest, value) VALUES (?, ?)", (digest, value))
        except sqlite3.Error:
            pass

    def load_prefix(self, folder: str) -> Records:
        """The records below ``folder`` (absolute), read a folder at a time as they are asked for."""
        return Records(self, os.path.abspath(folder))

    def load_one(self, path: str) -> Records:
        """The records of ``path``'s folder (for one lookup)."""
        return Records(self, os.path.dirname(os.path.abspath(path)))

    @staticmethod
    def lookup(records, path: str, st: os.stat_result) -> str | None:
        """The cached digest for ``path`` if ``st`` proves it unchanged and not racy."""
        rec = records.get(path)
        if rec is None:
            return None
        key = rec[0]
        if key != (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns):
            return None
        if not clean(key, rec[2], rec[3] if len(rec) > 3 else None):
            return None
        return rec[1]

    def record(self, path: str, st: os.stat_result, digest: str, hashed_ns: int, clock_dev: int | None = None,
               sweep_gen: int | None = None) -> None:
        """Queue a record; ``hashed_ns`` is a time taken *before* the file was read, by the
        clock of the file system ``clock_dev`` (None: the local clock). ``sweep_gen`` is the
        store's sweep generation read before the digest was seen stored (None: not seen there).
        A record that could never be used (the file is racily clean) is not queued."""
        key = stat_key(st)
        if clean(key, hashed_ns, clock_dev):
            self._pending.append((path, *key, digest, hashed_ns, clock_dev, sweep_gen))

    def record_written(self, rows: Iterable[tuple[str, Key | os.stat_result, str]], hashed_ns: int,
                       clock_dev: int | None) -> list[tuple[str, Key, str]]:
        """Queue, in bulk, a record per ``(path, stat or stat key, digest)`` (a checkout's new copies),
        as :meth:`record` would each; one pass that packs each record as it goes (a checkout of
        many small files would otherwise spend more on its records than on its hashes). Returns
        the ``(path, stat key, digest)`` left out as racily clean (stamped in the clock's tick)."""
        racy: list[tuple[str, Key, str]] = []
        self._fold_pending()  # queued before these rows: older than them
        sep, packed = os.sep, self._packed
        enc, errors = sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()  # os.fsencode's
        same_clock, other_clock = stamp_limit(hashed_ns, True), stamp_limit(hashed_ns, False)
        for path, key, digest in rows:
            if type(key) is not tuple:
                key = stat_key(key)
            dev, ino, size, mtime, ctime = key
            if (mtime if mtime > ctime else ctime) >= (same_clock if dev == clock_dev else other_clock):
                racy.append((path, key, digest))  # not clean(): see stamp_limit
                continue
            folder, _, name = path.rpartition(sep)
            parts = packed.get(folder)
            if parts is None:
                parts = packed[folder] = {}
            parts[name.encode(enc, errors)] = fixed_part((dev, ino, size, mtime, ctime, hashed_ns, clock_dev, None, digest))
        return racy

    def _fold_pending(self) -> None:
        """Pack the records queued by :meth:`record` into the rows queued by :meth:`record_written`,
        over them by name: queued later, so newer (a record of a file queued while a checkout planned,
        then the record of the copy that replaced it, must leave the copy's)."""
        rows, self._pending = self._pending, []
        packed, sep = self._packed, os.sep
        for r in rows:
            folder, _, name = r[0].rpartition(sep)
            packed.setdefault(folder, {})[os.fsencode(name)] = fixed_part((*r[1:6], r[7], r[8], r[9], r[6]))

    def take_queued(self) -> list[tuple]:
        """The records :meth:`record` queued, removed from the queue (a forked helper hands them to
        its parent). Rows :meth:`record_written` packed are written by :meth:`flush` only: a cache
        holding some refuses, rather than hand over part of its queue."""
        if self._packed:
            raise RuntimeError("statcache: records packed by record_written are flushed, not handed over")
        rows, self._pending = self._pending, []
        return rows

    def queue(self, rows: list[tuple]) -> None:
        """Queue records that :meth:`take_queued` returned elsewhere."""
        self._pending.extend(rows)

    def queued(self) -> int:
        return len(self._pending) + sum(map(len, self._packed.values()))

    def confirm(self, seen: list[tuple[str, str]], sweep_gen: int) -> None:
        """Note that each ``(path, digest)``'s content was seen stored after ``sweep_gen`` was read
        (only where the record still holds that digest)."""
        if seen:
            self._confirmed.append((sweep_gen, seen))

    def flush(self) -> None:
        """Write queued records in one transaction, merging each folder's recent row with what is
        there (read and written under sqlite's write lock, so concurrent writers lose nothing but
        each other's older records of one path) and folding it into the folder's row once it holds
        enough (see :data:`FOLD_SHARE`; a folder with sweep generations to set is folded at once);
        the cache is advisory, so errors are ignored."""
        if not self._pending and not self._confirmed and not self._packed:
            return
        self._fold_pending()  # in queue order: the newest record of a path wins
        confirmed, self._confirmed = self._confirmed, []
        by_folder, self._packed = self._packed, {}
        sep = os.sep
        confirms: dict[str, list] = {}
        for gen, seen in confirmed:
            for path, digest in seen:
                folder, _, name = path.rpartition(sep)
                confirms.setdefault(folder, []).append((os.fsencode(name), digest, int(gen)))
        written = 0
        try:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            folders = list(by_folder.keys() | confirms.keys())
            # the folder rows' lengths, not their bytes: sqlite reads no overflow page for length()
            old_recent, lengths = self._many(db, "records", "recent", folders), self._many(db, "length(records)", "folder", folders)
            recents: list[tuple[str, bytes]] = []
            for folder in folders:
                new, sure = by_folder.get(folder, {}), confirms.get(folder, [])
                if not sure:
                    recent = merge(old_recent.get(folder), new, [])
                    n = count(recent)
                    if n <= FOLD_MIN or n * FIXED.size * FOLD_SHARE <= lengths.get(folder, 0):
                        recents.append((folder, recent))
                        written += len(recent)
                        continue
                    row = overlay(self._raw(folder)[0] if folder in lengths else None, recent)
                else:
                    row = merge(overlay(*self._raw(folder)), new, sure)
                db.execute("INSERT OR REPLACE INTO folder (path, records) VALUES (?, ?)", (folder, row))
                if folder in old_recent:
                    db.execute("DELETE FROM recent WHERE path = ?", (folder,))
                written += len(row)
            db.executemany("INSERT OR REPLACE INTO recent (path, records) VALUES (?, ?)", recents)
            db.execute("COMMIT")
            if written >= CHECKPOINT_BYTES:
                self._checkpoint(db)
        except sqlite3.Error:
            try:
                self._conn().execute("ROLLBACK")
            except sqlite3.Error:
                pass

    @staticmethod
    def _many(db: sqlite3.Connection, what: str, table: str, folders: list[str]) -> dict[str, object]:
        """``{folder: what}`` of the rows of ``table`` for ``folders`` that have one, a few
        hundred folders a query."""
        out: dict[str, object] = {}
        for i in range(0, len(folders), 500):  # below sqlite's limit of bound parameters
            part = folders[i : i + 500]
            out.update(db.execute(f"SELECT path, {what} FROM {table} WHERE path IN ({','.join('?' * len(part))})", part))
        return out

    @staticmethod
    def _checkpoint(db: sqlite3.Connection) -> None:
        """Fold the sqlite log into the database and empty it, if no reader is in the way (no
        wait). A writer that ends with os._exit never closes its connection, so the log outlives
        it, and the next process to open the cache reads every page of it to rebuild its index."""
        db.execute("PRAGMA busy_timeout = 0")
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        finally:
            db.execute("PRAGMA busy_timeout = 30000")

    def close(self) -> None:
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None


def clean(key: Key, hashed_ns: int, clock_dev: int | None) -> bool:
    """True unless the file of stat ``key`` could have changed again, unseen, after ``hashed_ns``.

    With one clock (``clock_dev`` is the file's own device) a stamp older
    than ``hashed_ns`` suffices; otherwise it must be RACY_NS older.
    """
    stamp = key[3] if key[3] > key[4] else key[4]
    return stamp < stamp_limit(hashed_ns, clock_dev is not None and clock_dev == key[0])


def stamp_limit(hashed_ns: int, same_clock: bool) -> int:
    """The stamp a clean file's newer of mtime/ctime is below, for hashing begun at ``hashed_ns``
    (by the file system's own clock: ``same_clock``); the one rule of :func:`clean` and
    :meth:`StatCache.record_written`."""
    return hashed_ns if same_clock else hashed_ns - RACY_NS + 1


def now_ns() -> int:
    return time.time_ns()


def fs_clock_ns(folder: str) -> tuple[int, int | None]:
    """``(now, device)`` by the clock that stamps files in ``folder``: touch a marker, read its
    mtime (git's trick). Falls back to ``(local clock, None)``."""
    marker = os.path.join(folder, "clock")
    try:
        with open(marker, "a"):
            pass
        os.utime(marker)
        st = os.stat(marker)
        return st.st_mtime_ns, st.st_dev
    except OSError:
        return time.time_ns(), None
