"""``artvcs link-ref``: add a version to a portfolio."""
from __future__ import annotations

import click

from artvcs.plumbing import links, revparse, versions
from artvcs.plumbing.errors import UsageError
from artvcs.plumbing.names import check_name
from artvcs.plumbing.refs import CollectionId

from .options import emit, namespace, namespace_options, repo


@click.command("link-ref")
@namespace_options
@click.argument("source")
@click.argument("portfolio")
def link_ref(entity: str | None, project: str | None, source: str, portfolio: str) -> None:
    """Link version SOURCE into PORTFOLIO ([[entity/]project/]portfolio)."""
    r = repo()
    e, p = namespace(r, entity, project)
    parts = portfolio.split("/")
    if len(parts) > 3:
        raise UsageError(f"invalid portfolio {portfolio!r}: at most entity/project/portfolio")
    target = CollectionId(*[check_name(x) for x in ([e, p][: 3 - len(parts)] + parts)])
    v = links.link_version(r.git, revparse.resolve(r.git, source, e, p), target, versions.utcnow(), sync_path=r.gitdir)
    emit([(v.commit, f"v{v.number}")])
