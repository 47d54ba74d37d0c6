"""OpenAI-compatible chat completions over httpx + SSE: OpenAI, DeepSeek, OpenRouter, vLLM, and
the local servers (Ollama and LM Studio serve the same API under /v1)."""

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
    ToolCall,
    ToolCalls,
    Usage,
)
from sage_sidecar.providers.params import openai_effort, openai_reasoning
from sage_sidecar.providers.think_tags import ThinkSplitter
from sage_sidecar.providers.transport import HttpProviderClient, error_detail


def _message_json(message: ChatMessage) -> dict[str, Any]:
    body: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.images:  # Ollama's /v1 and LM Studio read image_url parts the same way
        text = [{"type": "text", "text": message.content}] if message.content else []
        images = [{"type": "image_url", "image_url": {"url": url}} for url in message.images]
        body["content"] = text + images  # an image alone: no empty text part (some APIs refuse)
    if message.tool_calls:
        body["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        body["tool_call_id"] = message.tool_call_id
    return body


def request_json(request: ChatRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": request.model,
        "messages": [_message_json(m) for m in request.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    if request.tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                },
            }
            for t in request.tools
        ]
    body.update(sampling_json(request))
    return body


def sampling_json(request: ChatRequest) -> dict[str, Any]:
    """The model parameters, as far as the model takes them (providers/params.py)."""
    body: dict[str, Any] = {}
    reasoning = openai_reasoning(request.model)
    if not reasoning:  # OpenAI's reasoning models refuse a sampling temperature or top_p
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
    if request.max_tokens is not None:
        body["max_completion_tokens" if reasoning else "max_tokens"] = request.max_tokens
    if request.stop:
        body["stop"] = list(request.stop)
    if request.seed is not None:
        body["seed"] = request.seed
    if request.reasoning_effort and reasoning:
        body["reasoning_effort"] = openai_effort(request.model, request.reasoning_effort)
    return body


class OpenAICompatClient(HttpProviderClient):
    models_path = "/models"
    chat_path = "/chat/completions"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _body(self, request: ChatRequest) -> dict[str, Any]:
        return request_json(request)

    def _parse(self, response: httpx.Response) -> AsyncIterator[StreamEvent]:
        return _parse_stream(response)


async def _parse_stream(response: httpx.Response) -> AsyncIterator[StreamEvent]:
    """Turn SSE chunks into events. Tool-call fragments are assembled and emitted once, at the end
    of the turn. Only a finish reason says the answer is whole: a stream that ends without one
    (even with `[DONE]`) was cut off, and is `dropped`. Thinking comes as `reasoning_content`
    (DeepSeek, vLLM), `reasoning` (OpenRouter, Ollama) or `<think>` text (local models)."""
    partial: dict[int, dict[str, str]] = {}
    think = ThinkSplitter()
    finished = False
    async for sse in EventSource(response).aiter_sse():
        if sse.data == "[DONE]":
            break
        try:
            chunk = json.loads(sse.data)
        except ValueError as error:
            raise ProviderError("bad_response", "malformed stream chunk") from error
        if not isinstance(chunk, dict):
            raise ProviderError("bad_response", "malformed stream chunk")
        if chunk.get("error"):
            raise ProviderError("server", error_detail(json.dumps(chunk)))
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            yield Usage(
                int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
            )
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if isinstance(reasoning, str) and reasoning:
                yield ReasoningDelta(reasoning)
            if delta.get("content"):
                for piece in think.feed(str(delta["content"])):
                    yield piece
            for fragment in delta.get("tool_calls") or []:
                slot = partial.setdefault(
                    int(fragment.get("index", 0)), {"id": "", "name": "", "arguments": ""}
                )
                function = fragment.get("function") or {}
                slot["id"] = fragment.get("id") or slot["id"]
                slot["name"] += function.get("name") or ""
                slot["arguments"] += function.get("arguments") or ""
            if choice.get("finish_reason"):
                for piece in think.flush():
                    yield piece
                finished = True
                yield Finish(str(choice["finish_reason"]))
    if not finished:
        raise ProviderError("dropped", "the stream ended without a finish reason")
    if partial:
        yield ToolCalls(
            [
                ToolCall(s["id"] or f"call_{i}", s["name"], s["arguments"])
                for i, s in sorted(partial.items())
            ]
        )
