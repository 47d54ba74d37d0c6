"""Model parameters per agent, overridable per conversation: validated with coded 422s, and sent
to each kind of provider as its API names them, as far as the model takes them, asserted on the
requests the scripted server received."""

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.providers import anthropic, openai_compat
from sage_sidecar.providers.base import ChatMessage, ChatRequest
from sage_sidecar.schemas.runs import StepOut
from sage_sidecar.services.traces.replay import recorded_request

from chat_client import send_once

AGENT_PARAMS = {"temperature": 0.2, "top_p": 0.9, "max_tokens": 256, "stop": ["END", "END"],
                "seed": 7, "reasoning_effort": "low"}  # fmt: skip


def add_provider(client: TestClient, auth, scripted, kind: str, model: str) -> dict:
    base = scripted.base_url if kind != "anthropic" else f"http://127.0.0.1:{scripted.port}"
    body = {"name": f"{kind} (scripted)", "kind": kind, "base_url": base, "api_key": "k",
            "default_model": model}  # fmt: skip
    response = client.post("/api/providers", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def agent_with(client, auth, provider_id: str, **fields) -> dict:
    body = {"name": "Tuned", "provider_id": provider_id, "tools": [], **fields}
    response = client.post("/api/agents", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def reply_request(client, auth, api_key, scripted, agent_id: str, override: dict | None = None):
    """Start a conversation with the agent, optionally set its parameters, send one message:
    the chat request the provider received."""
    conversation = client.post("/api/conversations", json={"agent_id": agent_id},
                               headers=auth).json()  # fmt: skip
    if override is not None:
        patched = client.patch(f"/api/conversations/{conversation['id']}",
                               json={"model_params": override}, headers=auth)  # fmt: skip
        assert patched.status_code == 200, patched.text
        assert patched.json()["model_params"]["temperature"] == override.get("temperature")
    _, frames = send_once(client, api_key, "hello", conversationId=conversation["id"])
    assert frames[-1]["type"] == "message.completed", frames[-1]
    (body,) = [r for r in scripted.recorded() if r["messages"][-1].get("content") != "x"][:1]
    return body


@pytest.mark.parametrize("kind", ["openai", "ollama", "lmstudio"])
def test_openai_compatible_providers_get_every_parameter(client, auth, api_key, scripted, kind):
    provider = add_provider(client, auth, scripted, kind, "scripted-1")
    agent = agent_with(client, auth, provider["id"], **AGENT_PARAMS)
    assert agent["stop"] == ["END"]  # the same sequence twice is once
    body = reply_request(client, auth, api_key, scripted, agent["id"], {"temperature": 1.1})
    # Ollama's and LM Studio's /v1 take these as the OpenAI API names them (Ollama maps them to
    # the model's options); the conversation's temperature wins over the agent's.
    assert (body["temperature"], body["top_p"], body["max_tokens"]) == (1.1, 0.9, 256)
    assert (body["stop"], body["seed"]) == (["END"], 7)
    assert "reasoning_effort" not in body  # scripted-1 is no reasoning model: left out


def test_an_openai_reasoning_model_gets_its_effort_and_no_temperature(
    client, auth, api_key, scripted
):
    provider = add_provider(client, auth, scripted, "openai", "o3-mini")
    agent = agent_with(client, auth, provider["id"], **AGENT_PARAMS)
    body = reply_request(client, auth, api_key, scripted, agent["id"],
                         {"reasoning_effort": "high", "temperature": 0.5})  # fmt: skip
    assert body["reasoning_effort"] == "high" and body["max_completion_tokens"] == 256
    assert not {"temperature", "top_p", "max_tokens"} & body.keys()


def test_anthropic_gets_stop_sequences_and_a_thinking_budget_but_no_seed(
    client, auth, api_key, scripted
):
    provider = add_provider(client, auth, scripted, "anthropic", "claude-3-5-haiku")
    agent = agent_with(client, auth, provider["id"], **AGENT_PARAMS)
    body = reply_request(client, auth, api_key, scripted, agent["id"], {"temperature": 0.7})
    assert (body["temperature"], body["top_p"], body["stop_sequences"]) == (0.7, 0.9, ["END"])
    assert "seed" not in body and "thinking" not in body  # 3.5 Haiku does not think
    scripted.load([])
    client.patch(f"/api/providers/{provider['id']}", json={"default_model": "claude-sonnet-4-5"},
                 headers=auth)  # fmt: skip
    body = reply_request(client, auth, api_key, scripted, agent["id"])
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert body["max_tokens"] > 2048 and "temperature" not in body


@pytest.mark.parametrize(("field", "value"), [
    ("temperature", 2.5), ("top_p", 0), ("top_p", 1.5), ("max_tokens", 0), ("seed", -1),
    ("stop", ["a", "b", "c", "d", "e"]), ("stop", [""]), ("reasoning_effort", "extreme"),
    ("context_policy", "forget"),
])  # fmt: skip
def test_out_of_range_parameters_are_refused_with_a_code(client, auth, field, value):
    agent = client.get("/api/agents", headers=auth).json()[0]
    response = client.patch(f"/api/agents/{agent['id']}", json={field: value}, headers=auth)
    assert response.status_code == 422 and response.json()["code"] == "request.invalid"
    assert response.json()["params"]["errors"]
    if field == "context_policy":
        return
    conversation = client.post("/api/conversations", json={}, headers=auth).json()
    response = client.patch(f"/api/conversations/{conversation['id']}",
                            json={"model_params": {field: value}}, headers=auth)  # fmt: skip
    assert response.status_code == 422 and response.json()["code"] == "request.invalid"


def test_a_conversation_override_is_kept_and_cleared(client, auth):
    conversation = client.post("/api/conversations", json={}, headers=auth).json()
    assert conversation["model_params"]["temperature"] is None
    url = f"/api/conversations/{conversation['id']}"
    client.patch(url, json={"model_params": {"temperature": 0.3, "seed": 1}}, headers=auth)
    assert client.get(url, headers=auth).json()["model_params"]["seed"] == 1
    client.patch(url, json={"title": "renamed"}, headers=auth)  # other fields leave it alone
    assert client.get(url, headers=auth).json()["model_params"]["temperature"] == 0.3
    client.patch(url, json={"model_params": None}, headers=auth)
    assert client.get(url, headers=auth).json()["model_params"]["temperature"] is None


def test_agents_export_and_import_their_parameters(client, auth):
    agent = client.post("/api/agents", json={"name": "P", "top_p": 0.5, "stop": ["##"],
                                             "context_policy": "summarise"}, headers=auth).json()  # fmt: skip
    exported = client.get(f"/api/agents/{agent['id']}/export", headers=auth).json()
    imported = client.post("/api/agents/import", json=exported, headers=auth).json()
    assert (imported["top_p"], imported["stop"], imported["context_policy"]) == (
        0.5, ["##"], "summarise")  # fmt: skip


def test_request_bodies_leave_out_what_is_not_set():
    request = ChatRequest("scripted-1", [ChatMessage("user", "hi")])
    assert not {"temperature", "top_p", "stop", "seed", "reasoning_effort"} & (
        openai_compat.request_json(request).keys())  # fmt: skip
    assert not {"temperature", "top_p", "stop_sequences", "thinking"} & (
        anthropic.request_json(request).keys())  # fmt: skip
    o1 = ChatRequest("o1", [ChatMessage("user", "hi")], reasoning_effort="minimal")
    assert openai_compat.request_json(o1)["reasoning_effort"] == "low"  # o-series have no minimal
    gpt5 = ChatRequest("gpt-5-mini", [ChatMessage("user", "hi")], reasoning_effort="minimal")
    assert openai_compat.request_json(gpt5)["reasoning_effort"] == "minimal"


def test_the_trace_records_the_parameters_sent_and_a_replay_sends_them_again(
    client, auth, api_key, scripted
):
    provider = add_provider(client, auth, scripted, "openai", "scripted-1")
    agent = agent_with(client, auth, provider["id"], **AGENT_PARAMS)
    reply_request(client, auth, api_key, scripted, agent["id"], {"seed": 99})
    (conversation,) = client.get("/api/conversations", headers=auth).json()
    reply = client.get(f"/api/conversations/{conversation['id']}/messages", headers=auth).json()[-1]
    trace = client.get(f"/api/messages/{reply['id']}/trace", headers=auth).json()
    sent = next(s for s in trace["steps"] if s["kind"] == "model")["detail"]["request"]
    assert (sent["top_p"], sent["stop"], sent["seed"]) == (0.9, ["END"], 99)
    step = StepOut.model_validate(next(s for s in trace["steps"] if s["kind"] == "model"))
    again = recorded_request(step)  # what a replay sends
    assert (again.top_p, again.stop, again.seed, again.temperature) == (0.9, ["END"], 99, 0.2)


def test_anthropic_thinking_blocks_go_back_with_their_tool_calls(client, auth, api_key, scripted):
    """With thinking on, Anthropic refuses a tool loop whose assistant turn lost its thinking
    block: it goes back first, whole, signature included, and only within that loop."""
    provider = add_provider(client, auth, scripted, "anthropic", "claude-sonnet-4-5")
    agent = agent_with(
        client, auth, provider["id"], tools=["calculator"], reasoning_effort="medium"
    )
    scripted.load([
        {"reasoning": ["Six times ", "seven."],
         "tool_calls": [{"id": "tu1", "name": "calculator", "arguments": '{"expression": "6*7"}'}]},
        {"text": "It is 42."},
        {"text": "Still 42."},
    ])  # fmt: skip
    conversation = client.post("/api/conversations", json={"agent_id": agent["id"]},
                               headers=auth).json()  # fmt: skip
    _, frames = send_once(client, api_key, "6*7?", conversationId=conversation["id"])
    assert frames[-1]["type"] == "message.completed" and frames[-1]["content"] == "It is 42."
    first, second = scripted.recorded()[:2]
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 8192}
    turn = second["messages"][-2]
    assert turn["role"] == "assistant"
    assert turn["content"][0] == {"type": "thinking", "thinking": "Six times seven.",
                                  "signature": "sig-scripted"}  # fmt: skip
    assert turn["content"][1]["type"] == "tool_use"
    # The next question starts a new turn: the earlier thinking is not sent again.
    send_once(client, api_key, "and again?", conversationId=conversation["id"])
    third = scripted.recorded()[2]
    assert "thinking" not in str(
        [m["content"] for m in third["messages"] if m["role"] == "assistant"]
    )
