"""kill -9 in the middle of a reply: after a restart the message is there, marked interrupted,
with the text received up to the last flush, and the database is intact."""

import functools
import json
import signal
import sqlite3
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


def test_kill_9_mid_stream_leaves_an_interrupted_message(tmp_path):
    env = sidecar_env(tmp_path)
    key = env["SAGE_API_KEY"]
    with RunningScripted() as scripted:
        # 200 chunks, 20 ms apart: about 4 s of streaming, so the kill lands mid-reply.
        scripted.load([{"chunks": [f"w{i} " for i in range(200)], "delay_ms": 20}])
        proc, ready = start(env)
        try:
            call(ready.port, key, "POST", "/api/providers", {
                "name": "scripted", "kind": "openai", "base_url": scripted.base_url,
                "default_model": "scripted-1"})  # fmt: skip
            # close_timeout: after the kill nobody answers the closing handshake.
            with connect(f"ws://127.0.0.1:{ready.port}/ws/chat", close_timeout=0.5) as ws:
                ws.send(json.dumps({"type": "auth", "apiKey": key}))
                assert json.loads(ws.recv())["type"] == "auth.ok"
                ws.send(json.dumps({"type": "chat.send", "content": "count slowly"}))
                received = ""
                conversation_id = None
                while len(received.split()) < 30:
                    frame = json.loads(ws.recv(timeout=10))
                    conversation_id = frame.get("conversationId", conversation_id)
                    if frame["type"] == "message.delta":
                        received += frame["delta"]
                time.sleep(0.6)  # past at least one flush interval
                proc.send_signal(signal.SIGKILL)
                proc.wait()
        finally:
            proc.kill()

    proc, ready = start(env)
    try:
        saved = call(ready.port, key, "GET", f"/api/conversations/{conversation_id}/messages")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    reply = saved[-1]
    assert reply["role"] == "assistant"
    assert reply["status"] == "interrupted"
    assert "stopped while this reply was being written" in reply["error"]
    assert reply["failure"] == {"reason": "app_stopped", "code": None, "params": {}}
    # Everything up to the last flush survived: at least what we saw 0.6 s before the kill.
    assert reply["content"].startswith(received)
    assert len(reply["content"]) >= len(received)
    assert saved[0]["content"] == "count slowly"  # the user's message is never lost
    with sqlite3.connect(tmp_path / "agent_platform.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
