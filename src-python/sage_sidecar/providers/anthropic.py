"""Anthropic Messages API, streamed (SSE), over httpx. Same interface as the OpenAI-compatible
client: `stream_chat` yields TextDelta / ToolCalls / Usage / Finish, errors are ProviderError."""

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx_sse import EventSource

from sage_sidecar.providers.base import (
    ChatMessage,
    ChatRequest,
    Finish,
    ProviderError,
    ReasoningDelta,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCalls,
    Usage,
)
from sage_sidecar.providers.params import THINKING_BUDGET, anthropic_thinking
from sage_sidecar.providers.transport import HttpProviderClient

API_VERSION = "2023-06-01"
# The Messages API requires max_tokens; this is used when the agent sets none.
DEFAULT_MAX_TOKENS = 4096


def _content(message: ChatMessage) -> list[dict[str, Any]]:
    # Thinking blocks come back first and unchanged, or a tool loop with thinking is refused.
    blocks: list[dict[str, Any]] = [dict(b) for b in message.echo]
    for url in message.images:  # images first: Anthropic's advice for image questions
        media_type, _, data = url.removeprefix("data:").partition(";base64,")
        blocks.append({"type": "image",
                       "source": {"type": "base64", "media_type": media_type, "data": data}})  # fmt: skip
    if message.content:
        blocks.append({"type": "text", "text": message.content})
    for call in message.tool_calls:
        try:
            arguments = json.loads(call.arguments or "{}")
        except ValueError:
            arguments = {}
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": arguments})
    return blocks


def request_json(request: ChatRequest) -> dict[str, Any]:
    system = "\n\n".join(m.content or "" for m in request.messages if m.role == "system")
    messages: list[dict[str, Any]] = []
    for message in request.messages:
        if message.role == "system":
            continue
        if message.role == "tool":
            block = {
                "type": "tool_result",
                "tool_use_id": message.tool_call_id,
                "content": message.content or "",
            }
            # Consecutive tool results belong to one user turn.
            if messages and messages[-1]["role"] == "user" and messages[-1].get("_tool_results"):
                messages[-1]["content"].append(block)
            else:
                messages.append({"role": "user", "content": [block], "_tool_results": True})
            continue
        messages.append({"role": message.role, "content": _content(message)})
    for entry in messages:
        entry.pop("_tool_results", None)
    body: dict[str, Any] = {
        "model": request.model,
        "max_tokens": request.max_tokens or DEFAULT_MAX_TOKENS,
        "messages": messages,
        "stream": True,
    }
    if system:
        body["system"] = system
    body.update(sampling_json(request))
    if request.tools:
        body["tools"] = [
            {"name": t.name, "description": t.description, "input_schema": t.parameters}
            for t in request.tools
        ]
    return body


def sampling_json(request: ChatRequest) -> dict[str, Any]:
    """Temperature, top_p, stop sequences and the thinking budget (no seed: the API has none).
    With thinking on, the temperature and top_p are left out (the API refuses changed ones) and
    max_tokens grows to leave the answer room beyond the budget."""
    body: dict[str, Any] = {}
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    effort = request.reasoning_effort
    if effort in THINKING_BUDGET and anthropic_thinking(request.model):
        budget = THINKING_BUDGET[effort]
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
        body["max_tokens"] = max(request.max_tokens or DEFAULT_MAX_TOKENS, budget + 1024)
        return body
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    return body


class AnthropicClient(HttpProviderClient):
    models_path = "/v1/models"
    chat_path = "/v1/messages"

    def _headers(self) -> dict[str, str]:
        headers = {"anthropic-version": API_VERSION}
        if self._api_key:
            headers["x-api-key"] = self._api_key
        return headers

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        return request_json(request)

    def _parse(self, response: httpx.Response) -> AsyncIterator[StreamEvent]:
        return _parse_stream(response)


async def _parse_stream(response: httpx.Response) -> AsyncIterator[StreamEvent]:
    calls: dict[int, dict[str, str]] = {}
    thinking: list[dict[str, Any]] = []  # thinking blocks, whole, to send back with tool calls
    open_thinking: dict[int, dict[str, Any]] = {}
    input_tokens = 0
    finished = False
    async for sse in EventSource(response).aiter_sse():
        try:
            data = json.loads(sse.data) if sse.data else {}
        except ValueError as error:
            raise ProviderError("bad_response", "malformed stream event") from error
        kind = data.get("type", sse.event)
        if kind == "error":
            detail = (data.get("error") or {}).get("message", "")
            error_kind = (data.get("error") or {}).get("type", "")
            raise ProviderError(
                "rate_limit" if error_kind == "overloaded_error" else "server", detail
            )
        if kind == "message_start":
            input_tokens = int(
                ((data.get("message") or {}).get("usage") or {}).get("input_tokens") or 0
            )
        elif kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") in ("thinking", "redacted_thinking"):
                kept = {
                    k: v for k, v in block.items() if k in ("type", "thinking", "signature", "data")
                }
                thinking.append(kept)
                open_thinking[int(data.get("index", 0))] = kept
            elif block.get("type") == "tool_use":
                calls[int(data.get("index", 0))] = {
                    "id": block.get("id", ""),
                    "name": block.get("name", ""),
                    "arguments": "",
                }
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                yield TextDelta(delta["text"])
            elif delta.get("type") == "thinking_delta" and delta.get("thinking"):
                block = open_thinking.get(int(data.get("index", 0)))
                if block is not None:
                    block["thinking"] = str(block.get("thinking") or "") + delta["thinking"]
                yield ReasoningDelta(delta["thinking"])
            elif delta.get("type") == "signature_delta":
                block = open_thinking.get(int(data.get("index", 0)))
                if block is not None:
                    block["signature"] = str(block.get("signature") or "") + str(
                        delta.get("signature") or ""
                    )
            elif delta.get("type") == "input_json_delta":
                calls.setdefault(int(data.get("index", 0)), {"id": "", "name": "", "arguments": ""})
                calls[int(data.get("index", 0))]["arguments"] += delta.get("partial_json", "")
        elif kind == "content_block_stop":
            open_thinking.pop(int(data.get("index", 0)), None)
        elif kind == "message_delta":
            output_tokens = int((data.get("usage") or {}).get("output_tokens") or 0)
            yield Usage(input_tokens, output_tokens)
            # The stop reason, not message_stop, says the answer is whole.
            stop_reason = (data.get("delta") or {}).get("stop_reason")
            if stop_reason:
                finished = True
                yield Finish(str(stop_reason))
        elif kind == "message_stop":
            break
    if not finished:
        raise ProviderError("dropped", "the stream ended without a stop reason")
    if calls:
        yield ToolCalls([
            ToolCall(c["id"] or f"call_{i}", c["name"], c["arguments"] or "{}") for i, c in sorted(calls.items())
        ], echo=thinking)  # fmt: skip
