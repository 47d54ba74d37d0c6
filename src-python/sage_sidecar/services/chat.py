"""The chat engine: runs assistant replies as tasks, streams them as events, runs the tool loop,
and persists every reply however it ends (completed, failed, interrupted).

Knows nothing of WebSockets: callers pass an `emit` coroutine that receives protocol frames
(documented in docs/protocol.md).
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, select

from sage_sidecar.providers.base import (
    ChatMessage,
    ChatRequest,
    ProviderError,
    TextDelta,
    ToolCall,
    ToolCalls,
    Usage,
)
from sage_sidecar.services import agents as agents_service
from sage_sidecar.services import mcp as mcp_service
from sage_sidecar.services import providers as providers_service
from sage_sidecar.services.conversations import get_conversation, next_seq
from sage_sidecar.services.errors import InvalidError, NotFoundError
from sage_sidecar.services.mcp import McpManager
from sage_sidecar.services.message_writer import MessageWriter
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Agent, Conversation, Message, Provider
from sage_sidecar.tools.base import Tool, ToolContext, ToolError
from sage_sidecar.tools.registry import tools_for

log = logging.getLogger(__name__)

Emit = Callable[[dict[str, Any]], Awaitable[None]]
MAX_TOOL_STEPS = 8
APPROVAL_TIMEOUT_S = 120.0
RETRY_DELAYS_S = (0.5, 1.0, 2.0)  # before the first token only
TOOL_OUTPUT_LIMIT = 20_000
TITLE_LENGTH = 60


class ChatFailure(Exception):
    """A reply that cannot proceed, with a message for the user (no provider, no model...)."""


@dataclass
class ActiveStream:
    message_id: str
    conversation_id: str
    task: asyncio.Task[None] | None = None
    approvals: dict[str, asyncio.Future[str]] = field(default_factory=dict)


@dataclass
class Started:
    conversation_id: str
    user_message_id: str | None
    message_id: str


class ChatEngine:
    def __init__(
        self,
        db: Database,
        http: httpx.AsyncClient,
        workspaces_dir: Path,
        mcp: McpManager,
        *,
        approval_timeout: float = APPROVAL_TIMEOUT_S,
        retry_delays: tuple[float, ...] = RETRY_DELAYS_S,
        max_steps: int = MAX_TOOL_STEPS,
    ) -> None:
        self._db = db
        self._http = http
        self._workspaces = workspaces_dir
        self._mcp = mcp
        self.approval_timeout = approval_timeout
        self.retry_delays = retry_delays
        self.max_steps = max_steps
        self.active: dict[str, ActiveStream] = {}

    # --- commands ------------------------------------------------------------------------------

    async def send(
        self,
        content: str,
        emit: Emit,
        conversation_id: str | None = None,
        agent_id: str | None = None,
    ) -> Started:
        if not content.strip():
            raise InvalidError("the message is empty")
        async with self._db.session() as session:
            if conversation_id:
                conversation = await get_conversation(session, conversation_id)
            else:
                agent = (
                    await agents_service.get_agent(session, agent_id)
                    if agent_id
                    else await agents_service.default_agent(session)
                )
                conversation = Conversation(agent_id=agent.id, title=_title_from(content))
                session.add(conversation)
                await session.flush()
            seq = await next_seq(session, conversation.id)
            user = Message(conversation_id=conversation.id, seq=seq, role="user", content=content)
            session.add(user)
            assistant = self._placeholder(conversation.id, seq + 1)
            session.add(assistant)
            await session.commit()
            started = Started(conversation.id, user.id, assistant.id)
        self._launch(started, emit)
        return started

    async def regenerate(self, message_id: str, emit: Emit) -> Started:
        """Replace an assistant reply (and anything after it) with a new one."""
        async with self._db.session() as session:
            message = await self._message(session, message_id, role="assistant")
            await self._truncate(session, message.conversation_id, from_seq=message.seq)
            assistant = self._placeholder(message.conversation_id, message.seq)
            session.add(assistant)
            await session.commit()
            started = Started(message.conversation_id, None, assistant.id)
        self._launch(started, emit)
        return started

    async def edit(self, message_id: str, content: str, emit: Emit) -> Started:
        """Change a user message and answer it again; the replies after it are replaced."""
        if not content.strip():
            raise InvalidError("the message is empty")
        async with self._db.session() as session:
            message = await self._message(session, message_id, role="user")
            message.content = content
            await self._truncate(session, message.conversation_id, from_seq=message.seq + 1)
            assistant = self._placeholder(message.conversation_id, message.seq + 1)
            session.add(assistant)
            await session.commit()
            started = Started(message.conversation_id, message.id, assistant.id)
        self._launch(started, emit)
        return started

    def cancel(self, message_id: str) -> bool:
        stream = self.active.get(message_id)
        if stream is None or stream.task is None:
            return False
        stream.task.cancel()
        return True

    def answer_approval(self, call_id: str, decision: str) -> bool:
        for stream in self.active.values():
            future = stream.approvals.get(call_id)
            if future is not None and not future.done():
                future.set_result(decision)
                return True
        return False

    async def shutdown(self) -> None:
        tasks = [s.task for s in self.active.values() if s.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- internals -----------------------------------------------------------------------------

    @staticmethod
    def _placeholder(conversation_id: str, seq: int) -> Message:
        return Message(
            conversation_id=conversation_id, seq=seq, role="assistant", status="streaming"
        )

    async def _message(self, session: Any, message_id: str, role: str) -> Message:
        message = await session.get(Message, message_id)
        if message is None or message.role != role:
            raise NotFoundError(f"{role} message", message_id)
        if any(s.conversation_id == message.conversation_id for s in self.active.values()):
            raise InvalidError("a reply is still being written in this conversation")
        return message

    @staticmethod
    async def _truncate(session: Any, conversation_id: str, from_seq: int) -> None:
        await session.execute(
            delete(Message).where(
                Message.conversation_id == conversation_id, Message.seq >= from_seq
            )
        )

    def _launch(self, started: Started, emit: Emit) -> None:
        stream = ActiveStream(started.message_id, started.conversation_id)
        self.active[started.message_id] = stream
        stream.task = asyncio.create_task(self._run(stream, emit))

    async def _run(self, stream: ActiveStream, emit: Emit) -> None:
        writer = MessageWriter(self._db, stream.message_id)
        usage = {"prompt_tokens": 0, "completion_tokens": 0}
        ids = {"conversationId": stream.conversation_id, "messageId": stream.message_id}
        started_at = time.perf_counter()
        try:
            agent, provider, history = await self._context(
                stream.conversation_id, stream.message_id
            )
            model = agent.model or provider.default_model
            if not model:
                raise ChatFailure(
                    f"Choose a model for {agent.name} or a default model for {provider.name}."
                )
            await _safe_emit(emit, {"type": "message.started", **ids, "model": model})
            async with self._db.session() as session:
                row = await session.get(Message, stream.message_id)
                if row is not None:
                    row.model = model
                    await session.commit()
            writer.start()
            tools = await self._tools(agent, writer, emit, ids)
            client = providers_service.client_for(provider, self._http)
            messages = history
            for _step in range(self.max_steps):
                request = ChatRequest(
                    model=model,
                    messages=messages,
                    tools=[t.spec() for t in tools],
                    temperature=agent.temperature,
                    max_tokens=agent.max_tokens,
                )
                text, calls = await self._stream_step(client, request, writer, usage, emit, ids)
                if not calls:
                    break
                messages = [*messages, ChatMessage("assistant", text or None, tool_calls=calls)]
                results = await self._run_tools(calls, tools, agent, stream, writer, emit, ids)
                messages += [
                    ChatMessage("tool", r, tool_call_id=c.id)
                    for c, r in zip(calls, results, strict=True)
                ]
            else:
                raise ChatFailure(
                    f"Stopped after {self.max_steps} tool steps without a final answer."
                )
            await _safe_emit(emit, {"type": "usage", **ids, **usage})
            await writer.finish("completed", usage=usage)
            await _safe_emit(emit, {
                "type": "message.completed", **ids, "status": "completed", "content": writer.content,
                "usage": usage, "durationMs": round((time.perf_counter() - started_at) * 1000),
            })  # fmt: skip
        except asyncio.CancelledError:
            await writer.finish("interrupted", error="Stopped by the user.", usage=usage)
            await _safe_emit(emit, {"type": "message.failed", **ids, "status": "interrupted",
                                    "reason": "cancelled", "error": "Stopped by the user.",
                                    "content": writer.content})  # fmt: skip
        except (ProviderError, ChatFailure, NotFoundError) as error:
            kind = error.kind if isinstance(error, ProviderError) else "setup"
            await writer.finish("failed", error=str(error), usage=usage)
            await _safe_emit(emit, {"type": "message.failed", **ids, "status": "failed",
                                    "reason": kind, "error": str(error), "content": writer.content})  # fmt: skip
        except Exception:
            log.exception("reply %s failed", stream.message_id)
            await writer.finish(
                "failed", error="Internal error in Sage; see the sidecar log.", usage=usage
            )
            await _safe_emit(emit, {"type": "message.failed", **ids, "status": "failed",
                                    "reason": "internal", "error": "Internal error in Sage; see the sidecar log.",
                                    "content": writer.content})  # fmt: skip
        finally:
            self.active.pop(stream.message_id, None)

    async def _tools(
        self, agent: Agent, writer: MessageWriter, emit: Emit, ids: dict[str, str]
    ) -> list[Tool]:
        """Built-ins plus the tools of the agent's MCP servers. A server that cannot start costs
        its tools for this reply, with a notice; the reply itself goes on."""
        tools = tools_for(agent.tools)
        prefix = mcp_service.AGENT_REF
        names = [t.removeprefix(prefix) for t in agent.tools if t.startswith(prefix)]
        if not names:
            return tools
        async with self._db.session() as session:
            servers = await mcp_service.servers_named(session, names)
        mcp_tools, errors = await self._mcp.tools_for(servers)
        for error in errors:
            writer.add_part({"type": "notice", "text": error})
            await _safe_emit(emit, {"type": "notice", **ids, "text": error})
        return tools + mcp_tools

    async def _context(
        self, conversation_id: str, message_id: str
    ) -> tuple[Agent, Provider, list[ChatMessage]]:
        async with self._db.session() as session:
            conversation = await get_conversation(session, conversation_id)
            agent = (
                await session.get(Agent, conversation.agent_id) if conversation.agent_id else None
            ) or await agents_service.default_agent(session)
            provider = await session.get(Provider, agent.provider_id) if agent.provider_id else None
            if provider is None:
                provider = await session.scalar(
                    select(Provider).where(Provider.enabled.is_(True)).order_by(Provider.created_at)
                )
            if provider is None:
                raise ChatFailure(
                    "No model provider is set up yet. Add one in Settings → Providers."
                )
            rows = await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.id != message_id)
                .order_by(Message.seq)
            )
            history = [ChatMessage("system", agent.system_prompt)] if agent.system_prompt else []
            for row in rows:
                if row.content and (
                    row.role == "user" or row.status in ("completed", "interrupted")
                ):
                    history.append(ChatMessage(row.role, row.content))  # type: ignore[arg-type]
            return agent, provider, history

    async def _stream_step(
        self, client: Any, request: ChatRequest, writer: MessageWriter, usage: dict[str, int],
        emit: Emit, ids: dict[str, str],
    ) -> tuple[str, list[ToolCall]]:  # fmt: skip
        """One model call. Retries with backoff only while nothing has been received yet."""
        attempt = 0
        while True:
            received = False
            text_parts: list[str] = []
            calls: list[ToolCall] = []
            try:
                async for event in client.stream_chat(request):
                    received = True
                    if isinstance(event, TextDelta):
                        text_parts.append(event.text)
                        writer.append_text(event.text)
                        await _safe_emit(
                            emit, {"type": "message.delta", **ids, "delta": event.text}
                        )
                    elif isinstance(event, ToolCalls):
                        calls = event.calls
                    elif isinstance(event, Usage):
                        usage["prompt_tokens"] += event.prompt_tokens
                        usage["completion_tokens"] += event.completion_tokens
                return "".join(text_parts), calls
            except ProviderError as error:
                if (
                    received
                    or writer.content
                    or not error.retryable
                    or attempt >= len(self.retry_delays)
                ):
                    raise
                log.warning("provider error before first token (%s); retrying", error.kind)
                await asyncio.sleep(self.retry_delays[attempt])
                attempt += 1

    async def _run_tools(
        self, calls: list[ToolCall], tools: list[Tool], agent: Agent, stream: ActiveStream,
        writer: MessageWriter, emit: Emit, ids: dict[str, str],
    ) -> list[str]:  # fmt: skip
        by_name = {t.name: t for t in tools}
        context = ToolContext(agent_id=agent.id, workspace=self._workspaces / agent.id)
        for call in calls:
            writer.add_part(
                {"type": "tool_call", "id": call.id, "name": call.name, "arguments": call.arguments}
            )
            await _safe_emit(emit, {"type": "tool.call", **ids, "callId": call.id, "name": call.name,
                                    "arguments": call.arguments})  # fmt: skip

        async def run_one(call: ToolCall) -> str:
            started = time.perf_counter()
            is_error = True
            try:
                tool = by_name.get(call.name)
                if tool is None:
                    raise ToolError(f"unknown tool {call.name!r}")
                args = call.parsed_arguments()
                if tool.needs_approval and call.name not in agent.approved_tools:
                    await self._await_approval(call, agent, stream, emit, ids)
                result = (await tool.run(args, context))[:TOOL_OUTPUT_LIMIT]
                is_error = False
            except (ToolError, ValueError) as error:
                result = f"Error: {error}"
            except Exception:  # a tool bug must not end the reply
                log.exception("tool %s crashed", call.name)
                result = "Error: the tool failed unexpectedly."
            duration = round((time.perf_counter() - started) * 1000)
            writer.add_part({"type": "tool_result", "id": call.id, "name": call.name, "content": result,
                             "isError": is_error, "durationMs": duration})  # fmt: skip
            await _safe_emit(emit, {"type": "tool.result", **ids, "callId": call.id, "name": call.name,
                                    "content": result, "isError": is_error, "durationMs": duration})  # fmt: skip
            return result

        return list(await asyncio.gather(*(run_one(call) for call in calls)))

    async def _await_approval(
        self, call: ToolCall, agent: Agent, stream: ActiveStream, emit: Emit, ids: dict[str, str]
    ) -> None:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        stream.approvals[call.id] = future
        await _safe_emit(emit, {"type": "tool.approval_required", **ids, "callId": call.id,
                                "name": call.name, "arguments": call.arguments,
                                "timeoutS": self.approval_timeout})  # fmt: skip
        try:
            decision = await asyncio.wait_for(future, self.approval_timeout)
        except TimeoutError:
            raise ToolError("not approved in time; the user did not answer") from None
        finally:
            stream.approvals.pop(call.id, None)
        if decision == "always":
            async with self._db.session() as session:
                await agents_service.approve_tool_always(session, agent.id, call.name)
            agent.approved_tools = [*agent.approved_tools, call.name]
        elif decision != "approve":
            raise ToolError("the user denied this tool call")


def _title_from(content: str) -> str:
    line = " ".join(content.split())
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


async def _safe_emit(emit: Emit, frame: dict[str, Any]) -> None:
    """A client that went away must not stop the reply: it is still written to the database."""
    with contextlib.suppress(Exception):
        await emit(frame)
