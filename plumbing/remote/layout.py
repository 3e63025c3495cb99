"""The layout of a remote (specified in artvcs-remote-format(5)) and the URL that names it.

::

    <root>/artvcs-remote              "artvcs-remote 1\\n": the layout version
    <root>/content/<2 hex>/<62 hex>   file bytes, named by their blake3 digest
    <root>/packs/<40 hex>.pack        a git pack of version, manifest, attribute and run objects
    <root>/packs/<40 hex>.idx         its index; written after the pack, so a listed .idx means a whole pack
    <root>/refs/<ref name>            one object per ref: "<40 hex commit id>\\n"
    <root>/namespace                  the default namespace clones take: {"entity","project"} (canonical JSON)

Everything but ``refs/`` is written once and never changed. Writers upload
content, then packs, then refs, so a ref never names objects the remote
lacks. Version refs are created only if absent; every other ref moves only
by compare-and-swap.
"""
from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

from .. import namespace
from ..errors import UsageError
from ..hashing import is_digest
from ..namespace import Namespace
from .backend import Backend, FileBackend, Stat, read_bounded, tag_of
from .errors import RemoteError, RemoteFormatError

FORMAT_KEY = "artvcs-remote"
FORMAT_VERSION = 2  # the highest layout this artvcs reads: 2 adds chunk packs and chunk lists
INIT_FORMAT_VERSION = 1  # what the first push writes; the first chunk list raises it (chunked_layout)
CONTENT = "content/"
PACKS = "packs/"
REFS = "refs/"
NAMESPACE_KEY = "namespace"
SCHEMES = ("s3", "gs", "gcs", "az", "abfs", "file")
_OID = re.compile(rb"^[0-9a-f]{40}\n$")
_PACK = re.compile(r"^packs/([0-9a-f]{40})\.(pack|idx)$")


def parse_url(url: str) -> tuple[str, str]:
    """``(scheme, root)`` of a remote URL, refusing what cannot be one (or carries credentials)."""
    if not isinstance(url, str) or not url:
        raise RemoteError(f"invalid remote URL {url!r}: expected s3://bucket/prefix, gs://..., az://... or file:///path")
    if "://" not in url:
        if os.path.isabs(url):
            return "file", os.path.normpath(url)
        raise RemoteError(f"invalid remote URL {url!r}: expected s3://bucket/prefix, gs://..., az://... or file:///path")
    p = urllib.parse.urlsplit(url)
    scheme = p.scheme.lower()
    if scheme not in SCHEMES:
        raise RemoteError(f"remote URL {url!r} has scheme {scheme!r}: artvcs remotes are {', '.join(s + '://' for s in SCHEMES)}")
    if p.password is not None or p.username is not None or p.query:
        raise RemoteError(
            f"remote URL {scheme}://{p.hostname or ''}{p.path} carries credentials or a query: give the bare URL and "
            "provide credentials through the environment or the backend's own configuration"
        )
    if scheme == "file":
        if p.netloc not in ("", "localhost") or not p.path.startswith("/"):
            raise RemoteError(f"invalid remote URL {url!r}: a file remote is file:///absolute/path")
        return "file", os.path.normpath(urllib.parse.unquote(p.path))
    if not p.netloc:
        raise RemoteError(f"invalid remote URL {url!r}: expected {scheme}://<bucket>/<prefix>")
    return scheme, f"{p.netloc}{p.path}".rstrip("/")


def open_backend(url: str, options: dict[str, Any] | None = None) -> Backend:
    """The backend for ``url``; ``options`` are the remote's settings (``endpoint_url``, ``region``, ...)."""
    scheme, root = parse_url(url)
    if scheme == "file":
        return FileBackend(url, root)
    if scheme == "s3":
        from .objstore import S3Backend

        return S3Backend(url, root, options)
    if scheme in ("gs", "gcs"):
        from .gcs import GCSBackend

        return GCSBackend(url, root, options)
    from .azure_blob import AzureBackend

    return AzureBackend(url, root, options)


def content_key(digest: str) -> str:
    return f"{CONTENT}{digest[:2]}/{digest[2:]}"


def ref_key(name: str) -> str:
    return name  # ref names already start with refs/ and hold only %-escaped components


def ref_body(oid: str) -> bytes:
    return f"{oid}\n".encode()


REF_SIZE = 41  # a ref object: a commit id and a newline
FORMAT_LIMIT = 64  # the layout record: "artvcs-remote N\n"
NAMESPACE_LIMIT = 1024  # the namespace record: canonical JSON of two names of at most 128 characters


def check_listed_ref(name: str, stat: Stat, where: str) -> None:
    """Refuse a ref whose listed size is more than a ref object's, before it is read: a remote
    holding a gigabyte under a ref's name would otherwise be read whole into memory."""
    if stat.size > REF_SIZE:
        raise RemoteFormatError(f"remote {where}: ref {name} is {stat.size} bytes, not a commit id ({REF_SIZE} bytes): "
                                "the remote is damaged or forged: refused")


class RemoteRepo:
    """A remote as artvcs uses it: content, packs and refs over one backend."""

    def __init__(self, backend: Backend, name: str = "") -> None:
        self.backend = backend
        self.name = name or backend.url

    @property
    def url(self) -> str:
        return self.backend.url

    # -- the format record ---------------------------------------------------------
    def check_format(self, create: bool = False) -> bool:
        """Refuse a newer layout; with ``create``, write the record of an empty remote. False if there is none."""
        found = read_format(self.backend)
        if found is None:
            if not create:
                return False
            self.backend.create(FORMAT_KEY, f"{FORMAT_KEY} {INIT_FORMAT_VERSION}\n".encode())
            found = read_format(self.backend)
            if found is None:
                raise RemoteError(f"remote {self.url} did not keep its format record: check write permission")
        words = found[0].decode("utf-8", "replace").split()
        if len(words) != 2 or words[0] != FORMAT_KEY or not (words[1].isascii() and words[1].isdigit()):
            raise RemoteFormatError(f"remote {self.url} has an unreadable {FORMAT_KEY} record: it is not an artvcs remote")
        if int(words[1]) > FORMAT_VERSION:
            raise RemoteFormatError(f"remote {self.url} uses remote layout {words[1]}, newer than this artvcs ({FORMAT_VERSION}): upgrade artvcs")
        return True

    # -- the default namespace ---------------------------------------------------------
    def read_namespace(self) -> Namespace | None:
        """The namespace a clone takes as its default, or None (a remote written before it was recorded)."""
        found = read_bounded(self.backend, NAMESPACE_KEY, NAMESPACE_LIMIT, "namespace record")
        if found is None:
            return None
        try:
            return namespace.parse(found[0], f"{NAMESPACE_KEY} of remote {self.url}")
        except UsageError as e:
            raise RemoteFormatError(f"{e}: the remote is damaged") from None

    def offer_namespace(self, ns: Namespace) -> None:
        """Record ``ns`` as the remote's namespace unless it has one (create-only: the first push decides)."""
        if self.backend.stat(NAMESPACE_KEY) is None:
            self.backend.create(NAMESPACE_KEY, namespace.encode(ns))

    # -- refs -------------------------------------------------------------------------
    def list_refs(self) -> dict[str, Stat]:
        """Every ref object, by ref name (one listing; values are not read)."""
        return {s.key: s for s in self.backend.list(REFS) if not s.key.endswith(".lock")}

    def read_ref(self, name: str) -> tuple[str, str] | None:
        """``(oid, tag)`` of a ref, or None; a malformed ref object is refused.

        The read itself is bounded: a listing's size (:func:`check_listed_ref`) is the remote's word,
        and the object served may be larger, or swapped for a larger one since."""
        found = self.backend.read(ref_key(name), limit=REF_SIZE)
        if found is None:
            return None
        data, tag = found
        if len(data) > REF_SIZE:
            raise RemoteFormatError(f"remote ref {name} of {self.url} is larger than a commit id ({REF_SIZE} bytes): "
                                    "the remote is damaged or forged: refused")
        if not _OID.match(data):
            raise RemoteFormatError(f"remote ref {name} of {self.url} does not hold a commit id: the remote is damaged")
        return data[:40].decode(), tag

    def create_ref(self, name: str, oid: str) -> bool:
        return self.backend.create(ref_key(name), ref_body(oid))

    def swap_ref(self, name: str, oid: str | None, tag: str) -> bool:
        return self.backend.swap(ref_key(name), ref_body(oid) if oid else None, tag)

    # -- content ----------------------------------------------------------------------------
    def list_content(self) -> Iterator[Stat]:
        for s in self.backend.list(CONTENT):
            d = s.key[len(CONTENT):].replace("/", "")
            if is_digest(d) and s.key == content_key(d):
                yield s

    # -- packs ------------------------------------------------------------------------------
    def list_packs(self) -> list[str]:
        """Names of complete packs (both .pack and .idx present), sorted."""
        seen: dict[str, set[str]] = {}
        for s in self.backend.list(PACKS):
            m = _PACK.match(s.key)
            if m:
                seen.setdefault(m.group(1), set()).add(m.group(2))
        return sorted(n for n, kinds in seen.items() if kinds == {"pack", "idx"})


def read_format(backend: Backend) -> tuple[bytes, str] | None:
    """The layout record's ``(bytes, tag)``, or None; one above :data:`FORMAT_LIMIT` bytes is refused unread."""
    return read_bounded(backend, FORMAT_KEY, FORMAT_LIMIT, "layout record")


def chunked_layout(remote: RemoteRepo) -> None:
    """Raise the remote's layout record to 2 (by compare-and-swap) before its first chunk list is
    written, so that an artvcs knowing only layout 1 refuses the remote instead of missing content."""
    body = f"{FORMAT_KEY} 2\n".encode()
    for _ in range(20):
        found = read_format(remote.backend)
        if found is None:
            if remote.backend.create(FORMAT_KEY, body):
                return
            continue
        words = found[0].decode("utf-8", "replace").split()
        if len(words) == 2 and words[1].isdigit() and int(words[1]) >= 2:
            return
        if remote.backend.swap(FORMAT_KEY, body, found[1]):
            return
    raise RemoteError(f"remote {remote.url}: could not raise its layout record to 2 (it keeps changing): try again")


def value_from_listing(stat: Stat, candidates: list[str | None]) -> str | None:
    """The oid a listed ref holds, if its tag shows it is one of ``candidates`` (no request needed)."""
    for oid in candidates:
        if oid and stat.tag == tag_of(ref_body(oid)):
            return oid
    return None
