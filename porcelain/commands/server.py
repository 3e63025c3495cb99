"""``artvcs server start|stop|status``: the opt-in fork server that starts commands without their imports.

The server itself is :mod:`artvcs.porcelain.serverd`; the console script finds it through
:mod:`artvcs.porcelain.serverclient`. These commands always run in their own process.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import click

from artvcs.errors import ArtvcsError, UsageError
from artvcs.plumbing.drafts import process_alive
from artvcs.porcelain import serverwire as wire
from artvcs.porcelain.output import emit_json, json_option
from artvcs.porcelain.serverclient import peer_uid

DEFAULT_IDLE = "30m"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_idle(text: str) -> float | None:
    """``--idle``: a positive number with a unit s, m, h or d (``30m``), or ``none`` (never exit idle)."""
    if text == "none":
        return None
    number, unit = text[:-1], text[-1:]
    try:
        seconds = float(number) * _UNITS[unit]
    except (KeyError, ValueError):
        seconds = -1.0
    if not seconds > 0 or seconds == float("inf") or not number.replace(".", "", 1).isdigit():
        raise UsageError(f"--idle {text!r}: use a positive number and a unit s, m, h or d (30m), or none")
    return seconds


def ask(kind: bytes) -> dict | None:
    """Send STATUS or STOP to this user's server: its state, or None when none of ours listens."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC) as sock:
            sock.connect(wire.socket_name())
            if peer_uid(sock) != os.getuid():
                return None
            sock.settimeout(30)
            sock.send(kind)
            data = sock.recv(65536)
    except OSError:
        return None
    try:
        reply, value = wire.decode_reply(data)
        if reply == wire.STATE:
            return json.loads(value)
    except (wire.WireError, ValueError):
        pass
    return None


@click.group("server")
def server() -> None:
    """Run an opt-in fork server: commands start in milliseconds, without loading artvcs each time.

    The server holds artvcs's modules imported and forks a process for each
    command. It serves only this user, and only commands run with the same
    environment and umask it was started with; anything else runs as without
    it. ARTVCS_SERVER=0 makes a command ignore it.
    """


@server.command("start")
@click.option("--idle", "idle", default=DEFAULT_IDLE, show_default=True, metavar="DURATION",
              help="Exit after this long without a command (e.g. 90s, 30m, 2h), or none.")
def start(idle: str) -> None:
    """Start the server in the background (nothing to do when it already runs)."""
    seconds = parse_idle(idle)
    state = ask(wire.STATUS)
    if state is not None and state.get("accepting"):
        click.echo(f"artvcs server: already running (pid {state['pid']})")
        return
    read, write = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "artvcs.porcelain.serverd", str(write),
                                 "none" if seconds is None else repr(seconds), sys.path[0]],
                                pass_fds=(write,), start_new_session=True, cwd="/", stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        os.close(write)
    with os.fdopen(read, "rb") as f:
        proc.wait()
        said = f.read().decode(errors="replace").strip()
    word, _, rest = said.partition(" ")
    if word == "ok":
        click.echo(f"artvcs server: started (pid {rest})")
        return
    state = ask(wire.STATUS)
    if state is not None and state.get("accepting"):  # another start won the race for the name
        click.echo(f"artvcs server: already running (pid {state['pid']})")
        return
    raise ArtvcsError(f"the server did not start: {rest or 'it ended before it was ready'}")


@server.command("stop")
def stop() -> None:
    """Stop the server: commands run in their own process again at once; it exits when its running ones end."""
    state = ask(wire.STOP)
    if state is None:
        click.echo("artvcs server: not running")
        return
    pid, running = state["pid"], state["running_commands"]
    if running:
        click.echo(f"artvcs server: stopped (pid {pid}); it exits when its {running} running commands end")
        return
    while process_alive(pid):  # nothing to wait for but its own exit
        time.sleep(0.005)
    click.echo(f"artvcs server: stopped (pid {pid})")


@server.command("status")
@json_option
def status(as_json: bool) -> None:
    """Say whether the server runs: its pid, start, commands served and refused, idle deadline."""
    state = ask(wire.STATUS) or {"running": False}
    if as_json:
        emit_json(state)
        return
    if not state["running"]:
        click.echo("artvcs server: not running")
        return
    deadline = state["idle_deadline"] or ("none" if state["idle_seconds"] is None else "(running commands)")
    click.echo(f"artvcs server: running (pid {state['pid']}), started {state['started']}\n"
               f"served {state['served']} commands, refused {state['refused']}, "
               f"{state['running_commands']} running\nidle exit: {deadline}")
