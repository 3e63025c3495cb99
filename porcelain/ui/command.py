"""The ``artvcs ui`` command: check the extra is installed, then serve (server and app imported only here,
so ``artvcs --version`` never pays for them)."""
from __future__ import annotations

import importlib.util

import click

from artvcs.errors import ArtvcsError

NEEDS = ("starlette", "uvicorn", "jinja2")


class MissingExtraError(ArtvcsError):
    """The optional libraries of ``artvcs ui`` are not installed."""


@click.command("ui")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Port to listen on (0: a free one, printed).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; anything but loopback exposes the repository to the network (a warning says so).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default web browser.")
@click.option("--edit", is_flag=True, help="Allow edits of aliases, description, metadata and tags (read-only otherwise).")
def ui(port: int, host: str, open_browser: bool, edit: bool) -> None:
    """Serve a local web view of the repository.

    Projects, versions, files, diffs and lineage of the repository of the current folder, on
    127.0.0.1 by default. Stop it with Ctrl-C.
    """
    missing = [m for m in NEEDS if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError(f"artvcs ui needs {', '.join(missing)}: install the ui extra with pip install 'artvcs[ui]'")
    from artvcs.porcelain.app import api
    from artvcs.porcelain.ui.server import serve

    serve(api(), host=host, port=port, open_browser=open_browser, edit=edit)
