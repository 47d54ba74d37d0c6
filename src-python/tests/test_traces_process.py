"""Traces across restarts of the real sidecar process: a run cut off by kill -9 is `interrupted`
after the next start (never lost, never left `running`); a clean shutdown (SIGTERM) mid-reply
writes the run and its cut-off model step before the process exits."""

import functools
import json
import signal
import subprocess
import sys
import time

import pytest
from websockets.sync.client import connect

from sage_sidecar.demo.scripted import RunningScripted

from sidecar_process import api_call, read_ready, sidecar_command, sidecar_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

call = functools.partial(api_call, timeout=10)


def start(env):
    proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    return proc, read_ready(proc)


def reply_then(signum: int, tmp_path) -> tuple[dict, str]:
    """Start a slow reply, send `signum` mid-stream, start again: (env, conversation id)."""
    env = sidecar_env(tmp_path)
    key = env["SAGE_API_KEY"]
    with RunningScripted() as scripted:
        scripted.load([{"chunks": [f"w{i} " for i in range(200)], "delay_ms": 20}])
        proc, ready = start(env)
        try:
            call(ready.port, key, "POST", "/api/providers", {
                "name": "scripted", "kind": "openai", "base_url": scripted.base_url,
                "default_model": "scripted-1"})  # fmt: skip
            with connect(f"ws://127.0.0.1:{ready.port}/ws/chat", close_timeout=0.5) as ws:
                ws.send(json.dumps({"type": "auth", "apiKey": key}))
                assert json.loads(ws.recv())["type"] == "auth.ok"
                ws.send(json.dumps({"type": "chat.send", "content": "count slowly"}))
                conversation_id, words = None, 0
                while words < 20:
                    frame = json.loads(ws.recv(timeout=10))
                    conversation_id = frame.get("conversationId", conversation_id)
                    words += len(frame.get("delta", "").split())
                time.sleep(0.7)  # past a trace flush: the run row is on disk as `running`
                proc.send_signal(signum)
                proc.wait(timeout=15)
        finally:
            proc.kill()
    assert conversation_id is not None
    return env, conversation_id


def runs_after_restart(env, conversation_id: str) -> list[dict]:
    proc, ready = start(env)
    try:
        runs = call(
            ready.port, env["SAGE_API_KEY"], "GET", f"/api/conversations/{conversation_id}/runs"
        )
        return [
            call(ready.port, env["SAGE_API_KEY"], "GET", f"/api/runs/{r['id']}")
            for r in runs["runs"]
        ]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def test_a_run_cut_off_by_kill_9_is_interrupted_after_restart(tmp_path):
    env, conversation_id = reply_then(signal.SIGKILL, tmp_path)
    [run] = runs_after_restart(env, conversation_id)
    assert run["status"] == "interrupted"
    assert run["error"] == "The app stopped during this run."


def test_a_clean_shutdown_mid_reply_writes_the_cut_off_step(tmp_path):
    env, conversation_id = reply_then(signal.SIGTERM, tmp_path)
    [run] = runs_after_restart(env, conversation_id)
    assert run["status"] == "interrupted" and run["ended_at"] is not None
    [step] = run["steps"]
    assert step["purpose"] == "answer" and step["error"] == "interrupted"
    assert step["ttft_ms"] is not None
    assert step["detail"]["output"].startswith("w0 w1 w2 ")  # what it had received
