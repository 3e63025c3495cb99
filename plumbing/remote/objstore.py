"""Object-store backends through fsspec: the generic one, and S3 (s3fs) with native conditional writes.

S3 and S3-compatible stores (SeaweedFS, MinIO, ...) take ``PutObject`` with
``If-None-Match: *`` (create only) and ``If-Match: <etag>`` (compare and
swap), and ``DeleteObject`` with ``If-Match``; s3fs exposes the raw client
call (``call_s3``), which passes those parameters through. A lost condition
is HTTP 412 (or 409 when two conditional writes race on AWS).

Azure (:mod:`.azure_blob`) and GCS (:mod:`.gcs`) have native conditions
too. :class:`FsspecBackend` itself, the fallback for a store whose client
exposes none, gets create-only from fsspec's ``mode="create"`` and
compare-and-swap through a lock object made with it (:mod:`.lockobject`).

Credentials come from each library's usual environment and files; nothing
secret is passed in or kept here, and errors are masked before they leave.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import lockobject
from .backend import SWAP_LIMIT, Backend, Stat, _check_key, tag_of
from .errors import RemoteError, mask, remote_error

_PACKAGES = {"s3": ("s3fs", "s3"), "gs": ("gcsfs", "gcs"), "gcs": ("gcsfs", "gcs"), "az": ("adlfs", "azure"), "abfs": ("adlfs", "azure")}


def _etag(value: Any) -> str | None:
    return str(value).strip().strip('"') if value else None


def _mtime(info: dict[str, Any]) -> float | None:
    value = info.get("LastModified") or info.get("last_modified") or info.get("updated") or info.get("mtime")
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return value.timestamp()
    try:
        import datetime as _dt

        return _dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _lost_condition(exc: BaseException) -> bool:
    """True when ``exc`` says a precondition failed (412) or conflicted (409)."""
    for e in (exc, exc.__cause__, exc.__context__):
        if getattr(e, "status_code", None) in (409, 412):  # azure.core's HttpResponseError
            return True
        resp = getattr(e, "response", None)
        if isinstance(resp, dict):
            code = str(resp.get("Error", {}).get("Code", ""))
            status = resp.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in ("PreconditionFailed", "ConditionalRequestConflict", "412", "409") or status in (409, 412):
                return True
    return isinstance(exc, FileExistsError) or "Precondition" in str(exc)


class FsspecBackend(Backend):
    """Objects under ``<bucket>/<prefix>/`` of an fsspec file system."""

    STALE_LOCK_SECONDS = lockobject.STALE_LOCK_SECONDS

    def __init__(self, url: str, protocol: str, root: str, options: dict[str, Any] | None = None) -> None:
        self.url = url
        self.protocol = protocol
        self.root = root.strip("/")
        self.options = dict(options or {})
        self._fs = None

    @property
    def fs(self):
        if self._fs is None:
            module, extra = _PACKAGES.get(self.protocol, (self.protocol, self.protocol))
            try:
                self._fs = self._make_fs()
            except ImportError:
                raise RemoteError(f"remote {self.url} needs fsspec and {module}: pip install 'artvcs[{extra}]'") from None
            except Exception as e:
                raise remote_error(f"cannot open remote {self.url}", e) from None
        return self._fs

    def _make_fs(self):
        import fsspec

        return fsspec.filesystem(self.protocol, **self._fs_kwargs())

    def _fs_kwargs(self) -> dict[str, Any]:
        return {"skip_instance_cache": True, "use_listings_cache": False, **self.options}

    def _list_tag(self, info: dict[str, Any]) -> str | None:
        """The tag (MD5 hex) a listing entry shows, or None when the store does not list it."""
        return None

    def _full(self, key: str) -> str:
        return f"{self.root}/{_check_key(key)}"

    def _bk(self, key: str) -> tuple[str, str]:
        """``(bucket or container, object name)`` of ``key``."""
        bucket, _, prefix = self.root.partition("/")
        return bucket, f"{prefix}/{_check_key(key)}" if prefix else _check_key(key)

    def _wrap(self, what: str, key: str, exc: BaseException) -> RemoteError:
        return remote_error(f"{what} {self.url.rstrip('/')}/{key}", exc)

    def read(self, key: str, limit: int | None = None) -> tuple[bytes, str] | None:
        try:
            data = self.fs.cat_file(self._full(key), **({} if limit is None else {"start": 0, "end": limit + 1}))
        except FileNotFoundError:
            return None
        except Exception as e:
            raise self._wrap("cannot read", key, e) from None
        return data, tag_of(data)

    def write(self, key: str, data: bytes) -> None:
        try:
            self.fs.pipe_file(self._full(key), data)
        except Exception as e:
            raise self._wrap("cannot write", key, e) from None

    def upload(self, key: str, path: str) -> None:
        try:
            self.fs.put_file(path, self._full(key))
        except Exception as e:
            raise self._wrap("cannot upload", key, e) from None

    def download(self, key: str, path: str) -> None:
        try:
            self.fs.get_file(self._full(key), path)
        except FileNotFoundError:
            raise
        except Exception as e:
            raise self._wrap("cannot download", key, e) from None

    def read_range(self, key: str, start: int, length: int) -> bytes:
        try:
            return self.fs.cat_file(self._full(key), start=start, end=start + length)
        except FileNotFoundError:
            raise
        except Exception as e:
            raise self._wrap("cannot read", key, e) from None

    def create(self, key: str, data: bytes) -> bool:
        try:
            self.fs.pipe_file(self._full(key), data, mode="create")
            return True
        except Exception as e:
            if not _lost_condition(e):
                raise self._wrap("cannot create", key, e) from None
        current = self.read(key, limit=len(data))  # a larger object is not ours: read no further
        return current is not None and current[0] == data

    def swap(self, key: str, data: bytes | None, tag: str) -> bool:
        # No native compare-and-swap: hold a lock object (create-only) around compare + write.
        token = lockobject.acquire(self, key, self.STALE_LOCK_SECONDS)
        if token is None:
            return False
        try:
            current = self.read(key, limit=SWAP_LIMIT)
            if current is not None and len(current[0]) > SWAP_LIMIT:
                return False  # no record swapped is this large: its tag cannot be the one read
            if current is None or current[1] != tag:
                return data is not None and current is not None and current[0] == data
            if data is None:
                self.remove(key)
            else:
                self.write(key, data)
            return True
        finally:
            lockobject.release(self, key, token)

    def stat(self, key: str) -> Stat | None:
        try:
            info = self.fs.info(self._full(key))
        except FileNotFoundError:
            return None
        except Exception as e:
            raise self._wrap("cannot read", key, e) from None
        return Stat(key, int(info.get("size") or 0), _etag(info.get("ETag") or info.get("etag")), _mtime(info))

    def list(self, prefix: str) -> Iterator[Stat]:
        base = f"{self.root}/{prefix.strip('/')}"
        try:
            found = self.fs.find(base, detail=True)
        except FileNotFoundError:
            return
        except Exception as e:
            raise remote_error(f"cannot list {self.url.rstrip('/')}/{prefix}", e) from None
        strip = self.fs._strip_protocol(self.root).rstrip("/") + "/"
        out = []
        for name, info in found.items():
            if info.get("type") == "directory" or not name.startswith(strip):
                continue
            key = name[len(strip):]
            if lockobject.is_lock_key(key):
                continue
            out.append(Stat(key, int(info.get("size") or 0), self._list_tag(info), _mtime(info)))
        yield from sorted(out, key=lambda s: s.key)

    def remove(self, key: str) -> None:
        try:
            self.fs.rm_file(self._full(key))
        except FileNotFoundError:
            pass
        except Exception as e:
            raise self._wrap("cannot delete", key, e) from None


class S3Backend(FsspecBackend):
    """S3 and S3-compatible stores, with the conditional writes done by the server itself."""

    def __init__(self, url: str, root: str, options: dict[str, Any] | None = None) -> None:
        super().__init__(url, "s3", root, options)

    def _fs_kwargs(self) -> dict[str, Any]:
        opts = dict(self.options)
        kw: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
        client: dict[str, Any] = {}
        if opts.get("endpoint_url"):
            kw["endpoint_url"] = opts["endpoint_url"]
        if opts.get("region"):
            client["region_name"] = opts["region"]
        if opts.get("profile"):
            kw["profile"] = opts["profile"]
        if client:
            kw["client_kwargs"] = client
        return kw

    def _list_tag(self, info: dict[str, Any]) -> str | None:
        return _etag(info.get("ETag") or info.get("etag"))  # the ETag of a single-part upload is its MD5

    def read(self, key: str, limit: int | None = None) -> tuple[bytes, str] | None:
        from fsspec.asyn import sync

        bucket, k = self._bk(key)

        async def get():
            resp = await self.fs._call_s3("get_object", Bucket=bucket, Key=k)
            body = resp["Body"]
            try:
                if limit is None:
                    data = await body.read()
                else:  # read(n) gives what has arrived, up to n: read on to limit + 1 or the end, no further
                    parts, got = [], 0
                    while got <= limit:
                        part = await body.read(limit + 1 - got)
                        if not part:
                            break
                        parts.append(part)
                        got += len(part)
                    data = b"".join(parts)
            finally:
                body.close()
            return data, _etag(resp.get("ETag"))

        try:
            data, etag = sync(self.fs.loop, get)
        except FileNotFoundError:
            return None
        except Exception as e:
            raise self._wrap("cannot read", key, e) from None
        return data, etag or tag_of(data)

    def _put(self, key: str, data: bytes, **cond: str) -> bool:
        bucket, k = self._bk(key)
        try:
            self.fs.call_s3("put_object", Bucket=bucket, Key=k, Body=data, **cond)
            return True
        except Exception as e:
            if cond and _lost_condition(e):
                return False
            raise self._wrap("cannot write", key, e) from None

    def write(self, key: str, data: bytes) -> None:
        self._put(key, data)

    def create(self, key: str, data: bytes) -> bool:
        if self._put(key, data, IfNoneMatch="*"):
            return True
        current = self.read(key, limit=len(data))  # a retried request may have won the first time
        return current is not None and current[0] == data

    def swap(self, key: str, data: bytes | None, tag: str) -> bool:
        if data is None:
            bucket, k = self._bk(key)
            try:
                self.fs.call_s3("delete_object", Bucket=bucket, Key=k, IfMatch=f'"{tag}"')
                return True
            except Exception as e:
                if _lost_condition(e):
                    return False
                raise self._wrap("cannot delete", key, e) from None
        if self._put(key, data, IfMatch=f'"{tag}"'):
            return True
        current = self.read(key, limit=len(data))
        return current is not None and current[0] == data


__all__ = ["FsspecBackend", "S3Backend", "mask"]
