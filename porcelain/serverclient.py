"""The client side of the fork server: hand this ``artvcs`` process's command to a running server.

Called by the console script (:mod:`launch`) before click, pygit2 or yaml load. Where no server of
this user and installation listens (a connect to an abstract name nobody holds fails at once) or the
server refuses (its environment or umask differ, its modules changed on disk), :func:`run` returns
None and the command runs in this process exactly as without a server. Otherwise the server's child
runs the command on this process's stdin, stdout, stderr and folder (passed as descriptors), this process
forwards the signals a user sends a command (SIGINT, SIGTERM, SIGHUP, SIGQUIT) and ends as the child
ended: its exit code, or killed by the same signal.
"""
from __future__ import annotations

import _socket  # not socket: its enums and selectors cost a command's start more than the whole exchange
import os
import struct
import sys

from artvcs.porcelain import serverwire as wire

FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")


def peer_uid(sock: _socket.socket) -> int:
    """The uid of the process at the other end of a connected unix socket (SO_PEERCRED)."""
    pid, uid, gid = struct.unpack("3i", sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12))
    return uid


def run(argv: list[str]) -> int | None:
    """Run ``argv`` (``sys.argv``) in a server's child: its exit code, or None (nothing ran) when
    no server of ours answers or it refuses. Killed by a signal, the child's signal ends this process too."""
    try:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET | _socket.SOCK_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            sock.connect(wire.socket_name())
            if peer_uid(sock) != os.getuid():  # another user holds the name: never hand it our descriptors
                return None
            umask = os.umask(0o22)
            os.umask(umask)
            payload = wire.encode_request(wire.fingerprint(), os.getcwdb(), umask, [os.fsencode(a) for a in argv],
                                          dict(os.environb))
            folder = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)  # the child fchdirs to it
        except OSError:  # nobody listens, the folder is gone...
            return None
        forwarder = _Forwarder(sock)  # from before the request: a signal sent meanwhile is not lost
        try:
            sock.sendmsg([payload], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, struct.pack("4i", 0, 1, 2, folder))])
            kind, value = _reply(sock)
        except (OSError, wire.WireError):  # a descriptor is closed, the server went away...
            kind = None
        finally:
            os.close(folder)
        if kind != wire.PID:  # refused: the command runs here, with the signals it was sent meanwhile
            forwarder.restore()
            return None
        return _await(sock, value)
    finally:
        sock.close()


class _Forwarder:
    """Handlers of :data:`FORWARDED` that send each signal to the server for the child (the server
    reads them once the child runs); :meth:`restore` puts the old handlers back and raises here what came."""

    def __init__(self, sock: _socket.socket) -> None:
        import signal

        self.sock, self.signal, self.caught, self.old = sock, signal, [], {}
        for name in FORWARDED:
            signum = getattr(signal, name)
            self.old[signum] = signal.signal(signum, self.forward)

    def forward(self, signum, frame) -> None:
        self.caught.append(signum)
        try:
            self.sock.send(wire.encode_signal(signum))
        except OSError:
            pass

    def restore(self) -> None:
        for signum, handler in self.old.items():
            self.signal.signal(signum, handler)
        for signum in self.caught:
            self.signal.raise_signal(signum)


def _reply(sock: _socket.socket) -> tuple[bytes, int | bytes]:
    data = sock.recv(65536)
    if not data:
        raise ConnectionResetError("the server closed the connection")
    return wire.decode_reply(data)


def _await(sock: _socket.socket, pid: int) -> int:
    """Wait for the wait status of the child ``pid`` (signals go on being forwarded, through the server,
    which has not reaped it yet); end as it ended."""
    import signal

    try:
        kind, status = _reply(sock)
        while kind != wire.EXIT:
            kind, status = _reply(sock)
    except (OSError, wire.WireError) as e:
        print(f"artvcs: error: the artvcs server went away while its process {pid} ran this command ({e})",
              file=sys.stderr)
        return 1
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        return 128 + sig  # a signal that does not end a process by default
    return os.waitstatus_to_exitcode(status)
