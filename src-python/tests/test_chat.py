"""Streamed chat end to end: WebSocket in, scripted provider over real HTTP, SQLite on disk."""

import pytest
from fastapi.testclient import TestClient

from chat_client import ChatSocket, add_scripted_provider, send_once, text_of

pytestmark = pytest.mark.settings(chat_retry_delays_s=(0.01, 0.01, 0.01))  # fast retry tests


@pytest.fixture
def chat(client: TestClient, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    with ChatSocket(client, api_key) as socket:
        yield socket


def messages(client, auth, conversation_id) -> list[dict]:
    return client.get(f"/api/conversations/{conversation_id}/messages", headers=auth).json()


def test_reply_streams_and_is_saved(chat: ChatSocket, client, auth, scripted):
    scripted.load(
        [
            {
                "chunks": ["Hello", ", ", "world"],
                "usage": {"prompt_tokens": 7, "completion_tokens": 3},
            }
        ]
    )
    accepted, frames = chat.send("Say hello to the world please")
    types = [f["type"] for f in frames]
    assert types[0] == "message.started"
    assert types.count("message.delta") == 3
    assert types[-2:] == ["usage", "message.completed"]
    assert text_of(frames) == "Hello, world"
    assert frames[-1]["usage"] == {"promptTokens": 7, "completionTokens": 3}
    saved = messages(client, auth, accepted["conversationId"])
    assert [(m["role"], m["content"], m["status"]) for m in saved] == [
        ("user", "Say hello to the world please", "completed"),
        ("assistant", "Hello, world", "completed"),
    ]
    assert saved[1]["model"] == "scripted-1" and saved[1]["first_token_at"]
    conversation = client.get(
        f"/api/conversations/{accepted['conversationId']}", headers=auth
    ).json()
    assert conversation["title"] == "Say hello to the world please"
    sent = scripted.recorded()[-1]
    assert sent["messages"][0]["role"] == "system"  # the default agent's prompt
    assert sent["messages"][-1] == {"role": "user", "content": "Say hello to the world please"}


def test_history_is_sent_on_the_next_turn(chat: ChatSocket, scripted):
    scripted.load([{"text": "first answer"}, {"text": "second answer"}])
    accepted, _ = chat.send("one")
    chat.send("two", conversationId=accepted["conversationId"])
    contents = [(m["role"], m["content"]) for m in scripted.recorded()[-1]["messages"][1:]]
    assert contents == [("user", "one"), ("assistant", "first answer"), ("user", "two")]


def test_parallel_tool_calls_run_and_feed_back(chat: ChatSocket, client, auth, scripted):
    scripted.load([
        {"tool_calls": [
            {"id": "c1", "name": "calculator", "arguments": '{"expression": "6*7"}'},
            {"id": "c2", "name": "current_time", "arguments": "{}"},
        ]},
        {"text": "The answer is 42."},
    ])  # fmt: skip
    accepted, frames = chat.send("what is 6*7 and the time?")
    calls = [f for f in frames if f["type"] == "tool.call"]
    results = {f["callId"]: f for f in frames if f["type"] == "tool.result"}
    assert [c["name"] for c in calls] == ["calculator", "current_time"]
    assert results["c1"]["content"] == "42" and not results["c1"]["isError"]
    assert frames[-1]["type"] == "message.completed"
    followup = scripted.recorded()[-1]["messages"]
    tool_messages = [m for m in followup if m["role"] == "tool"]
    assert {m["tool_call_id"]: m["content"] for m in tool_messages}["c1"] == "42"
    saved = messages(client, auth, accepted["conversationId"])[-1]
    assert [p["type"] for p in saved["parts"]][:2] == ["tool_call", "tool_call"]
    assert saved["content"] == "The answer is 42."


def test_tool_errors_go_back_to_the_model(chat: ChatSocket, scripted):
    scripted.load([
        {"tool_calls": [{"id": "c1", "name": "calculator", "arguments": '{"expression": "__import__(\'os\')"}'},
                        {"id": "c2", "name": "no_such_tool", "arguments": "{}"},
                        {"id": "c3", "name": "calculator", "arguments": "not json"}]},
        {"text": "Sorry."},
    ])  # fmt: skip
    _, frames = chat.send("break things")
    results = {f["callId"]: f for f in frames if f["type"] == "tool.result"}
    assert all(r["isError"] for r in results.values())
    assert "unsupported element" in results["c1"]["content"]
    assert "unknown tool" in results["c2"]["content"]
    assert "not valid JSON" in results["c3"]["content"]
    assert frames[-1]["type"] == "message.completed"


@pytest.mark.settings(chat_max_tool_steps=2)
def test_step_limit_stops_the_loop(chat: ChatSocket, client, scripted):
    call = {"tool_calls": [{"id": "c", "name": "current_time", "arguments": "{}"}]}
    scripted.load([call, call, call])
    _, frames = chat.send("loop forever")
    assert frames[-1]["type"] == "message.failed"
    assert "Stopped after 2 tool steps" in frames[-1]["error"]


@pytest.mark.parametrize("status", [429, 500])
def test_retryable_errors_before_the_first_token_are_retried(chat: ChatSocket, scripted, status):
    scripted.load(
        [{"error": {"status": status}}, {"error": {"status": status}}, {"text": "made it"}]
    )
    _, frames = chat.send("hi")
    assert frames[-1]["type"] == "message.completed"
    assert text_of(frames) == "made it"
    assert len(scripted.recorded()) == 3
    code = "rate_limited" if status == 429 else "provider_retry"
    assert [f["code"] for f in frames if f["type"] == "notice"] == [code, code]


def notices(frames: list[dict]) -> list[dict]:
    return [f for f in frames if f["type"] == "notice"]


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [(429, {"Retry-After": "1"}, 1.0), (429, {"retry-after-ms": "600"}, 0.6),
     (503, {"Retry-After": "<in 2 s>"}, 1.0)],  # an HTTP date, whole seconds: 1 to 2 s away
)  # fmt: skip
def test_retry_after_is_honoured_and_shown(chat: ChatSocket, client, auth, scripted, status,
                                           headers, wait):  # fmt: skip
    """The settings retry after 0.01 s; the server's Retry-After says otherwise, and wins."""
    from email.utils import formatdate

    if headers.get("Retry-After") == "<in 2 s>":
        import time

        headers = {"Retry-After": formatdate(time.time() + 2, usegmt=True)}
    scripted.load([{"error": {"status": status, "headers": headers}}, {"text": "made it"}])
    accepted, frames = chat.send("hi")
    assert frames[-1]["type"] == "message.completed" and text_of(frames) == "made it"
    assert len(scripted.gaps()) == 1 and scripted.gaps()[0] >= wait - 0.05
    notice = notices(frames)[0]
    if status == 429:
        assert (notice["code"], notice["params"]) == ("rate_limited", {"seconds": "1"})
        assert notice["text"] == "Rate limited by the provider; retrying in 1 s."
    else:
        assert notice["code"] == "provider_retry" and notice["params"]["seconds"] in ("1", "2")
    saved = messages(client, auth, accepted["conversationId"])[-1]
    assert [p["code"] for p in saved["parts"] if p["type"] == "notice"] == [notice["code"]]


def test_a_retry_after_beyond_the_cap_fails_at_once(chat: ChatSocket, scripted):
    scripted.load([{"error": {"status": 429, "message": "quota", "headers": {"Retry-After": "120"}}},
                   {"text": "should not be used"}])  # fmt: skip
    _, frames = chat.send("hi")
    failed = frames[-1]
    assert failed["type"] == "message.failed" and failed["reason"] == "rate_limit"
    assert "quota (retry after 120 s)" in failed["error"]
    assert len(scripted.recorded()) == 1 and not notices(frames)


@pytest.mark.parametrize(
    "broken",
    [{"chunks": ["never seen"], "drop_after_chunks": 0},  # connection reset before any text
     {"chunks": ["never seen"], "end_after_chunks": 0},  # the body ends before any text
     {"tool_calls": [{"id": "c", "name": "current_time", "arguments": "{}"}], "no_finish": True}],
)  # fmt: skip
def test_a_stream_that_breaks_before_any_text_is_retried(chat: ChatSocket, scripted, broken):
    scripted.load([broken, {"text": "made it"}])
    _, frames = chat.send("hi")
    assert frames[-1]["type"] == "message.completed" and text_of(frames) == "made it"
    assert len(scripted.recorded()) == 2
    assert not [f for f in frames if f["type"] == "tool.call"]  # the cut-off turn's call never ran
    assert [n["code"] for n in notices(frames)] == ["provider_retry"]
    assert "dropped" in notices(frames)[0]["params"]["error"]


@pytest.mark.parametrize(
    ("turn", "reason", "message"),
    [
        ({"error": {"status": 401, "message": "bad key"}}, "auth", "refused the API key"),
        (
            {"error": {"status": 400, "message": "context too long"}},
            "bad_request",
            "context too long",
        ),
        ({"chunks": ["par", "tial", "!"], "drop_after_chunks": 2}, "dropped", "dropped mid-answer"),
        ({"chunks": ["par", "tial"], "no_finish": True}, "dropped", "without a finish reason"),
        (
            {"chunks": ["par", "tial", "!"], "malformed_after_chunks": 2},
            "bad_response",
            "cannot read",
        ),
    ],
)
def test_failures_end_the_message_and_keep_the_text(
    chat: ChatSocket, client, auth, scripted, turn, reason, message
):
    scripted.load([turn])
    accepted, frames = chat.send("hi")
    failed = frames[-1]
    assert failed["type"] == "message.failed" and failed["reason"] == reason
    assert message in failed["error"]
    expected_text = "partial" if "chunks" in turn else ""
    assert failed["content"] == expected_text
    saved = messages(client, auth, accepted["conversationId"])[-1]
    assert (saved["status"], saved["content"]) == ("failed", expected_text)
    assert message in saved["error"]
    assert len(scripted.recorded()) == 1  # never retried: not retryable, or text already shown


def test_no_retry_after_the_first_token(chat: ChatSocket, scripted):
    scripted.load([{"chunks": ["a", "b"], "drop_after_chunks": 1}, {"text": "should not be used"}])
    _, frames = chat.send("hi")
    assert frames[-1]["type"] == "message.failed"
    assert len(scripted.recorded()) == 1


def test_cancel_keeps_partial_text_as_interrupted(chat: ChatSocket, client, auth, scripted):
    scripted.load([{"chunks": ["one ", "two ", "three"], "hang_after_chunks": 2}])
    accepted = chat.request({"type": "chat.send", "content": "count"})
    chat.until(lambda f: f["type"] == "message.delta" and f["delta"] == "two ")
    chat.ws.send_json({"type": "chat.cancel", "messageId": accepted["messageId"]})
    failed = chat.finish(accepted["messageId"])[-1]
    assert (failed["status"], failed["reason"], failed["content"]) == (
        "interrupted",
        "cancelled",
        "one two ",
    )
    saved = messages(client, auth, accepted["conversationId"])[-1]
    assert (saved["status"], saved["content"]) == ("interrupted", "one two ")


def test_regenerate_replaces_the_reply(chat: ChatSocket, client, auth, scripted):
    scripted.load([{"text": "first try"}, {"text": "second try"}])
    accepted, _ = chat.send("hi")
    again = chat.request({"type": "chat.regenerate", "messageId": accepted["messageId"]})
    assert again["type"] == "chat.accepted" and again["messageId"] != accepted["messageId"]
    chat.finish(again["messageId"])
    saved = messages(client, auth, accepted["conversationId"])
    assert [(m["role"], m["content"]) for m in saved] == [
        ("user", "hi"),
        ("assistant", "second try"),
    ]


def test_edit_and_resend_replaces_what_followed(chat: ChatSocket, client, auth, scripted):
    scripted.load([{"text": "a1"}, {"text": "a2"}, {"text": "a1 again"}])
    first, _ = chat.send("q1")
    chat.send("q2", conversationId=first["conversationId"])
    edited = chat.request(
        {"type": "chat.edit", "messageId": first["userMessageId"], "content": "q1 edited"}
    )
    chat.finish(edited["messageId"])
    saved = messages(client, auth, first["conversationId"])
    assert [(m["role"], m["content"]) for m in saved] == [
        ("user", "q1 edited"),
        ("assistant", "a1 again"),
    ]
    assert scripted.recorded()[-1]["messages"][-1] == {"role": "user", "content": "q1 edited"}


def test_concurrent_streams_on_one_connection(chat: ChatSocket, scripted):
    scripted.load(
        [{"chunks": list("abcdef"), "delay_ms": 5}, {"chunks": list("uvwxyz"), "delay_ms": 5}]
    )
    first = chat.request({"type": "chat.send", "content": "one"})
    second = chat.request({"type": "chat.send", "content": "two"})
    ids = {first["messageId"], second["messageId"]}
    done: set[str] = set()

    def both_completed(frame: dict) -> bool:
        if frame["type"] == "message.completed":
            done.add(frame["messageId"])
        return done == ids

    frames = chat.until(both_completed)
    texts = {
        i: "".join(
            f["delta"] for f in frames if f.get("messageId") == i and f["type"] == "message.delta"
        )
        for i in ids
    }
    assert sorted(texts.values()) == ["abcdef", "uvwxyz"]


def test_bad_frames_get_readable_errors(chat: ChatSocket):
    assert chat.request({"type": "chat.send", "content": "   "})["error"] == "the message is empty"
    assert "unknown frame type" in chat.request({"type": "nope"})["error"]
    assert "messageId" in chat.request({"type": "chat.regenerate"})["error"]
    assert "not found" in chat.request({"type": "chat.regenerate", "messageId": "x"})["error"]
    chat.ws.send_text("not json")
    assert chat.until(lambda f: f["type"] == "error")[-1]["error"] == "frames must be JSON objects"


def test_without_a_provider_the_reply_explains_what_to_do(client, api_key):
    _, frames = send_once(client, api_key, "hello?")
    assert frames[-1]["type"] == "message.failed"
    assert "No model provider is set up yet" in frames[-1]["error"]


def test_a_conversation_can_pick_its_model(chat: ChatSocket, client, auth, scripted):
    scripted.load([{"text": "one"}, {"text": "two"}, {"text": "three"}])
    first, _ = chat.send("hello")
    conversation = first["conversationId"]
    assert scripted.recorded()[-1]["model"] == "scripted-1"  # the provider's default

    picked = client.patch(
        f"/api/conversations/{conversation}", headers=auth, json={"model": "bigger-2"}
    )
    assert picked.status_code == 200 and picked.json()["model"] == "bigger-2"
    chat.send("again", conversationId=conversation)
    assert scripted.recorded()[-1]["model"] == "bigger-2"
    assert client.get(f"/api/conversations/{conversation}", headers=auth).json()["title"] == "hello"

    client.patch(f"/api/conversations/{conversation}", headers=auth, json={"model": None})
    chat.send("and back", conversationId=conversation)
    assert scripted.recorded()[-1]["model"] == "scripted-1"


def test_a_conversation_title_cannot_be_emptied(client, auth, chat: ChatSocket, scripted):
    scripted.load([{"text": "ok"}])
    first, _ = chat.send("hello")
    response = client.patch(
        f"/api/conversations/{first['conversationId']}", headers=auth, json={"title": None}
    )
    assert response.status_code == 422
