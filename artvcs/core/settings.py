"""The settings ``artvcs config`` reads and changes: the recorded default namespace and config.yaml's ttl.

``entity`` and ``project`` are the repository's default namespace, recorded
in the repository with history (who changed it, when); ``ttl`` and
``projects.<P>.ttl`` are this copy's default expiry (config.yaml). Remotes
have their own command (``artvcs remote``) and are listed here read-only.
"""
from __future__ import annotations

from typing import Any

from artvcs.plumbing import config, namespace
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.names import check_name
from artvcs.plumbing.repository import Repository

NAMESPACE_KEYS = ("entity", "project")


def listing(repo: Repository) -> dict[str, Any]:
    """Every setting by its dotted key: entity and project first, then config.yaml's, flattened."""
    ns, _ = repo.recorded_namespace()
    out: dict[str, Any] = {"entity": ns.entity, "project": ns.project}

    def flatten(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k in sorted(value, key=str):
                flatten(f"{prefix}.{k}" if prefix else str(k), value[k])
        else:
            out[prefix] = value

    data = config.load(repo.config_path)
    for key in sorted((k for k in data if k not in NAMESPACE_KEYS), key=str):
        flatten(str(key), data[key])
    return out


def get(repo: Repository, key: str) -> Any:
    found = listing(repo)
    if key not in found:
        raise UsageError(f"no setting {key!r}: 'artvcs config list' shows them all")
    return found[key]


def _ttl_value(key: str, value: Any) -> float | None:
    if value is None or value == "null":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise UsageError(f"invalid {key} {value!r}: use a positive number of seconds, or null for never")
    return value


def set_value(repo: Repository, key: str, value: Any) -> None:
    """Change one setting; entity and project are recorded in the repository with history."""
    if key in NAMESPACE_KEYS:
        current, _ = repo.recorded_namespace()
        name = check_name(value, key)
        wanted = namespace.Namespace(name, current.project) if key == "entity" else namespace.Namespace(current.entity, name)
        namespace.record(repo.git, wanted, "set")
        return
    parts = key.split(".")
    if parts == ["ttl"] or (len(parts) == 3 and parts[0] == "projects" and parts[2] == "ttl"):
        if len(parts) == 3:
            check_name(parts[1], "project")
        ttl = _ttl_value(key, value)
        data = config.load(repo.config_path)
        if len(parts) == 1:
            data["ttl"] = ttl
        else:
            data.setdefault("projects", {}).setdefault(parts[1], {})["ttl"] = ttl
        config.save(repo.config_path, data)
        return
    raise UsageError(f"setting {key!r} cannot be set here: use entity, project, ttl or projects.<project>.ttl "
                     "(remotes: 'artvcs remote')")


def namespace_history(repo: Repository) -> list[dict[str, Any]]:
    """Each recorded default namespace, oldest first, with who recorded it and why."""
    repo.recorded_namespace()
    return namespace.history(repo.git)
