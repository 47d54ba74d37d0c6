"""Replies on the app-wide bus: `/ws/events` hears when a reply finishes (or fails) and when a tool
waits for approval, whichever `/ws/chat` connection asked, even one that has gone away. The
desktop UI turns these into notifications."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from chat_client import ChatSocket, EventsSocket, add_scripted_provider


@pytest.fixture
def provider(client: TestClient, auth, scripted) -> dict:
    return add_scripted_provider(client, auth, scripted)


@pytest.fixture
def events(client: TestClient, api_key) -> Iterator[EventsSocket]:
    with EventsSocket(client, api_key) as socket:
        yield socket


def test_a_finished_reply_is_announced_with_title_and_preview(
    client, api_key, provider, scripted, events
):
    scripted.load([{"text": "Pack light and bring a raincoat."}])
    with ChatSocket(client, api_key) as chat:
        accepted, _ = chat.send("What should I pack for Lisbon in March?")
    event = events.next_of("chat.reply_finished")
    assert event["conversationId"] == accepted["conversationId"]
    assert event["messageId"] == accepted["messageId"]
    assert event["status"] == "completed"
    assert event["title"] == "What should I pack for Lisbon in March?"
    assert event["preview"] == "Pack light and bring a raincoat."
    assert event["error"] is None
    assert event["seq"] > 0


def test_a_failed_reply_is_announced_with_its_error(client, api_key, provider, scripted, events):
    scripted.load([{"error": {"status": 401, "message": "bad key"}}])
    with ChatSocket(client, api_key) as chat:
        chat.send("hello?")
    event = events.next_of("chat.reply_finished")
    assert event["status"] == "failed"
    assert "refused the API key" in event["error"]


def test_a_long_reply_is_previewed_not_copied(client, api_key, provider, scripted, events):
    scripted.load([{"chunks": ["word "] * 200}])
    with ChatSocket(client, api_key) as chat:
        chat.send("talk a lot")
    assert len(events.next_of("chat.reply_finished")["preview"]) == 280


def test_a_tool_waiting_for_approval_is_announced(
    client, api_key, auth, provider, scripted, events
):
    body = {"name": "Writer", "provider_id": provider["id"], "tools": ["write_file"]}
    agent = client.post("/api/agents", json=body, headers=auth).json()
    call = {"id": "w1", "name": "write_file", "arguments": '{"path": "a.txt", "content": "hi"}'}
    scripted.load([{"tool_calls": [call]}, {"text": "written"}])
    with ChatSocket(client, api_key) as chat:
        accepted = chat.request(
            {"type": "chat.send", "content": "write a.txt", "agentId": agent["id"]}
        )
        waiting = events.next_of("chat.approval_required")
        assert waiting == {**waiting, "conversationId": accepted["conversationId"],
                           "messageId": accepted["messageId"], "callId": "w1",
                           "tool": "write_file", "arguments": call["arguments"],
                           "title": "write a.txt", "reason": None, "reasonParams": {}}  # fmt: skip
        chat.ws.send_json({"type": "tool.approval", "callId": "w1", "decision": "approve"})
        chat.finish(accepted["messageId"])
    assert events.next_of("chat.reply_finished")["status"] == "completed"


def test_a_reply_whose_window_went_away_is_still_announced(
    client, api_key, provider, scripted, events
):
    # The quick-ask window hidden mid-answer, or a window that reloaded: nobody reads /ws/chat.
    scripted.load([{"chunks": ["still ", "going ", "on"], "delay_ms": 150}])
    with ChatSocket(client, api_key) as chat:
        accepted = chat.request({"type": "chat.send", "content": "long one"})
    event = events.next_of("chat.reply_finished")
    assert (event["messageId"], event["status"]) == (accepted["messageId"], "completed")
    assert event["preview"] == "still going on"
