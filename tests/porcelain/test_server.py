"""The fork server (``artvcs server``, porcelain/serverd.py): real console scripts, real daemons.

Each test starts its own server under a tag of its own (ARTVCS_SERVER_TAG, part of the socket's name),
so tests running side by side (xdist) never share one; the rest of the suite runs with ARTVCS_SERVER=0.
A command served by the server answers byte for byte as in its own process; what the server refuses
(another environment, changed modules, another user) runs in process; the wire's parsers raise only
WireError on any bytes.
"""
from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from artvcs.porcelain import serverwire as wire

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract unix sockets are Linux's")
ARTVCS = os.path.join(os.path.dirname(sys.executable), "artvcs")


def run(args, env, cwd=None, input=None) -> tuple[int, bytes, bytes]:
    p = subprocess.run([ARTVCS, *args], input=input, capture_output=True, cwd=cwd, env=env)
    return p.returncode, p.stdout, p.stderr


def state(env) -> dict:
    code, out, err = run(["server", "status", "--json"], env)
    assert code == 0, err
    return json.loads(out)


def wait_until(predicate, what: str) -> None:
    """Poll ``predicate`` until true (a bound only against a hang: no duration is asserted)."""
    for _ in range(6000):
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


def _env(tag: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ARTVCS_DIR", "ARTVCS_ENTITY", "ARTVCS_PROJECT")}
    return {**env, "ARTVCS_SERVER": "1", "ARTVCS_SERVER_TAG": tag}


@pytest.fixture
def server():
    """The environment of a server started for this test (stopped afterwards, whatever happened)."""
    env = _env(f"t{os.getpid()}-{uuid.uuid4().hex[:10]}")
    code, out, err = run(["server", "start", "--idle", "1h"], env)
    assert code == 0 and out.startswith(b"artvcs server: started (pid "), err
    yield env
    pid = state(env).get("pid")
    run(["server", "stop"], env)
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)  # only if a test left it wedged
        except ProcessLookupError:
            pass


@pytest.fixture
def folders(tmp_path):
    """Two identical folders, each with data/ (two files) in a git work tree."""
    out = []
    for name in ("own", "served"):
        d = tmp_path / name
        (d / "data" / "sub").mkdir(parents=True)
        (d / "data" / "a.txt").write_text("alpha\n")
        (d / "data" / "sub" / "b.txt").write_text("beta\n")
        subprocess.run(["git", "init", "-q", str(d)], check=True)
        out.append(d)
    return out


FIGURES = re.compile(" in [0-9.]+ [mµ]?s, [0-9.]+ [KMGT]?i?B/s".encode())  # a progress summary's time and rate


def test_commands_answer_as_in_their_own_process(server, folders):
    """Each command, run in its own process (ARTVCS_SERVER=0) in one folder and by the server in an
    identical one, prints the same bytes with the same exit code; read-only ones, in the same folder,
    exactly the same stderr too (mutating ones: but for their progress line's time and rate)."""
    own, served = folders
    plain = {**server, "ARTVCS_SERVER": "0"}
    steps = [["init", "--entity", "me", "--project", "p"], ["track", "data"], ["status"], ["status", "--json"],
             ["track", "data"], ["checkout", "data:v0", "co"],
             ["log", "nowhere"], ["show", "nothing:v9"], ["bogus-command"], ["status", "--exit-code"]]
    served_before = state(server)["served"]
    changes = {4: ("c.txt", "gamma\n"), 9: ("a.txt", "changed\n")}  # the re-log has something new; status differs
    for i, args in enumerate(steps):
        if i in changes:
            for d in (own, served):
                (d / "data" / changes[i][0]).write_text(changes[i][1])
        a = run(args, plain, cwd=own)
        b = run(args, server, cwd=served)
        assert a[0] == b[0] and a[1].replace(b"/own", b"/served") == b[1], (args, a, b)
        assert FIGURES.sub(b"", a[2]).replace(b"/own", b"/served") == FIGURES.sub(b"", b[2]), (args, a, b)
    quick = sum(args[0] == "status" for args in steps)  # an up-to-date status is answered before asking
    assert served_before + len(steps) - quick <= state(server)["served"] <= served_before + len(steps)
    served_before = state(server)["served"]
    same = (["ls"], ["ls", "--json"], ["versions", "data"], ["show", "data:v0", "--json"], ["log", "nowhere"],
            ["show", "x:v1"])
    for args in same:  # in one folder, whose versions' times and ids are the same for both
        assert run(args, plain, cwd=served) == run(args, server, cwd=served), args
    assert state(server)["served"] == served_before + len(same)


def test_stdin_is_piped_through(server, tmp_path):
    data = os.urandom(100_000)
    plain = {**server, "ARTVCS_SERVER": "0"}
    before = state(server)["served"]
    served = run(["hash-object", "--stdin"], server, cwd=tmp_path, input=data)
    assert served == run(["hash-object", "--stdin"], plain, cwd=tmp_path, input=data)
    assert served[0] == 0 and served[1].split(b"\t")[1] == b"100000"
    assert state(server)["served"] == before + 1


def test_sigint_stops_the_served_command_as_ctrl_c_does(server, tmp_path):
    """artvcs ui serves until interrupted: SIGINT to the client reaches the child, which aborts as it
    does in its own process, and the client exits with its code."""
    run(["init", "--entity", "me", "--project", "p"], server, cwd=tmp_path)
    results = []
    for env in ({**server, "ARTVCS_SERVER": "0"}, server):
        p = subprocess.Popen([ARTVCS, "ui"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
        first = p.stdout.readline()  # serving: its handlers are in place
        assert first.startswith(b"artvcs ui: serving"), p.stderr.read()
        p.send_signal(signal.SIGINT)
        out, err = p.communicate()
        results.append((p.returncode, out, err))
    # "serving" is printed just before uvicorn puts its own SIGINT handler in place, so in process
    # as served a SIGINT ends ui either aborted (1) or, caught by uvicorn, stopped (0)
    endings = {(1, b"", b"\nartvcs: aborted\n"), (0, b"", b"artvcs ui: stopped\n")}
    assert all(result in endings for result in results), results
    assert state(server)["running_commands"] == 0


def test_a_storm_of_sigints_never_unwinds_into_the_server(server, tmp_path):
    """SIGINT every 0.2 ms to a served ``artvcs ui``, while it serves and while it exits: the child
    never returns into the server's code (no serverd.py in a traceback) and ends as in process, where
    it is aborted (1), killed by SIGINT, or, interrupted before ui's handler is in place, stopped (0);
    never with a traceback (a second Ctrl-C ends the process by the signal, as git's does)."""
    run(["init", "--entity", "me", "--project", "p"], server, cwd=tmp_path)
    before = state(server)["served"]
    for i in range(20):
        env = server if i < 15 else {**server, "ARTVCS_SERVER": "0"}  # and in its own process, alike
        p = subprocess.Popen([ARTVCS, "ui"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
        assert p.stdout.readline().startswith(b"artvcs ui: serving"), p.stderr.read()
        for _ in range(300):
            if p.poll() is not None:
                break
            try:
                p.send_signal(signal.SIGINT)
            except ProcessLookupError:
                break
            time.sleep(0.0002)
        out, err = p.communicate()
        assert b"serverd.py" not in err and b"could not start" not in err, err
        assert b"never awaited" not in err and b"Traceback" not in err, err  # a stop before serve() began is clean
        assert p.returncode in (0, 1, -signal.SIGINT), (p.returncode, err)
    assert state(server)["served"] == before + 15
    assert state(server)["running"]


def test_a_sigint_forwarded_during_the_childs_set_up_ends_it_as_in_process(server, tmp_path):
    """The signal follows the request at once, so the server forwards it while its child may still be
    taking the client's descriptors: the child holds it until the command's main starts, and ends as a
    process interrupted that early does (killed by SIGINT, or "aborted" and 1 once the command's
    handler is in place), never with "could not start the command"."""
    request = wire.encode_request(wire.fingerprint(), str(tmp_path).encode(), 0o22,
                                  [ARTVCS.encode(), b"hash-object", b"--stdin"],
                                  {os.fsencode(k): os.fsencode(v) for k, v in server.items()})
    r, w = os.pipe()  # stdin held open: the command waits on it until interrupted
    null = os.open(os.devnull, os.O_WRONLY)
    folder = os.open(tmp_path, os.O_PATH | os.O_DIRECTORY)
    old_umask = os.umask(0o22)
    outcomes = []
    try:
        for i in range(40):
            err = tmp_path / f"err{i}"
            with open(err, "wb") as f, socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                s.connect(wire.socket_name(None, server["ARTVCS_SERVER_TAG"]))
                s.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("4i", r, null, f.fileno(), folder))])
                s.send(wire.encode_signal(signal.SIGINT))
                kind, value = wire.decode_reply(s.recv(1 << 16))
                assert kind == wire.PID, value
                kind, status = wire.decode_reply(s.recv(1 << 16))
            assert kind == wire.EXIT
            said = err.read_bytes()
            assert b"could not start" not in said and b"serverd.py" not in said, said
            if os.WIFSIGNALED(status):
                assert os.WTERMSIG(status) == signal.SIGINT, status
                outcomes.append("SIGINT")
            else:
                assert os.waitstatus_to_exitcode(status) == 1 and said.endswith(b"artvcs: aborted\n"), (status, said)
                outcomes.append("aborted")
    finally:
        os.umask(old_umask)
        for fd in (r, w, null, folder):
            os.close(fd)
    print(outcomes.count("SIGINT"), "killed by SIGINT,", outcomes.count("aborted"), "aborted")


def test_a_signal_that_kills_the_child_kills_the_client_alike(server, tmp_path):
    """SIGTERM: forwarded, it ends the child (no handler), and the client ends by the same signal."""
    codes = []
    for env in ({**server, "ARTVCS_SERVER": "0"}, server):
        before = state(server)
        p = subprocess.Popen([ARTVCS, "hash-object", "--stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=tmp_path, env=env)
        if env is server:
            wait_until(lambda: state(server)["running_commands"] == 1, "the command runs")
        p.send_signal(signal.SIGTERM)
        p.wait()  # its stdin still open: the command ends by the signal, not by reading it all
        p.communicate()
        codes.append(p.returncode)
        assert state(server)["served"] == before["served"] + (env is server)
    assert codes == [-signal.SIGTERM, -signal.SIGTERM]


def test_a_killed_client_takes_its_command_with_it(server, tmp_path):
    p = subprocess.Popen([ARTVCS, "hash-object", "--stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=tmp_path, env=server)
    wait_until(lambda: state(server)["running_commands"] == 1, "the command runs")
    p.kill()
    p.communicate()
    wait_until(lambda: state(server)["running_commands"] == 0, "the server's child is gone")


def test_another_environment_or_umask_runs_in_process(server, tmp_path):
    before = state(server)
    for env, args in (({**server, "SOME_SETTING": "1"}, ["--help"]), ({**server, "HOME": str(tmp_path)}, ["ls"])):
        assert run(args, env, cwd=tmp_path) == run(args, {**env, "ARTVCS_SERVER": "0"}, cwd=tmp_path)
    p = subprocess.run(["sh", "-c", f"umask 077; exec {ARTVCS} --help"], capture_output=True, env=server)
    assert p.returncode == 0 and p.stdout.startswith(b"Usage: artvcs")
    after = state(server)
    assert (after["served"], after["refused"]) == (before["served"], before["refused"] + 3)
    # what the shell changes between commands does not count
    assert run(["--help"], {**server, "PWD": "/elsewhere", "SHLVL": "7", "_": "/bin/x"})[0] == 0
    assert state(server)["served"] == before["served"] + 1


def test_stop_and_status(server, tmp_path):
    s = state(server)
    assert s["running"] and s["accepting"] and s["idle_seconds"] == 3600 and s["idle_deadline"]
    code, out, _ = run(["server", "status"], server)
    assert code == 0 and f"running (pid {s['pid']})".encode() in out
    assert run(["server", "start"], server)[1] == f"artvcs server: already running (pid {s['pid']})\n".encode()
    assert run(["server", "stop"], server)[:2] == (0, f"artvcs server: stopped (pid {s['pid']})\n".encode())
    assert state(server) == {"running": False}
    assert run(["server", "status"], server)[1] == b"artvcs server: not running\n"
    assert run(["--help"], server)[0] == 0  # in process
    assert run(["server", "stop"], server)[1] == b"artvcs server: not running\n"


def test_the_server_exits_when_idle(tmp_path):
    """Idle means without a command: asking its status over and over (as this loop does, each ask
    well under the idle time apart) does not keep it alive."""
    env = _env(f"idle{os.getpid()}-{uuid.uuid4().hex[:8]}")
    assert run(["server", "start", "--idle", "1s"], env)[0] == 0
    wait_until(lambda: not state(env)["running"], "the idle server exits")


@pytest.mark.parametrize("idle", ["0s", "-1m", "5", "m", "1x", "infm", "nan s", "1e9"])
def test_a_bad_idle_duration_is_refused(idle, tmp_path):
    env = _env(f"bad{os.getpid()}-{uuid.uuid4().hex[:8]}")
    code, _, err = run(["server", "start", "--idle", idle], env)
    assert code == 1 and f"artvcs: error: --idle {idle!r}".encode() in err
    assert state(env) == {"running": False}


@pytest.mark.parametrize("installed", [True], indirect=True, ids=["pip install -e ."])
def test_a_changed_module_file_makes_the_server_refuse_and_exit(installed, tmp_path):
    """An edit of an editable install (here: a module file's mtime moves) is seen before the next fork;
    so is an upgrade of a dependency (here: a file of click, copied into the PYTHONPATH folder the
    server imports it from, not the shared venv's)."""
    prefix, src, env = installed
    env = {**env, "ARTVCS_SERVER": "1", "ARTVCS_SERVER_TAG": f"mod{os.getpid()}-{uuid.uuid4().hex[:8]}"}
    deps = env["PYTHONPATH"]
    click = os.path.join(deps, "click")
    if os.path.islink(click):  # a link to the shared venv's click: a copy of our own to touch
        target = os.path.realpath(click)
        os.unlink(click)
        shutil.copytree(target, click, ignore=shutil.ignore_patterns("__pycache__"))
    script = str(prefix / "bin" / "artvcs")
    status = lambda: json.loads(subprocess.run([script, "server", "status", "--json"], capture_output=True,  # noqa: E731
                                               env=env, check=True).stdout)
    for module in (src / "plumbing" / "errors.py", pathlib.Path(click) / "core.py"):
        assert subprocess.run([script, "server", "start"], capture_output=True, env=env).returncode == 0
        try:
            assert subprocess.run([script, "--help"], capture_output=True, env=env, cwd=tmp_path).returncode == 0
            assert status()["served"] == 1
            st = module.stat()
            os.utime(module, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
            p = subprocess.run([script, "--help"], capture_output=True, env=env, cwd=tmp_path)
            assert p.returncode == 0 and p.stdout.startswith(b"Usage: artvcs")  # run in process
            wait_until(lambda: not status()["running"], f"the server exits after {module.name} changed")
        finally:
            subprocess.run([script, "server", "stop"], capture_output=True, env=env)


def _unshare_permitted() -> bool:
    try:
        return shutil.which("unshare") is not None and subprocess.run(
            ["unshare", "-m", "true"], capture_output=True).returncode == 0
    except OSError:
        return False


@pytest.mark.skipif(not _unshare_permitted(), reason="unshare -m is not permitted here")
def test_a_client_in_another_mount_namespace_runs_in_its_own_process(server, tmp_path):
    """A client in a mount namespace of its own (same uid, same abstract socket: same network
    namespace) mounts a tmpfs over x and inits a project there: the server refuses it (the command
    would act on the server's x), so the project lands in the client's tmpfs and x stays empty."""
    x = tmp_path / "x"
    x.mkdir()
    before = state(server)
    script = f'mount -t tmpfs none "{x}" && cd "{x}" && "{ARTVCS}" init --entity me --project p >/dev/null && ls -A'
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], capture_output=True,
                       env=server, cwd=tmp_path)
    assert p.returncode == 0 and b".artifacts" in p.stdout.split(), p
    assert list(x.iterdir()) == []  # nothing written in the server's namespace
    after = state(server)
    assert (after["served"], after["refused"]) == (before["served"], before["refused"] + 1)
    assert run(["init", "--entity", "me", "--project", "p"], server, cwd=x)[0] == 0  # here: served, as before
    assert (x / ".artifacts").is_dir() and state(server)["served"] == before["served"] + 1


@pytest.mark.skipif(os.geteuid() != 0, reason="chroot needs root")
def test_a_client_in_a_chroot_is_refused(server, tmp_path):
    """A client that chrooted (here: after connecting, as root) has another root: it is refused,
    whatever it asks, and the refusal names the root."""
    name = wire.socket_name(None, server["ARTVCS_SERVER_TAG"])
    request = wire.encode_request(wire.fingerprint(), b"/", 0o22, [ARTVCS.encode(), b"--help"],
                                  {os.fsencode(k): os.fsencode(v) for k, v in server.items()})
    (tmp_path / "jail").mkdir()
    client = ("import os, socket, struct, sys\n"
              "s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
              f"s.connect({name!r})\nos.umask(0o22)\n"
              f"os.chroot({str(tmp_path / 'jail')!r})\nos.chdir('/')\n"
              "folder = os.open('/', os.O_PATH | os.O_DIRECTORY)\n"
              f"s.sendmsg([{request!r}], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack('4i', 0, 1, 2, folder))])\n"
              "sys.stdout.buffer.write(s.recv(1 << 16))\n")
    before = state(server)
    p = subprocess.run([sys.executable, "-c", client], capture_output=True, env=server)
    assert p.returncode == 0, p.stderr
    kind, reason = wire.decode_reply(p.stdout)
    assert kind == wire.REFUSED and b"root" in reason, reason
    after = state(server)
    assert (after["served"], after["refused"]) == (before["served"], before["refused"] + 1)


needs_root = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="needs root and setpriv to act as another user")
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


@needs_root
def test_a_socket_held_by_another_user_is_not_used(tmp_path):
    """Another user binds our server's name first: the client sees its uid, sends it nothing (no
    descriptor, no environment) and runs the command in its own process."""
    env = _env(f"squat{os.getpid()}-{uuid.uuid4().hex[:8]}")
    name = wire.socket_name(0, env["ARTVCS_SERVER_TAG"])
    squatter = ("import socket, sys\ns = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
                f"s.bind({name!r})\ns.listen(1)\nprint('ready', flush=True)\nc, _ = s.accept()\n"
                "print(len(c.recv(1 << 20)), flush=True)\n")
    p = subprocess.Popen([*NOBODY, sys.executable, "-c", squatter], stdout=subprocess.PIPE, text=True, cwd="/")
    try:
        assert p.stdout.readline() == "ready\n"
        assert run(["--help"], env, cwd=tmp_path) == run(["--help"], {**env, "ARTVCS_SERVER": "0"}, cwd=tmp_path)
        assert p.stdout.readline() == "0\n"  # it was connected to, and was sent nothing
    finally:
        p.kill()
        p.wait()


@needs_root
def test_the_server_does_not_answer_another_user(server, tmp_path):
    name = wire.socket_name(0, server["ARTVCS_SERVER_TAG"])
    request = wire.encode_request("x", b"/", 0o22, [b"artvcs", b"--help"], {})
    client = ("import socket, sys\ns = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)\n"
              f"s.connect({name!r})\n"
              f"try:\n    s.send({request!r})\n    print(len(s.recv(1 << 16)))\n"
              "except (BrokenPipeError, ConnectionResetError):\n    print(0)\n")  # closed before or after the send
    p = subprocess.run([*NOBODY, sys.executable, "-c", client], capture_output=True, text=True, cwd="/")
    assert p.stdout == "0\n", p.stderr  # closed without a word
    assert state(server)["refused"] == 0 and state(server)["served"] == 0


def _exchange(env, data: bytes, fds=()) -> tuple[bytes, int | bytes] | None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(wire.socket_name(None, env["ARTVCS_SERVER_TAG"]))
        s.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"{len(fds)}i", *fds))] if fds else [])
        reply = s.recv(1 << 16)
    return wire.decode_reply(reply) if reply else None


def test_the_live_server_refuses_bad_messages_and_goes_on(server, tmp_path):
    fp = wire.fingerprint()
    for data, fds in ((b"", ()), (b"AVS1", ()), (b"junk" * 10, ()), (wire.encode_request(fp, b"/", 0o22, [b"a"], {}), ()),
                      (wire.encode_request(fp, b"/", 0o22, [b"a"], {}), (0, 1)),
                      (wire.encode_request(fp, b"/", 0o22, [b"a"], {}), (0, 1, 2)),  # no folder
                      (wire.encode_request(fp, b"/", 0o22, [b"a"], {}), (0, 1, 2, 2)),  # not a folder
                      (wire.encode_request(fp, b"/", 0o22, [b"a"], {}) + b"x", (0, 1, 2)),
                      (wire.encode_request("another", b"/", 0o22, [b"a"], {}), (0, 1, 2, 0))):
        reply = _exchange(server, data, fds)
        assert reply is None if not data else reply[0] == wire.REFUSED, (data, reply)
    assert state(server)["running"]
    assert run(["--help"], server, cwd=tmp_path)[0] == 0
    assert state(server)["served"] == 1


# ---- the wire's parsers, fuzzed: WireError or a value, on any bytes -----------------------------------

def _valid(argv, env, umask=0o22) -> bytes:
    return wire.encode_request("fp", b"/tmp", umask, argv, env)


words = st.binary(max_size=30).filter(lambda b: b"\0" not in b)
keys = st.binary(min_size=1, max_size=10).filter(lambda b: b"\0" not in b and b"=" not in b)


@settings(max_examples=300, deadline=None)
@given(st.lists(words, min_size=1, max_size=5), st.dictionaries(keys, words, max_size=5), st.integers(0, 0o777))
def test_requests_round_trip(argv, env, umask):
    r = wire.decode_request(_valid(argv, env, umask))
    assert (r.fingerprint, r.cwd, r.umask, r.argv, r.env) == ("fp", b"/tmp", umask, argv, env)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 200), st.binary(max_size=8))
def test_any_bytes_give_a_request_or_a_wire_error(noise, at, splice):
    base = _valid([b"artvcs", b"status"], {b"HOME": b"/root"})
    for data in (noise, wire.REQUEST + noise, base[:at] + splice + base[at + len(splice):], base[:at]):
        try:
            r = wire.decode_request(data)
        except wire.WireError:
            continue
        assert isinstance(r, wire.Request) and r.argv and r.cwd.startswith(b"/")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=20))
def test_any_bytes_give_a_reply_or_a_wire_error(data):
    for decode in (wire.decode_reply, wire.decode_signal):
        try:
            decode(data)
        except wire.WireError:
            pass


def test_a_huge_count_is_refused_without_allocating():
    data = wire.REQUEST + struct.pack("<I", 2) + b"fp" + struct.pack("<I", 1) + b"/" + struct.pack("<II", 0o22, 2**32 - 1)
    with pytest.raises(wire.WireError, match="cannot fit"):
        wire.decode_request(data)
