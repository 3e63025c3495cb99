"""Serving the web view: a socket on the loopback address (or --host, with a warning), uvicorn on it.

The socket is bound before the URL is printed, so a port of 0 becomes a free port that is already
ours; uvicorn stops cleanly on Ctrl-C (SIGINT) and SIGTERM.
"""
from __future__ import annotations

import asyncio
import ipaddress
import socket
import sys
import warnings
import webbrowser

import click
import uvicorn

import artvcs
from artvcs.porcelain.ui.app import create_app
from artvcs.porcelain.ui.warm import Warmer

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (IPv6 when ``host`` is an IPv6 address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host.strip("[]"), port))
    except OSError as e:
        sock.close()
        raise click.UsageError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def allowed_hosts(host: str, port: int) -> set[str]:
    """The Host header values a request may carry: this address and port, by name or number (no DNS rebinding)."""
    names = set(LOOPBACK_NAMES) if _is_loopback(host) else set()
    names.add(f"[{host}]" if ":" in host and not host.startswith("[") else host)
    return {f"{n}:{port}" for n in names}


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """End ``loop`` as asyncio's runner ends its own: what an interrupt left pending is cancelled, not
    destroyed; async generators and the default executor are shut down (the loop runs once more, so
    the callbacks of the serving task's end run too: anyio's worker threads stop there, not after
    their 10 s idle time); then it is closed, whatever happens meanwhile."""
    try:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def serve(api: artvcs.Api, *, host: str, port: int, open_browser: bool, edit: bool) -> None:
    """Serve ``api``'s repository until interrupted."""
    sock = bind(host, port)
    port = sock.getsockname()[1]
    if not _is_loopback(host):
        click.echo(f"artvcs ui: warning: listening on {host}, not loopback: anyone who can reach this machine "
                   "can read the repository" + (" and edit it" if edit else ""), err=True)
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    app = create_app(api, allowed_hosts(host, port) | (allowed_hosts("127.0.0.1", port) if host in ("0.0.0.0", "::") else set()), edit=edit)
    mode = "read-write (--edit)" if edit else "read-only"
    click.echo(f"artvcs ui: serving {api._context.repo.worktree} ({mode}) at {url}  (Ctrl-C stops)")
    sys.stdout.flush()
    # Sorting a collection by size or time reads every version once: a child process does it now, beside serving.
    warmer = Warmer(api._context.repo.gitdir)
    if open_browser:
        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", server_header=False,
                            timeout_graceful_shutdown=5)  # Ctrl-C: requests in flight get 5 s, then it stops
    # A Ctrl-C between here and uvicorn's handler leaves its serve() coroutine never started; Python
    # would warn of that on stderr, but it is a clean stop before the first request.
    warnings.filterwarnings("ignore", "coroutine 'Server.serve' was never awaited", RuntimeWarning)
    loop = None
    try:
        # the loop is made and closed here, not by uvicorn's run(): a Ctrl-C landing while asyncio's
        # runner set itself up left a loop that nothing closed, and its __del__ at exit failed
        # noisily ("Exception ignored in BaseEventLoop.__del__", a traceback) under a storm of them
        loop = (config.get_loop_factory() or asyncio.new_event_loop)()
        loop.run_until_complete(uvicorn.Server(config).serve(sockets=[sock]))
    except KeyboardInterrupt:  # uvicorn shuts down, then raises the Ctrl-C again for the caller: that is a clean stop
        pass
    finally:
        if loop is not None:
            _close(loop)
        warmer.stop()
        sock.close()
    click.echo("artvcs ui: stopped", err=True)
