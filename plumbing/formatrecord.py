"""The format record, ``.artifacts/artvcs-format``: which on-disk format a repository is in.

A reader refuses a repository whose record names a format newer than it
implements, before it reads anything else. A repository starts at format 1
and is raised to 2 when its first chunked file is written (artvcs-format(5)).
"""
from __future__ import annotations

import os
import re

from .errors import FormatVersionError, NotARepositoryError

FORMAT_FILE = "artvcs-format"
FORMAT_VERSION = 2  # the highest format this artvcs reads: 2 adds chunked large files
INIT_FORMAT_VERSION = 1  # what init writes; the first chunk list raises it to 2 (chunkstore)


def check_format(gitdir: str) -> int:
    """Read the format record; refuse a missing, unreadable or newer one."""
    path = os.path.join(gitdir, FORMAT_FILE)
    try:
        with open(path, "rb") as f:
            data = f.read(4096)
    except FileNotFoundError:
        raise NotARepositoryError(f"{gitdir} is not an artvcs repository (no {FORMAT_FILE}): run 'artvcs init'") from None
    except OSError as e:
        raise FormatVersionError(f"{path} cannot be read ({e.strerror or e}): expected a file 'artvcs-format <N>'") from None
    version = parse_format_record(data, path)
    if version > FORMAT_VERSION:
        raise FormatVersionError(
            f"{gitdir} uses artvcs format {version}, newer than this artvcs understands ({FORMAT_VERSION}): upgrade artvcs"
        )
    return version


_RECORD = re.compile(rb"artvcs-format[ \t]+([0-9]{1,9})[ \t\r\n]*")


def parse_format_record(data: bytes, path: str) -> int:
    """The version number of a format record's bytes (ASCII ``artvcs-format <N>``), or FormatVersionError."""
    m = _RECORD.fullmatch(data.strip())
    if m is None:
        raise FormatVersionError(f"{path} is unreadable ({data[:40]!r}): expected the ASCII line 'artvcs-format <N>'")
    return int(m.group(1))


def raise_format(gitdir: str, version: int) -> None:
    """Raise the record to ``version`` (never lower it): a temporary file, fsync, rename, fsync
    of the folder, so a crash leaves the old record or the new one."""
    if check_format(gitdir) >= version:
        return
    import secrets  # only a writer needs it (start-up time of reading commands)

    tmp = os.path.join(gitdir, f"{FORMAT_FILE}.tmp-{os.getpid()}-{secrets.token_hex(6)}")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(f"artvcs-format {version}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(gitdir, FORMAT_FILE))
    fd = os.open(gitdir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
