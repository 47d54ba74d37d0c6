"""The Anthropic Messages client against the scripted server's Anthropic-format endpoint, and
the chat tool loop on an `anthropic` provider."""

import httpx
import pytest
from fastapi.testclient import TestClient

from sage_sidecar.demo.scripted import RunningScripted
from sage_sidecar.providers.anthropic import AnthropicClient
from sage_sidecar.providers.base import (
    ChatMessage,
    ChatRequest,
    ProviderError,
    TextDelta,
    ToolCalls,
    Usage,
)

from chat_client import send_once


@pytest.fixture(scope="module")
def scripted():
    with RunningScripted() as server:
        yield server


def root(server: RunningScripted) -> str:
    return f"http://127.0.0.1:{server.port}"


async def collect(server, key="k"):
    async with httpx.AsyncClient() as http:
        client = AnthropicClient(root(server), key, http)
        request = ChatRequest(
            model="claude-x",
            messages=[ChatMessage("system", "Be brief."), ChatMessage("user", "hi")],
        )
        return [e async for e in client.stream_chat(request)]


async def test_text_usage_and_request_shape(scripted):
    scripted.load(
        [{"chunks": ["Hi", " there"], "usage": {"prompt_tokens": 5, "completion_tokens": 2}}]
    )
    events = await collect(scripted)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hi", " there"]
    assert Usage(5, 2) in events
    sent = scripted.recorded()[-1]
    assert sent["system"] == "Be brief." and sent["max_tokens"] == 4096
    assert sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]


async def test_tool_use_blocks_become_tool_calls(scripted):
    scripted.load([{"tool_calls": [{"id": "tu1", "name": "calculator", "arguments": '{"expression": "1+2"}'},
                                   {"id": "tu2", "name": "current_time", "arguments": "{}"}]}])  # fmt: skip
    events = await collect(scripted)
    calls = next(e for e in events if isinstance(e, ToolCalls)).calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("tu1", "calculator", '{"expression": "1+2"}'), ("tu2", "current_time", "{}")]  # fmt: skip


@pytest.mark.parametrize(("turn", "kind"), [
    ({"error": {"status": 429}}, "rate_limit"), ({"error": {"status": 529}}, "server"),
    ({"chunks": ["a", "b", "c"], "drop_after_chunks": 1}, "dropped"),
    ({"chunks": ["a", "b"], "malformed_after_chunks": 1}, "bad_response"),
    # No stop reason, so not a whole answer: message_stop without one, or the body just ends.
    ({"chunks": ["a", "b"], "no_finish": True}, "dropped"),
    ({"chunks": ["a", "b"], "end_after_chunks": 1}, "dropped"),
])  # fmt: skip
async def test_errors(scripted, turn, kind):
    scripted.load([turn])
    with pytest.raises(ProviderError) as raised:
        await collect(scripted)
    assert raised.value.kind == kind


async def test_retry_after_comes_with_a_429(scripted):
    scripted.load([{"error": {"status": 429, "headers": {"retry-after": "4"}}}])
    with pytest.raises(ProviderError) as raised:
        await collect(scripted)
    assert (raised.value.kind, raised.value.retry_after) == ("rate_limit", 4.0)


async def test_bad_key(scripted):
    with pytest.raises(ProviderError) as raised:
        await collect(scripted, key="bad-key")
    assert raised.value.kind == "auth"


def test_tool_loop_on_an_anthropic_provider(client: TestClient, auth, api_key, scripted):
    body = {"name": "Claude (scripted)", "kind": "anthropic", "base_url": root(scripted),
            "api_key": "k", "default_model": "claude-x"}  # fmt: skip
    provider = client.post("/api/providers", json=body, headers=auth).json()
    assert client.post(f"/api/providers/{provider['id']}/test", headers=auth).json()["ok"] is True
    scripted.load([
        {"tool_calls": [{"id": "tu1", "name": "calculator", "arguments": '{"expression": "6*7"}'}]},
        {"text": "It is 42."},
    ])  # fmt: skip
    _, frames = send_once(client, api_key, "6*7?")
    assert frames[-1]["type"] == "message.completed" and frames[-1]["content"] == "It is 42."
    followup = scripted.recorded()[-1]["messages"]
    assert followup[-2]["content"][0] == {"type": "tool_use", "id": "tu1", "name": "calculator",
                                          "input": {"expression": "6*7"}}  # fmt: skip
    assert followup[-1] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "tu1", "content": "42"}],
    }


@pytest.mark.settings(chat_retry_delays_s=(0.01, 0.01))
def test_an_anthropic_reply_waits_as_asked_and_never_keeps_a_stream_without_a_stop_reason(
    client: TestClient, auth, api_key, scripted
):
    body = {"name": "Claude (scripted)", "kind": "anthropic", "base_url": root(scripted),
            "api_key": "k", "default_model": "claude-x"}  # fmt: skip
    assert client.post("/api/providers", json=body, headers=auth).status_code == 201
    scripted.load([
        {"error": {"status": 429, "headers": {"retry-after": "1"}}},
        {"chunks": ["lost"], "end_after_chunks": 0},  # ends before any text: retried
        {"text": "Here at last."},
    ])  # fmt: skip
    _, frames = send_once(client, api_key, "hi")
    assert frames[-1]["type"] == "message.completed" and frames[-1]["content"] == "Here at last."
    assert [f["code"] for f in frames if f["type"] == "notice"] == [
        "rate_limited",
        "provider_retry",
    ]
    assert scripted.gaps()[0] >= 0.95 and scripted.gaps()[1] < 0.5
    scripted.load([{"chunks": ["Half", " an answer"], "no_finish": True}, {"text": "unused"}])
    _, frames = send_once(client, api_key, "again")
    failed = frames[-1]
    assert failed["type"] == "message.failed" and failed["reason"] == "dropped"
    assert failed["content"] == "Half an answer" and len(scripted.recorded()) == 1
