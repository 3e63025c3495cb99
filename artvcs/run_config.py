"""``run.config`` of a running run, as W&B's ``wandb.sdk.wandb_config.Config`` at v0.17.9.

Keys read and set as items or attributes; every change is written to the run record at once.
An artifact in the config (a logged ``Artifact``, a ``wandb-artifact://entity/project/name:v``
or ``wandb-artifact://_id/<id>`` string, or the ``artifactVersion`` dict W&B stores) is used by
the run with ``use_as`` the key; the config then holds the Artifact and the record holds
W&B's ``artifactVersion`` dict. Artifacts below the top level are refused, and so is changing
a value without ``allow_val_change``, with W&B's texts.
"""
from __future__ import annotations

import urllib.parse
from typing import TYPE_CHECKING, Any, Callable

from artvcs.core.validation import check_metadata
from artvcs.plumbing.errors import UsageError

if TYPE_CHECKING:
    from artvcs.artifact import Artifact

ARTIFACT_SCHEME = "wandb-artifact://"
NESTED = "Instances of wandb.Artifact can only be top level keys in wandb.config"


class ConfigError(UsageError):
    """W&B's ``wandb.sdk.lib.config_util.ConfigError``: a config value changed without ``allow_val_change``."""


def is_artifact_string(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(ARTIFACT_SCHEME)


def is_artifact_dict(value: Any) -> bool:
    return isinstance(value, dict) and value.get("_type") == "artifactVersion"


def artifact_spec(value: str) -> str:
    """The name or id a ``wandb-artifact://`` string names (W&B's ``parse_artifact_string``; a server
    address in front, ``wandb-artifact://https://host/...``, is skipped: there is no server here)."""
    rest = value[len(ARTIFACT_SCHEME):]
    url = urllib.parse.urlparse(rest)
    parts = url.path.split("/")[1:] if url.scheme else rest.split("/")
    if parts and parts[0] == "_id" and len(parts) > 1:
        return parts[1]
    if len(parts) < 3:
        raise UsageError(f"Invalid artifact string: {value}")
    return "/".join(parts[:3])


class Config(dict):
    """The config of a running run; ``use(key, value) -> Artifact`` uses an artifact representation,
    ``write(key, json_value)`` records a value in the run record."""

    def __init__(self, items: dict[str, Any], is_artifact: Callable[[Any], bool],
                 use: Callable[[str, Any], "Artifact"], write: Callable[[dict[str, Any]], None]) -> None:
        super().__init__(items)
        object.__setattr__(self, "_is_artifact", is_artifact)
        object.__setattr__(self, "_use", use)
        object.__setattr__(self, "_write", write)

    def _is_representation(self, value: Any) -> bool:
        return self._is_artifact(value) or is_artifact_string(value) or is_artifact_dict(value)

    def _refuse_nested(self, value: Any, nested: bool) -> None:
        if not isinstance(value, dict):
            return
        for item in value.values():
            if isinstance(item, dict):
                self._refuse_nested(item, True)
            elif nested and (self._is_artifact(item) or is_artifact_string(item)):
                raise ValueError(NESTED)

    def _sanitize(self, key: str, value: Any, allow_val_change: bool | None) -> tuple[str, Any, Any]:
        """(key, value held, value recorded), with W&B's checks; nothing is used or written yet."""
        key = key.strip("-")
        if self._is_representation(value):
            return key, value, None
        recorded = check_metadata({key: value})[key]
        if not allow_val_change and key in self and self[key] != recorded:
            raise ConfigError(f'Attempted to change value of key "{key}" from {self[key]} to {recorded}\n'
                              "If you really want to do this, pass allow_val_change=True to config.update()")
        return key, recorded, recorded

    def _apply(self, items: dict[str, Any], allow_val_change: bool | None) -> None:
        checked = [self._sanitize(k, v, allow_val_change) for k, v in items.items()]  # all checked first
        recorded = {}
        for key, held, as_json in checked:
            if as_json is None:
                held = self._use(key, held)
                as_json = {**held.json_encode(), "usedAs": key}  # W&B's util.artifact_to_json
            dict.__setitem__(self, key, held)
            recorded[key] = as_json
        if recorded:
            self._write(recorded)

    def __setitem__(self, key: str, value: Any) -> None:
        self._refuse_nested(value, True)
        self._apply({key: value}, None)

    __setattr__ = __setitem__

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"{self.__class__!r} object has no attribute {key!r}") from None

    def update(self, d: Any = None, allow_val_change: bool | None = None, **kw: Any) -> None:  # type: ignore[override]
        items = {**dict(d or {}), **kw}
        self._refuse_nested(items, False)
        self._apply(items, allow_val_change)

    def setdefaults(self, d: dict[str, Any]) -> None:
        """Set the keys of ``d`` that are not set yet (W&B's ``Config.setdefaults``)."""
        self._apply({k: v for k, v in d.items() if k not in self}, None)

    def as_dict(self) -> dict[str, Any]:
        return dict(self)
