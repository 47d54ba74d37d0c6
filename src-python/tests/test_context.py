"""Long conversations: a model with a small declared context window (the scripted server's model
list says 1,024 tokens) gets every request within it; the oldest turns are dropped or summarised
per the agent's policy, the cut is stored on the reply (a `context` part) and sent as a
`context.trimmed` frame; a message too big on its own is shortened, not sent to fail."""

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.providers.base import ChatMessage, ToolCall, ToolSpec
from sage_sidecar.services.context import limits, summary, trim
from sage_sidecar.services.context.keeper import SAFETY_FRACTION
from sage_sidecar.services.context.tokens import message_tokens, tools_tokens

from chat_client import ChatSocket, add_scripted_provider

WINDOW = 1_024
MAX_TOKENS = 128


def words(n: int, tag: str) -> str:
    return " ".join(f"{tag}{i % 97}" for i in range(n))


def sent_messages(body: dict) -> list[ChatMessage]:
    out = []
    for m in body["messages"]:
        calls = [ToolCall(c["id"], c["function"]["name"], c["function"]["arguments"])
                 for c in m.get("tool_calls") or []]  # fmt: skip
        out.append(ChatMessage(m["role"], m.get("content"), tool_calls=calls))
    return out


def request_tokens(body: dict) -> int:
    specs = [ToolSpec(t["function"]["name"], t["function"]["description"], t["function"]["parameters"])
             for t in body.get("tools") or []]  # fmt: skip
    tools = tools_tokens(specs)
    return sum(message_tokens(m) for m in sent_messages(body)) + tools


@pytest.fixture
def small_model(client: TestClient, auth, scripted):
    limits.forget()
    scripted.provider.context_length = WINDOW
    add_scripted_provider(client, auth, scripted)
    agent = client.get("/api/agents", headers=auth).json()[0]
    patch = {"max_tokens": MAX_TOKENS}
    assert client.patch(f"/api/agents/{agent['id']}", json=patch, headers=auth).status_code == 200
    yield agent
    limits.forget()


def converse(client, api_key, turns: int, size: int = 60, conversation_id: str | None = None):
    """`turns` user messages of `size` words in one conversation: (conversation id, replies'
    frames)."""
    replies = []
    with ChatSocket(client, api_key) as socket:
        for n in range(turns):
            extra = {"conversationId": conversation_id} if conversation_id else {}
            accepted, frames = socket.send(f"turn{n} " + words(size, f"t{n}w"), **extra)
            conversation_id = accepted["conversationId"]
            assert frames[-1]["type"] == "message.completed", frames[-1]
            replies.append((accepted, frames))
    return conversation_id, replies


def stored(client, auth, conversation_id):
    return client.get(f"/api/conversations/{conversation_id}/messages", headers=auth).json()


def context_parts(message: dict) -> list[dict]:
    return [p for p in message["parts"] if p["type"] == "context"]


def test_a_long_conversation_drops_its_oldest_turns_and_marks_the_cut(
    client, auth, api_key, scripted, small_model
):
    conversation_id, replies = converse(client, api_key, turns=8)
    chats = [r for r in scripted.recorded() if "title" not in str(r["messages"][-1]).lower()]
    limit = WINDOW - MAX_TOKENS
    for body in chats:
        assert request_tokens(body) <= limit, request_tokens(body)
    last = chats[-1]["messages"]
    assert last[0]["role"] == "system"  # the system prompt is never dropped
    assert last[-1]["content"].startswith("turn7 ")  # nor the question being answered
    assert not any(str(m["content"]).startswith("turn0 ") for m in last)  # the oldest went
    # The first replies needed no cut; the last did, and said so while streaming.
    assert not any(f["type"] == "context.trimmed" for f in replies[0][1])
    (frame,) = [f for f in replies[-1][1] if f["type"] == "context.trimmed"]
    assert frame["part"]["action"] == "dropped" and frame["part"]["messages"] >= 2
    assert frame["part"]["window"] == WINDOW
    # Stored on the reply, naming the first message still sent.
    messages = stored(client, auth, conversation_id)
    (part,) = context_parts(messages[-1])
    assert part == frame["part"]
    kept = next(m for m in messages if m["id"] == part["keptFrom"])
    assert kept["role"] == "user"
    assert kept["content"].split()[0] in " ".join(str(m["content"]) for m in last)
    dropped = [m for m in messages if m["seq"] < kept["seq"]]
    assert len(dropped) == part["messages"]


def test_the_summarise_policy_summarises_once_and_extends_its_summary(
    client, auth, api_key, scripted, small_model
):
    agent_id = small_model["id"]
    client.patch(f"/api/agents/{agent_id}", json={"context_policy": "summarise"}, headers=auth)
    conversation_id, replies = converse(client, api_key, turns=9)
    recorded = scripted.recorded()
    asks = [i for i, r in enumerate(recorded) if r["messages"][0]["content"] == summary.PROMPT]
    assert asks, "no summary was asked for"
    # The request right after a summary carries it after the system prompt.
    after = recorded[asks[0] + 1]["messages"]
    assert after[1]["role"] == "system" and after[1]["content"].startswith(summary.SUMMARY_LEAD)
    assert "Summary of earlier turns" in after[1]["content"]
    # A later summary starts from the earlier one, not the whole history again.
    if len(asks) > 1:
        later = recorded[asks[1]]["messages"][1]["content"]
        assert later.startswith("Summary so far:")
        assert "turn0 " not in later.split("Then:")[1]  # only what was left out since
    # Every summary call was also within the window, and so was every answer.
    for body in recorded:
        assert request_tokens(body) <= WINDOW
    messages = stored(client, auth, conversation_id)
    parts = [p for m in messages for p in context_parts(m)]
    assert parts and parts[-1]["action"] == "summarised" and parts[-1]["summary"]
    assert len(asks) < len([p for p in parts if p["action"] == "summarised"]) + 1
    # A reply whose left-out turns are the same as its predecessor's reuses its summary.
    covers = [p["covers"] for p in parts]
    repeated = sum(1 for a, b in zip(covers, covers[1:], strict=False) if a == b)
    assert len(asks) == len(set(covers)) and len(asks) + repeated == len(parts)


def test_a_failed_summary_falls_back_to_dropping(client, auth, api_key, scripted, small_model):
    agent_id = small_model["id"]
    client.patch(f"/api/agents/{agent_id}", json={"context_policy": "summarise"}, headers=auth)
    conversation_id, _ = converse(client, api_key, turns=3)
    before = len(scripted.recorded())
    # The next turn's summary call is refused (not retried: a 400); the answer is not.
    scripted.provider.turns.extend([{"error": {"status": 400, "message": "no"}}])
    _, replies = converse(client, api_key, turns=5, conversation_id=conversation_id)
    trimmed = [f for _, frames in replies for f in frames if f["type"] == "context.trimmed"]
    assert trimmed and trimmed[0]["part"]["action"] == "dropped"
    assert all(f[-1]["type"] == "message.completed" for _, f in replies)
    assert len(scripted.recorded()) > before


@pytest.mark.settings(auto_title=True)
def test_a_message_too_big_for_the_window_is_shortened_not_failed(
    client, auth, api_key, scripted, small_model
):
    with ChatSocket(client, api_key) as socket:
        huge = "huge " + words(5_000, "x")
        accepted, frames = socket.send(huge)
        # The title, asked after the reply, is not fitted again: no second cut is announced.
        later = socket.until(lambda f: f["type"] == "conversation.titled")
    assert frames[-1]["type"] == "message.completed", frames[-1]
    assert not any(f["type"] == "context.trimmed" for f in later)
    title_request = scripted.recorded()[-1]  # the start of the message, not a fitted copy
    assert title_request["messages"][0]["content"] == huge[:4_000]
    body = scripted.recorded()[0]
    assert request_tokens(body) <= WINDOW - MAX_TOKENS
    sent = body["messages"][-1]["content"]
    assert sent.startswith("huge x0 x1") and "left out here to fit the model's context" in sent
    (frame,) = [f for f in frames if f["type"] == "context.trimmed"]
    assert frame["part"]["truncated"] is True and frame["part"]["messages"] == 0
    reply = stored(client, auth, accepted["conversationId"])[-1]
    assert context_parts(reply)[0]["truncated"] is True


def test_tool_calls_and_results_are_dropped_together():
    def step(i: int) -> list[ChatMessage]:
        call = ToolCall(f"c{i}", "calculator", '{"expression": "1+1"}')
        return [ChatMessage("assistant", None, tool_calls=[call]),
                ChatMessage("tool", words(40, "r"), tool_call_id=f"c{i}")]  # fmt: skip

    messages = [ChatMessage("system", "You are Sage.")]
    for i in range(6):
        messages += [ChatMessage("user", words(30, f"q{i}"), ref=f"u{i}"), *step(i),
                     ChatMessage("assistant", words(20, "a"), ref=f"a{i}")]  # fmt: skip
    messages += [ChatMessage("user", "now?", ref="u6"), *step(6)]
    fitted = trim.fit(messages, budget=400)
    kept = fitted.messages
    assert kept[0].role == "system" and kept[-1].role == "tool" and fitted.dropped
    for i, m in enumerate(kept):
        if m.role == "tool":  # its call is right before it
            assert kept[i - 1].tool_calls and kept[i - 1].tool_calls[0].id == m.tool_call_id
        if m.tool_calls:
            assert kept[i + 1].tool_call_id == m.tool_calls[0].id
    assert kept[1].role == "user" and fitted.kept_from == kept[1].ref  # whole turns only
    assert sum(message_tokens(m) for m in kept) <= 400


def test_the_window_comes_from_the_provider_then_the_table_then_the_setting(client, auth, scripted):
    import asyncio

    import httpx

    from sage_sidecar.providers.openai_compat import OpenAICompatClient

    async def window(kind: str, model: str) -> tuple[int, str]:
        async with httpx.AsyncClient() as http:
            found = await limits.context_window(
                OpenAICompatClient(scripted.base_url, "k", http), kind, model, 5_000
            )
        return found.tokens, found.source

    limits.forget()
    scripted.provider.context_length = 3_000
    assert asyncio.run(window("openai", "scripted-1")) == (3_000, "provider")  # /v1/models
    # Ollama: the model's maximum (/api/show) is no promise; what it runs with (/api/ps) is.
    assert asyncio.run(window("ollama", "llama3.1:8b")) == (3_000, "provider")
    scripted.provider.context_length = 100_000
    assert asyncio.run(window("ollama", "scripted-1")) == (4_096, "provider")  # not loaded yet
    scripted.provider.running_context = 32_768
    assert asyncio.run(window("ollama", "scripted-1")) == (32_768, "provider")  # loaded
    scripted.provider.context_length = 3_000
    assert asyncio.run(window("openai", "gpt-4o-mini")) == (128_000, "table")
    assert asyncio.run(window("openai", "openai/claude-sonnet-4-5")) == (200_000, "table")
    assert asyncio.run(window("openai", "my-own-model")) == (5_000, "setting")
    scripted.provider.context_length = scripted.provider.running_context = None
    limits.forget()
    assert asyncio.run(window("ollama", "llama3.1:8b")) == (4_096, "table")  # Ollama's default
    assert asyncio.run(window("openai", "llama3.1:8b")) == (131_072, "table")
    assert SAFETY_FRACTION < 0.1


def test_a_provider_that_says_the_request_is_too_long_gets_it_again_fitted_into_less(
    client, auth, api_key, scripted
):
    """The model list promised a big window (or the estimate fell short): the provider's own
    "maximum context length" refusal makes Sage fit the request into less and ask again, and the
    next reply starts from the smaller window."""
    limits.forget()
    scripted.provider.context_length = 8_000
    add_scripted_provider(client, auth, scripted)
    conversation_id, _ = converse(client, api_key, turns=6, size=120)
    too_long = "This model's maximum context length is 1024 tokens. (context_length_exceeded)"
    scripted.load([{"error": {"status": 400, "message": too_long}}, {"text": "Fits now."}])
    _, replies = converse(client, api_key, turns=1, conversation_id=conversation_id)
    frames = replies[0][1]
    assert frames[-1]["type"] == "message.completed" and frames[-1]["content"] == "Fits now."
    first, second = scripted.recorded()[:2]
    assert request_tokens(second) < request_tokens(first) <= 8_000
    trimmed = [f for f in frames if f["type"] == "context.trimmed"][-1]
    assert trimmed["part"]["window"] == 4_800 and trimmed["part"]["messages"] > 0
    # The next reply starts from the smaller window: one request, within it.
    _, replies = converse(client, api_key, turns=1, conversation_id=conversation_id)
    (request,) = [r for r in scripted.recorded()[2:]]
    assert request_tokens(request) <= 4_800
    assert stored(client, auth, conversation_id)[-1]["parts"][0]["window"] == 4_800
    # Another refusal is not mistaken for it.
    scripted.load([{"error": {"status": 400, "message": "unknown parameter: foo"}}])
    _, replies = converse_failing(client, api_key, conversation_id)
    assert replies[-1]["reason"] == "bad_request"
    limits.forget()


def converse_failing(client, api_key, conversation_id):
    with ChatSocket(client, api_key) as socket:
        return socket.send("again", conversationId=conversation_id)


def test_the_window_of_an_unknown_model_is_the_users_setting(client, auth, api_key, scripted):
    """scripted-1 is in no table and its model list says nothing: Settings → Chat decides."""
    limits.forget()
    scripted.provider.context_length = None
    add_scripted_provider(client, auth, scripted)
    url = "/api/context/settings"
    assert client.get(url, headers=auth).json() == {"default_context_tokens": 8_192}
    refused = client.put(url, json={"default_context_tokens": 100}, headers=auth)
    assert refused.status_code == 422 and refused.json()["code"] == "request.invalid"
    saved = client.put(url, json={"default_context_tokens": 1_500}, headers=auth)
    assert saved.json() == {"default_context_tokens": 1_500}
    assert client.get(url, headers=auth).json() == {"default_context_tokens": 1_500}
    conversation_id, replies = converse(client, api_key, turns=5)
    parts = [f["part"] for _, frames in replies for f in frames if f["type"] == "context.trimmed"]
    assert parts and {p["window"] for p in parts} == {1_500}
    limits.forget()
