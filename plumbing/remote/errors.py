"""Errors of remote work, and the masking that keeps credentials out of them.

A backend's own exceptions (botocore, aiohttp, OSError) can carry an access
key, a signed URL or a password in a URI. Every message that leaves this
package goes through :func:`mask` first, so nothing secret is ever printed.
"""
from __future__ import annotations

import os
import re

from ..errors import ArtvcsError, ConflictError

SECRET_ENV = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_CLIENT_SECRET",
    "AZURE_STORAGE_CLIENT_SECRET",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
)
_USERINFO = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]+@", re.I)
_CONN_SECRET = re.compile(r"(?i)\b(AccountKey|SharedAccessSignature|SharedAccessKey)=[^;\s'\"]+")
_SIGNED = re.compile(r"(?i)\b(x-amz-signature|x-amz-credential|x-amz-security-token|signature|sig|access_token|awsaccesskeyid)=[^&\s'\"]+")


class RemoteError(ArtvcsError):
    """The remote could not be read or written (network, permission, missing bucket)."""


class RemoteFormatError(ArtvcsError):
    """The remote holds something this artvcs cannot use: a newer layout, a corrupt or hostile object."""


class RemoteConflictError(ConflictError):
    """A conditional write on the remote lost: somebody else wrote first."""


def mask(text: str, extra_secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every known secret replaced by ``***``: credential variables, URL passwords, signatures."""
    secrets = [os.environ.get(k) for k in SECRET_ENV] + list(extra_secrets)
    # the secret parts of an Azure connection string, should a library quote one alone
    secrets += [m.group(0).split("=", 1)[1] for m in _CONN_SECRET.finditer(os.environ.get("AZURE_STORAGE_CONNECTION_STRING", ""))]
    for value in secrets:
        if value and len(value) >= 4:
            text = text.replace(value, "***")
    text = _USERINFO.sub(r"\g<scheme>***@", text)
    text = _CONN_SECRET.sub(lambda m: m.group(1) + "=***", text)
    return _SIGNED.sub(lambda m: m.group(1) + "=***", text)


def remote_error(what: str, exc: BaseException) -> RemoteError:
    """A :class:`RemoteError` saying ``what`` failed and why, with secrets masked."""
    detail = str(exc) or type(exc).__name__
    # one line: Azure's and Google's messages go on with request ids and the raw XML or JSON body
    detail = detail.split("\nContent:", 1)[0]
    detail = mask(" ".join(line.strip() for line in detail.splitlines() if line.strip()))  # masked before it is cut
    if len(detail) > 400:
        detail = detail[:400] + "..."
    return RemoteError(mask(f"{what}: {detail}"))
