"""Tools that write wait for the user: approve, deny, always-for-this-agent, and timeout."""

import pytest
from fastapi.testclient import TestClient

from chat_client import ChatSocket, add_scripted_provider

WRITE = {
    "id": "w1",
    "name": "write_file",
    "arguments": '{"path": "hello.txt", "content": "hi there"}',
}


@pytest.fixture
def writer_agent(client: TestClient, auth, scripted) -> dict:
    provider = add_scripted_provider(client, auth, scripted)
    body = {"name": "Writer", "provider_id": provider["id"], "tools": ["write_file", "read_file"]}
    return client.post("/api/agents", json=body, headers=auth).json()


@pytest.fixture
def chat(client: TestClient, api_key):
    with ChatSocket(client, api_key) as socket:
        yield socket


def workspace_file(settings, agent_id: str):
    return settings.storage_dir / "workspaces" / agent_id / "hello.txt"


def ask_to_write(chat: ChatSocket, scripted, agent) -> tuple[dict, dict]:
    scripted.load([{"tool_calls": [WRITE]}, {"text": "done"}])
    accepted = chat.request({"type": "chat.send", "content": "write it", "agentId": agent["id"]})
    pending = chat.until(lambda f: f["type"] == "tool.approval_required")[-1]
    assert (pending["callId"], pending["name"]) == ("w1", "write_file")
    return accepted, pending


def test_approved_write_happens(chat, scripted, writer_agent, settings):
    accepted, _ = ask_to_write(chat, scripted, writer_agent)
    chat.ws.send_json({"type": "tool.approval", "callId": "w1", "decision": "approve"})
    frames = chat.finish(accepted["messageId"])
    result = next(f for f in frames if f["type"] == "tool.result")
    assert not result["isError"]
    assert workspace_file(settings, writer_agent["id"]).read_text() == "hi there"


def test_denied_write_does_not_happen(chat, scripted, writer_agent, settings):
    accepted, _ = ask_to_write(chat, scripted, writer_agent)
    chat.ws.send_json({"type": "tool.approval", "callId": "w1", "decision": "deny"})
    frames = chat.finish(accepted["messageId"])
    result = next(f for f in frames if f["type"] == "tool.result")
    assert result["isError"] and "denied" in result["content"]
    assert frames[-1]["type"] == "message.completed"  # the model heard about it and answered
    assert not workspace_file(settings, writer_agent["id"]).exists()


@pytest.mark.settings(chat_approval_timeout_s=0.2)
def test_no_answer_means_deny(chat, client, scripted, writer_agent, settings):
    accepted, _ = ask_to_write(chat, scripted, writer_agent)
    frames = chat.finish(accepted["messageId"])
    result = next(f for f in frames if f["type"] == "tool.result")
    assert result["isError"] and "not approved in time" in result["content"]
    assert not workspace_file(settings, writer_agent["id"]).exists()


def test_always_approves_this_tool_for_this_agent(
    chat, client, auth, scripted, writer_agent, settings
):
    accepted, _ = ask_to_write(chat, scripted, writer_agent)
    chat.ws.send_json({"type": "tool.approval", "callId": "w1", "decision": "always"})
    chat.finish(accepted["messageId"])
    approvals = client.get(f"/api/agents/{writer_agent['id']}/approvals", headers=auth).json()
    assert [(a["tool"], a["scope"]) for a in approvals] == [("write_file", "builtin")]
    # Next time: no approval prompt.
    workspace_file(settings, writer_agent["id"]).unlink()
    scripted.load([{"tool_calls": [WRITE]}, {"text": "done"}])
    again = chat.request({"type": "chat.send", "content": "again", "agentId": writer_agent["id"]})
    frames = chat.finish(again["messageId"])
    assert "tool.approval_required" not in [f["type"] for f in frames]
    assert workspace_file(settings, writer_agent["id"]).exists()


def test_unknown_approval_is_an_error(chat):
    reply = chat.request({"type": "tool.approval", "callId": "nope", "decision": "approve"})
    assert "no tool call 'nope'" in reply["error"]
    bad = chat.request({"type": "tool.approval", "callId": "x", "decision": "maybe"})
    assert bad["type"] == "error"


def test_traversal_through_the_model_is_refused(
    chat, client, auth, scripted, writer_agent, settings
):
    client.patch(f"/api/agents/{writer_agent['id']}", json={"tools": ["read_file"]}, headers=auth)
    scripted.load([
        {"tool_calls": [{"id": "r1", "name": "read_file", "arguments": '{"path": "../../../../etc/passwd"}'},
                        {"id": "r2", "name": "read_file", "arguments": '{"path": "/etc/passwd"}'}]},
        {"text": "ok"},
    ])  # fmt: skip
    accepted = chat.request({"type": "chat.send", "content": "read", "agentId": writer_agent["id"]})
    frames = chat.finish(accepted["messageId"])
    results = [f for f in frames if f["type"] == "tool.result"]
    assert len(results) == 2 and all(r["isError"] for r in results)
    assert all("root:" not in r["content"] for r in results)
