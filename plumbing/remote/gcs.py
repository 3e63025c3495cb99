"""Google Cloud Storage (gcsfs) with the store's own preconditions: ``ifGenerationMatch``.

Every GCS object has a generation, a number that changes with each write.
An upload with ``ifGenerationMatch=0`` succeeds only if the object does not
exist (create-only); with ``ifGenerationMatch=<g>`` only if the object is
still at generation ``g`` (compare-and-swap), and a delete likewise. A lost
precondition is HTTP 412, which gcsfs raises as FileExistsError.

Compare-and-swap reads the object's metadata (generation and MD5) first:
if its MD5 is the tag the caller read, the write is made conditional on
that generation, so it lands only if nobody wrote in between.

gcsfs's classic client is used directly: its newer default class probes
each bucket over gRPC for zonal storage, which a GCS emulator does not
answer. ``endpoint_url`` (or the usual ``STORAGE_EMULATOR_HOST``) points it
at another server; credentials come from Google's usual environment.
"""
from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

from .errors import RemoteError
from .objstore import FsspecBackend, _lost_condition


def md5_hex(b64: Any) -> str | None:
    """GCS's base64 ``md5Hash`` as the hex tag artvcs compares (None when absent or malformed)."""
    if not isinstance(b64, str) or not b64:
        return None
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError:
        return None
    return raw.hex() if len(raw) == 16 else None


class GCSBackend(FsspecBackend):
    """gs://bucket/prefix, with create-only and compare-and-swap by object generation."""

    def __init__(self, url: str, root: str, options: dict[str, Any] | None = None) -> None:
        super().__init__(url, "gs", root, options)

    def _make_fs(self):
        from gcsfs.core import GCSFileSystem

        return GCSFileSystem(**self._fs_kwargs())

    def _fs_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
        if self.options.get("endpoint_url"):
            kw["endpoint_url"] = self.options["endpoint_url"]
        return kw

    def _list_tag(self, info: dict[str, Any]) -> str | None:
        return md5_hex(info.get("md5Hash"))

    def _sync(self, fn, *args, **kwargs):
        from fsspec.asyn import sync

        return sync(self.fs.loop, fn, *args, **kwargs)

    def _upload(self, key: str, data: bytes, generation: str) -> bool:
        """A multipart upload of ``data`` on condition ``ifGenerationMatch=generation``; False if it lost."""
        bucket, name = self._bk(key)
        head = json.dumps({"name": name}).encode()
        body = (b"--==0==\nContent-Type: application/json; charset=UTF-8\n\n" + head
                + b"\n--==0==\nContent-Type: application/octet-stream\n\n" + data + b"\n--==0==--")
        try:
            self._sync(self.fs._call, "POST", f"{self.fs._location}/upload/storage/v1/b/{quote(bucket)}/o",
                       uploadType="multipart", headers={"Content-Type": 'multipart/related; boundary="==0=="'},
                       data=body, json_out=True, ifGenerationMatch=generation)
            return True
        except Exception as e:
            if _lost_condition(e):
                return False
            raise self._wrap("cannot write", key, e) from None

    def _meta(self, key: str) -> dict[str, Any] | None:
        bucket, name = self._bk(key)
        try:
            meta = self._sync(self.fs._call, "GET", "b/{}/o/{}", bucket, name, json_out=True)
        except FileNotFoundError:
            return None
        except Exception as e:
            raise self._wrap("cannot read", key, e) from None
        if not isinstance(meta, dict):
            raise RemoteError(f"remote {self.url} answered the metadata of {key} with {type(meta).__name__}, not an object")
        return meta

    def create(self, key: str, data: bytes) -> bool:
        if self._upload(key, data, "0"):
            return True
        current = self.read(key, limit=len(data))  # a retried request may have won the first time
        return current is not None and current[0] == data

    def swap(self, key: str, data: bytes | None, tag: str) -> bool:
        meta = self._meta(key)
        if meta is None or md5_hex(meta.get("md5Hash")) != tag:
            if data is None or meta is None:
                return False
            current = self.read(key, limit=len(data))
            return current is not None and current[0] == data
        generation = str(meta.get("generation") or "")
        if not generation.isdigit():
            return False
        if data is not None:
            if self._upload(key, data, generation):
                return True
            current = self.read(key, limit=len(data))
            return current is not None and current[0] == data
        bucket, name = self._bk(key)
        try:
            self._sync(self.fs._call, "DELETE", "b/{}/o/{}", bucket, name, ifGenerationMatch=generation)
            return True
        except FileNotFoundError:
            return False
        except Exception as e:
            if _lost_condition(e):
                return False
            raise self._wrap("cannot delete", key, e) from None
