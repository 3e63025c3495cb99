"""artvcs settings of this machine's copy: ``.artifacts/config.yaml``.

Per-project settings (the default ttl) live under ``projects.<name>``,
remotes under ``remotes``. The default namespace is not a setting here: it
is recorded in the repository (:mod:`namespace`); ``entity`` and
``project`` in this file are read only to pin a repository made before that
record existed.
"""
from __future__ import annotations

import os
from typing import Any

from .errors import UsageError

HEADER = "# artvcs settings (YAML). See artvcs-format(5) and artvcs(1).\n"


def load(config_path: str) -> dict[str, Any]:
    try:
        f = open(config_path, encoding="utf-8")
    except FileNotFoundError:
        return {}  # the common case: no settings, and no YAML parser imported (start-up time)
    import yaml

    try:
        with f:
            data = yaml.safe_load(f) or {}
    except yaml.YAMLError as e:
        raise UsageError(f"{config_path} is not valid YAML: {e}; fix or remove it") from None
    if not isinstance(data, dict):
        raise UsageError(f"{config_path} must hold a YAML mapping, not {type(data).__name__}")
    return data


def save(config_path: str, data: dict[str, Any], header: str = HEADER) -> None:
    """Write a YAML file atomically (temp file + rename), keys sorted, after a comment header."""
    import yaml

    tmp = f"{config_path}.tmp-{os.getpid()}-{id(data):x}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(header)
        yaml.safe_dump(data, f, sort_keys=True, default_flow_style=False)
    os.replace(tmp, config_path)


def project_ttl(config_path: str, project: str) -> float | None:
    """The default ttl in seconds for versions of ``project`` (None: never expire)."""
    data = load(config_path)
    proj = (data.get("projects") or {}).get(project) or {}
    value = proj.get("ttl", data.get("ttl"))
    if value is None:
        return None
    if not isinstance(value, (int, float)) or value <= 0:
        raise UsageError(f"ttl {value!r} in config.yaml is invalid: use a positive number of seconds or null")
    return float(value)
