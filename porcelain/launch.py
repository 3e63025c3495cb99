"""The ``artvcs`` console script: an up-to-date ``artvcs status`` is answered before click loads.

Loading the click CLI (:mod:`cli`: click, the command table) costs more
than the whole answer of a status on an up-to-date folder. So ``artvcs
status`` alone, or with ``--json`` / ``--exit-code``, first tries the quick
path the command itself tries first (:func:`artvcs.git.status.quick`) and
prints the same text (:mod:`statustext`). Everything else runs the click CLI
unchanged: other commands, help, paths, options, a folder not shown up to
date, no folder to show, an output the terminal's encoding cannot take, or
any error (the click command then says it, with its exit code). A quick
answer ends the console script's process at once (:func:`_exit`).
"""
from __future__ import annotations

import gc
import os
import sys

QUICK_OPTIONS = frozenset({"--json", "--exit-code"})
declined = False  # the quick path ran here and could not say: the status command goes straight to the full one


def console_main() -> None:
    """The console script: :func:`main` on ``sys.argv``, a quick answer ending the process at once
    (an in-process caller of :func:`main` keeps its process)."""
    sys.exit(main(None, own_process=True))


def main(argv: list[str] | None = None, own_process: bool = False) -> int:
    """The quick status where it can answer, else :func:`cli.main`."""
    args = sys.argv[1:] if argv is None else list(argv)
    collecting = gc.isenabled()
    gc.disable()  # a short process allocating few cycles: the collector's passes over its imports are waste
    code = quick_status(args)
    if collecting:
        gc.enable()  # as it was: any other command may run long
    if code is not None:
        if own_process:  # the console script's own process: nothing is left to finalize
            _exit(code)
        return code
    from artvcs.porcelain.cli import main as cli_main

    return cli_main(argv)


def quick_status(args: list[str]) -> int | None:
    """Print ``artvcs status`` (``args``, the words after ``artvcs``) from files alone and give its
    exit code; None, having printed nothing, when the click CLI must run instead."""
    global declined
    if not args or args[0] != "status" or not QUICK_OPTIONS.issuperset(args[1:]) \
            or "_ARTVCS_COMPLETE" in os.environ or not _utf8(sys.stdout):
        return None
    try:
        from artvcs.git import status

        rows = status.quick([])
        if not rows:  # something to look at, or nothing to show: the command says which
            declined = rows is None
            return None
        if "--json" in args:
            from artvcs.porcelain.text import json_text

            text = json_text(rows) + "\n"
        else:
            from artvcs.porcelain.statustext import lines

            text = "".join(line + "\n" for line in lines(rows))
        text.encode(sys.stdout.encoding)  # what the stream would refuse, click reports its own way
    except (OSError, UnicodeError):  # e.g. the current folder is gone: the command's error says so
        return None
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        return 1  # as cli.main
    except OSError as e:  # e.g. a full disk: said as cli.main says it
        if os.environ.get("ARTVCS_DEBUG"):
            raise
        from artvcs.porcelain.text import os_error_line

        print(os_error_line(e), file=sys.stderr)
        return 1
    return 1 if "--exit-code" in args and status.differs(rows) else 0


def _exit(code: int) -> None:
    """End the process now with ``code``, its output flushed: the quick status holds no file,
    thread or connection open, and tearing down the interpreter's modules would cost it ~5 ms."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        code = code or 1
    os._exit(code)


def _utf8(stream) -> bool:
    """A UTF-8 text stream, written as click writes it (click re-wraps some others)."""
    encoding = getattr(stream, "encoding", None) or ""
    return encoding.lower().replace("-", "").replace("_", "") == "utf8"


if __name__ == "__main__":
    sys.exit(main())
