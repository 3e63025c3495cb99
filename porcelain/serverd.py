"""The fork server (``artvcs server start``): a daemon holding artvcs's modules imported, forking a
child per command so that a command starts without paying for its imports.

Started by :mod:`artvcs.porcelain.commands.server` as ``python -m artvcs.porcelain.serverd``: it forks
once more (the start command made it a session leader), moves to ``/`` with its stdio on /dev/null,
imports the CLI and every command's module, binds the abstract socket (:mod:`serverwire`) and says
"ok PID" on the descriptor it was given. One thread, one select loop: it serves a request only from
a process of its own uid and gid (SO_PEERCRED) in its own mount, user and pid namespaces and root
(a client in a container or chroot would otherwise have its command run in the server's), with its
groups, no_new_privs and seccomp mode, whose fingerprint, environment (less
:data:`serverwire.VOLATILE_ENV`) and umask equal its own (modules read them at import), and only
while none of its loaded module files (artvcs's and its dependencies') changed on disk (an upgrade or
an editable edit: it then refuses and exits). At fork time it holds no repository, thread or database connection, only the
modules. It forwards the client's signals to the child and sends the child's wait status; it exits
after ``server stop``, SIGTERM, or the idle time without a command.
"""
from __future__ import annotations

import gc
import json
import os
import selectors
import signal
import socket
import stat
import struct
import sys
import threading
import time

from artvcs.porcelain import serverchild
from artvcs.porcelain import serverwire as wire

FD_SPACE = socket.CMSG_SPACE(16 * 4)  # room for more descriptors than a client sends: extra ones are closed, not leaked


def preload() -> None:
    """Import what commands import: the CLI, each command's module, the libraries under them. A module
    that fails to import is left for the command to import (and report) itself."""
    import importlib

    from artvcs.plumbing.commands import PLUMBING
    from artvcs.porcelain import cli
    from artvcs.porcelain.commands import PORCELAIN

    for name, target in {**PLUMBING, **PORCELAIN}.items():
        if name == "ui":
            continue  # the web view's libraries are large, and it runs for long: nothing to gain
        try:
            cli.import_quietly(target.partition(":")[0])
        except Exception:
            pass
    for module in ("artvcs.git.status", "artvcs.porcelain.statustext", "artvcs.porcelain.text"):
        try:
            importlib.import_module(module)
        except Exception:
            pass


NAMESPACES = ("mnt", "user", "pid")
STATUS_FIELDS = (b"Groups:", b"NoNewPrivs:", b"Seccomp:")  # /proc/PID/status lines a command must share with the server


def process_context(pid: int | str) -> tuple:
    """What a served command must share with the server, of process ``pid`` (or "self"): the
    (device, inode) of its mount, user and pid namespaces and of its root, and its groups,
    no_new_privs and seccomp lines of /proc/PID/status. OSError when /proc cannot say."""
    ids = []
    for name in NAMESPACES:
        st = os.stat(f"/proc/{pid}/ns/{name}")
        ids.append((name, st.st_dev, st.st_ino))
    st = os.stat(f"/proc/{pid}/root")
    ids.append(("root", st.st_dev, st.st_ino))
    with open(f"/proc/{pid}/status", "rb") as f:
        lines = [line.strip() for line in f if line.startswith(STATUS_FIELDS)]
    return tuple(ids) + tuple(sorted(lines))


def context_difference(mine: tuple, theirs: tuple) -> str:
    """The names of what differs between two :func:`process_context` answers, comma-separated."""
    name = lambda item: item[0] if isinstance(item, tuple) else item.split(b":")[0].decode()  # noqa: E731
    differ = sorted({name(i) for i in set(mine) ^ set(theirs)})
    return ", ".join(differ) or "?"


def module_files() -> dict[str, tuple[int, int, int, int]]:
    """The files of every loaded module (artvcs's and its dependencies', sources and native .so) →
    (device, inode, size, mtime): an upgrade of click or pygit2 leaves a server as stale as one of
    artvcs does. About 330 files after the preload, re-stated in about 1 ms before each fork."""
    paths = {module.__file__ for module in list(sys.modules.values())
             if isinstance(getattr(module, "__file__", None), str)}
    return stat_files(paths)


def stat_files(paths) -> dict[str, tuple[int, int, int, int]]:
    """``path`` → (device, inode, size, mtime), or (0, 0, -1, 0) for a file gone."""
    out = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            out[path] = (0, 0, -1, 0)
            continue
        out[path] = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    return out


class Server:
    """The listening socket, the clients and the children of one fork server."""

    def __init__(self, name: bytes, idle: float | None) -> None:
        self.name, self.idle = name, idle
        self.fingerprint = wire.fingerprint()
        self.env = wire.comparable_env(dict(os.environb))
        self.umask = os.umask(0o22)
        os.umask(self.umask)
        self.started = time.time()
        self.last_active = time.monotonic()
        self.served = self.refused = 0
        self.children: dict[int, socket.socket] = {}
        self.sel = selectors.DefaultSelector()
        self.listener: socket.socket | None = None
        self.modules: dict = {}
        self.context = process_context("self")
        self.stop_reason = ""

    def bind(self) -> None:
        """Take the socket's name (OSError EADDRINUSE: another server holds it) and start listening."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET | socket.SOCK_CLOEXEC)
        sock.bind(self.name)
        sock.listen(64)
        sock.setblocking(False)
        self.listener = sock
        self.sel.register(sock, selectors.EVENT_READ, "listener")
        self.wake_r, self.wake_w = socket.socketpair()
        for s in (self.wake_r, self.wake_w):
            s.setblocking(False)
        self.sel.register(self.wake_r, selectors.EVENT_READ, "wake")
        signal.set_wakeup_fd(self.wake_w.fileno())
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a handler, so the wakeup descriptor hears it
        signal.signal(signal.SIGTERM, lambda *_: self.stop("SIGTERM"))
        signal.signal(signal.SIGINT, lambda *_: self.stop("SIGINT"))
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        self.modules = module_files()

    def stop(self, reason: str) -> None:
        """Stop accepting (the name is free at once: new commands run in process); the loop ends once
        the running commands have."""
        if self.listener is not None:
            self.sel.unregister(self.listener)
            self.listener.close()
            self.listener = None
            self.stop_reason = reason

    def state(self) -> dict:
        deadline = None
        if self.idle is not None and not self.children and self.listener is not None:
            deadline = time.time() + self.last_active + self.idle - time.monotonic()
        return {"running": True, "pid": os.getpid(), "started": _iso(self.started), "served": self.served,
                "refused": self.refused, "running_commands": len(self.children), "accepting": self.listener is not None,
                "idle_seconds": self.idle, "idle_deadline": None if deadline is None else _iso(deadline),
                "stopping": self.stop_reason or None}

    def serve(self) -> None:
        """The loop: accept, serve, reap, until stopped (or idle) and no command runs."""
        while self.listener is not None or self.children:
            timeout = None
            if self.idle is not None and not self.children and self.listener is not None:
                timeout = self.last_active + self.idle - time.monotonic()
                if timeout <= 0:
                    self.stop("idle")
                    continue
            for key, _ in self.sel.select(timeout):
                try:
                    self.event(key)
                except Exception:  # one client's trouble never ends the server
                    if isinstance(key.data, tuple):
                        self.drop(key.fileobj)
            self.reap()

    def event(self, key) -> None:
        what = key.data
        if what == "listener":
            try:
                conn, _ = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
            if uid != os.getuid() or gid != os.getgid():  # another user's process: no answer at all
                conn.close()
                return
            conn.setblocking(False)
            self.sel.register(conn, selectors.EVENT_READ, ("new", pid))
        elif what == "wake":
            try:
                while self.wake_r.recv(512):
                    pass
            except (BlockingIOError, InterruptedError):
                pass
        elif what[0] == "new":
            self.request(key.fileobj, what[1])
        else:
            self.signal_child(key.fileobj, what[1])

    def request(self, conn: socket.socket, peer: int) -> None:
        data, ancdata, flags, _ = conn.recvmsg(wire.MAX_MESSAGE + 1, FD_SPACE)
        fds = []
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += struct.unpack(f"{len(payload) // 4}i", payload[:len(payload) // 4 * 4])
        try:
            if not data:
                self.drop(conn)
                return
            if data[:4] in (wire.STATUS, wire.STOP):  # asking about the server is not a command: idle time runs on
                if data[:4] == wire.STOP:
                    self.stop("server stop")
                self.answer(conn, wire.STATE, json.dumps(self.state()).encode())
                return
            self.last_active = time.monotonic()
            if flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC):
                raise wire.WireError("request or its descriptors truncated")
            req = wire.decode_request(data)
            reason = self.refusal(req, fds, peer)
            if reason:
                self.refused += 1
                self.answer(conn, wire.REFUSED, reason.encode())
                return
            self.fork(conn, req, fds)
        except wire.WireError as e:
            self.answer(conn, wire.REFUSED, str(e).encode())
        finally:
            for fd in fds:
                os.close(fd)

    def refusal(self, req: wire.Request, fds: list[int], peer: int) -> str:
        """Why ``req`` of process ``peer`` cannot be served here ('' when it can)."""
        if len(fds) != 4:
            return f"{len(fds)} descriptors sent: stdin, stdout, stderr and the folder expected"
        try:
            folder = os.fstat(fds[3])
            theirs = process_context(peer)
        except OSError as e:
            return f"cannot read the client's folder or process {peer}: {e}"
        if not stat.S_ISDIR(folder.st_mode):
            return "the fourth descriptor is not a folder"
        if theirs != self.context:
            return ("the client's process differs from the server's in its " + context_difference(self.context, theirs)
                    + ": another container, chroot or sandbox")
        if req.fingerprint != self.fingerprint:
            return "another installation of artvcs"
        env = wire.comparable_env(req.env)
        if env != self.env:
            names = sorted(k for k in env.keys() | self.env.keys() if env.get(k) != self.env.get(k))
            return "environment differs from the server's: " + ", ".join(os.fsdecode(n) for n in names[:10])
        if req.umask != self.umask:
            return f"umask {req.umask:03o} differs from the server's {self.umask:03o}"
        if stat_files(self.modules) != self.modules:  # those loaded at the start (a later import is the server's own)
            self.stop("module files changed")
            return "module files changed on disk since the server started (an upgrade?): it exits"
        if threading.active_count() != 1:
            return "the server runs a thread"  # never expected: a fork would copy it half-way
        return ""

    def fork(self, conn: socket.socket, req: wire.Request, fds: list[int]) -> None:
        close = {k.fileobj.fileno() for k in self.sel.get_map().values()} | {c.fileno() for c in self.children.values()}
        close = sorted(close | {self.wake_w.fileno(), self.sel.fileno()})
        # blocked across the fork: the child unblocks them once its own handlers are set, so a signal
        # forwarded at once never runs the server's handler in the child
        signal.pthread_sigmask(signal.SIG_BLOCK, serverchild.RESET)
        try:
            pid = os.fork()
            if pid == 0:  # the child never returns into the server's loop, whatever it raises
                try:
                    serverchild.run(req, fds, close)
                finally:
                    os._exit(1)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, serverchild.RESET)
        self.served += 1
        self.children[pid] = conn
        self.sel.modify(conn, selectors.EVENT_READ, ("running", pid))
        try:
            conn.send(wire.encode_reply(wire.PID, pid))
        except OSError:
            self.kill(pid, signal.SIGKILL)  # the client is gone: so is its command

    def signal_child(self, conn: socket.socket, pid: int) -> None:
        try:
            data = conn.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client died (SIGKILL, say): its command dies with it
            self.sel.unregister(conn)
            self.kill(pid, signal.SIGKILL)
            return
        try:
            self.kill(pid, wire.decode_signal(data))
        except wire.WireError:
            pass

    def kill(self, pid: int, signum: int) -> None:
        if pid in self.children:  # not reaped yet: the pid is still our child's
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is not None:
                self.last_active = time.monotonic()
                try:
                    conn.send(wire.encode_reply(wire.EXIT, status))
                except OSError:
                    pass
                self.drop(conn)

    def answer(self, conn: socket.socket, kind: bytes, value: bytes) -> None:
        try:
            conn.send(wire.encode_reply(kind, value))
        except OSError:
            pass
        self.drop(conn)

    def drop(self, conn: socket.socket) -> None:
        try:
            self.sel.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()


def _iso(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def main(argv: list[str]) -> None:
    """``serverd READY_FD IDLE_SECONDS|none PATH0``: daemonize, preload, bind, say ok on READY_FD, serve."""
    ready_fd, idle, path0 = int(argv[0]), None if argv[1] == "none" else float(argv[1]), argv[2]
    if os.fork():
        os._exit(0)  # the start command waits for this one; the server is its child's child, no session leader
    os.chdir("/")
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    sys.path[0] = path0  # the console script's folder, as in a command's own process (not '/')
    try:
        preload()
        server = Server(wire.socket_name(), idle)
        server.bind()
    except BaseException as e:
        os.write(ready_fd, f"error {e}\n".encode())
        os._exit(1)
    gc.collect()
    gc.freeze()  # what the imports made stays shared with the children: their collections never touch it
    os.write(ready_fd, f"ok {os.getpid()}\n".encode())
    os.close(ready_fd)
    server.serve()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
