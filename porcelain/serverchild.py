"""The fork server's child: become the client's process, run the console script's entry, exit.

Forked from the server (:mod:`serverd`), which holds every module imported and nothing else open,
the child takes the client's descriptors as its stdin, stdout, stderr and folder (fchdir: the
client's very folder, not a path looked up again), its umask,
environment and argv, resets the signal handlers a fresh interpreter has, and runs
:func:`launch.main` as the ``artvcs`` script does. It then ends as the interpreter would:
an exit code from SystemExit, a traceback and 1 for another exception, killed by SIGINT after an
uncaught KeyboardInterrupt; non-daemon threads joined and exit hooks run before it goes.
"""
from __future__ import annotations

import atexit
import io
import os
import signal
import sys
import threading

from artvcs.porcelain import serverwire as wire

RESET = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGCHLD)  # the server's handlers
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)  # what a client forwards to the child


def run(request: wire.Request, fds: list[int], close: list[int]) -> None:
    """Run ``request`` in this (just forked) process on ``fds`` (the client's 0, 1, 2 and folder), having closed
    the server's descriptors ``close``; never returns. The server's signals stay blocked (as they were
    across the fork) until just before the command's main: a signal forwarded early waits for it."""
    try:
        signal.set_wakeup_fd(-1)
        for signum in RESET:
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as a fresh interpreter has it
        for fd in close:
            try:
                os.close(fd)
            except OSError:
                pass
        folder = os.dup(fds[3])  # above 2: the dup2s below cannot overwrite it
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in set(fds) - {0, 1, 2}:
            os.close(fd)
        _stdio()
        os.umask(request.umask)
        os.environb.clear()
        os.environb.update(request.env)
        sys.argv = [os.fsdecode(a) for a in request.argv]
        os.fchdir(folder)
        os.close(folder)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGCHLD])  # not forwarded: nothing to hold back
    except KeyboardInterrupt:  # never expected (SIGINT is blocked): ends as an early ctrl-c ends a process
        _die_by_sigint()
    except BaseException as e:  # e.g. the client's folder was removed since it asked
        try:
            os.write(2, f"artvcs: error: the artvcs server could not start the command: {e}\n".encode())
        finally:
            os._exit(1)
    try:
        code = _main()
    except KeyboardInterrupt:  # came while the exit was being fixed, before the signals were blocked
        _die_by_sigint()
    os._exit(code)


def _die_by_sigint() -> None:
    """End killed by SIGINT, as the interpreter ends after an uncaught KeyboardInterrupt."""
    try:
        for _ in range(1000):  # signal.signal first runs the handlers of signals already caught: retry
            try:
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                break
            except KeyboardInterrupt:
                continue
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])
        os.kill(os.getpid(), signal.SIGINT)
    finally:
        os._exit(130)


def _stdio() -> None:
    """New sys.stdin, stdout and stderr over descriptors 0, 1, 2, buffered as the interpreter buffers
    them (stdout line-buffered on a terminal, stderr always); the server's were over /dev/null."""
    def wrap(fd: int, old, line: bool):
        raw = io.FileIO(fd, "r" if fd == 0 else "w", closefd=False)
        buffered = io.BufferedReader(raw) if fd == 0 else io.BufferedWriter(raw)
        return io.TextIOWrapper(buffered, encoding=old.encoding, errors=old.errors, newline="\n",
                                line_buffering=line, write_through=old.write_through)

    sys.stdin = sys.__stdin__ = wrap(0, sys.__stdin__, False)
    sys.stdout = sys.__stdout__ = wrap(1, sys.__stdout__, os.isatty(1))
    sys.stderr = sys.__stderr__ = wrap(2, sys.__stderr__, True)


def _main() -> int:
    """The console script's entry, ended as the interpreter ends it: the exit code to leave with."""
    from artvcs.porcelain import launch

    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED)  # a signal forwarded meanwhile arrives now, here
        sys.exit(launch.main(None, own_process=True))  # console_main, less its asking a server
    except SystemExit as e:
        _hold_signals()
        code = _exit_code(e)
    except KeyboardInterrupt:
        _hold_signals()
        sys.excepthook(*sys.exc_info())
        _finish()
        _die_by_sigint()
    except BaseException:
        _hold_signals()
        sys.excepthook(*sys.exc_info())
        code = 1
    return _finish(code)


def _hold_signals() -> None:
    """Block the forwarded signals once the command is over: one more ctrl-c while its exit code is
    being fixed (exit hooks, flushes) must not turn into a KeyboardInterrupt out of this module."""
    signal.pthread_sigmask(signal.SIG_BLOCK, FORWARDED)


def _exit_code(e: SystemExit) -> int:
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code & 0xFF
    try:
        print(e.code, file=sys.stderr)
    except Exception:
        pass
    return 1


def _finish(code: int = 1) -> int:
    """What the interpreter does at exit that matters to a command: non-daemon threads joined, exit
    hooks run, stdout and stderr flushed (a failed flush makes the code 1, as for the interpreter).
    The forwarded signals are blocked first (a pending SIGINT then ends nothing half-way)."""
    _hold_signals()
    try:
        threading._shutdown()  # the interpreter's own wait for non-daemon threads
    except Exception:
        pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or 1
    return code
