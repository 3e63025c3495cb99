"""The ``artvcs`` console script: an up-to-date ``artvcs status`` (and ``--version``) is answered before click loads.

Loading the click CLI (:mod:`cli`: click, the command table) costs more
than the whole answer of a status on an up-to-date folder. So ``artvcs
status`` alone, or with ``--json`` / ``--exit-code``, first tries the quick
path the command itself tries first (:func:`artvcs.git.status.quick`) and
prints the same text (:mod:`statustext`). Everything else runs the click CLI
unchanged: other commands, help, paths, options, a folder not shown up to
date, no folder to show, an output the terminal's encoding cannot take, or
any error (the click command then says it, with its exit code). A quick
answer ends the console script's process at once (:func:`_exit`), and so
does a command of :data:`ENDS_AT_ONCE` that succeeded: the interpreter's
teardown (freeing every module, the git database's caches, the stat cache's
connection) cost a re-log ~0.1 s under load and writes nothing that is not
on disk already (the stat cache's sqlite log is folded in by its next writer); a checkout's
teardown, ~35 ms of a 20,000-file copy's CPU.
"""
from __future__ import annotations

import gc
import os
import sys

from artvcs.porcelain.version import VERSION

QUICK_OPTIONS = frozenset({"--json", "--exit-code"})
# Commands whose work is on disk, durable and released once they return 0: content flushed and
# synced before the version's ref moves, the stat cache written in its own transaction, the draft
# record removed, the run finished, every worker thread joined, output left only in sys.stdout and
# sys.stderr (flushed by _exit). Add a command here only after checking the same of its whole path;
# tests/porcelain/test_start_up.py checks these. checkout: its files are written and renamed into
# place (the user's folder, as cp writes it, never synced: not committed data; the kernel holds what
# os._exit leaves), the stat cache's records and folder sums committed in their own transaction,
# the workspace record written and renamed, its copy and hash threads joined. The teardown it skips
# was the stat cache's close (a checkpoint: two fdatasyncs, each behind the writeback of what was
# just copied) and freeing the interpreter (~35 ms CPU after 20,000 files).
ENDS_AT_ONCE = frozenset({"log", "track", "checkout"})
declined = False  # the quick path ran here and could not say: the status command goes straight to the full one


def console_main() -> None:
    """The console script: :func:`main` on ``sys.argv``, a quick answer or a command of
    :data:`ENDS_AT_ONCE` that succeeded ending the process at once (an in-process caller of
    :func:`main` keeps its process)."""
    sys.exit(main(None, own_process=True, serve=True))


def served(args: list[str]) -> int | None:
    """The exit code of the command run by an opt-in fork server (``artvcs server start``), or None:
    not with ARTVCS_SERVER=0, nor for ``artvcs server ...`` itself, nor when no server serves it."""
    if os.environ.get("ARTVCS_SERVER") == "0" or args[:1] == ["server"]:
        return None
    from artvcs.porcelain import serverclient

    return serverclient.run(sys.argv)


def main(argv: list[str] | None = None, own_process: bool = False, serve: bool = False) -> int:
    """The quick status where it can answer, else (with ``serve``) a fork server's child where one
    serves, else :func:`cli.main`. The quick answers come first: faster than a fork server's, which
    pays the same interpreter start and a fork besides."""
    args = sys.argv[1:] if argv is None else list(argv)
    collecting = gc.isenabled()
    gc.disable()  # the collector's passes over what imports make (objects that live on) are waste
    try:
        code = quick_version(args)
        if code is None:
            code = quick_status(args)
        if code is None and serve:
            code = served(args)
        if code is None:
            from artvcs.porcelain.cli import main as cli_main  # click and the command table
    finally:
        if collecting:
            gc.enable()  # as it was: any other command may run long (its own import: cli.import_quietly)
    if code is not None:
        if own_process:  # the console script's own process: nothing is left to finalize
            _exit(code)
        return code
    if own_process:
        from artvcs.porcelain import cli

        cli.freeze_imports = True
    code = cli_main(argv)
    if own_process and code == 0 and args[:1] and args[0] in ENDS_AT_ONCE and _nothing_left():
        _exit(code)
    return code


def _nothing_left() -> bool:
    """True when ending the process now skips no work: no thread but this one runs (a worker still
    writing would be cut off) and no run is open (the exit hook of :mod:`artvcs.runs` would finish it), and no profiler or tracer
    waits for the exit to write what it gathered."""
    threading, runs = sys.modules.get("threading"), sys.modules.get("artvcs.core.context")
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return False  # a profiler or coverage tool writes its results at exit
    return (threading is None or threading.active_count() == 1) and (runs is None or runs.current_run() is None)


def quick_version(args: list[str]) -> int | None:
    """``artvcs --version`` alone: click's version option's line, printed without loading click; None
    (nothing printed) for anything else."""
    if args != ["--version"] or "_ARTVCS_COMPLETE" in os.environ:
        return None
    return _write(f"artvcs, version {VERSION}\n")


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
    if _write(text):
        return 1
    return 1 if "--exit-code" in args and status.differs(rows) else 0


def _write(text: str) -> int:
    """Write ``text`` to stdout: 0, or 1 with the error said as :func:`cli.main` says it."""
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
    return 0


def _exit(code: int) -> None:
    """End the process now with ``code``, its output flushed: the quick status holds no file,
    thread or connection open, and tearing down the interpreter's modules would cost it ~5 ms
    (a re-log, which leaves only what the kernel closes, ~30–100 ms)."""
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
