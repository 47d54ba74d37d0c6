"""run_python through the real sidecar process, started as an unprivileged user: the script cannot
read SAGE_API_KEY from the sidecar's /proc/<pid>/environ, 400 MB of output leaves the sidecar's
memory where it was, a fork bomb meets the process limit, and Stop (chat.cancel) kills the tree.

Root reads any /proc/<pid>/environ (CAP_SYS_PTRACE) and ignores RLIMIT_NPROC, so under root (CI)
the sidecar runs as `nobody` (or a `sage-test` user made with useradd) through setpriv. It keeps
one capability, CAP_DAC_READ_SEARCH, so it can read the clone and its venv wherever they are (under
/root in a fresh CI clone); that grants file reads, not the ptrace access /proc's environ needs.
Run as a normal user, the sidecar simply runs as that user: the very case the fix is for.
"""

import contextlib
import functools
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_run_python_containment import SPAWN_TREE
from websockets.sync.client import ClientConnection, connect
from websockets.sync.connection import Connection

from sage_sidecar.core import landlock
from sage_sidecar.demo.scripted import RunningScripted

from sidecar_process import FROZEN, api_call, pid_alive, read_ready, sidecar_command, sidecar_env

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Linux /proc and rlimits"
)

call = functools.partial(api_call, timeout=10)
TEST_USER = "sage-test"


def unprivileged_user() -> tuple[int, int]:
    """uid and gid of a user without privileges: nobody, or sage-test (created when missing)."""
    for name in ("nobody", TEST_USER):
        try:
            entry = pwd.getpwnam(name)
            return entry.pw_uid, entry.pw_gid
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "--user-group", "--shell",
                    "/usr/sbin/nologin", TEST_USER], check=True, timeout=30)  # fmt: skip
    entry = pwd.getpwnam(TEST_USER)
    return entry.pw_uid, entry.pw_gid


def as_unprivileged(command: list[str], data_dir: Path) -> list[str]:
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv (util-linux): no way to start the sidecar "
                    "as an unprivileged user")  # fmt: skip
    uid, gid = unprivileged_user()
    os.chown(data_dir, uid, gid)
    caps = "-all,+dac_read_search"
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
            f"--inh-caps={caps}", f"--ambient-caps={caps}", "--", *command]  # fmt: skip


@dataclass
class Sidecar:
    port: int
    pid: int
    key: str
    agent_id: str
    data_dir: Path
    scripted: RunningScripted
    proc: subprocess.Popen

    @property
    def workspace(self) -> Path:
        return self.data_dir / "storage" / "workspaces" / self.agent_id

    def chat(self) -> ClientConnection:
        ws = connect(f"ws://127.0.0.1:{self.port}/ws/chat", close_timeout=1)
        ws.send(json.dumps({"type": "auth", "apiKey": self.key}))
        assert json.loads(ws.recv(timeout=10))["type"] == "auth.ok"
        return ws

    def ask_to_run(self, ws: Connection, code: str) -> str:
        """Send a message the scripted model answers with run_python(code), approve the call;
        returns the reply's message id."""
        arguments = json.dumps({"code": code})
        self.scripted.load([{"tool_calls": [{"id": "py", "name": "run_python",
                                             "arguments": arguments}]}, {"text": "done"}])  # fmt: skip
        ws.send(json.dumps({"type": "chat.send", "content": "run it", "agentId": self.agent_id}))
        message_id = None
        while True:
            frame = json.loads(ws.recv(timeout=30))
            if frame["type"] == "chat.accepted":
                message_id = frame["messageId"]
            if frame["type"] == "tool.approval_required":
                ws.send(
                    json.dumps({"type": "tool.approval", "callId": "py", "decision": "approve"})
                )
                assert message_id is not None
                return message_id

    def run(self, code: str) -> str:
        """The tool result run_python(code) gives."""
        with self.chat() as ws:
            message_id = self.ask_to_run(ws, code)
            result = None
            while True:
                frame = json.loads(ws.recv(timeout=60))
                if frame["type"] == "tool.result":
                    result = str(frame["content"])
                if frame["type"] in ("message.completed", "message.failed"):
                    assert frame["messageId"] == message_id and result is not None, frame
                    return result


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@contextlib.contextmanager
def running_sidecar(command: list[str] | None = None) -> Iterator[Sidecar]:
    data_dir = Path(tempfile.mkdtemp(prefix="sage-contained-"))  # not under root's 0700 tmp
    env = sidecar_env(data_dir, SAGE_AUTO_TITLE="false")  # a title call would take a scripted turn
    command = as_unprivileged(command or sidecar_command(), data_dir)
    proc = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        with RunningScripted() as scripted:
            ready = read_ready(proc, timeout=30)
            key = env["SAGE_API_KEY"]
            provider = call(ready.port, key, "POST", "/api/providers", {
                "name": "scripted", "kind": "openai", "base_url": scripted.base_url,
                "default_model": "scripted-1"})  # fmt: skip
            agent = call(ready.port, key, "POST", "/api/agents", {
                "name": "Runner", "provider_id": provider["id"], "tools": ["run_python"]})  # fmt: skip
            yield Sidecar(ready.port, ready.pid, key, agent["id"], data_dir, scripted, proc)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def sidecar() -> Iterator[Sidecar]:
    with running_sidecar() as running:
        yield running


def start_tree(sidecar: Sidecar, ws: Connection) -> tuple[str, dict[str, int]]:
    """Run SPAWN_TREE (then sleep) through the chat; the reply's id and the tree's pids, the
    supervisor's included."""
    (sidecar.workspace / "pids.json").unlink(missing_ok=True)
    message_id = sidecar.ask_to_run(ws, SPAWN_TREE + "time.sleep(60)")
    deadline = time.monotonic() + 20
    while not (sidecar.workspace / "pids.json").exists():
        assert time.monotonic() < deadline, "the script never wrote its pids"
        time.sleep(0.02)
    pids = json.loads((sidecar.workspace / "pids.json").read_text())
    stat = Path(f"/proc/{pids['script']}/stat").read_text()
    pids["supervisor"] = int(stat.rsplit(")", 1)[1].split()[1])
    assert all(pid_alive(pid) for pid in pids.values())
    return message_id, pids


def assert_all_gone(pids: dict[str, int], what: str) -> None:
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(pid_alive(pid) for pid in pids.values()):
        time.sleep(0.02)
    survivors = {name: pid for name, pid in pids.items() if pid_alive(pid)}
    for pid in survivors.values():
        os.kill(pid, signal.SIGKILL)  # nothing left behind, even when the test fails
    assert not survivors, f"still running after {what}: {survivors}"


READ_ENVIRON = """
import os, subprocess, sys
def read(pid):
    try:
        return open(f"/proc/{pid}/environ", "rb").read()
    except OSError as error:
        return error.errno
# Control: a same-user process it started is readable, so a refusal below is the sidecar's doing.
if not getattr(sys, "frozen", False):  # the frozen sidecar is no general interpreter
    child = subprocess.Popen([sys.executable, "-c", "print('up', flush=True); input()"],
                             env={"CONTROL": "1"}, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    child.stdout.readline()  # running: its environment is in place
    control = read(child.pid)
    child.kill()
    print("control", "readable" if isinstance(control, bytes) and b"CONTROL=1" in control else control)
found = read(int(sys.argv[1]) if len(sys.argv) > 1 else SIDECAR_PID)
print("sidecar", "KEY FOUND" if isinstance(found, bytes) and b"SAGE_API_KEY" in found else found)
"""


def test_a_script_cannot_read_the_key_from_the_sidecars_proc_environ(sidecar):
    result = sidecar.run(f"SIDECAR_PID = {sidecar.pid}\n" + READ_ENVIRON)
    assert "control readable" in result, result
    assert "sidecar 13" in result, result  # EACCES
    assert sidecar.key not in result


def test_no_same_user_process_can_read_it(sidecar):
    """The same check from a process outside run_python's sandbox (Landlock also refuses ptrace
    access outside its domain, so the test above passes on its own where Landlock exists): only
    the sidecar's PR_SET_DUMPABLE stops this one."""
    command = as_unprivileged([sys.executable, "-c", READ_ENVIRON, str(sidecar.pid)],
                              sidecar.data_dir)  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert "control readable" in result.stdout, result
    assert "sidecar 13" in result.stdout, result
    assert sidecar.key not in result.stdout


def test_400_mb_of_output_leaves_the_sidecars_memory_alone(sidecar):
    sidecar.run("print('warm-up')")
    before = peak_rss_kb(sidecar.pid)
    code = (
        "import sys\nchunk = b'x' * (1 << 20)\nfor _ in range(400): sys.stdout.buffer.write(chunk)"
    )
    result = sidecar.run(code)
    grown_mb = (peak_rss_kb(sidecar.pid) - before) / 1024
    assert "printed more than 16 MB and was stopped" in result
    assert grown_mb < 64, f"the sidecar's peak memory grew by {grown_mb:.0f} MB"


def test_a_fork_bomb_meets_the_process_limit(sidecar):
    code = """
import os, time
forked, error = 0, None
for _ in range(300):
    try:
        pid = os.fork()
    except OSError as e:
        error = e.errno
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    forked += 1
print("forked", forked, "errno", error)
"""
    result = sidecar.run(code)
    line = next(line for line in result.splitlines() if line.startswith("forked"))
    _, forked, _, errno = line.split()
    assert errno == "11", result  # EAGAIN: the limit, not the loop's end
    assert int(forked) <= 64, result


def test_stop_kills_the_script_and_its_setsid_grandchild(sidecar):
    with sidecar.chat() as ws:
        message_id, pids = start_tree(sidecar, ws)
        ws.send(json.dumps({"type": "chat.cancel", "messageId": message_id}))
        while (frame := json.loads(ws.recv(timeout=20)))["type"] != "message.failed":
            pass
        assert frame["status"] == "interrupted"
    assert_all_gone(pids, "Stop")


@pytest.mark.parametrize("end", [signal.SIGTERM, signal.SIGKILL], ids=["shutdown", "kill-9"])
def test_the_sidecar_ending_takes_the_tree_with_it(end):
    with running_sidecar() as sidecar, sidecar.chat() as ws:
        _, pids = start_tree(sidecar, ws)
        sidecar.proc.send_signal(end)
        sidecar.proc.wait(timeout=15)
        assert_all_gone(pids, f"the sidecar's {signal.Signals(end).name}")


@pytest.mark.skipif(not FROZEN.exists(), reason="no frozen build: run scripts/build-sidecar.sh")
def test_the_frozen_sidecar_contains_scripts_too():
    """The frozen sidecar is its own supervisor (`--contain`) and interpreter (`--run-python`)."""
    with running_sidecar([str(FROZEN)]) as sidecar:
        result = sidecar.run(SPAWN_TREE + "print('done')")
        assert result.startswith("exit code 0\ndone"), result
        assert_all_gone(json.loads((sidecar.workspace / "pids.json").read_text()), "the run")
        result = sidecar.run(f"SIDECAR_PID = {sidecar.pid}\n" + READ_ENVIRON)
        assert "sidecar 13" in result, result
        assert sidecar.key not in result


@pytest.mark.skipif(landlock.abi_version() < 1, reason="this kernel has no Landlock")
def test_the_chat_engines_workspace_gets_the_data_dir_hidden(sidecar):
    """The sandbox finds the data dir from where the chat engine puts the workspace: a script the
    sidecar runs cannot read the database nor write beside it, and can write in its workspace."""
    code = f"""
def attempt(what, action):
    try:
        action(); print(what, "allowed")
    except OSError as error:
        print(what, "refused", error.errno)
attempt("read db", lambda: open({str(sidecar.data_dir / "agent_platform.db")!r}, "rb").read())
attempt("write data dir", lambda: open({str(sidecar.data_dir / "planted.txt")!r}, "w"))
attempt("write workspace", lambda: open("note.txt", "w").write("ok"))
"""
    result = sidecar.run(code)
    assert "read db refused 13" in result, result
    assert "write data dir refused 13" in result, result
    assert "write workspace allowed" in result, result
    assert not (sidecar.data_dir / "planted.txt").exists()
