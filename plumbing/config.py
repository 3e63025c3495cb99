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
    """The mapping a YAML settings file holds ({} when there is none), or UsageError naming the file."""
    try:
        f = open(config_path, "rb")
    except FileNotFoundError:
        return {}  # the common case: no settings, and no YAML parser imported (start-up time)
    except OSError as e:
        raise UsageError(f"{config_path} cannot be read ({e.strerror or e}): fix or remove it") from None
    with f:
        data = f.read()
    return parse(data, config_path)


def parse(data: bytes, where: str) -> dict[str, Any]:
    """The mapping the YAML document ``data`` (from ``where``) holds, or UsageError naming it and the rule.

    Strict UTF-8, safe YAML only (no tags that build objects), a mapping at the top.
    """
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
    proj = section(section(data, "projects", config_path), project, f"{config_path} (projects)")
    value = proj.get("ttl", data.get("ttl"))
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < float("inf"):
        raise UsageError(f"ttl {value!r} in config.yaml is invalid: use a positive number of seconds or null")
    return float(value)
