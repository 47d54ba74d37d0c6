"""A scripted OpenAI-compatible server on loopback, for tests, benchmarks and the demo.

It replays turns: text chunks with delays, tool calls, usage, and failures (HTTP errors with
their headers such as Retry-After, a dropped connection, a stream that ends early or without a
finish reason, a malformed chunk, a hang). Tests load a script with `POST /__script` and read what
the sidecar sent with `GET /__requests`; nothing in the sidecar is mocked.

It also embeds, OpenAI-style (`POST /v1/embeddings`) and Ollama-style (`POST /api/embed`), with
deterministic hashed bag-of-words vectors: texts sharing words are close, so retrieval through a
provider embedder is testable. `RunningScripted.load_embeddings` queues answers that differ
(an HTTP error, another size, a missing row), one per request.

With no script queued it acts as the demo model: it calls the `current_time` tool when asked about
the time (and the tool is offered), reports a tool result it receives, and otherwise streams back
an answer built from the user's words.

Run it: `python -m sage_sidecar.demo.scripted [--port N]` (prints `SCRIPTED_READY <port>`).
"""

import argparse
import asyncio
import hashlib
import json
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

MODEL = "scripted-1"
EMBED_DIM = 64


def hashed_embedding(text: str, dim: int = EMBED_DIM) -> list[float]:
    """Each lower-cased word adds ±1 to the dimension its hash picks; then L2-normalised."""
    vector = [0.0] * dim
    for word in re.findall(r"\w+", text.lower()):
        digest = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
        vector[digest % dim] += 1.0 if (digest >> 32) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0:  # no words: a fixed unit vector, as a real model never returns zeros
        return [1.0] + [0.0] * (dim - 1)
    return [v / norm for v in vector]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


def demo_turn(body: dict[str, Any]) -> dict[str, Any]:
    messages = body.get("messages") or []
    last = messages[-1] if messages else {}
    if last.get("role") == "system" and "title" in str(last.get("content")).lower():
        # Sage asking for a conversation title: the first words of the user's message.
        user: dict[str, Any] = next((m for m in messages if m.get("role") == "user"), {})
        return {"text": " ".join(str(user.get("content") or "Demo chat").split()[:5])}
    first = messages[0] if messages else {}
    if (
        first.get("role") == "system"
        and "summarise the earlier part" in str(first.get("content")).lower()
    ):
        # Sage condensing turns left out of the context window: short, and says what it saw.
        said = " ".join(str(last.get("content") or "").split()[:12])
        return {"text": f"Summary of earlier turns: {said}"}
    tool_names = {t["function"]["name"] for t in body.get("tools") or []}
    if last.get("role") == "tool":
        return {"text": f"The tool answered: {last.get('content')}. That is all I needed."}
    text = str(last.get("content") or "")
    if "time" in text.lower() and "current_time" in tool_names:
        return {"tool_calls": [{"id": "call_demo_1", "name": "current_time", "arguments": "{}"}]}
    return {"text": f"Hello from the scripted demo model. You said: {text}"}


def _openai_shaped(body: dict[str, Any]) -> dict[str, Any]:
    """Enough of an Anthropic request in OpenAI shape for `demo_turn`."""
    messages = []
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):
            results = [b for b in content if b.get("type") == "tool_result"]
            if results:
                messages.append({"role": "tool", "content": results[-1].get("content")})
                continue
            content = " ".join(b.get("text", "") for b in content if b.get("type") == "text")
        messages.append({"role": message.get("role"), "content": content})
    tools = [{"function": {"name": t["name"]}} for t in body.get("tools") or []]
    return {"messages": messages, "tools": tools}


def _words(text: str) -> list[str]:
    words = text.split(" ")
    return [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]


class ScriptedProvider:
    """A turn is a dict: `text` or `chunks`, `tool_calls` [{id, name, arguments}], `usage`,
    `delay_ms` (before each chunk); or `error` {status, message, headers}. Failures mid-stream,
    each at a chunk index: `drop_after_chunks` (connection reset), `end_after_chunks` (the body
    ends cleanly), `malformed_after_chunks`, `hang_after_chunks`; `no_finish` sends the whole
    answer but no finish / stop reason. `reasoning` (chunks) is thinking sent before the text, as
    `reasoning_content` deltas (or the delta field `reasoning_field` names, e.g. `reasoning`) and
    as an Anthropic thinking block; `<think>` tags are just text chunks."""

    def __init__(self) -> None:
        self.turns: deque[dict[str, Any]] = deque()
        self.embed_turns: deque[dict[str, Any]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.request_times: list[float] = []  # time.monotonic() of each chat request
        # The context window the model list and /api/show declare (`POST /__context`); None:
        # they say nothing, as OpenAI's list does.
        self.context_length: int | None = None
        # The window Ollama's /api/ps says a loaded model runs with; None: not loaded.
        self.running_context: int | None = None
        self.app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.chat, methods=["POST"]),
                Route("/v1/messages", self.messages, methods=["POST"]),
                Route("/v1/models", self.models, methods=["GET"]),
                Route("/v1/embeddings", self.embeddings, methods=["POST"]),
                Route("/api/embed", self.ollama_embed, methods=["POST"]),
                Route("/api/show", self.ollama_show, methods=["POST"]),
                Route("/api/ps", self.ollama_ps, methods=["GET"]),
                Route("/__script", self.load_script, methods=["POST"]),
                Route("/__requests", self.recorded, methods=["GET"]),
                Route("/__context", self.set_context, methods=["POST"]),
            ]
        )

    async def models(self, request: Request) -> Response:
        if request.headers.get("authorization") == "Bearer bad-key":
            return JSONResponse({"error": {"message": "Invalid API key"}}, status_code=401)
        entry: dict[str, Any] = {"id": MODEL, "object": "model"}
        if self.context_length is not None:
            entry["context_length"] = self.context_length
        return JSONResponse({"object": "list", "data": [entry]})

    async def set_context(self, request: Request) -> Response:
        self.context_length = (await request.json()).get("tokens")
        return JSONResponse({"contextLength": self.context_length})

    async def load_script(self, request: Request) -> Response:
        self.turns = deque(await request.json())
        self.requests.clear()
        self.request_times.clear()
        return JSONResponse({"queued": len(self.turns)})

    async def recorded(self, _request: Request) -> Response:
        return JSONResponse(self.requests)

    async def _embed(self, request: Request) -> tuple[list[list[float]] | None, Response | None]:
        body = await request.json()
        self.requests.append(body)
        if request.headers.get("authorization") == "Bearer bad-key":
            return None, JSONResponse({"error": {"message": "Invalid API key"}}, status_code=401)
        turn = self.embed_turns.popleft() if self.embed_turns else {}
        if "error" in turn:
            error = turn["error"]
            message = {"error": {"message": error.get("message", "scripted error")}}
            return None, JSONResponse(message, status_code=int(error["status"]))
        texts = body.get("input")
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        rows = [hashed_embedding(str(t), int(turn.get("dim", EMBED_DIM))) for t in texts]
        return rows[: len(rows) - int(turn.get("missing_rows", 0))], None

    async def embeddings(self, request: Request) -> Response:
        rows, failure = await self._embed(request)
        if failure is not None or rows is None:
            return failure or Response(status_code=500)
        data = [{"object": "embedding", "index": i, "embedding": row} for i, row in enumerate(rows)]
        data.reverse()  # the index, not the order, says which input a row is for
        return JSONResponse({"object": "list", "data": data, "model": MODEL})

    async def ollama_show(self, request: Request) -> Response:
        """Ollama's model details, as far as Sage reads them: a model named `…-text` does not see
        images, any other does."""
        model = str((await request.json()).get("model", ""))
        capabilities = ["completion"] + ([] if model.endswith("-text") else ["vision"])
        info = {} if self.context_length is None else {"llama.context_length": self.context_length}
        return JSONResponse({"model_info": info, "capabilities": capabilities})

    async def ollama_ps(self, _request: Request) -> Response:
        """Ollama's loaded models, with the context window each runs with."""
        if self.running_context is None:
            return JSONResponse({"models": []})
        entry = {"name": MODEL, "model": MODEL, "context_length": self.running_context}
        return JSONResponse({"models": [entry]})

    async def ollama_embed(self, request: Request) -> Response:
        rows, failure = await self._embed(request)
        return failure or JSONResponse({"model": MODEL, "embeddings": rows})

    async def chat(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        self.request_times.append(time.monotonic())
        if request.headers.get("authorization") == "Bearer bad-key":
            return JSONResponse({"error": {"message": "Invalid API key"}}, status_code=401)
        turn = self.turns.popleft() if self.turns else demo_turn(body)
        if "error" in turn:
            error = turn["error"]
            return JSONResponse(
                {"error": {"message": error.get("message", "scripted error")}},
                status_code=int(error["status"]),
                headers=error.get("headers"),  # e.g. {"Retry-After": "1"}
            )
        return StreamingResponse(self._stream(turn), media_type="text/event-stream")

    async def messages(self, request: Request) -> Response:
        """The same scripted turns, in the Anthropic Messages API's streaming format."""
        body = await request.json()
        self.requests.append(body)
        self.request_times.append(time.monotonic())
        if request.headers.get("x-api-key") == "bad-key":
            return JSONResponse({"type": "error", "error": {"type": "authentication_error",
                                 "message": "invalid x-api-key"}}, status_code=401)  # fmt: skip
        turn = self.turns.popleft() if self.turns else demo_turn(_openai_shaped(body))
        if "error" in turn:
            error = turn["error"]
            return JSONResponse({"type": "error", "error": {"type": "api_error",
                                 "message": error.get("message", "scripted error")}},
                                status_code=int(error["status"]), headers=error.get("headers"))  # fmt: skip
        return StreamingResponse(self._stream_anthropic(turn), media_type="text/event-stream")

    async def _stream_anthropic(self, turn: dict[str, Any]) -> AsyncIterator[str]:
        def event(kind: str, data: dict[str, Any]) -> str:
            return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

        delay = float(turn.get("delay_ms", 0)) / 1000
        chunks = turn.get("chunks") or (_words(turn["text"]) if "text" in turn else [])
        usage = turn.get("usage") or {"prompt_tokens": 10, "completion_tokens": max(1, len(chunks))}
        yield event("message_start", {"message": {"id": "msg_scripted", "role": "assistant",
                    "model": MODEL, "usage": {"input_tokens": usage["prompt_tokens"], "output_tokens": 0}}})  # fmt: skip
        if turn.get("reasoning"):  # a thinking block before the text (same index: unread)
            yield event("content_block_start", {"index": 0, "content_block": {
                "type": "thinking", "thinking": ""}})  # fmt: skip
            for piece in turn["reasoning"]:
                yield event("content_block_delta", {"index": 0, "delta": {
                    "type": "thinking_delta", "thinking": piece}})  # fmt: skip
            yield event("content_block_delta", {"index": 0, "delta": {
                "type": "signature_delta", "signature": "sig-scripted"}})  # fmt: skip
            yield event("content_block_stop", {"index": 0})
        yield event(
            "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
        )
        for index, text in enumerate(chunks):
            if index == turn.get("drop_after_chunks"):
                raise ConnectionResetError("scripted drop")
            if index == turn.get("malformed_after_chunks"):
                yield "event: content_block_delta\ndata: {not json\n\n"
                return
            if index == turn.get("end_after_chunks"):
                return  # a clean end of the HTTP body, mid-answer
            if delay:
                await asyncio.sleep(delay)
            yield event(
                "content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": text}}
            )
        yield event("content_block_stop", {"index": 0})
        for offset, call in enumerate(turn.get("tool_calls") or [], start=1):
            yield event("content_block_start", {"index": offset, "content_block": {
                "type": "tool_use", "id": call["id"], "name": call["name"], "input": {}}})  # fmt: skip
            yield event("content_block_delta", {"index": offset, "delta": {
                "type": "input_json_delta", "partial_json": call.get("arguments", "{}")}})  # fmt: skip
            yield event("content_block_stop", {"index": offset})
        stop: str | None = "tool_use" if turn.get("tool_calls") else "end_turn"
        if turn.get("no_finish"):
            stop = None  # every event a whole answer has, but no stop reason
        yield event("message_delta", {"delta": {"stop_reason": stop},
                                      "usage": {"output_tokens": usage["completion_tokens"]}})  # fmt: skip
        yield event("message_stop", {})

    async def _stream(self, turn: dict[str, Any]) -> AsyncIterator[str]:
        delay = float(turn.get("delay_ms", 0)) / 1000
        chunks = turn.get("chunks") or (_words(turn["text"]) if "text" in turn else [])
        if "stamped_chunks" in turn:
            # Benchmarks: each chunk's text is the CLOCK_MONOTONIC time (ns) it was sent at.
            count = int(turn["stamped_chunks"])
            yield _chunk({"role": "assistant", "content": ""})
            for _ in range(count):
                if delay:
                    await asyncio.sleep(delay)
                yield _chunk({"content": f"{time.monotonic_ns()} "})
            yield _chunk({}, "stop")
            yield "data: [DONE]\n\n"
            return
        yield _chunk({"role": "assistant", "content": ""})
        for piece in turn.get("reasoning") or []:
            if delay:
                await asyncio.sleep(delay)
            yield _chunk({turn.get("reasoning_field", "reasoning_content"): piece})
        for index, text in enumerate(chunks):
            if index == turn.get("drop_after_chunks"):
                raise ConnectionResetError("scripted drop")  # uvicorn cuts the connection
            if index == turn.get("malformed_after_chunks"):
                yield "data: {not json\n\n"
                return
            if index == turn.get("end_after_chunks"):
                return  # a clean end of the HTTP body, mid-answer
            if index == turn.get("hang_after_chunks"):
                await asyncio.sleep(3600)
            if delay:
                await asyncio.sleep(delay)
            yield _chunk({"content": text})
        for index, call in enumerate(turn.get("tool_calls") or []):
            yield _chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["name"], "arguments": ""},
                        }
                    ]
                }
            )
            yield _chunk(
                {
                    "tool_calls": [
                        {"index": index, "function": {"arguments": call.get("arguments", "{}")}}
                    ]
                }
            )
        finish = "tool_calls" if turn.get("tool_calls") else "stop"
        if not turn.get("no_finish"):  # else: usage and [DONE] follow, but no finish reason
            yield _chunk({}, finish)
        usage = turn.get("usage") or {"prompt_tokens": 10, "completion_tokens": max(1, len(chunks))}
        yield f"data: {json.dumps({'choices': [], 'usage': usage})}\n\n"
        yield "data: [DONE]\n\n"


class RunningScripted:
    """The scripted server in a background thread (tests and benchmarks)."""

    def __init__(self, port: int = 0) -> None:
        self.provider = ScriptedProvider()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._sock.bind(("127.0.0.1", port))
        self.port = self._sock.getsockname()[1]
        config = uvicorn.Config(
            self.provider.app, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    def load(self, turns: list[dict[str, Any]]) -> None:
        """Queue turns directly (same process); clears the recorded requests."""
        self.provider.turns = deque(turns)
        self.provider.requests.clear()
        self.provider.request_times.clear()

    def load_embeddings(self, turns: list[dict[str, Any]]) -> None:
        """Queue answers for the next embedding requests (`{"error": {"status"}}`, `{"dim": N}`,
        `{"missing_rows": N}`); clears the recorded requests."""
        self.provider.embed_turns = deque(turns)
        self.provider.requests.clear()

    def recorded(self) -> list[dict[str, Any]]:
        return list(self.provider.requests)

    def gaps(self) -> list[float]:
        """Seconds between consecutive chat requests (how long a client waited to retry)."""
        times = self.provider.request_times
        return [later - earlier for earlier, later in zip(times, times[1:], strict=False)]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def __enter__(self) -> "RunningScripted":
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    sock = socket.socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # inherited by accepted sockets
    sock.bind(("127.0.0.1", args.port))
    # Listen before saying ready: a connection made between the line and uvicorn's start then
    # waits in the backlog instead of being refused.
    sock.listen(128)
    print(f"SCRIPTED_READY {sock.getsockname()[1]}", flush=True)
    uvicorn.Server(uvicorn.Config(ScriptedProvider().app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main()
