"""The OpenAI-compatible client against the scripted server over real HTTP."""

from collections.abc import Iterator

import httpx
import pytest

from sage_sidecar.demo.scripted import RunningScripted
from sage_sidecar.providers.base import (
    ChatMessage,
    ChatRequest,
    ProviderError,
    TextDelta,
    ToolCalls,
    ToolSpec,
    Usage,
)
from sage_sidecar.providers.openai_compat import OpenAICompatClient


@pytest.fixture(scope="module")
def scripted() -> Iterator[RunningScripted]:
    with RunningScripted() as server:
        yield server


def script(server: RunningScripted, *turns: dict) -> None:
    server.load(list(turns))


async def collect(server: RunningScripted, key: str | None = "k", **request) -> list:
    async with httpx.AsyncClient() as http:
        client = OpenAICompatClient(server.base_url, key, http)
        req = ChatRequest(model="scripted-1", messages=[ChatMessage("user", "hi")], **request)
        return [event async for event in client.stream_chat(req)]


async def collect_until_error(server: RunningScripted) -> tuple[list[str], ProviderError]:
    """The text that arrived before the stream failed, and how it failed."""
    received: list = []
    with pytest.raises(ProviderError) as raised:
        async with httpx.AsyncClient() as http:
            client = OpenAICompatClient(server.base_url, "k", http)
            request = ChatRequest(model="m", messages=[ChatMessage("user", "hi")])
            async for event in client.stream_chat(request):
                received.append(event)
    return [e.text for e in received if isinstance(e, TextDelta)], raised.value


async def test_streams_text_and_usage(scripted):
    script(
        scripted,
        {"chunks": ["Hel", "lo", "!"], "usage": {"prompt_tokens": 3, "completion_tokens": 2}},
    )
    events = await collect(scripted)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel", "lo", "!"]
    assert events[-1] == Usage(3, 2)


async def test_assembles_parallel_tool_calls_and_sends_tools(scripted):
    calls = [
        {"id": "c1", "name": "calculator", "arguments": '{"expression": "1+1"}'},
        {"id": "c2", "name": "current_time", "arguments": "{}"},
    ]
    script(scripted, {"tool_calls": calls})
    spec = ToolSpec("calculator", "math", {"type": "object", "properties": {}})
    events = await collect(scripted, tools=[spec])
    tool_events = [e for e in events if isinstance(e, ToolCalls)]
    assert [(c.id, c.name, c.arguments) for c in tool_events[0].calls] == [
        ("c1", "calculator", '{"expression": "1+1"}'),
        ("c2", "current_time", "{}"),
    ]
    sent = scripted.recorded()[-1]
    assert sent["tools"][0]["function"]["name"] == "calculator"
    assert sent["stream"] is True


@pytest.mark.parametrize(
    ("status", "kind", "retryable"),
    [(401, "auth", False), (403, "auth", False), (404, "bad_url", False),
     (429, "rate_limit", True), (500, "server", True), (503, "server", True)],
)  # fmt: skip
async def test_http_errors_map_to_kinds(scripted, status, kind, retryable):
    script(scripted, {"error": {"status": status, "message": "scripted failure"}})
    with pytest.raises(ProviderError) as raised:
        await collect(scripted)
    assert raised.value.kind == kind
    assert raised.value.retryable is retryable
    assert "scripted failure" in str(raised.value)


async def test_dropped_connection_mid_stream(scripted):
    script(scripted, {"chunks": ["a", "b", "c"], "drop_after_chunks": 2})
    text, error = await collect_until_error(scripted)
    assert error.kind == "dropped"
    assert text == ["a", "b"]


async def test_malformed_chunk(scripted):
    script(scripted, {"chunks": ["a", "b"], "malformed_after_chunks": 1})
    with pytest.raises(ProviderError) as raised:
        await collect(scripted)
    assert raised.value.kind == "bad_response"


async def test_unreachable_provider():
    async with httpx.AsyncClient() as http:
        client = OpenAICompatClient("http://127.0.0.1:9/v1", None, http)
        with pytest.raises(ProviderError) as raised:
            await client.list_models()
    assert raised.value.kind == "unreachable"


async def test_list_models_and_bad_key(scripted):
    async with httpx.AsyncClient() as http:
        assert await OpenAICompatClient(scripted.base_url, "k", http).list_models() == [
            "scripted-1"
        ]
        with pytest.raises(ProviderError) as raised:
            await OpenAICompatClient(scripted.base_url, "bad-key", http).list_models()
    assert raised.value.kind == "auth"


async def test_a_provider_that_stops_sending_times_out(scripted, monkeypatch):
    from sage_sidecar.providers import transport

    monkeypatch.setattr(transport, "READ_TIMEOUT_S", 0.3)
    script(scripted, {"chunks": ["a", "b", "c"], "hang_after_chunks": 1})
    text, error = await collect_until_error(scripted)
    assert error.kind == "timeout" and error.retryable
    assert text == ["a"]


@pytest.mark.parametrize(
    ("headers", "wait"),
    [({"retry-after": "3"}, 3.0), ({"retry-after": "1.5"}, 1.5),
     ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),  # the finer one wins
     ({"retry-after": "Thu, 01 Jan 2026 00:00:20 GMT"}, 15.0),  # `now` is 00:00:05
     ({"retry-after": "Thu, 01 Jan 2026 00:00:00 GMT"}, 0.0),  # a date passed: at once
     ({"retry-after": "soon"}, None), ({"retry-after-ms": "x"}, None), ({}, None)],
)  # fmt: skip
def test_retry_after_reads_seconds_dates_and_milliseconds(headers, wait):
    from datetime import UTC, datetime

    from sage_sidecar.providers.transport import retry_after

    now = datetime(2026, 1, 1, 0, 0, 5, tzinfo=UTC).timestamp()
    assert retry_after(httpx.Headers(headers), now=now) == wait


@pytest.mark.parametrize(("status", "kind"), [(429, "rate_limit"), (503, "server")])
async def test_retry_after_on_429_and_503_travels_with_the_error(scripted, status, kind):
    headers = {"Retry-After": "2"}
    script(scripted, {"error": {"status": status, "message": "slow down", "headers": headers}})
    with pytest.raises(ProviderError) as raised:
        await collect(scripted)
    assert (raised.value.kind, raised.value.retry_after) == (kind, 2.0)
    assert "slow down (retry after 2 s)" in str(raised.value)
    assert raised.value.retry_wait(backoff=0.5) == 2.0


async def test_retry_after_beyond_the_cap_means_do_not_retry(scripted):
    script(scripted, {"error": {"status": 429, "headers": {"retry-after-ms": "120000"}}})
    with pytest.raises(ProviderError) as raised:
        await collect(scripted)
    assert raised.value.retry_after == 120.0 and raised.value.retry_wait(backoff=0.5) is None
    assert "retry after 120 s" in str(raised.value)


async def test_retry_after_is_ignored_on_other_statuses(scripted):
    script(scripted, {"error": {"status": 500, "headers": {"Retry-After": "2"}}})
    with pytest.raises(ProviderError) as raised:
        await collect(scripted)
    assert raised.value.retry_after is None and raised.value.retry_wait(backoff=0.5) == 0.5


@pytest.mark.parametrize(
    ("turn", "text"),
    [({"chunks": ["all", " of it"], "no_finish": True}, ["all", " of it"]),  # [DONE], no reason
     ({"chunks": ["half", " of it"], "end_after_chunks": 1}, ["half"]),  # the body just ends
     ({"chunks": ["x"], "end_after_chunks": 0}, []),
     ({"chunks": ["x"], "drop_after_chunks": 0}, [])],
)  # fmt: skip
async def test_a_stream_without_a_finish_reason_is_dropped(scripted, turn, text):
    script(scripted, turn)
    received, error = await collect_until_error(scripted)
    assert (received, error.kind, error.retryable) == (text, "dropped", True)
