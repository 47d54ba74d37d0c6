"""One assistant reply in progress: the model calls, the tool loop and approvals, with every
event streamed through `emit` and every piece written through the MessageWriter."""

import asyncio
import contextlib
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sage_sidecar.providers.base import (
    ChatMessage,
    ChatRequest,
    ProviderError,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCalls,
    Usage,
)
from sage_sidecar.providers.transport import HttpProviderClient
from sage_sidecar.schemas.capabilities import Capabilities
from sage_sidecar.schemas.model_params import ModelParams
from sage_sidecar.schemas.protocol.chat import (
    ApprovalReason,
    ContextTrimmedFrame,
    MessageDelta,
    NoticeFrame,
    ReasoningDeltaFrame,
    ServerChatFrame,
    TaintSource,
    ToolApprovalRequired,
    ToolCallFrame,
    ToolResultFrame,
)
from sage_sidecar.schemas.protocol.parts import (
    ContextPart,
    FailureCode,
    NoticePart,
    ReasoningPart,
    ToolCallPart,
    ToolResultPart,
)
from sage_sidecar.schemas.protocol.parts import Usage as ReplyUsage
from sage_sidecar.services import approvals, page_reader
from sage_sidecar.services.audit import AuditLog, Who
from sage_sidecar.services.context.keeper import ContextKeeper
from sage_sidecar.services.context.summary import SUMMARY_TOKENS
from sage_sidecar.services.message_writer import MessageWriter
from sage_sidecar.services.traces.recorder import RunRecorder
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Agent
from sage_sidecar.tools import policy
from sage_sidecar.tools.base import Tool, ToolContext, ToolError, ToolNotice, WorkspaceHooks

log = logging.getLogger(__name__)

Emit = Callable[[ServerChatFrame], Awaitable[None]]
TOOL_OUTPUT_LIMIT = 20_000
ATTACHMENT_MARK = "<attachment name="  # how attachments.for_model wraps a file's text


class Denied(ToolError):
    """The user said no, or did not answer in time."""


class ChatFailure(Exception):
    """A reply that cannot proceed, with a message for the user (no provider, no model...) and
    its code and parameters, which the UI translates."""

    def __init__(self, message: str, code: FailureCode, **params: str) -> None:
        super().__init__(message)
        self.code: FailureCode = code
        self.params = params


@dataclass(frozen=True)
class RunOptions:
    """How a reply Sage starts on its own (a scheduled task's run, services/tasks) differs."""

    kind: str | None = None  # the trace's run kind; None: chat or plan, by the agent's mode
    token_budget: int | None = None  # prompt + completion tokens; checked after each model call
    announce_finish: bool = True  # False: the caller announces the end itself


@dataclass
class ActiveStream:
    message_id: str
    conversation_id: str
    task: asyncio.Task[None] | None = None
    approvals: dict[str, asyncio.Future[str]] = field(default_factory=dict)
    options: RunOptions = field(default_factory=RunOptions)


@dataclass
class _Thinking:
    """The reasoning part of one model call, opened by its first piece of thinking."""

    part: ReasoningPart | None = None
    began: float = 0.0


@dataclass(frozen=True)
class Limits:
    approval_timeout: float
    retry_delays: tuple[float, ...]  # before the first token only
    max_steps: int  # model calls per tool loop


async def safe_emit(emit: Emit, frame: ServerChatFrame) -> None:
    """A client that went away must not stop the reply: it is still written to the database."""
    with contextlib.suppress(Exception):
        await emit(frame)


def taint_from_inputs(turn: "Turn") -> None:
    """A reply that starts with knowledge passages or an attached file has read untrusted
    content before its first tool call (the taint rule, tools/policy.py). Files attached to any
    earlier message count too: they travel with the history, so the model reads them again."""
    if turn.writer.citations:
        turn.taint = "knowledge"
    elif any(m.role == "user" and ATTACHMENT_MARK in (m.content or "") for m in turn.history):
        turn.taint = "attachment"


@dataclass
class Turn:
    db: Database
    stream: ActiveStream
    emit_raw: Emit
    writer: MessageWriter
    agent: Agent
    client: HttpProviderClient
    model: str
    tools: list[Tool]
    workspaces: Path
    workspace_hooks: WorkspaceHooks  # the file tools' size limit and change announcements
    limits: Limits
    history: list[ChatMessage]  # the conversation so far, system prompt first
    usage: ReplyUsage = field(
        default_factory=lambda: ReplyUsage(prompt_tokens=0, completion_tokens=0)
    )
    trace: RunRecorder = field(default_factory=RunRecorder)  # every model and tool call, timed
    audit: AuditLog | None = None  # every tool execution and approval decision
    # What untrusted content this reply has read (fetched_page, mcp_result, attachment,
    # knowledge): from then on writing files or running code asks again (tools/policy.py).
    taint: TaintSource | None = None
    # The agent's model parameters with the conversation's over them (services/context/params.py);
    # None: the agent's temperature and max tokens only.
    params: ModelParams | None = None
    context: ContextKeeper | None = None  # keeps each request within the model's window
    _echo: list[dict[str, Any]] = field(default_factory=list)  # the last tool calls' (base.py)

    @functools.cached_property
    def capabilities(self) -> Capabilities:
        return policy.capabilities_of(self.agent.capabilities)

    @property
    def ids(self) -> dict[str, Any]:
        """The fields every reply frame starts with: `MessageDelta(**turn.ids, delta=...)`."""
        return {
            "conversation_id": self.stream.conversation_id,
            "message_id": self.stream.message_id,
        }

    async def emit(self, frame: ServerChatFrame) -> None:
        await safe_emit(self.emit_raw, frame)

    def request(
        self, messages: list[ChatMessage], with_tools: bool = True, max_tokens: int | None = None
    ) -> ChatRequest:
        params = self.params or ModelParams(temperature=self.agent.temperature,
                                            max_tokens=self.agent.max_tokens)  # fmt: skip
        return ChatRequest(
            model=self.model,
            messages=messages,
            tools=[t.spec() for t in self.tools] if with_tools else [],
            temperature=params.temperature,
            max_tokens=max_tokens or params.max_tokens,
            top_p=params.top_p,
            stop=params.stop or [],
            seed=params.seed,
            reasoning_effort=params.reasoning_effort,
        )

    async def fit(self, messages: list[ChatMessage], with_tools: bool = True) -> list[ChatMessage]:
        """The messages as they fit the model's context window (services/context/keeper.py)."""
        if self.context is None:
            return messages
        tools = [t.spec() for t in self.tools] if with_tools else []
        return await self.context.fit(messages, tools, self._summarise, self._announce_cut)

    async def _answer_step(self, messages: list[ChatMessage]) -> tuple[str, list[ToolCall]]:
        """One visible model call; a provider that says the request is over its context window
        (the window is smaller than Sage was told, or the estimate fell short) gets it again,
        fitted into less, instead of the reply failing."""
        for _attempt in range(3):
            request = self.request(await self.fit(messages))
            try:
                return await self._stream_step(request, visible=True)
            except ProviderError as error:
                if self.context is None or self.writer.content or not self.context.shrink(error):
                    raise
        return await self._stream_step(self.request(await self.fit(messages)), visible=True)

    async def _summarise(self, messages: list[ChatMessage]) -> str:
        return await self.ask(messages, purpose="summary", fit=False, max_tokens=SUMMARY_TOKENS)

    async def _announce_cut(self, part: ContextPart) -> None:
        if any(p is part for p in self.writer.parts):
            self.writer.touch()  # a later step of this reply cut more
        else:
            self.writer.add_part(part)
        await self.emit(ContextTrimmedFrame(**self.ids, part=part))

    async def complete(self, messages: list[ChatMessage]) -> str:
        """The tool loop: stream the model's answer to the user, run the tools it calls, feed the
        results back, until it answers without tools. Returns the last step's text."""
        for _step in range(self.limits.max_steps):
            text, calls = await self._answer_step(messages)
            if not calls:
                return text
            messages = [*messages, ChatMessage("assistant", text or None, tool_calls=calls,
                                               echo=self._echo)]  # fmt: skip
            results = await self._run_tools(calls)
            messages += [
                ChatMessage("tool", r, tool_call_id=c.id)
                for c, r in zip(calls, results, strict=True)
            ]
        raise ChatFailure(
            f"Stopped after {self.limits.max_steps} tool steps without a final answer.",
            "tool_steps",
            steps=str(self.limits.max_steps),
        )

    async def ask(
        self,
        messages: list[ChatMessage],
        purpose: str = "hidden",
        fit: bool = True,
        max_tokens: int | None = None,
    ) -> str:
        """A model call whose text is for Sage, not the user (plans, self-checks): not streamed,
        no tools; its tokens still count, and its trace step says what it was for."""
        if fit:
            messages = await self.fit(messages, with_tools=False)
        request = self.request(messages, with_tools=False, max_tokens=max_tokens)
        text, _ = await self._stream_step(request, visible=False, purpose=purpose)
        return text

    async def _stream_step(
        self, request: ChatRequest, visible: bool, purpose: str = "answer"
    ) -> tuple[str, list[ToolCall]]:
        """One model call. Retries with backoff only while nothing has been received yet."""
        attempt = 0
        while True:
            received = False  # text or tool calls: from then on a failure is final
            text_parts: list[str] = []
            calls: list[ToolCall] = []
            thinking = _Thinking()
            step = self.trace.model_call(request, purpose, text_parts)  # each attempt a step
            try:
                async for event in self.client.stream_chat(request):
                    step.saw(event)
                    shown = isinstance(event, TextDelta | ToolCalls | ReasoningDelta)
                    received = received or shown
                    if isinstance(event, ReasoningDelta):
                        if visible:  # a hidden call's thinking is nobody's business
                            await self._show_reasoning(thinking, event.text)
                    elif isinstance(event, TextDelta):
                        text_parts.append(event.text)
                        if visible:
                            self.writer.append_text(event.text)
                            await self.emit(MessageDelta(**self.ids, delta=event.text))
                    elif isinstance(event, ToolCalls):
                        calls = event.calls
                        self._echo = event.echo  # sent back with these calls (complete())
                    elif isinstance(event, Usage):
                        self.usage.prompt_tokens += event.prompt_tokens
                        self.usage.completion_tokens += event.completion_tokens
                self.trace.model_end(step, "".join(text_parts), calls)
                self._check_budget()
                return "".join(text_parts), calls
            except ProviderError as error:
                self.trace.model_end(step, "".join(text_parts), calls, error)
                if (
                    received
                    or self.writer.content
                    or not error.retryable
                    or attempt >= len(self.limits.retry_delays)
                ):
                    raise
                wait = error.retry_wait(self.limits.retry_delays[attempt])
                if wait is None:  # the server asks for a longer wait than Sage sits through
                    raise
                log.warning("provider error before first token (%s); retrying in %.1f s",
                            error.kind, wait)  # fmt: skip
                await self._announce_retry(error, wait)
                await asyncio.sleep(wait)
                attempt += 1

    def _check_budget(self) -> None:
        """A run with a token budget stops at the first model call that takes it past it."""
        budget = self.stream.options.token_budget
        used = self.usage.prompt_tokens + self.usage.completion_tokens
        if budget is not None and used > budget:
            raise ChatFailure(f"Stopped: {used} tokens used, over this run's budget of {budget}.",
                              "budget_exceeded", budget=str(budget), used=str(used))  # fmt: skip

    async def _show_reasoning(self, thinking: "_Thinking", text: str) -> None:
        """Keep thinking in its own part (never the answer text) and stream it."""
        started = thinking.part is None
        if thinking.part is None:
            thinking.part = ReasoningPart(text="", duration_ms=0)
            thinking.began = time.perf_counter()
            self.writer.add_part(thinking.part)
        thinking.part.text += text
        thinking.part.duration_ms = round((time.perf_counter() - thinking.began) * 1000)
        self.writer.touch()
        await self.emit(ReasoningDeltaFrame(**self.ids, delta=text, started=started,
                                            duration_ms=thinking.part.duration_ms))  # fmt: skip

    async def _announce_retry(self, error: ProviderError, wait: float) -> None:
        """Tell the user why nothing arrives yet ("rate limited, retrying in N s")."""
        seconds = str(max(1, math.ceil(wait)))
        if error.kind == "rate_limit":
            notice = NoticePart(text=f"Rate limited by the provider; retrying in {seconds} s.",
                                code="rate_limited", params={"seconds": seconds})  # fmt: skip
        else:
            notice = NoticePart(text=f"{error}; retrying in {seconds} s.", code="provider_retry",
                                params={"seconds": seconds, "error": str(error)})  # fmt: skip
        self.writer.add_part(notice)
        await self.emit(NoticeFrame(**self.ids, **dict(notice)))

    async def _run_tools(self, calls: list[ToolCall]) -> list[str]:
        by_name = {t.name: t for t in self.tools}
        agent = self.agent
        context = ToolContext(agent_id=agent.id, workspace=self.workspaces / agent.id,
                              read_page=page_reader.read_page, hooks=self.workspace_hooks)  # fmt: skip
        for call in calls:
            self.trace.tool_call(call)
            self.writer.add_part(ToolCallPart(id=call.id, name=call.name, arguments=call.arguments))
            await self.emit(ToolCallFrame(**self.ids, call_id=call.id, name=call.name,
                                          arguments=call.arguments))  # fmt: skip

        async def run_one(call: ToolCall) -> str:
            started = time.perf_counter()
            is_error, status = True, "error"
            try:
                tool = by_name.get(call.name)
                if tool is None:
                    raise policy.Refused("capability.tool_not_allowed",
                                         f"unknown tool {call.name!r} for this agent", tool=call.name)  # fmt: skip
                args = call.parsed_arguments()
                await self._authorize(call, tool, args)
                result = (await tool.run(args, context))[:TOOL_OUTPUT_LIMIT]
                is_error, status = False, "ok"
                if policy.reads_untrusted(tool):
                    self.taint = self.taint or ("fetched_page" if tool.name in policy.WEB_CONTENT
                                                else "mcp_result")  # fmt: skip
            except policy.Refused as error:
                result, status = f"Error: {error}", "refused"
                await self._audit("approval", call, "refused", "policy", reason=error.code)
            except Denied as error:
                result, status = f"Error: {error}", "denied"
            except ToolNotice as error:  # the user hears of it too, in their language
                result = f"Error: {error}" + (f"\n{error.output}" if error.output else "")
                notice = NoticePart(text=str(error), code=error.code, params=error.params)
                self.writer.add_part(notice)
                await self.emit(NoticeFrame(**self.ids, **dict(notice)))
            except (ToolError, ValueError) as error:
                result = f"Error: {error}"
            except Exception:  # a tool bug must not end the reply
                log.exception("tool %s crashed", call.name)
                result = "Error: the tool failed unexpectedly."
            duration = round((time.perf_counter() - started) * 1000)
            self.trace.tool_end(call.id, result, is_error)
            await self._audit("execution", call, "-", "-", status=status, duration_ms=duration)
            self.writer.add_part(ToolResultPart(id=call.id, name=call.name, content=result,
                                                is_error=is_error, duration_ms=duration))  # fmt: skip
            await self.emit(ToolResultFrame(**self.ids, call_id=call.id, name=call.name,
                                            content=result, is_error=is_error, duration_ms=duration))  # fmt: skip
            return result

        return list(await asyncio.gather(*(run_one(call) for call in calls)))

    async def _authorize(self, call: ToolCall, tool: Tool, args: dict[str, Any]) -> None:
        """The agent's limits, then the approval the call needs: a standing "always" (unless the
        taint rule says to ask again) or the user's answer. Raises Refused or Denied."""
        ask = policy.check(tool, args, self.capabilities)  # Refused for a forbidden call
        if ask is None and not tool.needs_approval:
            by = "trusted" if tool.scope != "builtin" else "none"
            await self._audit("approval", call, "auto", by)
            return
        scope = ask.scope if ask else tool.scope
        reason: ApprovalReason | None = ask.reason if ask else None
        params = ask.params if ask else {}
        tainted = self.taint is not None and policy.taint_applies(tool)
        if tainted:
            reason, params = "tainted", {"source": self.taint or ""}
        async with self.db.session() as session:
            standing = await approvals.granted(session, self.agent.id, tool.name, scope)
        self.trace.approval(call.id, "preapproved" if standing and not tainted else "asked")
        if standing and not tainted:
            await self._audit("approval", call, "always", "always")
            return
        decision = await self._await_approval(call, reason, params)
        by = "none" if decision == "timeout" else "user"  # nobody answered in time
        await self._audit("approval", call, decision, by, reason=reason)
        if decision == "always":
            async with self.db.session() as session:
                await approvals.grant(session, self.agent.id, tool.name, scope)
        elif decision == "timeout":
            raise Denied("not approved in time; the user did not answer")
        elif decision != "approve":
            raise Denied("the user denied this tool call")

    async def _await_approval(
        self, call: ToolCall, reason: ApprovalReason | None, params: dict[str, str]
    ) -> str:
        stream = self.stream
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        stream.approvals[call.id] = future
        await self.emit(ToolApprovalRequired(**self.ids, call_id=call.id, name=call.name,
                        arguments=call.arguments, timeout_s=self.limits.approval_timeout,
                        reason=reason, reason_params=params))  # fmt: skip
        try:
            decision = await asyncio.wait_for(future, self.limits.approval_timeout)
        except TimeoutError:
            decision = "timeout"
        finally:
            stream.approvals.pop(call.id, None)
        self.trace.approval(call.id, decision)
        return decision

    async def _audit(self, kind: str, call: ToolCall, decision: str, by: str,
                     reason: str | None = None, status: str | None = None,
                     duration_ms: int | None = None) -> None:  # fmt: skip
        if self.audit is None:
            return
        who = Who(self.agent.id, self.agent.name, self.stream.conversation_id,
                  self.stream.message_id)  # fmt: skip
        await self.audit.record(who, kind, call.id, call.name, call.arguments, decision, by,
                                reason=reason, status=status, duration_ms=duration_ms)  # fmt: skip
