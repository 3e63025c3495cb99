"""Remotes: a repository's versions, manifests and content in a shared object store.

Modules, one concern each:

- :mod:`.backend`  — the key-value interface and the ``file://`` backend;
- :mod:`.objstore` — S3 (native If-None-Match / If-Match) and the generic fsspec store;
- :mod:`.azure_blob` — Azure Blob Storage (native ETag conditions);
- :mod:`.gcs`      — Google Cloud Storage (native ifGenerationMatch);
- :mod:`.lockobject` — the lock object of a store without native compare-and-swap;
- :mod:`.guarantees` — what each scheme guarantees (artvcs(1)'s table, remote add's caveat);
- :mod:`.layout`   — the remote layout (artvcs-remote-format(5)) and its URLs;
- :mod:`.content`  — verified, parallel transfer of file content;
- :mod:`.chunks`   — chunked large files: only missing chunks, in packs, by byte ranges, verified;
- :mod:`.pool`     — the thread pool remote requests run on;
- :mod:`.packs`    — git objects as packs: what to send, sending, fetching, verifying;
- :mod:`.quarantine` — fetched packs held apart and re-hashed until what the refs name is checked;
- :mod:`.incoming` — the checks of every ref value a fetch brings (names, numbers, history, manifests, facts);
- :mod:`.provenance` — which ``file:`` references arrived from a remote;
- :mod:`.state`    — what this repository last saw of each remote, and the versions ever published;
- :mod:`.errors`   — remote errors and credential masking.

No click, no printing: progress goes through :mod:`artvcs.plumbing.progress`.
"""
