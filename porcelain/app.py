"""The binding as the porcelain sees it: an Api for the current folder, REF arguments
with tab completion, values typed at the shell, and the JSON shape of a version."""
from __future__ import annotations

from typing import Any

import functools
import os
import re

import click

import artvcs
from artvcs.artifact import Artifact
from artvcs.core.context import Context
from artvcs.errors import UsageError


def api() -> artvcs.Api:
    """The Api of the repository found from the current folder (or $ARTVCS_DIR); never creates one."""
    return artvcs.Api()


def context() -> Context:
    """Repository, entity and project the command works in."""
    return api()._context


def context_near(paths: tuple[str, ...] | list[str]) -> Context:
    """The repository of the current folder, else the one above the first of ``paths`` that has
    one (``artvcs status ~/proj/data`` from anywhere)."""
    from artvcs.errors import NotARepositoryError

    try:
        return context()
    except NotARepositoryError:
        for p in paths:
            try:
                return artvcs.Api(dir=os.path.dirname(os.path.abspath(p)))._context
            except NotARepositoryError:
                continue
        raise


def artifact(ref: str) -> Artifact:
    """``[entity/project/]name[:alias|:vN]`` or a commit/digest prefix → the artifact."""
    return api().artifact(ref)


def _items(values: list[str]) -> list[click.shell_completion.CompletionItem]:
    from click.shell_completion import CompletionItem

    return [CompletionItem(v) for v in values]


def complete_ref(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion for REF arguments: collection names, then ``name:`` aliases and versions."""
    from artvcs.logged.listing import ref_candidates

    try:
        return _items(ref_candidates(context(), incomplete))
    except Exception:  # completion must never print a traceback into the user's prompt
        return []


def complete_alias(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion for alias names of the REF already typed (``alias rm REF <TAB>``)."""
    try:
        names = [a for a in artifact(ctx.params["ref"]).aliases if a != "latest"]
        return _items([n for n in names if n.startswith(incomplete)])
    except Exception:
        return []


def complete_meta_key(ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
    """Shell completion for metadata keys of the REF already typed (``meta get REF <TAB>``)."""
    try:
        return _items(sorted(k for k in artifact(ctx.params["ref"]).metadata if k.startswith(incomplete)))
    except Exception:
        return []


def ref_argument(name: str = "ref", **kw):
    """A REF argument (``[entity/project/]name[:alias|:vN]``, or a commit or digest prefix) that tab-completes."""
    return click.argument(name, shell_complete=complete_ref, **kw)


@functools.cache
def _shell_yaml():
    """The loader for YAML as people type it at a shell: no timestamps (``2024-01-01`` stays text,
    since metadata is JSON) and only ``true``/``false`` as booleans (``yes``, ``no``, ``on``, ``off``
    stay text). Made on first use: yaml costs every command's start ~10 ms, and most never parse a value."""
    import yaml

    class ShellYaml(yaml.SafeLoader):
        yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in rules if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
            for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

    ShellYaml.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
    return yaml, ShellYaml


def parse_value(text: str, what: str) -> Any:
    """A value typed at the shell, read as YAML: ``3``, ``0.5``, ``true``, ``[a, b]``, ``{k: v}``, else text."""
    if text == "":
        return ""
    yaml, loader = _shell_yaml()
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as e:
        first = str(e).splitlines()[0]
        raise UsageError(f"{what} {text!r} is not valid YAML ({first}): quote it as a string, e.g. '\"{text}\"'") from None


def load_yaml_mapping(path: str, what: str) -> dict[str, Any]:
    """A YAML file that must hold a mapping (``--metadata-file``)."""
    yaml, loader = _shell_yaml()
    try:
        with open(path, encoding="utf-8") as f:
            loaded = yaml.load(f, Loader=loader)
    except yaml.YAMLError as e:
        raise UsageError(f"{what} {path!r} is not valid YAML: {' '.join(str(e).split())}") from None
    except OSError as e:
        raise UsageError(f"{what} {path!r} cannot be read: {e.strerror}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise UsageError(f"{what} {path!r} must hold a YAML mapping (key: value lines), not {type(loaded).__name__}")
    return loaded


def summary(a: Artifact) -> dict[str, Any]:
    """The stable JSON shape of a version, shared by log, ls, versions and show."""
    return {
        "entity": a.entity,
        "project": a.project,
        "name": a.name,
        "qualified_name": a.qualified_name,
        "version": a.version,
        "type": a.type,
        "state": a.state,
        "aliases": a.aliases,
        "digest": a.digest,
        "size": a.size,
        "file_count": a.file_count,
        "created_at": a.created_at,
        "author": a.author,
        "updated_at": a.updated_at,
        "description": a.description,
        "metadata": a.metadata,
        "commit": a.commit_hash,
        "source": a.source_qualified_name,
        "ttl_seconds": a.ttl.total_seconds() if a.ttl else None,
        "tags": a.tags,
    }
