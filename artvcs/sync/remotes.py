"""Named remotes of a repository: ``remotes:`` in ``.artifacts/config.yaml``, and content fetched on demand.

::

    remotes:
      origin:
        url: s3://bucket/prefix
        endpoint_url: http://127.0.0.1:8333   # S3-compatible servers and GCS emulators only
        only: [mnist]                          # a partial clone: these collections only

Settings name where and how to connect, never with what secret: credentials
come from each backend's own environment and files (for S3 the ``AWS_*``
variables and ``~/.aws``; for Azure ``AZURE_STORAGE_CONNECTION_STRING`` or
its siblings; for GCS Google's application default credentials), so they
never enter the repository.

:func:`fetch_missing` is the content source of checkout and download: when
a version's content is not in the local store and a remote is configured,
just the missing entries are fetched (verified) into the store.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from artvcs.plumbing import config
from artvcs.plumbing.errors import NotFoundError, UsageError
from artvcs.plumbing.hashing import is_digest
from artvcs.plumbing.manifest import ARTIFACT_SCHEME
from artvcs.plumbing.remote.errors import RemoteError
from artvcs.plumbing.remote.layout import RemoteRepo, open_backend, parse_url
from artvcs.plumbing.remote.state import check_remote_name
from artvcs.plumbing.repository import Repository

OPTIONS = ("endpoint_url", "region", "profile")
_SECRET_WORDS = ("key", "secret", "token", "password", "credential", "sas")


@dataclass
class RemoteConfig:
    """One configured remote."""

    name: str
    url: str
    options: dict[str, Any] = field(default_factory=dict)
    only: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"url": self.url, **self.options}
        if self.only:
            d["only"] = list(self.only)
        return d


def _table(repo: Repository) -> dict[str, Any]:
    table = config.load(repo.config_path).get("remotes") or {}
    if not isinstance(table, dict):
        raise UsageError(f"'remotes' in {repo.config_path} must be a mapping of name to settings")
    return table


def list_remotes(repo: Repository) -> list[RemoteConfig]:
    out = []
    for name, settings in sorted(_table(repo).items()):
        if isinstance(settings, str):
            settings = {"url": settings}
        if not isinstance(settings, dict) or not isinstance(settings.get("url"), str):
            raise UsageError(f"remote {name!r} in {repo.config_path} has no url: fix it or 'artvcs remote remove {name}'")
        opts = {k: v for k, v in settings.items() if k in OPTIONS}
        only = [str(x) for x in settings.get("only") or []]
        out.append(RemoteConfig(str(name), settings["url"], opts, only))
    return out


def get_remote(repo: Repository, name: str | None = None) -> RemoteConfig:
    """The remote ``name``; without a name the only one, else ``origin``."""
    remotes = {r.name: r for r in list_remotes(repo)}
    if name is None:
        if len(remotes) == 1:
            return next(iter(remotes.values()))
        if "origin" in remotes:
            return remotes["origin"]
        if not remotes:
            raise NotFoundError("no remote is configured: add one with 'artvcs remote add origin s3://bucket/prefix'")
        raise UsageError(f"several remotes are configured ({', '.join(sorted(remotes))}) and none is 'origin': name one")
    if name not in remotes:
        raise NotFoundError(f"no remote named {name!r}: 'artvcs remote list' shows them")
    return remotes[name]


def check_options(options: dict[str, Any]) -> dict[str, Any]:
    """Keep only known, non-secret connection settings."""
    out = {}
    for k, v in options.items():
        if v is None:
            continue
        if any(w in k.lower() for w in _SECRET_WORDS) or k not in OPTIONS:
            raise UsageError(
                f"remote setting {k!r} is not allowed: only {', '.join(OPTIONS)} are stored; credentials come from "
                "the environment (AWS_ACCESS_KEY_ID, ...) or the backend's own configuration files"
            )
        if not isinstance(v, str) or not v:
            raise UsageError(f"remote setting {k}={v!r} must be a non-empty string")
        out[k] = v
    endpoint = out.get("endpoint_url")
    if endpoint and ("@" in endpoint.split("://", 1)[-1].split("/", 1)[0] or "?" in endpoint):
        raise UsageError("endpoint_url must not carry credentials or a query: give scheme://host:port")
    return out


def add_remote(repo: Repository, name: str, url: str, options: dict[str, Any] | None = None, only: Iterable[str] = ()) -> RemoteConfig:
    check_remote_name(name)
    try:
        parse_url(url)
    except RemoteError as e:
        raise UsageError(str(e)) from None
    data = config.load(repo.config_path)
    table = data.get("remotes") or {}
    if name in table:
        raise UsageError(f"remote {name!r} already exists ({table[name].get('url') if isinstance(table[name], dict) else table[name]}): remove it first")
    rc = RemoteConfig(name, url, check_options(dict(options or {})), list(only))
    table[name] = rc.as_dict()
    data["remotes"] = table
    config.save(repo.config_path, data)
    return rc


def set_only(repo: Repository, name: str, only: list[str]) -> None:
    data = config.load(repo.config_path)
    settings = (data.get("remotes") or {}).get(name)
    if isinstance(settings, dict):
        if only:
            settings["only"] = list(only)
        else:
            settings.pop("only", None)
        config.save(repo.config_path, data)


def remove_remote(repo: Repository, name: str) -> None:
    from artvcs.plumbing.remote.state import RemoteState

    data = config.load(repo.config_path)
    table = data.get("remotes") or {}
    if name not in table:
        raise NotFoundError(f"no remote named {name!r}: 'artvcs remote list' shows them")
    del table[name]
    data["remotes"] = table
    config.save(repo.config_path, data)
    RemoteState(repo.gitdir, name).forget()


def open_remote(repo: Repository, name: str | None = None) -> RemoteRepo:
    rc = get_remote(repo, name)
    return RemoteRepo(open_backend(rc.url, rc.options), rc.name)


def open_url(url: str, options: dict[str, Any] | None = None, name: str = "") -> RemoteRepo:
    return RemoteRepo(open_backend(url, check_options(dict(options or {}))), name or url)


# -- the content source of checkout and download ---------------------------------------------
def stored_digest(entry) -> str | None:
    """The store digest an entry's bytes live under, or None for an external reference."""
    if not is_digest(entry.digest):
        return None
    if entry.ref is None or str(entry.ref).startswith(ARTIFACT_SCHEME):
        return entry.digest
    return None


def fetch_missing(repo: Repository, entries: Iterable) -> int:
    """Fetch the content of ``entries`` that the local store lacks from the default remote; return how many.

    Without a configured remote nothing happens (the caller then reports the
    missing content as before).
    """
    from artvcs.plumbing.remote import content

    missing = sorted({d for e in entries if (d := stored_digest(e)) and not repo.store.has(d)})
    if not missing:
        return 0
    try:
        remote = open_remote(repo)
    except (NotFoundError, UsageError):
        return 0
    count, _ = content.download(remote, repo.store, missing)
    return count
