"""run_python's containment with real processes: Stop, the timeout, a normal finish and the
sidecar's death leave no process behind (a setsid() grandchild included); output is read with a
byte cap; rlimits apply; Landlock hides the data dir and keeps writes in the workspace.

The tests that need the real sidecar process (the key in its /proc environ, its memory while a
script prints 400 MB, the process-count limit, Stop over the WebSocket) are in
test_run_python_process.py."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sage_sidecar.core import landlock, processes
from sage_sidecar.tools import python_runner
from sage_sidecar.tools.base import ToolError

from sidecar_process import SRC_PYTHON, pid_alive

# Each test bounds its own waits (the runner's 10 s timeout, wait_for, the helpers' deadlines).
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="Linux process containment"
)

# A script that starts a child and a daemon (double fork + setsid(): a grandchild in a session of
# its own whose parent has exited), writes every pid to pids.json in the workspace, then sleeps.
# SPAWN_TREE = the part before the sleep, so a test can also let the script end at once.
SPAWN_TREE = """
import json, os, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
reader, writer = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(writer, str(os.getpid()).encode()); time.sleep(60); os._exit(0)
    os._exit(0)
grandchild = int(os.read(reader, 32))
json.dump({"script": os.getpid(), "child": child.pid, "grandchild": grandchild},
          open("pids.json.tmp", "w"))
os.rename("pids.json.tmp", "pids.json")
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def workspace(data_dir: Path) -> Path:
    # Where the chat engine puts an agent's workspace, so the data dir is recognised.
    folder = data_dir / "storage" / "workspaces" / "agent-1"
    folder.mkdir(parents=True)
    return folder


async def wait_for_pids(workspace: Path) -> dict[str, int]:
    deadline = time.monotonic() + 15
    while not (workspace / "pids.json").exists():
        assert time.monotonic() < deadline, "the script never wrote its pids"
        await asyncio.sleep(0.02)
    return json.loads((workspace / "pids.json").read_text())


def assert_all_gone(pids: dict[str, int], within: float = 3.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids.values()):
        time.sleep(0.02)
    survivors = {name: pid for name, pid in pids.items() if pid_alive(pid)}
    for pid in survivors.values():
        os.kill(pid, signal.SIGKILL)  # leave nothing behind even when the test fails
    assert not survivors, f"still running: {survivors}"


async def test_stop_kills_the_script_its_child_and_a_setsid_grandchild(workspace):
    task = asyncio.create_task(python_runner.run_code(SPAWN_TREE + "time.sleep(60)", workspace))
    pids = await wait_for_pids(workspace)
    assert all(pid_alive(p) for p in pids.values())
    task.cancel()  # what the chat's Stop does to the reply's task
    with pytest.raises(asyncio.CancelledError):
        await task
    assert_all_gone(pids)


async def test_timeout_kills_the_whole_tree(workspace, monkeypatch):
    monkeypatch.setattr(python_runner, "TIMEOUT_S", 6.0)  # time to write the pids, even under load
    task = asyncio.create_task(python_runner.run_code(SPAWN_TREE + "time.sleep(60)", workspace))
    pids = await wait_for_pids(workspace)
    with pytest.raises(ToolError, match="longer than 6 s"):
        await asyncio.wait_for(task, 15)
    assert_all_gone(pids)


async def test_a_normal_finish_leaves_no_grandchild(workspace):
    result = await asyncio.wait_for(
        python_runner.run_code(SPAWN_TREE + "print('done')", workspace), 15
    )
    assert result.startswith("exit code 0\ndone")
    assert_all_gone(json.loads((workspace / "pids.json").read_text()), within=1.0)


def test_the_sidecar_dying_takes_the_tree_with_it(workspace):
    """SIGKILL of the process that ran the tool (the sidecar): the supervisor hears it through
    its parent-death signal and kills everything below it."""
    runner = subprocess.Popen(
        [sys.executable, "-c", "import asyncio, sys\n"
         "from pathlib import Path\n"
         "from sage_sidecar.tools.python_runner import run_code\n"
         "asyncio.run(run_code(sys.argv[1], Path(sys.argv[2])))",
         SPAWN_TREE + "time.sleep(60)", str(workspace)],
        env={**os.environ, "PYTHONPATH": str(SRC_PYTHON)},
    )  # fmt: skip
    try:
        pids = asyncio.run(wait_for_pids(workspace))
        supervisor = int(Path(f"/proc/{pids['script']}/stat").read_text().rsplit(")")[1].split()[1])
        pids["supervisor"] = supervisor
    finally:
        runner.kill()
        runner.wait(timeout=10)
    assert_all_gone(pids)


async def test_output_is_read_with_a_byte_cap(workspace):
    # 400 MB printed: the script is stopped after 16 MB and only the head is kept.
    code = (
        "import sys\nchunk = b'x' * (1 << 20)\nfor _ in range(400): sys.stdout.buffer.write(chunk)"
    )
    started = time.monotonic()
    result = await asyncio.wait_for(python_runner.run_code(code, workspace), 30)
    assert time.monotonic() - started < python_runner.TIMEOUT_S  # stopped, not timed out
    assert "printed more than 16 MB and was stopped" in result.splitlines()[0]
    assert "output cut at 19500 characters" in result.splitlines()[0] and len(result) < 20_000
    # Under the cap the whole output is read and the rest reported.
    result = await python_runner.run_code("print('y' * 100_000)", workspace)
    assert result.startswith("exit code 0 (output cut at 19500 characters)\nyyy")


async def test_a_huge_allocation_fails_cleanly(workspace):
    code = "try:\n    b = bytearray(3 * 1024**3)\n    print('allocated')\nexcept MemoryError:\n    print('refused')"
    result = await python_runner.run_code(code, workspace)
    assert result == "exit code 0\nrefused\n"


async def test_cpu_time_and_file_size_are_limited(workspace, monkeypatch):
    monkeypatch.setattr(python_runner, "LIMITS", processes.Limits(
        cpu_seconds=1, memory_bytes=2 * 1024**3, file_bytes=1024**2, processes=64))  # fmt: skip
    code = ("try:\n    open('big.bin', 'wb').write(b'z' * 2 * 1024**2)\n"
            "except OSError as e:\n    print('file refused', e.errno)\n")  # fmt: skip
    result = await python_runner.run_code(code, workspace)
    assert "file refused 27" in result  # EFBIG (Python ignores SIGXFSZ)
    assert (workspace / "big.bin").stat().st_size <= 1024**2
    # 1 s of CPU, well before the wall clock's 30 s even on a loaded machine.
    monkeypatch.setattr(python_runner, "TIMEOUT_S", 30.0)
    result = await python_runner.run_code("while True: pass", workspace)
    assert result.startswith("exit code 152 (SIGXCPU, CPU time limit)")


@pytest.mark.skipif(landlock.abi_version() < 1, reason="this kernel has no Landlock")
async def test_landlock_hides_the_data_dir_and_keeps_writes_in_the_workspace(
    workspace, data_dir, tmp_path
):
    (data_dir / "agent_platform.db").write_text("conversations")
    (data_dir / "storage" / "other.txt").write_text("another agent's file")
    code = f"""
import os
def attempt(what, action):
    try:
        action(); print(what, "allowed")
    except OSError as error:
        print(what, "refused", error.errno)
attempt("read db", lambda: open({str(data_dir / "agent_platform.db")!r}).read())
attempt("read storage", lambda: open({str(data_dir / "storage" / "other.txt")!r}).read())
attempt("list data dir", lambda: os.listdir({str(data_dir)!r}))
attempt("write outside", lambda: open({str(tmp_path / "outside.txt")!r}, "w"))
attempt("write workspace", lambda: open("inside.txt", "w").write("ok"))
attempt("read system", lambda: open("/etc/passwd").read())
attempt("temp file", lambda: __import__("tempfile").TemporaryFile().write(b"x"))
attempt("signal supervisor", lambda: os.kill(os.getppid(), 0))
"""
    result = await python_runner.run_code(code, workspace)
    assert "read db refused 13" in result
    assert "read storage refused 13" in result
    assert "list data dir refused 13" in result
    assert "write outside refused 13" in result
    assert "write workspace allowed" in result and (workspace / "inside.txt").read_text() == "ok"
    assert "read system allowed" in result
    assert "temp file allowed" in result
    if landlock.abi_version() >= 6:
        assert "signal supervisor refused 1" in result  # EPERM: signals are scoped
    assert not (tmp_path / "outside.txt").exists()
