"""The real sidecar process owns every process it starts (issue #13 §3): however it ends — SIGTERM
(the app's quit), its shell killed with SIGKILL, itself killed — nothing it started survives it, not
even an MCP server that ignores its stdin and SIGTERM, nor that server's daemonised grandchild; and
an ingest cut off by quits is resumed, not failed. The shell's side (its own exits, kill -9 of the
sidecar) is src-tauri/tests/process_ownership.rs."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from test_knowledge_process import big_document

from sidecar_process import api_call as call
from sidecar_process import read_ready, sidecar_command, sidecar_env, wait_gone

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and prctl")
STUBBORN = str(Path(__file__).parent / "fixtures" / "mcp_stubborn_server.py")


def marked(marker: str) -> list[int]:
    """Live processes with `marker` as an argument: the stubborn server and its two children."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in args and state != "Z":
            found.append(int(entry.name))
    return found


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def marker() -> str:
    return f"{random.randint(100_000, 999_999)}.{random.randint(1, 9)}"


def start_stubborn_server(port: int, key: str, marker: str) -> None:
    """Configure the stubborn MCP server and start it (listing its tools starts it)."""
    server = call(port, key, "POST", "/api/mcp-servers",
                  {"name": "stubborn", "transport": "stdio", "command": sys.executable,
                   "args": [STUBBORN, marker], "trusted": True})  # fmt: skip
    tools = call(port, key, "GET", f"/api/mcp-servers/{server['id']}/tools")
    assert tools["ok"], tools
    assert wait_for(lambda: len(marked(marker)) == 3, 10), marked(marker)


def test_sigterm_ends_every_process_the_sidecar_started(tmp_path: Path, marker: str):
    env = sidecar_env(tmp_path / "data")
    proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        ready = read_ready(proc, timeout=30)
        start_stubborn_server(ready.port, env["SAGE_API_KEY"], marker)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)  # what the shell's quit sends
        proc.wait(timeout=5)
        # Well inside the shell's 5 s grace (STOP_GRACE), so the shell has nothing to kill.
        assert time.monotonic() - started < 4
        assert marked(marker) == [], "processes the sidecar started outlived its clean shutdown"
    finally:
        proc.kill()
        for pid in marked(marker):
            os.kill(pid, signal.SIGKILL)


def test_kill_9_of_the_sidecar_ends_its_mcp_servers_whole_tree(tmp_path: Path, marker: str):
    """No shutdown code runs: the server's supervisor (core/reaper.py) gets the parent-death
    signal and ends the server and its children, the daemonised one included."""
    env = sidecar_env(tmp_path / "data")
    proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    try:
        ready = read_ready(proc, timeout=30)
        start_stubborn_server(ready.port, env["SAGE_API_KEY"], marker)
        proc.kill()
        proc.wait()
        assert wait_for(lambda: marked(marker) == [], 1.0), "the sidecar's tree outlived it"
    finally:
        proc.kill()
        for pid in marked(marker):
            os.kill(pid, signal.SIGKILL)


def test_everything_is_gone_within_a_second_of_the_shell(tmp_path: Path, marker: str):
    """A stand-in shell holds the sidecar's stdin and is SIGKILLed: no chance to clean up."""
    launcher = textwrap.dedent(
        """
        import os, subprocess, sys, time
        env = dict(os.environ, SAGE_PARENT_PID=str(os.getpid()))
        child = subprocess.Popen(sys.argv[1:], env=env, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True, stderr=subprocess.DEVNULL)
        sys.stdout.write(child.stdout.readline())
        sys.stdout.flush()
        time.sleep(120)
        """
    )
    env = sidecar_env(tmp_path / "data")
    shell = subprocess.Popen([sys.executable, "-c", launcher, *sidecar_command()], env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)  # fmt: skip
    sidecar_pid = None
    try:
        ready = read_ready(shell, timeout=30)
        sidecar_pid = ready.pid
        start_stubborn_server(ready.port, env["SAGE_API_KEY"], marker)
        shell.kill()
        shell.wait()
        started = time.monotonic()
        assert wait_for(lambda: marked(marker) == [], 1.0), "the sidecar's tree outlived the shell"
        assert wait_gone(sidecar_pid, timeout=max(0.0, 1.0 - (time.monotonic() - started)))
    finally:
        shell.kill()
        for pid in marked(marker) + ([sidecar_pid] if sidecar_pid else []):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_quits_mid_ingest_resume_the_file_instead_of_failing_it(tmp_path: Path):
    """Three quits while the same file is being indexed (the worker gives a file
    MAX_ATTEMPTS = 3 tries before failing it): a quit is not a crash, the fourth start finishes
    it."""
    data_dir = tmp_path / "data"
    env = sidecar_env(data_dir)
    key = env["SAGE_API_KEY"]
    source = tmp_path / "topics.txt"
    big_document(source)
    kb = file = None
    for _quit in range(4):
        proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        try:
            port = read_ready(proc, timeout=60).port
            if kb is None:
                kb = call(port, key, "POST", "/api/knowledge/bases", {"name": "Python help"})
                (file,) = call(port, key, "POST", f"/api/knowledge/bases/{kb['id']}/files/paths",
                               {"paths": [str(source)]})  # fmt: skip
            assert file is not None
            path = f"/api/knowledge/bases/{kb['id']}/files/{file['id']}"
            deadline = time.monotonic() + 60
            while (status := call(port, key, "GET", path)["status"]) not in ("embedding", "ready"):
                assert status != "failed" and time.monotonic() < deadline, status
                time.sleep(0.01)
            if _quit == 3:
                while (status := call(port, key, "GET", path)["status"]) != "ready":
                    assert status != "failed" and time.monotonic() < deadline + 60, status
                    time.sleep(0.05)
                break
            assert status == "embedding", "the file finished before the quit: make it bigger"
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
        finally:
            proc.kill()
            proc.wait()
        with sqlite3.connect(data_dir / "agent_platform.db") as conn:
            assert conn.execute("SELECT status, attempts FROM knowledge_files").fetchone() == (
                "queued",
                0,
            ), "a quit counted as a failed attempt"
