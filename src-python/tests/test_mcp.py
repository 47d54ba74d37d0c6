"""MCP servers: configuration, tool listing, calls inside the chat tool loop, crashes, restarts
and shutdown, with the real `mcp-server-time` package and a small server of our own."""

import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.app import create_app

from chat_client import ChatSocket, add_scripted_provider, send_once
from conftest import TEST_ORIGIN
from sidecar_process import wait_gone

ECHO_SERVER = str(Path(__file__).parent / "fixtures" / "mcp_echo_server.py")


def add_server(client, auth, **body) -> dict:
    response = client.post("/api/mcp-servers", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def time_server(client, auth, trusted=True) -> dict:
    return add_server(client, auth, name="time", transport="stdio", command=sys.executable,
                      args=["-m", "mcp_server_time", "--local-timezone", "UTC"], trusted=trusted)  # fmt: skip


def echo_server(client, auth, pid_file: Path | None = None) -> dict:
    env = {"MCP_PID_FILE": str(pid_file)} if pid_file else {}
    return add_server(client, auth, name="echo", transport="stdio", command=sys.executable,
                      args=[ECHO_SERVER], env=env, trusted=True)  # fmt: skip


def agent_with(client, auth, provider_id: str, tools: list[str]) -> dict:
    body = {"name": "MCP user", "provider_id": provider_id, "tools": tools}
    response = client.post("/api/agents", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_configuration_hides_secret_values(client: TestClient, auth):
    created = add_server(client, auth, name="remote", transport="http", url="http://127.0.0.1:9/mcp",
                         headers={"Authorization": "Bearer sk-mcp-secret"})  # fmt: skip
    assert created["header_keys"] == ["Authorization"]
    assert "sk-mcp-secret" not in str(client.get("/api/mcp-servers", headers=auth).json())
    duplicate = client.post("/api/mcp-servers", json={"name": "remote", "transport": "http",
                                                      "url": "http://x/"}, headers=auth)  # fmt: skip
    assert duplicate.status_code == 409
    assert (
        client.post(
            "/api/mcp-servers", json={"name": "x", "transport": "stdio"}, headers=auth
        ).status_code
        == 422
    )
    assert client.post("/api/mcp-servers", json={"name": "Bad Name", "transport": "http", "url": "http://x/"},
                       headers=auth).status_code == 422  # fmt: skip


def test_lists_tools_of_mcp_server_time(client: TestClient, auth):
    server = time_server(client, auth)
    listing = client.get(f"/api/mcp-servers/{server['id']}/tools", headers=auth).json()
    assert listing["ok"] is True, listing
    assert "mcp__time__get_current_time" in [t["name"] for t in listing["tools"]]


def test_a_server_that_cannot_start_is_a_clear_error(client: TestClient, auth):
    server = add_server(
        client, auth, name="broken", transport="stdio", command="/nonexistent/mcp-server"
    )
    listing = client.get(f"/api/mcp-servers/{server['id']}/tools", headers=auth).json()
    assert listing["ok"] is False
    assert "failed to start" in listing["error"] and "broken" in listing["error"]


def test_agent_tools_must_name_existing_servers(client: TestClient, auth):
    response = client.post("/api/agents", json={"name": "x", "tools": ["mcp:nope"]}, headers=auth)
    assert response.status_code == 422 and "no MCP server named nope" in response.text


def test_chat_calls_mcp_server_time(client: TestClient, auth, api_key, scripted):
    provider = add_scripted_provider(client, auth, scripted)
    time_server(client, auth)
    agent = agent_with(client, auth, provider["id"], ["mcp:time"])
    scripted.load([
        {"tool_calls": [{"id": "t1", "name": "mcp__time__get_current_time", "arguments": '{"timezone": "UTC"}'}]},
        {"text": "It is some time in UTC."},
    ])  # fmt: skip
    _, frames = send_once(client, api_key, "what time is it?", agentId=agent["id"])
    offered = [t["function"]["name"] for t in scripted.recorded()[0]["tools"]]
    assert "mcp__time__get_current_time" in offered
    result = next(f for f in frames if f["type"] == "tool.result")
    assert not result["isError"], result
    assert '"timezone": "UTC"' in result["content"]
    assert frames[-1]["type"] == "message.completed"


def test_crash_is_a_tool_error_and_the_next_use_restarts(
    client: TestClient, auth, api_key, scripted, tmp_path
):
    provider = add_scripted_provider(client, auth, scripted)
    echo_server(client, auth, tmp_path / "pid")
    agent = agent_with(client, auth, provider["id"], ["mcp:echo", "calculator"])
    scripted.load([
        {"tool_calls": [{"id": "c1", "name": "mcp__echo__crash", "arguments": "{}"}]},
        {"text": "It crashed."},
        {"tool_calls": [{"id": "a1", "name": "mcp__echo__add", "arguments": '{"a": 2, "b": 3}'},
                        {"id": "f1", "name": "mcp__echo__fail", "arguments": "{}"}]},
        {"text": "2 + 3 = 5"},
    ])  # fmt: skip
    with ChatSocket(client, api_key) as socket:
        _, first = socket.send("crash it", agentId=agent["id"])
        _, second = socket.send("add", agentId=agent["id"])
    crash = next(f for f in first if f["type"] == "tool.result")
    assert crash["isError"] and "MCP server 'echo' failed" in crash["content"]
    assert first[-1]["type"] == "message.completed"  # the chat went on
    results = {f["callId"]: f for f in second if f["type"] == "tool.result"}
    assert results["a1"]["content"] == "5" and not results["a1"]["isError"]
    assert results["f1"]["isError"] and "always fails" in results["f1"]["content"]


def test_unstartable_server_gives_a_notice_and_the_reply_goes_on(
    client: TestClient, auth, api_key, scripted
):
    provider = add_scripted_provider(client, auth, scripted)
    add_server(client, auth, name="broken", transport="stdio", command="/nonexistent/mcp-server")
    agent = agent_with(client, auth, provider["id"], ["mcp:broken"])
    scripted.load([{"text": "Answering without that server."}])
    _, frames = send_once(client, api_key, "hi", agentId=agent["id"])
    notice = next(f for f in frames if f["type"] == "notice")
    assert "broken" in notice["text"] and "failed to start" in notice["text"]
    assert frames[-1]["type"] == "message.completed"


def test_untrusted_server_tools_need_approval(client: TestClient, auth, api_key, scripted):
    provider = add_scripted_provider(client, auth, scripted)
    time_server(client, auth, trusted=False)
    agent = agent_with(client, auth, provider["id"], ["mcp:time"])
    scripted.load([
        {"tool_calls": [{"id": "t1", "name": "mcp__time__get_current_time", "arguments": '{"timezone": "UTC"}'}]},
        {"text": "ok"},
    ])  # fmt: skip
    with ChatSocket(client, api_key) as socket:
        accepted = socket.request({"type": "chat.send", "content": "time?", "agentId": agent["id"]})
        pending = socket.until(lambda f: f["type"] == "tool.approval_required")[-1]
        assert pending["name"] == "mcp__time__get_current_time"
        socket.ws.send_json({"type": "tool.approval", "callId": "t1", "decision": "approve"})
        frames = socket.finish(accepted["messageId"])
    assert not next(f for f in frames if f["type"] == "tool.result")["isError"]


def test_shutdown_ends_stdio_server_processes(settings, auth, tmp_path):
    pid_file = tmp_path / "pid"
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
        server = echo_server(client, auth, pid_file)
        assert client.get(f"/api/mcp-servers/{server['id']}/tools", headers=auth).json()["ok"]
        pid = int(pid_file.read_text())
    assert wait_gone(pid, timeout=5), "MCP server process outlived the sidecar"


@pytest.fixture
def http_mcp():
    import socket
    import subprocess
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, ECHO_SERVER, "--http", str(port)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as conn:
            if conn.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/mcp"
    proc.terminate()
    proc.wait(10)


def test_streamable_http_server_with_headers(client: TestClient, auth, api_key, scripted, http_mcp):
    good = add_server(client, auth, name="remote", transport="http", url=http_mcp, trusted=True,
                      headers={"Authorization": "Bearer fixture-token"})  # fmt: skip
    listing = client.get(f"/api/mcp-servers/{good['id']}/tools", headers=auth).json()
    assert listing["ok"] is True, listing
    assert {"mcp__remote__add", "mcp__remote__fail"} <= {t["name"] for t in listing["tools"]}
    provider = add_scripted_provider(client, auth, scripted)
    agent = agent_with(client, auth, provider["id"], ["mcp:remote"])
    scripted.load([
        {"tool_calls": [{"id": "h1", "name": "mcp__remote__add", "arguments": '{"a": 20, "b": 22}'}]},
        {"text": "42"},
    ])  # fmt: skip
    _, frames = send_once(client, api_key, "add over http", agentId=agent["id"])
    assert next(f for f in frames if f["type"] == "tool.result")["content"] == "42"

    wrong = add_server(client, auth, name="wrong-token", transport="http", url=http_mcp,
                       headers={"Authorization": "Bearer nope"})  # fmt: skip
    refused = client.get(f"/api/mcp-servers/{wrong['id']}/tools", headers=auth).json()
    assert refused["ok"] is False and "wrong-token" in refused["error"]
