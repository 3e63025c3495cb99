"""The ``artvcs`` command: one click group, commands loaded lazily.

Commands are listed as data (name → module) in ``porcelain/commands`` and
``plumbing/commands`` and imported only when run, so ``artvcs --version``
stays fast. Every :class:`ArtvcsError` becomes one stderr line and its exit
code here, and nowhere else; a traceback is shown only with ARTVCS_DEBUG=1. A usage error
(an unknown option, a missing argument) is one line too, and a warning is one line
``artvcs: warning: ...`` rather than Python's two (file, line and source).
"""
from __future__ import annotations

import gc
import importlib
import os
import signal
import sys
import threading
from collections.abc import Callable

import click

from artvcs.plumbing.commands import PLUMBING
from artvcs.porcelain.commands import PORCELAIN
from artvcs.porcelain.version import VERSION
from artvcs.porcelain.safetext import one_line
from artvcs.porcelain.text import os_error_line
from artvcs.porcelain.vocabulary import SYNONYMS


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def __init__(self, *args, lazy: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name not in self.lazy and SYNONYMS.get(name) in self.lazy:
            name = SYNONYMS[name]  # 'artvcs list' is 'artvcs ls'
        if name in self.lazy:
            module, _, attr = self.lazy[name].partition(":")
            return getattr(import_quietly(module), attr)
        return super().get_command(ctx, name)

    def format_commands(self, ctx, formatter):
        # Split the listing like git: porcelain first, then plumbing.
        for title, table in (("Commands", PORCELAIN), ("Plumbing commands", PLUMBING)):
            rows = []
            for name in sorted(table):
                cmd = self.get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(formatter.width - 6 - max(len(n) for n in table))))
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


freeze_imports = False  # set by the console script (launch.main): its process ends when the command does


def import_quietly(module: str):
    """Import ``module`` with the cyclic garbage collector paused: a command's import allocates tens of
    thousands of objects that live as long as the process (classes, functions, the git binding's
    enums), and the collector's passes over them while they are made are waste (5-15 ms of a
    re-log's start). The collector runs again afterwards as it was; in the console script's own
    process (:data:`freeze_imports`) what the import made is first moved out of the collector's sight
    (``gc.freeze``), else the command's first collections walk it all after all (30-100 ms of a
    re-log under load). Frozen objects are still freed by reference counting."""
    if module in sys.modules:
        return sys.modules[module]
    collecting = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(module)
    finally:
        if freeze_imports:
            gc.freeze()
        if collecting:
            gc.enable()


@click.group(cls=LazyGroup, lazy={**PLUMBING, **PORCELAIN}, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(VERSION, prog_name="artvcs")
def cli() -> None:
    """artvcs: version control for datasets and models."""


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point: run the CLI, turn artvcs errors into exit codes."""
    import warnings

    shown = warnings.showwarning
    warnings.showwarning = _warning_line
    interrupt = _interrupt_once()
    try:
        return _main(argv)
    finally:
        warnings.showwarning = shown
        # Once interrupted, the console script's process is ending: a further Ctrl-C ends it at once.
        if interrupt is not None and not (freeze_imports and signal.getsignal(signal.SIGINT) is not _first_interrupt):
            signal.signal(signal.SIGINT, interrupt)


def _interrupt_once() -> Callable[..., object] | None:
    """Make the first Ctrl-C a KeyboardInterrupt and any further one end the process by the signal, as
    git does: a second Ctrl-C while the first unwinds (click's handler, cleanups) would otherwise end in
    a traceback from wherever it landed. Returns the handler to put back, or None where SIGINT is not
    Python's default (ignored, or someone else's handler) or this is not the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.default_int_handler:
        return None
    signal.signal(signal.SIGINT, _first_interrupt)
    return previous


def _first_interrupt(signum: int, frame: object) -> None:
    # A second SIGINT landing inside this handler runs it again, nested, to the same end.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    raise KeyboardInterrupt


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as the command line says it: one stderr line, no source file or code."""
    click.echo(f"artvcs: warning: {one_line(' '.join(str(message).split()))}", err=True)


def usage_line(e: click.UsageError) -> str:
    """A usage error as one stderr line: what is wrong, and where the usage is."""
    ctx = e.ctx
    what = one_line(" ".join(e.format_message().split()))
    if "--help" in what:  # the message says where to look already
        return f"artvcs: error: {what}"
    where = f"'{ctx.command_path} --help'" if ctx is not None else "'artvcs --help'"
    return f"artvcs: error: {what} (see {where})"


# click >= 8.2 raises this UsageError for a group run without a command (8.1 printed the help itself).
_NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _main(argv: list[str] | None) -> int:
    from artvcs.porcelain.safetext import escaped_output

    with escaped_output():  # the output edge: text from a remote or a manifest never drives the terminal
        return _run(argv)


def _run(argv: list[str] | None) -> int:
    from artvcs.plumbing.errors import ArtvcsError
    from artvcs.porcelain.progress import progress_bar

    try:
        # Without standalone mode click returns ctx.exit()'s code instead of exiting.
        # Every command's long work shows progress: a bar on a terminal; else one summary line,
        # except for plumbing, whose silence when all is well is part of its promise to scripts.
        words = [a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")]
        with progress_bar(summary=not words or words[0] not in PLUMBING) as progress:
            code = cli.main(args=argv, prog_name="artvcs", standalone_mode=False)
            code = code if type(code) is int else 0
            progress.ok = code == 0
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("artvcs: aborted", err=True)
        return 1
    except click.exceptions.Exit as e:
        return e.exit_code
    except _NO_ARGS_IS_HELP as e:  # a bare command or group: its formatted help, not one squashed line
        e.show()
        return e.exit_code
    except click.UsageError as e:
        click.echo(usage_line(e), err=True)
        return e.exit_code
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except ArtvcsError as e:
        if os.environ.get("ARTVCS_DEBUG"):
            raise
        click.echo(f"artvcs: error: {one_line(str(e))}", err=True)
        return e.exit_code
    except BrokenPipeError:
        return 1
    except OSError as e:  # a file the user named cannot be read or written: say which, and why
        if os.environ.get("ARTVCS_DEBUG"):
            raise
        click.echo(os_error_line(e), err=True)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
