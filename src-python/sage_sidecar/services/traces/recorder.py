"""Recording a run as it happens, without slowing the stream.

The chat engine calls a `RunRecorder` on its hot path; those calls only fill small objects in
memory. A finished step goes to the `TraceSink`, which writes everything collected every
`interval` seconds in one transaction, on its own task: redaction, JSON and SQLite never run
between two chunks of a reply. A crash loses at most one interval of trace (the reply itself is
saved by the MessageWriter); a run still `running` at the next start is marked `interrupted`.
"""

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from sage_sidecar.core.redaction import secrets_in_args, secrets_in_url
from sage_sidecar.providers.base import (
    ChatMessage,
    ChatRequest,
    Finish,
    ProviderError,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCalls,
    Usage,
)
from sage_sidecar.services.traces.redact import Redactor, headers
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import McpServer, Provider, Run, RunStep, new_id, utcnow

log = logging.getLogger(__name__)

FLUSH_INTERVAL_S = 0.5
OUTPUT_LIMIT = 20_000  # characters of a hidden call's text or a tool's result kept in a trace
CHARS_PER_TOKEN = 4  # the request's size in tokens is estimated (no tokenizer per model)


def _ms(since: float) -> int:
    return round((time.perf_counter() - since) * 1000)


@dataclass
class ModelStep:
    seq: int
    purpose: str  # answer | plan | self_check | title
    request: ChatRequest  # never changed after it is sent: serialised later, by the sink
    provider: str
    headers: dict[str, str]
    # The caller's list of received text, shared, not copied: what a cut-off step had received.
    received: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    started_at: datetime = field(default_factory=utcnow)
    ttft_ms: int | None = None
    duration_ms: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None
    output: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    error: str | None = None
    ended: bool = False

    def saw(self, event: StreamEvent) -> None:
        """Called for every stream event: keep it cheap."""
        if self.ttft_ms is None and isinstance(event, TextDelta | ToolCalls):
            self.ttft_ms = _ms(self.started)
        if isinstance(event, Usage):
            self.prompt_tokens += event.prompt_tokens
            self.completion_tokens += event.completion_tokens
        elif isinstance(event, Finish):
            self.finish_reason = event.reason


@dataclass
class ToolStep:
    seq: int
    call: ToolCall
    approval: str = "not_needed"  # not_needed | preapproved | approve | always | deny | timeout
    started: float = field(default_factory=time.perf_counter)
    started_at: datetime = field(default_factory=utcnow)
    duration_ms: int = 0
    result: str = ""
    is_error: bool = False
    ended: bool = False


@dataclass
class RunInfo:
    id: str
    kind: str  # chat | plan | task
    conversation_id: str | None
    message_id: str | None
    agent_id: str | None
    agent_name: str
    provider_name: str
    provider_kind: str
    model: str
    started_at: datetime = field(default_factory=utcnow)


@dataclass
class _Finished:
    run_id: str
    status: str
    error: str | None
    ended_at: datetime


_Op = RunInfo | tuple[str, ModelStep | ToolStep] | _Finished


class RunRecorder:
    """One run's steps. Without a sink (tests that build a Turn by hand) it records nothing."""

    def __init__(self, sink: "TraceSink | None" = None, info: RunInfo | None = None,
                 request_headers: dict[str, str] | None = None) -> None:  # fmt: skip
        self._sink = sink
        self.info = info
        self._headers = headers(request_headers or {})
        self._seq = 0
        self._open_models: list[ModelStep] = []
        self._tools: dict[str, ToolStep] = {}

    @property
    def run_id(self) -> str | None:
        return self.info.id if self.info else None

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _submit(self, step: ModelStep | ToolStep) -> None:
        step.ended = True
        if self._sink is not None and self.info is not None:
            self._sink.submit((self.info.id, step))

    def model_call(
        self, request: ChatRequest, purpose: str, received: list[str] | None = None
    ) -> ModelStep:
        provider = self.info.provider_name if self.info else ""
        step = ModelStep(self._next(), purpose, request, provider, self._headers)
        if received is not None:
            step.received = received
        self._open_models.append(step)
        return step

    def model_end(self, step: ModelStep, output: str = "", calls: list[ToolCall] | None = None,
                  error: BaseException | None = None) -> None:  # fmt: skip
        if step.ended:
            return
        step.duration_ms = _ms(step.started)
        step.output, step.tool_calls = output or "".join(step.received), calls or []
        if error is not None:
            step.error = str(error) or type(error).__name__
            if isinstance(error, ProviderError):
                step.error = f"{error.kind}: {error}"
        with contextlib.suppress(ValueError):
            self._open_models.remove(step)
        self._submit(step)

    def tool_call(self, call: ToolCall) -> ToolStep:
        step = ToolStep(self._next(), call)
        self._tools[call.id] = step
        return step

    def approval(self, call_id: str, decision: str) -> None:
        step = self._tools.get(call_id)
        if step is not None:
            step.approval = decision

    def tool_end(self, call_id: str, result: str, is_error: bool) -> None:
        step = self._tools.pop(call_id, None)
        if step is None or step.ended:
            return
        step.duration_ms = _ms(step.started)
        step.result, step.is_error = result, is_error
        self._submit(step)

    def finish(self, status: str, error: str | None = None) -> None:
        """The reply ended; steps it cut off end here too, with its status as their error."""
        for step in list(self._open_models):
            self.model_end(step, error=RuntimeError(status))
        for call_id, tool in list(self._tools.items()):
            self.tool_end(call_id, tool.result or f"Error: {status}", True)
        if self._sink is not None and self.info is not None:
            self._sink.submit(_Finished(self.info.id, status, error, utcnow()))


class TraceSink:
    """Collects what recorders submit and writes it in batches (see the module's docstring)."""

    def __init__(self, db: Database, secrets: tuple[str, ...] = (),
                 interval: float = FLUSH_INTERVAL_S, enabled: bool = True) -> None:  # fmt: skip
        self._db = db
        self._secrets = secrets  # the sidecar's own key; stored keys are read at each write
        self._interval = interval
        self.enabled = enabled
        self._pending: list[_Op] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    def begin(self, info: RunInfo, request_headers: dict[str, str]) -> RunRecorder:
        if not self.enabled:
            return RunRecorder()
        self.submit(info)
        return RunRecorder(self, info, request_headers)

    def submit(self, op: _Op) -> None:
        self._pending.append(op)

    def start(self) -> None:
        self._task = asyncio.create_task(self._flush_periodically())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.shield(self.flush())

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            if self._pending:
                try:
                    # Shielded: close() cancels this loop, never a batch half-written.
                    await asyncio.shield(self.flush())
                except Exception:  # a trace must never end the writer: the next batch tries again
                    log.exception("writing traces failed")

    async def flush(self) -> None:
        """Write everything submitted so far; readers call it first so they see finished runs."""
        async with self._lock:
            ops, self._pending = self._pending, []
            if not ops:
                return
            async with self._db.session() as session:
                redactor = Redactor([*self._secrets, *await _stored_secrets(session)])
            try:
                await self._write(ops, redactor)
            except SQLAlchemyError:
                # One op the database refuses (its conversation was just deleted) must not cost
                # the others: write them one by one and drop the refused.
                for op in ops:
                    try:
                        await self._write([op], redactor)
                    except SQLAlchemyError as error:
                        log.info("a trace record was dropped: %s", type(error).__name__)

    async def _write(self, ops: list[_Op], redactor: Redactor) -> None:
        async with self._db.session() as session:
            added: dict[str, Run] = {}
            for op in ops:
                if isinstance(op, RunInfo):
                    run = Run(**vars(op), status="running")
                    added[op.id] = run
                    session.add(run)
                elif isinstance(op, _Finished):
                    values = {"status": op.status, "error": op.error, "ended_at": op.ended_at}
                    if op.run_id in added:
                        for key, value in values.items():
                            setattr(added[op.run_id], key, value)
                    else:
                        await session.execute(
                            update(Run).where(Run.id == op.run_id).values(**values)
                        )
                else:
                    run_id, step = op
                    session.add(step_row(run_id, step, redactor))
            await session.commit()


def step_row(run_id: str, step: ModelStep | ToolStep, redactor: Redactor) -> RunStep:
    if isinstance(step, ToolStep):
        call = step.call
        return RunStep(
            run_id=run_id, seq=step.seq, kind="tool", purpose="tool", name=call.name,
            started_at=step.started_at, duration_ms=step.duration_ms,
            error=redactor.text(step.result) if step.is_error else None,
            detail={"call_id": call.id, "arguments": redactor.text(call.arguments),
                    "result": redactor.text(step.result[:OUTPUT_LIMIT]),
                    "result_chars": len(step.result), "is_error": step.is_error,
                    "approval": step.approval},
        )  # fmt: skip
    request = step.request
    messages = [message_json(m, redactor) for m in request.messages]
    size = sum(len(m.content or "") + sum(len(c.arguments) for c in m.tool_calls)
               for m in request.messages)  # fmt: skip
    return RunStep(
        run_id=run_id, seq=step.seq, kind="model", purpose=step.purpose, name=request.model,
        started_at=step.started_at, duration_ms=step.duration_ms, ttft_ms=step.ttft_ms,
        prompt_tokens=step.prompt_tokens, completion_tokens=step.completion_tokens,
        error=None if step.error is None else redactor.text(step.error),
        detail={
            "provider": step.provider, "finish_reason": step.finish_reason,
            "request_messages": len(messages),
            "request_tokens": math.ceil(size / CHARS_PER_TOKEN),
            "request": {"model": request.model, "messages": messages,
                        "tools": [{"name": t.name, "description": t.description,
                                   "parameters": t.parameters} for t in request.tools],
                        "temperature": request.temperature, "max_tokens": request.max_tokens,
                        "top_p": request.top_p, "stop": list(request.stop), "seed": request.seed,
                        "reasoning_effort": request.reasoning_effort},
            "headers": step.headers,
            "output": redactor.text(step.output[:OUTPUT_LIMIT]),
            "tool_calls": [{"id": c.id, "name": c.name, "arguments": redactor.text(c.arguments)}
                          for c in step.tool_calls],
        },
    )  # fmt: skip


def message_json(message: ChatMessage, redactor: Redactor) -> dict[str, Any]:
    body: dict[str, Any] = {"role": message.role, "content": None}
    if message.content is not None:
        body["content"] = redactor.message_content(message.content)
    if message.tool_calls:
        body["tool_calls"] = [
            {"id": c.id, "name": c.name, "arguments": redactor.text(c.arguments)}
            for c in message.tool_calls
        ]
    if message.tool_call_id:
        body["tool_call_id"] = message.tool_call_id
    return body


def message_from_json(body: dict[str, Any]) -> ChatMessage:
    calls = [ToolCall(c["id"], c["name"], c["arguments"]) for c in body.get("tool_calls") or []]
    return ChatMessage(body["role"], body.get("content"), calls, body.get("tool_call_id"))


async def _stored_secrets(session: Any) -> list[str]:
    """Every secret the configuration holds: provider keys and credentials in base URLs, MCP
    env and header values, tokens in MCP arguments and URLs (core/redaction.py finds those)."""
    keys: list[str] = []
    for key, base_url in await session.execute(select(Provider.api_key, Provider.base_url)):
        keys += [key] if key else []
        keys += secrets_in_url(base_url)
    servers = select(McpServer.env, McpServer.headers, McpServer.args, McpServer.url)
    for env, extra, args, url in await session.execute(servers):
        keys += [str(v) for v in (env or {}).values()] + [str(v) for v in (extra or {}).values()]
        keys += secrets_in_args(args or []) + secrets_in_url(url)
    return keys


def new_run_id() -> str:
    return new_id()
