"""Validation of names, types and aliases, and their encoding in ref names.

Names follow W&B's character rules. Git forbids some of those characters in
ref names (a leading dot, ``..``, a ``.lock`` suffix), so every component of a
ref name is percent-encoded: anything but ``[A-Za-z0-9_-]`` becomes ``%XX``.
"""
from __future__ import annotations

import re

from .errors import UsageError

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
MAX_NAME = 128
VERSION_RE = re.compile(r"^v(0|[1-9][0-9]*)$")
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def check_name(value: object, what: str = "artifact name") -> str:
    """Return ``value`` if it is a valid name (letters, digits, ``_ . -``; ≤128)."""
    if not isinstance(value, str) or not NAME_RE.match(value) or len(value) > MAX_NAME:
        raise UsageError(
            f"invalid {what} {value!r}: use 1-{MAX_NAME} letters, digits, '_', '.' or '-'"
        )
    if value in (".", ".."):
        raise UsageError(f"invalid {what} {value!r}: '.' and '..' are not names")
    return value


def check_type(value: object) -> str:
    """Return ``value`` if it is a valid, non-reserved artifact type."""
    check_name(value, "artifact type")
    assert isinstance(value, str)
    if value == "job" or value.startswith("wandb-"):
        raise UsageError(f"artifact type {value!r} is reserved for internal use (types 'job' and 'wandb-*'): choose another type")
    return value


def check_alias(value: object, *, allow_managed: bool = False) -> str:
    """Return ``value`` if it is an alias a user may set.

    ``latest`` is moved by artvcs itself and ``v<N>`` names versions, so both
    are refused unless ``allow_managed`` (used internally for ``latest``).
    """
    if not isinstance(value, str) or not value or len(value) > MAX_NAME:
        raise UsageError(f"invalid alias {value!r}: use 1-{MAX_NAME} characters")
    if "/" in value or ":" in value or any(ord(c) < 32 for c in value):
        raise UsageError(f"invalid alias {value!r}: aliases may not contain '/', ':' or control characters")
    if VERSION_RE.match(value):
        raise UsageError(f"invalid alias {value!r}: v<number> is reserved for version numbers")
    if value == "latest" and not allow_managed:
        raise UsageError("alias 'latest' is managed by artvcs: it always names the newest version")
    return value


def encode_component(value: str) -> str:
    """Encode one ref-name component so git accepts it and it decodes back."""
    out = []
    for byte in value.encode("utf-8"):
        out.append(chr(byte) if byte in _SAFE else f"%{byte:02X}")
    return "".join(out)


def decode_component(value: str) -> str:
    """Inverse of :func:`encode_component`."""
    raw = bytearray()
    i = 0
    while i < len(value):
        if value[i] == "%":
            raw.append(int(value[i + 1 : i + 3], 16))
            i += 3
        else:
            raw.append(ord(value[i]))
            i += 1
    return raw.decode("utf-8")


def slug(value: str) -> str:
    """Make a valid entity/project name out of free text (``Jane Doe`` → ``jane-doe``)."""
    s = re.sub(r"[^a-z0-9_.-]+", "-", value.strip().lower()).strip("-.")
    return s[:MAX_NAME] or "unknown"
