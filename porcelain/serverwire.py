"""The fork server's wire: its socket's name, and the messages client and server exchange.

The server listens on a Linux abstract unix socket (``SOCK_SEQPACKET``: each message arrives whole,
the descriptors it carries with it), so nothing is written anywhere. Its name holds the uid and a
fingerprint of this installation, so a client only ever talks to a server of its own interpreter,
packages and version. A request (:func:`encode_request`) says what an ``artvcs`` process was started
with; the answers (:func:`encode_reply`) are the child's pid, its wait status, a refusal (the client
then runs the command in its own process) or the server's state. Every field is a length-prefixed byte
string; :func:`decode_request` and :func:`decode_reply` check every length and raise
:class:`WireError`, nothing else, on any bytes. Imports only the standard library's small modules:
the client side runs before click, pygit2 or yaml load.
"""
from __future__ import annotations

import os
import struct
import sys

from artvcs.errors import ArtvcsError
from artvcs.porcelain.version import VERSION

REQUEST = b"AVS1"  # run a command: fingerprint, cwd, umask, argv, environment (+ fds 0, 1, 2 and the cwd's)
STATUS = b"AVS?"  # the server's state, as JSON
STOP = b"AVS!"  # stop accepting, exit once running commands end
SIGNAL = b"AVSS"  # client -> server: forward this signal number to the child
PID = b"P"  # server -> client: the child runs, with this pid
EXIT = b"X"  # server -> client: the child's wait status
REFUSED = b"R"  # server -> client: not served (the reason); run the command in process
STATE = b"J"  # server -> client: the JSON answer to STATUS or STOP
MAX_MESSAGE = 1 << 20  # a request larger than this is refused (the client runs in process)
# variables a shell changes between commands without changing what a command's modules read
VOLATILE_ENV = frozenset({b"PWD", b"OLDPWD", b"SHLVL", b"_"})


class WireError(ArtvcsError):
    """A message on the fork server's socket breaks the wire format (truncated, too long, unknown kind)."""


def fingerprint() -> str:
    """What the server's modules must be to serve this process: the version, the interpreter (realpath,
    prefix) and the folders of the artvcs, artvcs.plumbing and artvcs.porcelain packages."""
    here = os.path.dirname(os.path.realpath(__file__))
    top = sys.modules["artvcs"].__file__  # imported: this module is inside it
    plumbing = os.path.join(os.path.dirname(here), "plumbing")  # beside porcelain, editable or plain install
    parts = [VERSION, os.path.realpath(sys.executable), sys.prefix, os.path.dirname(os.path.realpath(top)), here,
             os.path.realpath(plumbing)]
    return "\n".join(parts)


def socket_name(uid: int | None = None, tag: str | None = None) -> bytes:
    """The abstract socket's name (leading NUL) for ``uid`` (default: ours), this installation, and
    ``ARTVCS_SERVER_TAG`` (tests give each their own server)."""
    import zlib  # a builtin module: costs nothing; the name need not resist forgery (the peer's uid is checked)

    uid = os.getuid() if uid is None else uid
    tag = os.environ.get("ARTVCS_SERVER_TAG", "") if tag is None else tag
    digest = zlib.crc32(fingerprint().encode("utf-8", "surrogateescape")) ^ (zlib.adler32(tag.encode()) << 32)
    return f"\0artvcs-server-{uid}-{digest:016x}".encode() + (b"-" + tag.encode()[:40] if tag else b"")


def _field(data: bytes) -> bytes:
    return struct.pack("<I", len(data)) + data


def encode_request(fingerprint_text: str, cwd: bytes, umask: int, argv: list[bytes], env: dict[bytes, bytes]) -> bytes:
    """A REQUEST message: what the server must check and what the child must be given."""
    out = [REQUEST, _field(fingerprint_text.encode("utf-8", "surrogateescape")), _field(cwd),
           struct.pack("<II", umask, len(argv))]
    out += [_field(a) for a in argv]
    out.append(struct.pack("<I", len(env)))
    out += [_field(k + b"=" + v) for k, v in env.items()]
    return b"".join(out)


class Request:
    """A decoded REQUEST: the client's fingerprint, cwd, umask, argv and environment (bytes, as the OS holds them)."""

    __slots__ = ("fingerprint", "cwd", "umask", "argv", "env")

    def __init__(self, fingerprint: str, cwd: bytes, umask: int, argv: list[bytes], env: dict[bytes, bytes]) -> None:
        self.fingerprint, self.cwd, self.umask, self.argv, self.env = fingerprint, cwd, umask, argv, env


class _Reader:
    """Reads the fields of one message, raising :class:`WireError` at any length that does not fit."""

    def __init__(self, data: bytes, at: int) -> None:
        self.data, self.at = data, at

    def uint(self) -> int:
        if self.at + 4 > len(self.data):
            raise WireError(f"message truncated at byte {self.at}: a 4-byte count was expected")
        (n,) = struct.unpack_from("<I", self.data, self.at)
        self.at += 4
        return n

    def field(self) -> bytes:
        n = self.uint()
        if n > len(self.data) - self.at:
            raise WireError(f"field of {n} bytes at byte {self.at - 4} runs past the message's end ({len(self.data)} bytes)")
        out = self.data[self.at:self.at + n]
        self.at += n
        return out

    def end(self) -> None:
        if self.at != len(self.data):
            raise WireError(f"{len(self.data) - self.at} bytes after the message's last field")


def decode_request(data: bytes) -> Request:
    """The REQUEST in ``data``; :class:`WireError` for anything else."""
    if len(data) > MAX_MESSAGE:
        raise WireError(f"request of {len(data)} bytes: at most {MAX_MESSAGE}")
    if data[:4] != REQUEST:
        raise WireError(f"request starts with {data[:4]!r}, not {REQUEST!r}")
    r = _Reader(data, 4)
    try:
        text = r.field().decode("utf-8", "surrogateescape")
    except UnicodeError as e:  # surrogateescape takes any bytes; kept for safety
        raise WireError(f"fingerprint is not text: {e}") from None
    cwd, umask = r.field(), r.uint()
    if umask > 0o777:
        raise WireError(f"umask {umask:#o}: at most 0o777")
    if not cwd.startswith(b"/") or b"\0" in cwd:
        raise WireError(f"cwd {cwd[:80]!r}: an absolute path without NUL bytes is expected")
    argv = [r.field() for _ in range(_count(r))]
    env = {}
    for _ in range(_count(r)):
        key, eq, value = r.field().partition(b"=")
        if not eq or not key or b"\0" in key or b"\0" in value:
            raise WireError(f"environment entry {key[:40]!r}: KEY=VALUE without NUL bytes is expected")
        env[key] = value
    if not argv or any(b"\0" in a for a in argv):
        raise WireError("argv: one or more words without NUL bytes are expected")
    r.end()
    return Request(text, cwd, umask, argv, env)


def _count(r: _Reader) -> int:
    n = r.uint()
    if n * 4 > len(r.data) - r.at:  # each item takes at least its 4-byte length
        raise WireError(f"count {n} at byte {r.at - 4} cannot fit in the message's remaining {len(r.data) - r.at} bytes")
    return n


def encode_reply(kind: bytes, value: int | bytes) -> bytes:
    """A reply: PID or EXIT with a number, REFUSED or STATE with bytes."""
    return kind + (struct.pack("<q", value) if kind in (PID, EXIT) else value)


def decode_reply(data: bytes) -> tuple[bytes, int | bytes]:
    """``(kind, value)`` of a reply; :class:`WireError` for anything else."""
    kind, rest = data[:1], data[1:]
    if kind in (PID, EXIT):
        if len(rest) != 8:
            raise WireError(f"reply {kind!r} has {len(rest)} bytes of value, not 8")
        (n,) = struct.unpack("<q", rest)
        if n < 0 or (kind == PID and n == 0):
            raise WireError(f"reply {kind!r} carries {n}: a positive pid or a wait status is expected")
        return kind, n
    if kind in (REFUSED, STATE):
        return kind, rest
    raise WireError(f"unknown reply kind {kind!r}")


def encode_signal(signum: int) -> bytes:
    return SIGNAL + struct.pack("<I", signum)


def decode_signal(data: bytes) -> int:
    """The signal number of a SIGNAL message; :class:`WireError` for anything else, or a number out of range."""
    if data[:4] != SIGNAL or len(data) != 8:
        raise WireError(f"signal message {data[:8]!r} ({len(data)} bytes): {SIGNAL!r} and a 4-byte number expected")
    (n,) = struct.unpack("<I", data[4:])
    if not 1 <= n < 65:
        raise WireError(f"signal number {n}: 1 to 64 expected")
    return n


def comparable_env(env: dict[bytes, bytes]) -> dict[bytes, bytes]:
    """``env`` less the variables a shell changes from command to command (:data:`VOLATILE_ENV`)."""
    return {k: v for k, v in env.items() if k not in VOLATILE_ENV}
