"""Azure Blob Storage (adlfs, azure-storage-blob) with the store's own ETag conditions.

Put Blob with ``If-None-Match: *`` writes only if the blob does not exist
(create-only; lost: HTTP 409); Put Blob and Delete Blob with ``If-Match:
<etag>`` act only if the blob is unchanged since it was read (compare-and-
swap; lost: HTTP 412). Azure's ETag is opaque, so compare-and-swap reads the
blob with its ETag, checks that its bytes still have the tag (MD5) the
caller knew, and writes on condition of that ETag.

adlfs holds the asynchronous client; its calls run on adlfs's event loop.
Credentials come from adlfs's usual environment (for example
AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with a key,
SAS token or service principal): never from the repository.
"""
from __future__ import annotations

from typing import Any

from .backend import SWAP_LIMIT, tag_of
from .objstore import FsspecBackend, _lost_condition


class AzureBackend(FsspecBackend):
    """az://container/prefix, with create-only and compare-and-swap by ETag."""

    def __init__(self, url: str, root: str, options: dict[str, Any] | None = None) -> None:
        super().__init__(url, "az", root, options)

    def _fs_kwargs(self) -> dict[str, Any]:
        return {"skip_instance_cache": True}

    def _list_tag(self, info: dict[str, Any]) -> str | None:
        settings = info.get("content_settings")
        md5 = settings.get("content_md5") if isinstance(settings, dict) else getattr(settings, "content_md5", None)
        return bytes(md5).hex() if isinstance(md5, (bytes, bytearray)) and len(md5) == 16 else None

    def _blob(self, key: str, fn):
        """Run ``await fn(blob_client)`` on adlfs's loop."""
        from fsspec.asyn import sync

        container, name = self._bk(key)

        async def call():
            async with self.fs.service_client.get_blob_client(container, name) as client:
                return await fn(client)

        return sync(self.fs.loop, call)

    def _conditional(self, what: str, key: str, fn, gone_is_lost: bool = True) -> bool:
        """``fn``'s request; False when its condition lost (or, with ``gone_is_lost``, the blob vanished)."""
        try:
            self._blob(key, fn)
            return True
        except Exception as e:
            if _lost_condition(e) or (gone_is_lost and type(e).__name__ == "ResourceNotFoundError"):
                return False
            raise self._wrap(what, key, e) from None

    def create(self, key: str, data: bytes) -> bool:
        if self._conditional("cannot create", key, lambda c: c.upload_blob(data, overwrite=False), False):
            return True
        current = self.read(key, limit=len(data))  # a retried request may have won the first time
        return current is not None and current[0] == data

    def _read_etag(self, key: str) -> tuple[bytes, str] | None:
        async def get(client):
            # no more than a swapped record can be (refs, the layout record): a larger one loses the swap
            stream = await client.download_blob(offset=0, length=SWAP_LIMIT + 1)
            return await stream.readall(), stream.properties.etag

        try:
            return self._blob(key, get)
        except Exception as e:
            if type(e).__name__ == "ResourceNotFoundError" or isinstance(e, FileNotFoundError):
                return None
            raise self._wrap("cannot read", key, e) from None

    def swap(self, key: str, data: bytes | None, tag: str) -> bool:
        from azure.core import MatchConditions

        found = self._read_etag(key)
        if found is None:
            return False
        current, etag = found
        if len(current) > SWAP_LIMIT:
            return False  # its tag cannot be the one a bounded read gave
        if tag_of(current) != tag:
            return data is not None and current == data
        cond = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        if data is None:
            return self._conditional("cannot delete", key, lambda c: c.delete_blob(**cond))
        if self._conditional("cannot write", key, lambda c: c.upload_blob(data, overwrite=True, **cond)):
            return True
        again = self.read(key, limit=len(data))
        return again is not None and again[0] == data
