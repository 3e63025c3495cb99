"""artvcs settings: ``.artifacts/config.yaml`` plus environment defaults.

Resolution order for the entity: ``$ARTVCS_ENTITY``, ``entity`` in the
config, git's ``user.name``, the OS user. For the project:
``$ARTVCS_PROJECT``, ``project`` in the config, the name of the folder that
holds ``.artifacts/``. Names derived from free text are slugged so they
satisfy the name rules. Per-project settings (the default ttl) live under
``projects.<name>``.
"""
from __future__ import annotations

import getpass
import os
from typing import Any

from .errors import UsageError
from .names import check_name, slug

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


def _git_user_name() -> str | None:
    try:
        import pygit2

        cfg = pygit2.Config.get_global_config()
        return cfg["user.name"] if "user.name" in cfg else None
    except (OSError, KeyError, ImportError, Exception):  # no global config file at all
        return None


def _setting(config_path: str | None, env: str, key: str, what: str) -> str | None:
    """A name from ``$env``, else from ``key`` in the config; checked against the name rules."""
    value = os.environ.get(env)
    if value:
        return check_name(value, f"{what} (${env})")
    if config_path:
        value = load(config_path).get(key)
        if value:
            return check_name(str(value), f"{what} (config.yaml)")
    return None


def default_entity(config_path: str | None) -> str:
    found = _setting(config_path, "ARTVCS_ENTITY", "entity", "entity")
    if found:
        return found
    name = _git_user_name()
    if name:
        return slug(name)
    try:
        return slug(getpass.getuser())
    except Exception:
        return "local"


def default_project(config_path: str | None, worktree: str | None) -> str:
    found = _setting(config_path, "ARTVCS_PROJECT", "project", "project")
    return found or slug(os.path.basename(os.path.abspath(worktree or os.getcwd()))) or "default"


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
