"""The real sidecar process: refuses to start without a key, announces READY only once serving,
and leaves on its own when the shell is gone."""

import http.client
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from sidecar_process import read_ready, sidecar_command, sidecar_env, wait_gone

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process semantics")


def get_health(port: int, key: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/api/health", headers={"Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    return response.status, json.loads(response.read())


def spawn(env: dict[str, str], stdin=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        sidecar_command(),
        env=env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def test_refuses_to_start_without_a_key(tmp_path):
    env = sidecar_env(tmp_path)
    del env["SAGE_API_KEY"]
    result = subprocess.run(sidecar_command(), env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "SAGE_API_KEY" in result.stderr
    assert result.stdout == ""


def test_refuses_a_short_key(tmp_path):
    env = sidecar_env(tmp_path, SAGE_API_KEY="tooshort")
    result = subprocess.run(sidecar_command(), env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "at least 32 characters" in result.stderr


def test_ready_line_comes_only_when_the_port_serves(tmp_path):
    env = sidecar_env(tmp_path)
    proc = spawn(env)
    try:
        ready = read_ready(proc)
        # No retry: the very first request after READY must be answered.
        status, body = get_health(ready.port, env["SAGE_API_KEY"])
        assert status == 200 and body["db"]["ok"] is True
        assert ready.pid == proc.pid
        assert ready.version == body["version"]
        assert ready.lines_before == []  # stdout carries nothing but the READY line
        log = (tmp_path / "logs" / "sidecar.log").read_text()
        assert env["SAGE_API_KEY"] not in log
    finally:
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it captured.
        assert proc.wait(timeout=10) in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in (tmp_path / "logs" / "sidecar.log").read_text()


def test_wrong_key_over_real_http(tmp_path):
    env = sidecar_env(tmp_path)
    proc = spawn(env)
    try:
        ready = read_ready(proc)
        status, _ = get_health(ready.port, "0" * 64)
        assert status == 401
    finally:
        proc.kill()
        proc.wait()


def test_exits_when_stdin_closes(tmp_path):
    env = sidecar_env(tmp_path, SAGE_PARENT_PID=str(os.getpid()))
    proc = spawn(env)
    read_ready(proc)
    proc.stdin.close()
    assert proc.wait(timeout=2.5) == 0


def test_exits_within_two_seconds_when_its_parent_is_killed(tmp_path):
    """A stand-in shell spawns the sidecar, then is SIGKILLed: no chance to clean up.

    The sidecar's stdin stays open (it is inherited from this test), so only the parent-pid
    watch can notice."""
    launcher = textwrap.dedent(
        """
        import os, subprocess, sys, time
        env = dict(os.environ, SAGE_PARENT_PID=str(os.getpid()))
        child = subprocess.Popen(sys.argv[1:], env=env, stdout=subprocess.PIPE, text=True,
                                 stderr=subprocess.DEVNULL)
        sys.stdout.write(str(child.pid) + " " + child.stdout.readline())
        sys.stdout.flush()
        time.sleep(60)
        """
    )
    shell = subprocess.Popen(
        [sys.executable, "-c", launcher, *sidecar_command()],
        env=sidecar_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = shell.stdout.readline()
        sidecar_pid = int(line.split()[0])
        assert "SAGE_SIDECAR_READY" in line
        shell.kill()
        shell.wait()
        started = time.monotonic()
        assert wait_gone(sidecar_pid, timeout=2.0), "sidecar outlived its parent by > 2 s"
        assert time.monotonic() - started <= 2.0
    finally:
        shell.kill()


def test_listening_socket_disables_nagle():
    """Accepted connections inherit TCP_NODELAY; without it streamed tokens wait ~40 ms for
    the client's delayed ACK (measured by bench/stream)."""
    import socket

    from sage_sidecar.main import bind_loopback

    sock = bind_loopback()
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()
