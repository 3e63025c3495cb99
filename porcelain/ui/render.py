"""Turning a page's data into a response: HTML from jinja2 templates (autoescaped: every name, path,
alias, metadata value and description is untrusted), or its JSON twin, encoded as ``--json`` prints it."""
from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from artvcs.porcelain.output import human_size, json_text
from artvcs.porcelain.safetext import bidi_shown

HERE = os.path.dirname(os.path.abspath(__file__))


def to_json(data: Any) -> str:
    """The text ``artvcs <command> --json`` prints for ``data`` (same keys, order and fallbacks)."""
    return json_text(data)


def _pretty(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _q(value: Any) -> str:
    """One URL path component (an alias may hold '?', '#', '%', spaces)."""
    return quote(str(value), safe="")


def _qpath(value: str) -> str:
    """An entry path in a URL: its '/' stay, everything else is quoted."""
    return quote(value, safe="/")


def _shown(value: Any) -> Any:
    """Every ``{{ }}`` value: a string's bidi controls shown as ``\\u202e`` (safetext), as the
    terminal shows them, so that a name cannot read as another; markup made here (``field``) as it is."""
    return bidi_shown(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def _field(value: Any) -> Markup:
    """A form field's value, escaped but not shown (:func:`_shown`): what is posted back is the
    value itself (an alias to remove, a description to edit)."""
    return escape(value)  # markup already: finalize passes it as it is


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.join(HERE, "templates")),
        autoescape=True,  # every template: untrusted values become text, never markup
        finalize=_shown,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(size=human_size, q=_q, qpath=_qpath, pretty=_pretty, field=_field,
                       when=lambda t: (t or "")[:19].replace("T", " "))
    env.globals["urlencode"] = urlencode
    return env


class Renderer:
    """Renders pages with the app's shared values (CSRF token, whether edits are allowed)."""

    def __init__(self, env: jinja2.Environment, csrf: str, edit: bool) -> None:
        self.env = env
        self.csrf = csrf
        self.edit = edit

    def page(self, request: Request, template: str, json_data: Any, status: int = 200, headers: dict[str, str] | None = None, **values: Any) -> Response:
        """The HTML page, or with ``?format=json`` (or a path under /api/) its JSON twin ``json_data``."""
        if wants_json(request):
            return Response(to_json(json_data) + "\n", status, headers=headers, media_type="application/json")
        html = self.env.get_template(template).render(request=request, csrf=self.csrf, edit=self.edit, **values)
        return HTMLResponse(html, status, headers=headers)

    def fragment(self, template: str, **values: Any) -> HTMLResponse:
        return HTMLResponse(self.env.get_template(template).render(csrf=self.csrf, edit=self.edit, **values))


def wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json" or request.url.path.startswith("/api/")
