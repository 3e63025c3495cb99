"""``add_reference``: entries for bytes that live elsewhere, and fetching them back.

As in W&B: ``file://`` is checksummed from content; ``http(s)://`` from the
ETag (or the content when there is none) with the size from Content-Length;
``s3://``, ``gs://`` and Azure blob URLs from the object's ETag / version id
through fsspec; any other scheme gets the digest of the URI itself.
``checksum=False`` digests the URI and does not expand folders or prefixes.
"""
from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Any

from artvcs.plumbing.errors import ArtvcsError, UsageError
from artvcs.plumbing.hashing import hash_bytes, hash_file, is_digest
from artvcs.plumbing.manifest import Entry
from artvcs.plumbing.paths import normalize_entry_path

DEFAULT_MAX_OBJECTS = 10_000_000
TIMEOUT = 60
_EXTRAS = {"s3": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "az": ("adlfs", "azure"), "abfs": ("adlfs", "azure")}


class ReferenceUnavailableError(ArtvcsError):
    """A referenced object is missing, changed, or unreachable."""


def _uri_digest(uri: str) -> str:
    return hash_bytes(uri.encode())


def _is_azure(parsed: urllib.parse.ParseResult) -> bool:
    return parsed.scheme == "https" and parsed.netloc.endswith(".blob.core.windows.net")


def _truncate(items: list, max_objects: int, uri: str) -> list:
    if len(items) > max_objects:
        warnings.warn(
            f"add_reference: {uri} holds more than max_objects={max_objects} objects; only the first {max_objects} were added",
            stacklevel=4,
        )
        return items[:max_objects]
    return items


def resolve_reference(uri: str, name: str | None, checksum: bool = True, max_objects: int | None = None) -> list[Entry]:
    """The manifest entries for reference ``uri`` (one, or one per object under a folder/prefix)."""
    if not isinstance(uri, str) or "://" not in uri:
        raise UsageError(f"invalid reference {uri!r}: expected a URI such as file:///path, https://host/x or s3://bucket/key")
    if max_objects is not None and (not isinstance(max_objects, int) or max_objects < 1):
        raise UsageError(f"max_objects {max_objects!r} must be a positive integer")
    parsed = urllib.parse.urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        return _file(uri, parsed, name, checksum, max_objects or DEFAULT_MAX_OBJECTS)
    if scheme in ("http", "https") and not _is_azure(parsed):
        return _http(uri, parsed, name, checksum)
    if scheme in ("s3", "gs") or _is_azure(parsed) or scheme in ("az", "abfs"):
        return _object_store(uri, parsed, name, checksum, max_objects or DEFAULT_MAX_OBJECTS)
    if not name:
        raise UsageError(f"add_reference: {uri!r} has scheme {scheme!r}, which artvcs cannot read: pass name= for its entry path")
    return [Entry(normalize_entry_path(name), _uri_digest(uri), None, uri, {})]


# -- file:// -------------------------------------------------------------------
def _local_path(parsed: urllib.parse.ParseResult) -> str:
    if parsed.netloc not in ("", "localhost"):
        raise UsageError(f"file URI with host {parsed.netloc!r} is not supported: use file:///absolute/path")
    return urllib.parse.unquote(parsed.path)


def _file(uri: str, parsed, name: str | None, checksum: bool, max_objects: int) -> list[Entry]:
    path = _local_path(parsed)
    if not os.path.exists(path):
        raise ReferenceUnavailableError(f"add_reference: {uri} does not exist")
    if os.path.isfile(path):
        entry_path = normalize_entry_path(name or os.path.basename(path))
        st = os.stat(path)
        digest = hash_file(path)[0] if checksum else _uri_digest(uri)
        return [Entry(entry_path, digest, st.st_size, uri, {})]
    if not checksum:
        entry_path = normalize_entry_path(name or os.path.basename(path.rstrip("/")))
        return [Entry(entry_path, _uri_digest(uri), None, uri, {})]
    files = []
    for folder, dirs, names in os.walk(path):
        dirs.sort()
        for n in sorted(names):
            files.append(os.path.join(folder, n))
    files = _truncate(files, max_objects, uri)
    out = []
    for f in files:
        rel = os.path.relpath(f, path).replace(os.sep, "/")
        entry_path = normalize_entry_path(f"{name}/{rel}" if name else rel)
        out.append(Entry(entry_path, hash_file(f)[0], os.path.getsize(f), "file://" + urllib.parse.quote(f), {}))
    return out


# -- http(s):// -----------------------------------------------------------------
def _http_head(uri: str) -> tuple[dict[str, str], bytes | None]:
    req = urllib.request.Request(uri, method="HEAD")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
            return {k.lower(): v for k, v in resp.headers.items()}, None
    except urllib.error.HTTPError as e:
        if e.code not in (403, 405, 501):
            raise ReferenceUnavailableError(f"add_reference: {uri} answered HTTP {e.code}") from None
    except urllib.error.URLError as e:
        raise ReferenceUnavailableError(f"add_reference: {uri} is unreachable: {e.reason}") from None
    with urllib.request.urlopen(uri, timeout=TIMEOUT) as resp:  # HEAD refused: GET it
        return {k.lower(): v for k, v in resp.headers.items()}, resp.read()


def _etag(headers: dict[str, str]) -> str | None:
    tag = headers.get("etag")
    if not tag:
        return None
    tag = tag.strip()
    if tag.startswith("W/"):
        tag = tag[2:]
    return tag.strip('"') or None


def _http(uri: str, parsed, name: str | None, checksum: bool) -> list[Entry]:
    entry_path = normalize_entry_path(name or os.path.basename(urllib.parse.unquote(parsed.path)) or parsed.netloc)
    if not checksum:
        return [Entry(entry_path, _uri_digest(uri), None, uri, {})]
    headers, body = _http_head(uri)
    size = int(headers["content-length"]) if headers.get("content-length", "").isdigit() else None
    etag = _etag(headers)
    if etag:
        return [Entry(entry_path, etag, size, uri, {"etag": etag})]
    if body is None:
        with urllib.request.urlopen(uri, timeout=TIMEOUT) as resp:
            body = resp.read()
    return [Entry(entry_path, hash_bytes(body), len(body), uri, {})]


# -- object stores through fsspec ---------------------------------------------
def _filesystem(uri: str, parsed):
    scheme = "az" if _is_azure(parsed) else parsed.scheme.lower()
    module, extra = _EXTRAS.get(scheme, (scheme, scheme))
    try:
        import fsspec
    except ImportError:
        raise UsageError(f"references to {scheme}:// need fsspec: pip install 'artvcs[{extra}]'") from None
    kwargs: dict[str, Any] = {}
    if scheme == "s3":
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            kwargs["endpoint_url"] = endpoint
        kwargs["version_aware"] = True
    try:
        return fsspec.filesystem(scheme, **kwargs), scheme
    except (ImportError, ValueError):
        raise UsageError(f"references to {scheme}:// need {module}: pip install 'artvcs[{extra}]'") from None


def _object_path(uri: str, parsed) -> str:
    if _is_azure(parsed):
        return parsed.path.lstrip("/")
    return f"{parsed.netloc}{parsed.path}"


def _object_entry(info: dict[str, Any], uri: str, entry_path: str) -> Entry:
    etag = str(info.get("ETag") or info.get("etag") or info.get("md5Hash") or "").strip('"')
    version = info.get("VersionId") or info.get("generation") or info.get("version_id")
    extra: dict[str, Any] = {}
    if etag:
        extra["etag"] = etag
    if version and version != "null":
        extra["versionID"] = str(version)
    digest = etag or _uri_digest(uri)
    return Entry(entry_path, digest, int(info.get("size") or info.get("Size") or 0), uri, extra)


def _object_store(uri: str, parsed, name: str | None, checksum: bool, max_objects: int) -> list[Entry]:
    base = os.path.basename(parsed.path.rstrip("/")) or parsed.netloc
    if not checksum:
        return [Entry(normalize_entry_path(name or base), _uri_digest(uri), None, uri, {})]
    fs, scheme = _filesystem(uri, parsed)
    path = _object_path(uri, parsed)
    try:
        info = fs.info(path)
    except FileNotFoundError:
        raise ReferenceUnavailableError(f"add_reference: {uri} does not exist") from None
    if info.get("type") != "directory":
        return [_object_entry(info, uri, normalize_entry_path(name or base))]
    keys = sorted(fs.find(path.rstrip("/"), detail=True).items())
    keys = _truncate(keys, max_objects, uri)
    prefix = uri.rstrip("/")
    out = []
    root = path.rstrip("/")
    for key, meta in keys:
        rel = key[len(root):].lstrip("/")
        entry_path = normalize_entry_path(f"{name}/{rel}" if name else rel)
        out.append(_object_entry(meta, f"{prefix}/{rel}", entry_path))
    return out


# -- fetching -------------------------------------------------------------------
def fetch_reference(entry: Entry, dest: str) -> None:
    """Write the bytes ``entry`` refers to at ``dest``, checking they are the ones recorded."""
    uri = entry.ref
    parsed = urllib.parse.urlparse(uri)
    scheme = parsed.scheme.lower()
    if scheme == "file":
        src = _local_path(parsed)
        try:
            shutil.copyfile(src, dest)
        except FileNotFoundError:
            raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} no longer exists") from None
        if is_digest(entry.digest) and hash_file(dest)[0] != entry.digest and entry.digest != _uri_digest(uri):
            raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} changed since it was logged")
        return
    if scheme in ("http", "https") and not _is_azure(parsed):
        try:
            with urllib.request.urlopen(uri, timeout=TIMEOUT) as resp, open(dest, "wb") as out:
                etag = _etag({k.lower(): v for k, v in resp.headers.items()})
                shutil.copyfileobj(resp, out, 1024 * 1024)
        except urllib.error.URLError as e:
            raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} could not be fetched: {e}") from None
        recorded = entry.extra.get("etag")
        if recorded and etag and etag != recorded:
            raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} changed since it was logged (ETag {etag} != {recorded})")
        if not recorded and is_digest(entry.digest) and entry.digest != _uri_digest(uri) and hash_file(dest)[0] != entry.digest:
            raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} changed since it was logged")
        return
    if scheme in ("s3", "gs", "az", "abfs") or _is_azure(parsed):
        fs, _ = _filesystem(uri, parsed)
        path = _object_path(uri, parsed)
        version = entry.extra.get("versionID")
        try:
            if version and scheme == "s3":
                with fs.open(path, "rb", version_id=version) as src, open(dest, "wb") as out:
                    shutil.copyfileobj(src, out, 8 * 1024 * 1024)
            else:
                fs.get_file(path, dest)
        except FileNotFoundError:
            raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} no longer exists") from None
        recorded = entry.extra.get("etag")
        if recorded and not version:
            now = str(fs.info(path).get("ETag") or "").strip('"')
            if now and now != recorded:
                raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} changed since it was logged")
        return
    raise ReferenceUnavailableError(f"reference {uri} of {entry.path!r} has scheme {scheme!r}, which artvcs cannot download")
