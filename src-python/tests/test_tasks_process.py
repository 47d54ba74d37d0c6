"""A scheduled task's run across a restart of the real sidecar process: cut off by kill -9, it
is `interrupted` after the next start, announced as such, and never run again on its own."""

import functools
import signal
import subprocess
import sys
import time

import pytest

from sage_sidecar.demo.scripted import RunningScripted

from sidecar_process import api_call, read_ready, sidecar_command, sidecar_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

call = functools.partial(api_call, timeout=10)


def start(env):
    proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    return proc, read_ready(proc)


def wait_for(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_a_task_run_cut_off_by_kill_9_is_interrupted_after_restart_and_not_rerun(tmp_path):
    env = sidecar_env(tmp_path / "data")
    key = env["SAGE_API_KEY"]
    with RunningScripted() as scripted:
        scripted.load([{"chunks": [f"w{i} " for i in range(400)], "delay_ms": 20}])
        proc, ready = start(env)
        try:
            port = ready.port
            call(port, key, "POST", "/api/providers", {
                "name": "scripted", "kind": "openai", "base_url": scripted.base_url,
                "default_model": "scripted-1"})  # fmt: skip
            agent = next(a for a in call(port, key, "GET", "/api/agents") if a["is_default"])
            task = call(port, key, "POST", "/api/tasks", {
                "name": "Slow", "agent_id": agent["id"], "prompt": "count slowly",
                "timezone": "UTC", "schedule": {"kind": "interval", "every": 1, "unit": "hours"}})  # fmt: skip
            run = call(port, key, "POST", f"/api/tasks/{task['id']}/run")
            assert run["status"] == "running"
            # Mid-reply: its conversation has streamed some of the answer.
            runs = wait_for(lambda: (r := call(port, key, "GET", f"/api/tasks/{task['id']}/runs"))
                            and r[0]["message_id"] and r)  # fmt: skip
            conversation = runs[0]["conversation_id"]
            wait_for(lambda: "w3" in call(port, key, "GET",
                     f"/api/conversations/{conversation}/messages")[-1]["content"])  # fmt: skip
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=15)
        finally:
            proc.kill()
        asked = len(scripted.recorded())
        proc, ready = start(env)
        try:
            port = ready.port
            [after] = call(port, key, "GET", f"/api/tasks/{task['id']}/runs")
            assert after["id"] == run["id"] and after["status"] == "interrupted"
            assert after["error"] == "Sage stopped during this run."
            assert after["ended_at"] is not None
            listed = call(port, key, "GET", f"/api/tasks/{task['id']}")
            assert listed["running"] is False and listed["last_run"]["status"] == "interrupted"
            time.sleep(1.0)  # a re-run, if there were one, would have asked the model by now
            assert len(scripted.recorded()) == asked
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
