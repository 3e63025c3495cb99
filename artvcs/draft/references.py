"""``add_reference``: manifest entries for bytes that live elsewhere, and fetching them back.

W&B semantics, scheme by scheme:

- ``file://`` — a file is one entry, a folder one entry per file under it
  (up to ``max_objects``), each checksummed by its content (blake3).
- ``http(s)://`` — the digest is the ETag, or the blake3 of the content when
  the server sends none; the size is Content-Length.
- ``s3://``, ``gs://`` and Azure blob URLs (``https://<account>.blob.core.
  windows.net/...``, also ``az://``) — through fsspec: the digest is the
  object's ETag (GCS: its MD5), the size from its metadata, and its version
  (S3 VersionId, GCS generation, Azure version id) as ``extra["versionID"]``
  when there is one; a prefix is one entry per object under it.
- any other scheme — the URI itself as the digest, no size, ``name`` required
  (W&B's tracking handler).

``checksum=False`` records the URI itself as the digest (a local file: the
blake3 of its URI, and its size) and does not look inside folders or prefixes. Downloads fetch the recorded version where there is one
and otherwise refuse bytes that no longer match what was logged.

URIs carrying credentials (a password, or a signed query string) are refused:
a manifest is shared, and credentials are never stored (DESIGN §10).
"""
from __future__ import annotations

import os
import stat as _stat
import urllib.parse
import warnings
from typing import Any

import blake3

from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.hashing import hash_bytes, hash_file, is_digest
from artvcs.plumbing.manifest import Entry
from artvcs.draft.file_references import FileReferencePolicy, ReferenceUnavailableError, read_file_reference
from artvcs.plumbing.repository import DIRNAME
from artvcs.plumbing.paths import normalize_entry_path

DEFAULT_MAX_OBJECTS = 10_000_000
TIMEOUT = 60
CHUNK = 1 << 20
WORKERS = 8
OBJECT_STORES = ("s3", "gs", "az", "abfs")
_PACKAGES = {"s3": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "az": ("adlfs", "azure"), "abfs": ("adlfs", "azure")}
_VERSION_SUFFIX = {"s3": "?versionId={}", "gs": "#{}", "az": "?versionid={}", "abfs": "?versionid={}"}
_SIGNED_QUERY = {
    "sig", "signature", "x-amz-signature", "x-amz-credential", "x-amz-security-token",
    "x-goog-signature", "x-goog-credential", "access_token",
}


# -- resolving ------------------------------------------------------------------------
def resolve_reference(uri: str, name: str | None, checksum: bool = True, max_objects: int | None = None) -> list[Entry]:
    """The manifest entries for reference ``uri``: one, or one per object under a folder or prefix.

    ``name`` is the entry path of a single object, or the folder the objects
    under a folder or prefix go in (default: the object's base name, or the
    artifact's root for a folder).
    """
    if not isinstance(uri, str) or "://" not in uri or not uri.split("://", 1)[0]:
        raise UsageError(
            f"invalid reference {uri!r}: expected a URI with a scheme, such as file:///data/x.csv, "
            "https://host/x, s3://bucket/key or gs://bucket/key"
        )
    scheme = uri.split("://", 1)[0].lower()
    _refuse_credentials(uri, scheme)
    if max_objects is None:
        limit = DEFAULT_MAX_OBJECTS
    elif isinstance(max_objects, bool) or not isinstance(max_objects, int) or max_objects < 1:
        raise UsageError(f"invalid max_objects {max_objects!r}: must be a positive integer (or None for {DEFAULT_MAX_OBJECTS:,})")
    else:
        limit = max_objects
    prefix = normalize_entry_path(name) if name not in (None, "") else None
    if scheme == "file":
        return _file_entries(uri, prefix, checksum, limit)
    if scheme in ("http", "https") and not _is_azure(uri):
        return _http_entries(uri, prefix, checksum)
    if scheme in OBJECT_STORES or _is_azure(uri):
        return _object_entries(uri, prefix, checksum, limit)
    if prefix is None:
        raise UsageError(
            f"add_reference: artvcs cannot read {scheme}:// URIs, so {uri!r} needs name= (the path of its entry)"
        )
    return [Entry(prefix, uri, None, uri, {})]


def _uri_digest(uri: str) -> str:
    return hash_bytes(uri.encode())


def _redacted(uri: str) -> str:
    p = urllib.parse.urlsplit(uri)
    host = p.hostname or ""
    return f"{p.scheme}://{host}{p.path}" + ("?…" if p.query else "")


def _refuse_credentials(uri: str, scheme: str) -> None:
    try:
        p = urllib.parse.urlsplit(uri)
        password = p.password
    except ValueError:
        raise UsageError(f"invalid reference {uri!r}: not a well-formed URI") from None
    signed = {k.lower() for k, _ in urllib.parse.parse_qsl(p.query, keep_blank_values=True)} & _SIGNED_QUERY
    if password is not None or signed:
        what = "a password" if password is not None else f"signed query parameters ({', '.join(sorted(signed))})"
        raise UsageError(
            f"add_reference: {_redacted(uri)} carries {what}; artvcs never stores credentials in a manifest: "
            "give the URI without them and provide credentials through the environment or a config file"
        )


def _truncated(items: list, limit: int, uri: str) -> list:
    if len(items) > limit:
        warnings.warn(
            f"add_reference: {uri} holds more than max_objects={limit} objects; only the first {limit} were added "
            "(pass a larger max_objects to add more)",
            UserWarning,
            stacklevel=4,
        )
        return items[:limit]
    return items


def _under(prefix: str | None, rel: str) -> str:
    return normalize_entry_path(f"{prefix}/{rel}" if prefix else rel)


def _basename_or_name(prefix: str | None, base: str, uri: str) -> str:
    if prefix is not None:
        return prefix
    if not base:
        raise UsageError(f"add_reference: no file name can be taken from {uri!r}: pass name= (the path of its entry)")
    return normalize_entry_path(base)


# -- file:// ---------------------------------------------------------------------------
def _local_path(uri: str) -> str:
    rest = uri.split("://", 1)[1]
    host, slash, path = rest.partition("/")
    if host not in ("", "localhost") or not slash:
        raise UsageError(f"invalid reference {uri!r}: a file URI names an absolute local path, file:///path/to/x")
    return urllib.parse.unquote("/" + path)


def _file_uri(path: str) -> str:
    return "file://" + urllib.parse.quote(path)


def _file_entries(uri: str, prefix: str | None, checksum: bool, limit: int) -> list[Entry]:
    path = _local_path(uri)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ReferenceUnavailableError(f"add_reference: {uri} does not exist") from None
    except OSError as e:
        raise ReferenceUnavailableError(f"add_reference: {uri} cannot be read: {e.strerror}") from None
    base = os.path.basename(path.rstrip("/"))
    if not _stat.S_ISDIR(st.st_mode) and not _stat.S_ISREG(st.st_mode):
        raise ReferenceUnavailableError(
            f"add_reference: {uri} is not a regular file or folder (a device, FIFO or socket): it has no bytes to reference"
        )
    if not _stat.S_ISDIR(st.st_mode):
        entry_path = _basename_or_name(prefix, base, uri)
        if not checksum:
            return [Entry(entry_path, _uri_digest(uri), st.st_size, uri, {})]
        digest, size = _hash_local(path, uri)
        return [Entry(entry_path, digest, size, uri, {})]
    if not checksum:  # W&B: a folder is not iterated without checksums
        return [Entry(_basename_or_name(prefix, base, uri), _uri_digest(uri), None, uri, {})]
    files = _truncated(_list_folder(path, limit), limit, uri)

    def entry(item: tuple[str, str]) -> Entry:
        rel, full = item
        digest, size = _hash_local(full, _file_uri(full))
        return Entry(_under(prefix, rel), digest, size, _file_uri(full), {})

    if len(files) < 64:
        return [entry(f) for f in files]
    from concurrent.futures import ThreadPoolExecutor  # here: a draft without references needs no pool

    with ThreadPoolExecutor(WORKERS) as pool:
        return list(pool.map(entry, files))


def _list_folder(root: str, limit: int) -> list[tuple[str, str]]:
    """``(relative path, full path)`` of regular files under ``root``, in a fixed order, at most ``limit + 1``.

    Links to files are followed; links to folders are not (as os.walk). A
    ``.artifacts`` repository folder is never referenced (as git never adds ``.git``).
    """
    out: list[tuple[str, str]] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != DIRNAME)
        rel_folder = os.path.relpath(folder, root)
        for n in sorted(names):
            full = os.path.join(folder, n)
            try:
                if not _stat.S_ISREG(os.stat(full).st_mode):
                    continue  # a pipe, socket or dangling link has no bytes to reference
            except OSError:
                continue
            rel = n if rel_folder == "." else f"{rel_folder}/{n}".replace(os.sep, "/")
            out.append((rel, full))
            if len(out) > limit:
                return out
    return out


def _hash_local(path: str, uri: str) -> tuple[str, int]:
    try:
        return hash_file(path)
    except OSError as e:
        raise ReferenceUnavailableError(f"add_reference: {uri} cannot be read: {e.strerror}") from None


# -- http(s):// ------------------------------------------------------------------------------
def _http_open(uri: str, method: str):
    import urllib.error
    import urllib.request

    req = urllib.request.Request(uri, method=method, headers={"User-Agent": "artvcs"})
    try:
        return urllib.request.urlopen(req, timeout=TIMEOUT)
    except urllib.error.HTTPError as e:
        e.close()
        raise _HTTPStatus(e.code, e.reason) from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ReferenceUnavailableError(f"{uri} is unreachable: {reason}") from None


class _HTTPStatus(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code, self.reason = code, reason


def _etag(headers) -> str | None:
    tag = (headers.get("ETag") or "").strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"') or None


def _length(headers) -> int | None:
    value = (headers.get("Content-Length") or "").strip()
    return int(value) if value.isdigit() else None


def _http_entries(uri: str, prefix: str | None, checksum: bool) -> list[Entry]:
    parsed = urllib.parse.urlsplit(uri)
    base = os.path.basename(urllib.parse.unquote(parsed.path).rstrip("/"))
    entry_path = _basename_or_name(prefix, base, uri)
    if not checksum:
        return [Entry(entry_path, uri, None, uri, {})]
    try:
        resp = _http_open(uri, "HEAD")
    except _HTTPStatus as e:
        if e.code not in (403, 405, 501):  # some servers (and GET-signed URLs) refuse HEAD
            raise ReferenceUnavailableError(f"add_reference: {uri} answered HTTP {e.code} {e.reason}") from None
        resp = None
    if resp is not None:
        with resp:
            etag, size = _etag(resp.headers), _length(resp.headers)
        if etag:
            return [Entry(entry_path, etag, size, uri, {"etag": etag})]
    try:
        with _http_open(uri, "GET") as resp:
            etag, size = _etag(resp.headers), _length(resp.headers)
            if etag:  # do not read the body: the ETag is the checksum
                return [Entry(entry_path, etag, size, uri, {"etag": etag})]
            h, n = blake3.blake3(), 0
            while chunk := resp.read(CHUNK):
                h.update(chunk)
                n += len(chunk)
    except _HTTPStatus as e:
        raise ReferenceUnavailableError(f"add_reference: {uri} answered HTTP {e.code} {e.reason}") from None
    return [Entry(entry_path, h.hexdigest(), n, uri, {})]


# -- object stores, through fsspec --------------------------------------------------------------
def _is_azure(uri: str) -> bool:
    if not uri.lower().startswith("https://"):
        return False
    host = urllib.parse.urlsplit(uri).hostname or ""
    return host.endswith(".blob.core.windows.net")


def _locate(uri: str) -> tuple[str, str, str | None]:
    """``(kind, fsspec path, Azure account)`` of an object-store URI."""
    if _is_azure(uri):
        p = urllib.parse.urlsplit(uri)
        path = urllib.parse.unquote(p.path).lstrip("/")
        if not path:
            raise UsageError(f"invalid reference {uri!r}: an Azure blob URL names a container: https://<account>.blob.core.windows.net/<container>/<blob>")
        return "az", path, (p.hostname or "").split(".")[0]
    scheme, rest = uri.split("://", 1)
    kind = scheme.lower()
    bucket = rest.partition("/")[0]
    if not bucket:
        raise UsageError(f"invalid reference {uri!r}: expected {kind}://<bucket>/<key>")
    return kind, rest, None  # keys are taken as written: they may hold '?', '#' or '%'


def _filesystem(kind: str, uri: str, account: str | None, version_aware: bool = False):
    module, extra = _PACKAGES[kind]
    hint = f"references to {_redacted(uri)} need fsspec and {module}: pip install 'artvcs[{extra}]'"
    try:
        import fsspec
    except ImportError:
        raise UsageError(hint) from None
    kwargs: dict[str, Any] = {"skip_instance_cache": True, "version_aware": version_aware}
    if kind == "s3":
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            kwargs["endpoint_url"] = endpoint
    if account:
        kwargs["account_name"] = account
    try:
        return fsspec.filesystem(kind, **kwargs)
    except ImportError:
        raise UsageError(hint) from None


def _object_digest(kind: str, info: dict[str, Any]) -> str | None:
    value = (info.get("md5Hash") or info.get("etag")) if kind == "gs" else (info.get("ETag") or info.get("etag"))
    if not value:
        return None
    return str(value).strip().strip('"') or None


def _object_version(kind: str, info: dict[str, Any]) -> str | None:
    value = {"s3": info.get("VersionId"), "gs": info.get("generation")}.get(kind, info.get("version_id"))
    return None if value in (None, "", "null") else str(value)


def _object_entry(kind: str, info: dict[str, Any], uri: str, entry_path: str) -> Entry:
    extra: dict[str, Any] = {}
    version = _object_version(kind, info)
    if version:
        extra["versionID"] = version
    size = info.get("size", info.get("Size"))
    return Entry(entry_path, _object_digest(kind, info) or _uri_digest(uri), int(size) if size is not None else None, uri, extra)


def _info(fs, path: str, uri: str, verb: str) -> dict[str, Any]:
    try:
        return fs.info(path)
    except FileNotFoundError:
        raise ReferenceUnavailableError(f"{verb}: {uri} does not exist") from None
    except Exception as e:  # an SDK's own error type (auth, network, throttling)
        raise ReferenceUnavailableError(f"{verb}: {uri} cannot be read: {e}") from None


def _object_entries(uri: str, prefix: str | None, checksum: bool, limit: int) -> list[Entry]:
    kind, path, account = _locate(uri)
    base = os.path.basename(path.rstrip("/"))
    if not checksum:  # W&B: a prefix is not listed without checksums
        return [Entry(_basename_or_name(prefix, base or path.strip("/"), uri), uri, None, uri, {})]
    fs = _filesystem(kind, uri, account)
    info = _info(fs, path, uri, "add_reference")
    if info.get("type") != "directory":
        return [_object_entry(kind, info, uri, _basename_or_name(prefix, base, uri))]
    root = path.rstrip("/")
    try:
        found = fs.find(root, detail=True)
    except Exception as e:
        raise ReferenceUnavailableError(f"add_reference: {uri} cannot be listed: {e}") from None
    listed_root = fs._strip_protocol(root).rstrip("/")
    objects = sorted(
        (name, meta) for name, meta in found.items()
        if meta.get("type") != "directory" and not name.endswith("/") and name.startswith(listed_root + "/")
    )
    objects = _truncated(objects, limit, uri)
    objects = _with_versions(fs, kind, objects)
    base_uri = uri.rstrip("/")
    out = []
    for name, meta in objects:
        rel = name[len(listed_root) + 1 :]
        obj_uri = f"{base_uri}/{urllib.parse.quote(rel) if kind == 'az' and _is_azure(uri) else rel}"
        out.append(_object_entry(kind, meta, obj_uri, _under(prefix, rel)))
    return out


def _with_versions(fs, kind: str, objects: list) -> list:
    """A listing has no S3 version ids: if the bucket is versioned (the first object says so), ask for each."""
    if kind != "s3" or not objects or _object_version(kind, objects[0][1]):
        return objects
    try:
        if not _object_version(kind, fs.info(objects[0][0])):
            return objects  # not versioned: the listing says all there is
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(WORKERS) as pool:
            return list(zip([n for n, _ in objects], pool.map(lambda item: fs.info(item[0]), objects)))
    except Exception as e:
        raise ReferenceUnavailableError(f"add_reference: the version ids under {objects[0][0]!r} cannot be read: {e}") from None


# -- fetching ------------------------------------------------------------------------------------
def fetch_reference(entry: Entry, dest: str, policy: FileReferencePolicy | None = None) -> None:
    """Write the bytes ``entry`` refers to at ``dest``, refusing bytes that are not the ones logged.

    A recorded version id is fetched as such; otherwise the recorded checksum
    (blake3 or ETag) must still match. ``checksum=False`` entries are fetched
    as they are now. ``file://`` references follow :mod:`.file_references`
    (``policy``: the repository's, see ``policy_for``). Errors name the URI and
    derive from ArtvcsError.
    """
    uri = entry.ref
    if not isinstance(uri, str) or "://" not in uri:
        raise ReferenceUnavailableError(f"entry {entry.path!r} is not a reference (no URI recorded)")
    scheme = uri.split("://", 1)[0].lower()
    if scheme == "file":
        return read_file_reference(entry, uri, _local_path(uri), dest, _checksummed(entry, uri), policy,
                                   lambda detail: _changed(entry, uri, detail))
    if scheme in ("http", "https") and not _is_azure(uri):
        return _fetch_http(entry, uri, dest)
    if scheme in OBJECT_STORES or _is_azure(uri):
        return _fetch_object(entry, uri, dest)
    raise ReferenceUnavailableError(
        f"reference {uri} of {entry.path!r} has scheme {scheme!r}, which artvcs cannot download "
        "(download(allow_missing_references=True) skips it)"
    )


def _unchecked(entry: Entry, uri: str) -> bool:
    """True for a reference logged with ``checksum=False``: its digest is the URI (or, before, its blake3)."""
    return entry.digest in (uri, _uri_digest(uri))


def _checksummed(entry: Entry, uri: str) -> bool:
    """True when the digest is the blake3 of the content (not the URI or its blake3, not an ETag)."""
    return is_digest(entry.digest) and not _unchecked(entry, uri)


def _changed(entry: Entry, uri: str, detail: str = "") -> ReferenceUnavailableError:
    return ReferenceUnavailableError(
        f"reference {uri} of {entry.path!r} changed since it was logged{detail}: "
        "log a new version of the artifact, or download with allow_missing_references=True to skip it"
    )


def _fetch_http(entry: Entry, uri: str, dest: str) -> None:
    recorded = entry.extra.get("etag") or (None if is_digest(entry.digest) or _unchecked(entry, uri) else entry.digest)
    try:
        resp = _http_open(uri, "GET")
    except _HTTPStatus as e:
        raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} could not be fetched: HTTP {e.code} {e.reason}") from None
    with resp:
        etag = _etag(resp.headers)
        if recorded and etag and etag != recorded:  # refuse before reading the body
            raise _changed(entry, uri, f" (ETag {etag}, logged {recorded})")
        verify = not recorded and _checksummed(entry, uri)
        h, n = blake3.blake3(), 0
        with open(dest, "wb") as out:
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                if verify:
                    h.update(chunk)
                n += len(chunk)
    if verify and h.hexdigest() != entry.digest:
        raise _changed(entry, uri)
    if recorded and entry.size is not None and n != entry.size:
        raise _changed(entry, uri, f" ({n} bytes, logged {entry.size})")


def _fetch_object(entry: Entry, uri: str, dest: str) -> None:
    kind, path, account = _locate(uri)
    version = entry.extra.get("versionID")
    fs = _filesystem(kind, uri, account, version_aware=bool(version))
    if version:
        source = path + _VERSION_SUFFIX[kind].format(version)  # that version, whatever happened since
    else:
        info = _info(fs, path, uri, f"reference of {entry.path!r}")
        if info.get("type") == "directory":
            raise ReferenceUnavailableError(
                f"reference {uri} of {entry.path!r} is a prefix logged with checksum=False: "
                "its objects were not recorded, so it cannot be downloaded"
            )
        now = _object_digest(kind, info)
        if not _unchecked(entry, uri) and now and now != entry.digest:
            raise _changed(entry, uri, f" (ETag {now}, logged {entry.digest})")
        source = path
    try:
        fs.get_file(source, dest)
    except FileNotFoundError:
        raise ReferenceUnavailableError(
            f"reference {uri} of {entry.path!r} no longer exists" + (f" in version {version}" if version else "")
        ) from None
    except Exception as e:
        raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} could not be fetched: {e}") from None
    if entry.size is not None and not _unchecked(entry, uri) and os.path.getsize(dest) != entry.size:
        raise _changed(entry, uri, f" ({os.path.getsize(dest)} bytes, logged {entry.size})")
