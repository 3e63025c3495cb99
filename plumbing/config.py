"""artvcs settings of this machine's copy: ``.artifacts/config.yaml``.

Per-project settings (the default ttl) live under ``projects.<name>``,
remotes under ``remotes``. The default namespace is not a setting here: it
is recorded in the repository (:mod:`namespace`); ``entity`` and
``project`` in this file are read only to pin a repository made before that
record existed.
"""
from __future__ import annotations

import json
import os

from .errors import UsageError

TYPE_CHECKING = False  # typing is not imported: it costs an up-to-date status's start-up
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object

HEADER = "# artvcs settings (YAML). See artvcs-format(5) and artvcs(1).\n"


def load(config_path: str, parsed: "ParsedCache | None" = None) -> dict[str, Any]:
    """The mapping a YAML settings file holds ({} when there is none), or UsageError naming the file.
    With ``parsed``, a result kept for the same bytes is used (see :func:`parse`)."""
    try:
        f = open(config_path, "rb")
    except FileNotFoundError:
        return {}  # the common case: no settings, and no YAML parser imported (start-up time)
    except OSError as e:
        raise UsageError(f"{config_path} cannot be read ({e.strerror or e}): fix or remove it") from None
    with f:
        data = f.read()
    return parse(data, config_path, parsed)


class ParsedCache(Protocol):
    """Where parse results are kept by the blake3 digest of the bytes parsed (the stat cache)."""

    def parsed(self, digest: str) -> str | None: ...

    def keep_parsed(self, digest: str, value: str) -> None: ...


def parse(data: bytes, where: str, parsed: ParsedCache | None = None) -> dict[str, Any]:
    """The mapping the YAML document ``data`` (from ``where``) holds, or UsageError naming it and the rule.

    Strict UTF-8, safe YAML only (no tags that build objects), a mapping at the top.
    With ``parsed``, the result is kept as JSON under the digest of ``data`` and
    used for the same bytes again, so that a reader that finds it needs no YAML
    parser (start-up time); only a result that JSON gives back unchanged is kept.
    """
    if parsed is None:
        return _parse(data, where)
    from blake3 import blake3

    key = blake3(data).hexdigest()
    try:
        kept = parsed.parsed(key)
    except OSError:  # e.g. a read-only repository without its cache folder: parse it
        kept = parsed = None
    if kept is not None:
        try:
            value = json.loads(kept)
        except ValueError:
            value = None
        if isinstance(value, dict):
            return value
    value = _parse(data, where)
    try:
        text = json.dumps(value, allow_nan=False, sort_keys=True)
        same = json.loads(text) == value
    except (TypeError, ValueError):
        same = False
    if same and parsed is not None:
        _keep(parsed, key, text)
    return value


def _parse(data: bytes, where: str) -> dict[str, Any]:
    import yaml

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UsageError(f"{where} is not UTF-8 (byte {e.start}); fix or remove it") from None
    try:
        # libyaml's parser where PyYAML has it: the pure-Python one takes seconds on a few
        # thousand nested brackets, which a hostile file (a lock file from git) can hold
        value = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as e:
        raise UsageError(f"{where} is not valid YAML: {_first_line(e)}; fix or remove it") from None
    except RecursionError:
        raise UsageError(f"{where} nests YAML too deeply to read; fix or remove it") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{where} must hold a YAML mapping, not {type(value).__name__}")
    return value


def _first_line(e: Exception) -> str:
    return " ".join(str(e).split())[:200]


def section(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    """``data[key]`` when it is a mapping ({} when absent), or UsageError naming the file and the key."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{where}: '{key}' must be a mapping, not {type(value).__name__}; fix it")
    return value


def save(config_path: str, data: dict[str, Any], header: str = HEADER, parsed: ParsedCache | None = None) -> None:
    """Write a YAML file atomically (temp file + rename), keys sorted, after a comment header.

    A mapping of plain names (the lock file's shape) is written by :mod:`plainyaml`, the same text
    without importing PyYAML; with ``parsed``, what it holds is then kept for its bytes, so that
    the next reader (:func:`parse`) needs no YAML parser either."""
    from . import plainyaml

    plain = body = plainyaml.dump(data)
    if body is None:
        import yaml

        body = yaml.safe_dump(data, sort_keys=True, default_flow_style=False)
    raw = (header + body).encode("utf-8")
    tmp = f"{config_path}.tmp-{os.getpid()}-{id(data):x}"
    with open(tmp, "xb") as f:  # O_EXCL: a link planted under the temporary name is not written through
        f.write(raw)
    os.replace(tmp, config_path)  # replaces a link at config_path itself, never its target
    if parsed is not None and plain is not None:  # known to read back as ``data``
        from blake3 import blake3

        _keep(parsed, blake3(raw).hexdigest(), json.dumps(data, allow_nan=False, sort_keys=True))


def _keep(parsed: ParsedCache, key: str, text: str) -> None:
    """Keep a parse; a cache that cannot be written (its folder read-only) keeps nothing."""
    try:
        parsed.keep_parsed(key, text)
    except OSError:
        pass


def project_ttl(config_path: str, project: str) -> float | None:
    """The default ttl in seconds for versions of ``project`` (None: never expire)."""
    data = load(config_path)
    proj = section(section(data, "projects", config_path), project, f"{config_path} (projects)")
    value = proj.get("ttl", data.get("ttl"))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise UsageError(f"ttl {value!r} in config.yaml is invalid: use a positive number of seconds or null")
    return float(value)
