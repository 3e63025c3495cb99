"""URL parts -> binding objects, and paging parameters, shared by every page."""
from __future__ import annotations

from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.requests import Request

import artvcs
from artvcs.artifact import Artifact
from artvcs.core.context import Context, context_for
from artvcs.errors import NotFoundError, UsageError


@dataclass(frozen=True)
class Site:
    """What every page works with: the Api of the served repository."""

    api: artvcs.Api

    def context(self, entity: str, project: str) -> Context:
        try:
            return context_for(self.api._context.repo, entity, project)
        except UsageError as e:
            raise HTTPException(404, str(e)) from None

    def artifact(self, entity: str, project: str, ref: str) -> Artifact:
        """``entity/project/name[:alias|:vN]``: 404 when it names nothing (or nothing valid)."""
        try:
            return self.api.artifact(f"{entity}/{project}/{ref}")
        except (NotFoundError, UsageError) as e:
            raise HTTPException(404, str(e)) from None

    def collection(self, entity: str, project: str, name: str):
        try:
            return self.api.collection(f"{entity}/{project}/{name}")
        except (NotFoundError, UsageError) as e:
            raise HTTPException(404, str(e)) from None


def site(request: Request) -> Site:
    return request.app.state.site


def int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter within [lo, hi]; a bad one is a 400 naming it."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HTTPException(400, f"{name}={raw!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise HTTPException(400, f"{name}={value} is out of range {lo}..{hi}")
    return value


def choice_param(request: Request, name: str, choices: tuple[str, ...]) -> str:
    raw = request.query_params.get(name) or choices[0]
    if raw not in choices:
        raise HTTPException(400, f"{name}={raw!r} is not one of {', '.join(choices)}")
    return raw


@dataclass(frozen=True)
class Page:
    """One page of a long list: ``number`` from 1, ``size`` items, ``total`` in all."""

    number: int
    size: int
    total: int

    @property
    def start(self) -> int:
        return (self.number - 1) * self.size

    @property
    def count(self) -> int:
        return max(1, -(-self.total // self.size))

    def link_header(self, request: Request) -> dict[str, str]:
        """RFC 8288 ``Link`` (next/prev) and ``X-Total-Count``: the JSON twin's body stays the CLI's list."""
        links = []
        for rel, n in (("prev", self.number - 1), ("next", self.number + 1)):
            if 1 <= n <= self.count and n != self.number:
                links.append(f'<{request.url.include_query_params(page=n)}>; rel="{rel}"')
        out = {"X-Total-Count": str(self.total)}
        if links:
            out["Link"] = ", ".join(links)
        return out


def page_of(request: Request, total: int, size: int, max_size: int = 1000) -> Page:
    size = int_param(request, "per_page", size, 1, max_size)
    count = max(1, -(-total // size))
    return Page(int_param(request, "page", 1, 1, count), size, total)


def wants_fragment(request: Request) -> bool:
    """The page's own script asks for a piece of HTML to insert (``?fragment=1``)."""
    return request.query_params.get("fragment") == "1"
