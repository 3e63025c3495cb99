"""Moving file content between the local content store and a remote, in parallel and verified.

Downloads land in a temporary file inside the store's fan-out folder, are
re-hashed, and are renamed into place only if their blake3 digest is the
one asked for: content from a remote is untrusted, and a corrupt or hostile
object never enters the store. Uploads read the store's read-only files.
Both skip what the other side already has, and report progress. A large file
stored whole locally is converted to chunks before it is sent (a remote holds
large files as chunks: artvcs-remote-format(5)).
"""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterable

from .. import durability
from ..errors import CorruptObjectError, ObjectMissingError
from ..hashing import hash_file, is_digest
from ..store import CHUNK_THRESHOLD, FANOUT, TMP_PREFIX, ContentStore
from .layout import CONTENT, RemoteRepo, content_key
from .pool import HEAD_LIMIT, WORKERS, parallel  # noqa: F401 (parallel and WORKERS: also for content's callers)


def remote_has(remote: RemoteRepo, digests: Iterable[str]) -> set[str]:
    """Which of ``digests`` the remote holds: a HEAD each when few, else one listing of content/."""
    wanted = sorted({d for d in digests if is_digest(d)})
    if not wanted:
        return set()
    if len(wanted) > HEAD_LIMIT:
        listed = {s.key[len(CONTENT):].replace("/", "") for s in remote.list_content()}
        return listed & set(wanted)
    present = parallel(lambda d: remote.backend.stat(content_key(d)) is not None, wanted)
    return {d for d, ok in zip(wanted, present) if ok}


def upload(remote: RemoteRepo, store: ContentStore, digests: Iterable[str]) -> tuple[int, int]:
    """Send every digest of ``digests`` the remote lacks; return ``(objects, bytes)`` sent.

    A digest missing from the local store must already be on the remote
    (it came from there); otherwise nothing could ever supply it.
    """
    from . import chunks

    wanted = sorted({d for d in digests if is_digest(d)})
    chunked = {d for d in wanted if store.is_chunked(d)}  # sent as chunk packs and a list
    wanted = [d for d in wanted if d not in chunked]
    have = remote_has(remote, wanted)
    missing = [d for d in wanted if d not in have]
    # A large file stored whole here is chunked on the way (converted in the local store, then
    # sent as chunks): a remote holds large files as chunks, so a later version sends its changes.
    for d in missing:
        if _large_whole(store, d):
            store.convert_to_chunks(d)
    late = {d for d in missing if store.is_chunked(d)}  # converted here, or by another process meanwhile
    chunked |= late
    missing = [d for d in missing if d not in late]
    absent = [d for d in missing if not store.has(d)]
    if absent:
        raise ObjectMissingError(
            f"content {absent[0]} ({len(absent)} objects) is neither in the local store nor on remote {remote.name}: "
            "it cannot be pushed; run 'artvcs fsck' to find the versions that need it"
        )

    def send(d: str) -> int:
        path = store.path_of(d)
        remote.backend.upload(content_key(d), path)
        return os.path.getsize(path)

    sizes = parallel(send, missing, stage="uploading content")
    n, sent = chunks.upload(remote, store, chunked)
    return len(missing) + n, sum(sizes) + sent


def _large_whole(store: ContentStore, digest: str) -> bool:
    """True if ``digest`` is stored whole here and is large enough to be stored as chunks."""
    try:
        return os.stat(store.path_of(digest)).st_size >= CHUNK_THRESHOLD
    except FileNotFoundError:
        return False


def download(remote: RemoteRepo, store: ContentStore, digests: Iterable[str]) -> tuple[int, int]:
    """Fetch every digest of ``digests`` the local store lacks, verified; return ``(objects, bytes)``.
    Content the remote holds as a chunk list, not whole, is fetched chunk by chunk (:mod:`chunks`)."""
    from . import chunks

    todo = sorted({d for d in digests if is_digest(d) and not store.has(d)})
    if todo:  # not flushed file by file here: the next log of a version flushes the whole file system
        durability.wrote_unnamed(store.gitdir)

    def fetch(d: str) -> int:
        folder = os.path.join(store.root, d[:FANOUT])
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f"{TMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}")
        try:
            try:
                remote.backend.download(content_key(d), tmp)
            except FileNotFoundError:
                os.unlink(tmp) if os.path.exists(tmp) else None
                return -1  # not whole there: perhaps chunked (fetched below)
            actual, size = hash_file(tmp)
            if actual != d:
                raise CorruptObjectError(
                    f"remote {remote.name} served corrupt content for {d} (its bytes hash to {actual}): refused; "
                    "repair the remote from a clone that has it (artvcs push)"
                )
            os.chmod(tmp, 0o444)
            os.replace(tmp, store.path_of(d))
            return size
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise

    sizes = parallel(fetch, todo, stage="downloading content")
    n, got = chunks.download(remote, store, [d for d, size in zip(todo, sizes) if size < 0])
    return len(todo), sum(s for s in sizes if s > 0) + got
