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
"""
from __future__ import annotations

import os
import sqlite3
import time

# Linux stamps files from a coarse clock (one jiffy), so 1 s is ample for the
# file systems artvcs targets (not FAT, whose mtimes tick every 2 s). Writers
# compare it against the file system's own clock (fs_clock_ns), so a skewed
# local clock cannot make a changed file look old.
RACY_NS = 1_000_000_000

Key = tuple[int, int, int, int, int]
# records: path -> (stat key, digest, hashed_ns, clock_dev or None, sweep_gen or None)
Record = tuple[Key, str, int, "int | None", "int | None"]
_COLUMNS = "path, dev, ino, size, mtime_ns, ctime_ns, digest, hashed_ns, clock_dev, sweep_gen"


def stat_key(st: os.stat_result) -> Key:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class StatCache:
    """sqlite-backed map of absolute path → (stat key, digest, hashed_at_ns)."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple] = []
        self._confirmed: list[tuple[int, list[tuple[str, str]]]] = []

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            os.makedirs(os.path.dirname(self.db_path), exist_ok=True)
            db = sqlite3.connect(self.db_path, timeout=30, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS stat (path TEXT PRIMARY KEY, dev INTEGER, ino INTEGER,"
                " size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, digest TEXT, hashed_ns INTEGER,"
                " clock_dev INTEGER, sweep_gen INTEGER) WITHOUT ROWID"  # one scan reads a folder's rows
            )
            have = {r[1] for r in db.execute("PRAGMA table_info(stat)")}
            if "clock_dev" not in have:
                # a cache written before clock_dev: its rows keep the 1 s margin (NULL)
                db.execute("ALTER TABLE stat ADD COLUMN clock_dev INTEGER")
            if "sweep_gen" not in have:
                # rows written before sweep_gen: their content is looked for in the store (NULL)
                db.execute("ALTER TABLE stat ADD COLUMN sweep_gen INTEGER")
            self._db = db
        return self._db

    def load_prefix(self, folder: str) -> dict[str, Record]:
        """Every cached record below ``folder`` (absolute), for bulk lookups."""
        folder = os.path.abspath(folder).rstrip(os.sep) + os.sep
        rows = self._conn().execute(
            f"SELECT {_COLUMNS} FROM stat WHERE path >= ? AND path < ?",
            (folder, folder[:-1] + chr(ord(os.sep) + 1)),
        ).fetchall()
        return {r[0]: ((r[1], r[2], r[3], r[4], r[5]), r[6], r[7], r[8], r[9]) for r in rows}

    def load_one(self, path: str) -> dict[str, Record]:
        path = os.path.abspath(path)
        r = self._conn().execute(f"SELECT {_COLUMNS} FROM stat WHERE path = ?", (path,)).fetchone()
        return {r[0]: ((r[1], r[2], r[3], r[4], r[5]), r[6], r[7], r[8], r[9])} if r else {}

    @staticmethod
    def lookup(records: dict, path: str, st: os.stat_result) -> str | None:
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

    def take_queued(self) -> list[tuple]:
        """The queued records, removed from the queue (a forked helper hands them to its parent)."""
        rows, self._pending = self._pending, []
        return rows

    def queue(self, rows: list[tuple]) -> None:
        """Queue records that :meth:`take_queued` returned elsewhere."""
        self._pending.extend(rows)

    def confirm(self, seen: list[tuple[str, str]], sweep_gen: int) -> None:
        """Note that each ``(path, digest)``'s content was seen stored after ``sweep_gen`` was read
        (only where the record still holds that digest)."""
        if seen:
            self._confirmed.append((sweep_gen, seen))

    def flush(self) -> None:
        """Write queued records in one transaction; the cache is advisory, so errors are ignored."""
        if not self._pending and not self._confirmed:
            return
        rows, self._pending = self._pending, []
        confirmed, self._confirmed = self._confirmed, []
        try:
            db = self._conn()
            db.execute("BEGIN")
            db.executemany(f"INSERT OR REPLACE INTO stat ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            for gen, seen in confirmed:
                db.executemany(f"UPDATE stat SET sweep_gen = {int(gen)} WHERE path = ? AND digest = ?", seen)
            db.execute("COMMIT")
        except sqlite3.Error:
            try:
                self._conn().execute("ROLLBACK")
            except sqlite3.Error:
                pass

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
    if clock_dev is not None and clock_dev == key[0]:
        return stamp < hashed_ns
    return stamp + RACY_NS <= hashed_ns


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
