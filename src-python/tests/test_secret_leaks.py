"""Planted secrets are found nowhere they must not be. A real sidecar process (DEBUG logging) gets
a provider key, an MCP env value, an MCP header, a token in MCP arguments and credentials in a
provider's and an MCP server's URL; then every path that logs or exports runs: provider tests and
model lists, MCP tool listings (one failing on its token), a chat that calls an MCP tool through
the scripted model, the conversation, agent, run trace and audit exports, "export everything",
the API's own answers, the sidecar's log file and stderr. None of them may hold a secret, and the
encrypted columns' secrets are not in the database file's bytes either."""

import json
import secrets
import socket
import subprocess
import sys
import time
import zipfile
from io import BytesIO
from pathlib import Path

import pytest
from websockets.sync.client import connect

from sage_sidecar.demo.scripted import RunningScripted

from sidecar_process import read_ready, sidecar_command, sidecar_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process handling")

ECHO_SERVER = str(Path(__file__).parent / "fixtures" / "mcp_echo_server.py")


def plant(name: str) -> str:
    return f"plant{name}{secrets.token_hex(6)}"  # not shaped like a key: found only if known


PROVIDER_KEY, ENV_VALUE, HEADER_TOKEN = plant("Key"), plant("Env"), plant("Hdr")
ARG_TOKEN, URL_PASSWORD, URL_TOKEN, QUERY_KEY = (plant("Arg"), plant("Pass"), plant("Tok"),
                                                  plant("Query"))  # fmt: skip
ALL = [PROVIDER_KEY, ENV_VALUE, HEADER_TOKEN, ARG_TOKEN, URL_PASSWORD, URL_TOKEN, QUERY_KEY]
ENCRYPTED = [PROVIDER_KEY, ENV_VALUE, HEADER_TOKEN]
CONFIGURATION = {"POST /api/providers", "GET /api/providers", "POST /api/mcp-servers",
                 "GET /api/mcp-servers"}  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"nothing listening on {port}")


class Sidecar:
    def __init__(self, port: int, key: str) -> None:
        self.port, self.key = port, key
        self.seen: list[tuple[str, str]] = []  # (what, body) of every answer, searched at the end

    def call(self, method: str, path: str, body: object = None, ok: bool = True) -> bytes:
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=headers)  # fmt: skip
        response = conn.getresponse()
        data = response.read()
        assert not ok or response.status < 300, (method, path, response.status, data[:500])
        self.seen.append((f"{method} {path}", data.decode("utf-8", "replace")))
        return data

    def json(self, method: str, path: str, body: object = None) -> object:
        return json.loads(self.call(method, path, body))


def zip_entries(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(BytesIO(data)) as archive:
        return [(name, archive.read(name)) for name in archive.namelist()]


def test_planted_secrets_leak_nowhere(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = sidecar_env(data_dir, SAGE_LOG_LEVEL="DEBUG")
    mcp_port = free_port()
    echo_http = subprocess.Popen([sys.executable, ECHO_SERVER, "--http", str(mcp_port)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    stderr_path = tmp_path / "sidecar-stderr.log"
    with RunningScripted() as scripted, stderr_path.open("w") as stderr:
        proc = subprocess.Popen(sidecar_command(), env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=stderr, text=True)  # fmt: skip
        try:
            wait_listening(mcp_port)
            ready = read_ready(proc, timeout=30)
            api = Sidecar(ready.port, env["SAGE_API_KEY"])
            exercise(api, scripted, mcp_port)
        finally:
            proc.stdin.close()  # type: ignore[union-attr]  # EOF: the sidecar shuts down cleanly
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            echo_http.kill()
            echo_http.wait(timeout=10)

    # What the scripted provider received is where the key must be (it authenticates there).
    places = {f"{i}: {what}": body.encode() for i, (what, body) in enumerate(api.seen)}
    for path in sorted((data_dir / "logs").glob("sidecar.log*")):
        places[str(path.name)] = path.read_bytes()
    places["stderr"] = stderr_path.read_bytes()
    assert b"HTTP Request" in b"".join(places.values())  # DEBUG/INFO lines were written
    for where, content in places.items():
        # The configuration's own answers show URLs and arguments as entered (the user edits
        # them); keys, env and header values are write-only there too.
        configuration = where.partition(": ")[2] in CONFIGURATION
        for secret in ENCRYPTED if configuration else ALL:
            assert secret.encode() not in content, f"{secret} leaked into {where}"
    # The encrypted columns: not in the database file (nor its WAL) in any form we can search.
    database = b"".join(p.read_bytes() for p in data_dir.glob("agent_platform.db*"))
    for secret in ENCRYPTED:
        assert secret.encode() not in database, f"{secret} is in the database file"


def exercise(api: Sidecar, scripted: RunningScripted, mcp_port: int) -> None:
    base = scripted.base_url.replace("http://", f"http://planter:{URL_PASSWORD}@")
    provider = api.json("POST", "/api/providers", {"name": "scripted", "kind": "openai",
                        "base_url": base, "api_key": PROVIDER_KEY,
                        "default_model": "scripted-1"})  # fmt: skip
    other = api.json("POST", "/api/providers", {"name": "elsewhere", "kind": "openai",
                     "base_url": f"http://127.0.0.1:1/v1?api_key={QUERY_KEY}"})  # fmt: skip
    assert isinstance(provider, dict) and isinstance(other, dict)
    stdio = api.json("POST", "/api/mcp-servers", {"name": "echo", "transport": "stdio",
                     "command": sys.executable, "args": [ECHO_SERVER, "--token", ARG_TOKEN],
                     "env": {"ECHO_TOKEN": ENV_VALUE}, "trusted": True})  # fmt: skip
    remote = api.json("POST", "/api/mcp-servers", {"name": "remote", "transport": "http",
                      "url": f"http://127.0.0.1:{mcp_port}/mcp?token={URL_TOKEN}",
                      "headers": {"Authorization": f"Bearer {HEADER_TOKEN}"}})  # fmt: skip
    assert isinstance(stdio, dict) and isinstance(remote, dict)
    status = api.json("GET", "/api/privacy/secrets")
    assert isinstance(status, dict) and status["secrets_encrypted"] is True

    # Provider tests and model lists, one working, one failing at a URL with a key in it.
    assert api.json("POST", f"/api/providers/{provider['id']}/test")["ok"]  # type: ignore[index]
    assert not api.json("POST", f"/api/providers/{other['id']}/test")["ok"]  # type: ignore[index]
    api.call("GET", f"/api/providers/{provider['id']}/models")
    api.call("GET", f"/api/providers/{other['id']}/models", ok=False)
    # MCP test connections: the stdio server lists its tools, the remote one refuses its token.
    assert api.json("GET", f"/api/mcp-servers/{stdio['id']}/tools")["ok"]  # type: ignore[index]
    refused = api.json("GET", f"/api/mcp-servers/{remote['id']}/tools")
    assert isinstance(refused, dict) and not refused["ok"]

    agent = api.json("POST", "/api/agents", {"name": "Leaky?", "provider_id": provider["id"],
                     "tools": ["mcp:echo", "mcp:remote"]})  # fmt: skip
    assert isinstance(agent, dict)
    scripted.load([
        {"tool_calls": [{"id": "a1", "name": "mcp__echo__add", "arguments": '{"a": 2, "b": 3}'}]},
        {"text": "2 + 3 = 5"},
    ])  # fmt: skip
    conversation_id = chat(api, agent["id"], "add two and three")
    assert scripted.recorded(), "the scripted model was not called"

    # Every export.
    for form in ("json", "markdown", "html"):
        api.call("GET", f"/api/conversations/{conversation_id}/export?format={form}")
    api.call("GET", f"/api/agents/{agent['id']}/export")
    runs = api.json("GET", f"/api/conversations/{conversation_id}/runs")
    assert isinstance(runs, dict) and runs["runs"]
    for run in runs["runs"]:
        api.call("GET", f"/api/runs/{run['id']}/export")
    audit = api.json("GET", "/api/audit/export")
    assert isinstance(audit, dict) and audit["events"], "the tool call was not audited"
    backup = api.call("GET", "/api/system/export")
    api.seen.pop()  # the zip itself is searched file by file
    for name, content in zip_entries(backup):
        api.seen.append((f"export everything: {name}", content.decode("latin-1")))
    # The API's own answers about the configuration.
    api.call("GET", "/api/providers")
    api.call("GET", "/api/mcp-servers")


def chat(api: Sidecar, agent_id: str, text: str) -> str:
    with connect(f"ws://127.0.0.1:{api.port}/ws/chat", close_timeout=0.5) as ws:
        ws.send(json.dumps({"type": "auth", "apiKey": api.key}))
        assert json.loads(ws.recv(timeout=10))["type"] == "auth.ok"
        ws.send(json.dumps({"type": "chat.send", "content": text, "agentId": agent_id}))
        conversation_id = None
        while True:
            raw = ws.recv(timeout=30)
            api.seen.append(("/ws/chat", str(raw)))
            frame = json.loads(raw)
            conversation_id = frame.get("conversationId", conversation_id)
            if frame["type"] in ("message.completed", "message.failed"):
                assert frame["type"] == "message.completed", frame
                break
    assert conversation_id
    time.sleep(0.7)  # past a trace flush
    return str(conversation_id)
