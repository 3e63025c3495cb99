"""What every plumbing command shares: the repository, namespace options, record output."""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from artvcs.plumbing.namespace import pin_notice, with_overrides
from artvcs.plumbing.repository import Repository, discover

F = TypeVar("F", bound=Callable[..., Any])


def repo() -> Repository:
    """The repository found from the current folder (or $ARTVCS_DIR)."""
    return discover()


def namespace(r: Repository, entity: str | None, project: str | None) -> tuple[str, str]:
    """The entity and project to resolve names in (options, then $ARTVCS_ENTITY/$ARTVCS_PROJECT, then the recorded default)."""
    if entity and project:
        return entity, project
    recorded, pinned = r.recorded_namespace()
    if pinned:
        click.echo(pin_notice(recorded), err=True)
    ns = with_overrides(recorded)
    return entity or ns.entity, project or ns.project


def namespace_options(fn: F) -> F:
    """--entity and --project: where names without them are resolved."""
    fn = click.option("--project", metavar="NAME", help="Project for names without one (default: $ARTVCS_PROJECT, "
                      "else the repository's recorded default project).")(fn)
    fn = click.option("--entity", metavar="NAME", help="Entity for names without one (default: $ARTVCS_ENTITY, "
                      "else the repository's recorded default entity).")(fn)
    return fn


def z_option(fn: F) -> F:
    """-z: NUL-terminated records, for paths holding spaces, quotes or non-ASCII."""
    return click.option("-z", "nul", is_flag=True, help="Terminate records with NUL instead of newline.")(fn)


def emit(records: Iterable[Iterable[object]], nul: bool = False) -> None:
    """Write tab-separated records, newline- or NUL-terminated, to stdout as UTF-8."""
    end = b"\0" if nul else b"\n"
    out = sys.stdout.buffer
    for fields in records:
        out.write("\t".join("-" if f is None else str(f) for f in fields).encode("utf-8", "surrogateescape") + end)
    out.flush()
