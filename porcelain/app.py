"""The binding as the porcelain sees it: an Api for the current folder, and REF resolution."""
from __future__ import annotations

import click

import artvcs
from artvcs.artifact import Artifact


def api() -> artvcs.Api:
    return artvcs.Api()


def artifact(ref: str) -> Artifact:
    """``[entity/project/]name[:alias|:vN]`` or a commit/digest prefix → the artifact."""
    return api().artifact(ref)


def complete_ref(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[click.shell_completion.CompletionItem]:
    """Shell completion for REF arguments: collection names, then their aliases and versions."""
    from click.shell_completion import CompletionItem

    try:
        a = api()
        ctx_ = a._context
        from artvcs.aliases import stored_aliases
        from artvcs.plumbing import versions

        out = []
        for coll in versions.iter_collections(ctx_.repo.git, ctx_.entity, ctx_.project):
            if ":" in incomplete and incomplete.split(":")[0] == coll.name:
                sel = ["latest"] + sorted(stored_aliases(ctx_.repo.git, coll)) + [f"v{n}" for n in versions.live_numbers(ctx_.repo.git, coll)]
                out += [CompletionItem(f"{coll.name}:{s}") for s in sel if f"{coll.name}:{s}".startswith(incomplete)]
            elif coll.name.startswith(incomplete):
                out.append(CompletionItem(coll.name))
        return out
    except Exception:
        return []


def ref_argument(name: str = "ref", **kw):
    return click.argument(name, shell_complete=complete_ref, **kw)


def summary(a: Artifact) -> dict:
    """The stable JSON shape of a version, shared by ls, versions and show."""
    return {
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
        "updated_at": a.updated_at,
        "description": a.description,
        "metadata": a.metadata,
        "commit": a.commit_hash,
        "source": a.source_qualified_name,
        "ttl_seconds": a.ttl.total_seconds() if a.ttl else None,
        "tags": a.tags,
    }
