"""What each kind of remote guarantees for the two conditional writes that keep concurrent writers apart.

One row per scheme: how create-only and compare-and-swap are done, and where
they hold. artvcs(1) prints the same table (tests/remote/test_remote_guarantees.py
compares), and ``artvcs remote add`` prints :func:`caveat` when the
guarantee depends on a server artvcs cannot vouch for.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Guarantee:
    """A row of the table: the scheme, its create-only write, its compare-and-swap, and where both are atomic."""

    scheme: str
    create: str
    swap: str
    atomic: str


TABLE = (
    Guarantee("file://", "link(2)", "flock(2)", "yes; NFS: with locks"),
    Guarantee("s3://", "If-None-Match: *", "If-Match: ETag", "AWS; others if honoured"),
    Guarantee("az://", "If-None-Match: *", "If-Match: ETag", "yes"),
    Guarantee("gs://", "ifGenerationMatch=0", "ifGenerationMatch=N", "GCS; others if honoured"),
)


def caveat(scheme: str, options: dict[str, Any]) -> str | None:
    """One line saying what is not guaranteed for a remote of ``scheme`` with ``options``, or None."""
    endpoint = options.get("endpoint_url")
    if scheme == "s3" and endpoint:
        return (f"atomic create and compare-and-swap on {endpoint} hold only if that server honours If-None-Match "
                "and If-Match (AWS S3 and SeaweedFS do); otherwise concurrent pushes can overwrite each other")
    if scheme in ("gs", "gcs") and endpoint:
        return (f"atomic create and compare-and-swap on {endpoint} hold only if that server honours ifGenerationMatch "
                "(Google Cloud Storage does; fake-gcs-server does on writes, not on deletes)")
    return None
