"""The chat engine: starts, cancels and replaces assistant replies, each a task that streams its
events and is persisted however it ends (completed, failed, interrupted).

Knows nothing of WebSockets: callers pass an `emit` coroutine that receives protocol frames
(documented in docs/protocol.md). One reply's work is a `Turn` (turn.py); plan mode runs a Turn
through the plan executor (plan.py).
"""

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import httpx
from sqlalchemy import delete, select

from sage_sidecar.core.config import Settings
from sage_sidecar.core.errors import InvalidError, NotFoundError
from sage_sidecar.core.events import EventBus
from sage_sidecar.knowledge.citations import Retriever
from sage_sidecar.providers import vision
from sage_sidecar.providers.base import ChatMessage, ProviderError
from sage_sidecar.schemas.protocol.base import dump
from sage_sidecar.schemas.protocol.chat import (
    MessageCompleted,
    MessageFailed,
    MessageStarted,
    NoticeFrame,
    UsageFrame,
)
from sage_sidecar.schemas.protocol.parts import (
    AttachmentPart,
    Failure,
    FailureReason,
    ImagePart,
    NoticePart,
)
from sage_sidecar.services import agents as agents_service
from sage_sidecar.services import attachments, mcp_servers, model_choice, page_reader
from sage_sidecar.services import providers as providers_service
from sage_sidecar.services.audit import AuditLog
from sage_sidecar.services.context import setup as context_setup
from sage_sidecar.services.conversations import get_conversation, next_seq
from sage_sidecar.services.grounding import ground
from sage_sidecar.services.mcp_connections import McpManager
from sage_sidecar.services.message_writer import MessageWriter
from sage_sidecar.services.plan import run_plan
from sage_sidecar.services.reply_events import announcing
from sage_sidecar.services.skills import runtime as skills_runtime
from sage_sidecar.services.skills.store import SkillStore
from sage_sidecar.services.titles import name_conversation, shorten
from sage_sidecar.services.traces.recorder import RunInfo, TraceSink, new_run_id
from sage_sidecar.services.turn import (
    ActiveStream,
    ChatFailure,
    Emit,
    Limits,
    RunOptions,
    Turn,
    safe_emit,
    taint_from_inputs,
)
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Agent, Conversation, Message, Provider
from sage_sidecar.tools.base import Tool, WorkspaceHooks
from sage_sidecar.tools.registry import tools_for

log = logging.getLogger(__name__)

INTERNAL_ERROR = "Internal error in Sage; see the sidecar log."


@dataclass
class Started:
    conversation_id: str
    user_message_id: str | None
    message_id: str
    new_conversation: bool = False


@dataclass(frozen=True)
class ChatSettings:
    """The chat engine's limits and switches, from the sidecar's Settings (defaults there)."""

    auto_title: bool  # after a new conversation's first answer, ask the model for a title
    approval_timeout: float  # a tool call not approved in time is denied
    retry_delays: tuple[float, ...]  # before the first token only
    max_steps: int  # model calls per tool loop
    attachments_dir: Path | None = None  # where attached images are (services/attachments.py)
    context_tokens: int = 8_192  # the window of a model nobody says the size of

    @classmethod
    def of(cls, settings: Settings) -> "ChatSettings":
        return cls(
            auto_title=settings.auto_title,
            approval_timeout=settings.chat_approval_timeout_s,
            retry_delays=settings.chat_retry_delays_s,
            max_steps=settings.chat_max_tool_steps,
            attachments_dir=attachments.folder(settings),
            context_tokens=settings.chat_context_tokens,
        )

    @property
    def limits(self) -> Limits:
        return Limits(self.approval_timeout, self.retry_delays, self.max_steps)


class ChatEngine:
    def __init__(
        self,
        db: Database,
        http: httpx.AsyncClient,
        workspaces_dir: Path,
        mcp: McpManager,
        *,
        settings: ChatSettings,
        knowledge: Retriever | None = None,
        events: EventBus | None = None,
        traces: TraceSink | None = None,
        workspace_hooks: WorkspaceHooks | None = None,
        audit: AuditLog | None = None,
        skills: SkillStore | None = None,
    ) -> None:
        self._db = db
        self.skills = skills  # the agent's enabled skills (services/skills/runtime.py)
        self.audit = audit  # every tool execution and approval decision (services/audit.py)
        self._http = http
        self._workspaces = workspaces_dir
        self._mcp = mcp
        self.settings = settings
        self.knowledge = knowledge  # agents with knowledge bases cite their sources
        self.events = events  # finished replies and approvals are announced on /ws/events
        self.workspace_hooks = workspace_hooks or WorkspaceHooks()  # file tools: limit, events
        self.traces = traces  # every reply's model and tool calls (services/traces)
        self.active: dict[str, ActiveStream] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # --- commands ------------------------------------------------------------------------------

    async def send(
        self,
        content: str,
        emit: Emit,
        conversation_id: str | None = None,
        agent_id: str | None = None,
        attachment_parts: list[AttachmentPart | ImagePart] | None = None,
        options: RunOptions | None = None,
    ) -> Started:
        """Add the user's message (with its attached files' parts) and start a reply."""
        if not content.strip() and not attachment_parts:
            raise InvalidError("the message is empty", code="chat.empty_message")
        async with self._db.session() as session:
            if conversation_id:
                conversation = await get_conversation(session, conversation_id)
            else:
                agent = (
                    await agents_service.get_agent(session, agent_id)
                    if agent_id
                    else await agents_service.default_agent(session)
                )
                title = content if content.strip() else attachment_parts[0].name  # type: ignore[index]
                conversation = Conversation(agent_id=agent.id, title=shorten(title))
                session.add(conversation)
                await session.flush()
            seq = await next_seq(session, conversation.id)
            user = Message(conversation_id=conversation.id, seq=seq, role="user", content=content,
                           parts=[dump(p) for p in attachment_parts or []])  # fmt: skip
            session.add(user)
            assistant = self._placeholder(conversation.id, seq + 1)
            session.add(assistant)
            await session.commit()
            started = Started(conversation.id, user.id, assistant.id, not conversation_id)
        self._launch(started, emit, options or RunOptions())
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
            raise InvalidError("the message is empty", code="chat.empty_message")
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

    def _background(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)  # keep a reference until done (asyncio holds only weak ones)
        task.add_done_callback(self._tasks.discard)

    async def shutdown(self) -> None:
        tasks = [s.task for s in self.active.values() if s.task is not None] + list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await page_reader.close()  # fetch_url's page workers

    # --- internals -----------------------------------------------------------------------------

    @staticmethod
    def _placeholder(conversation_id: str, seq: int) -> Message:
        return Message(
            conversation_id=conversation_id, seq=seq, role="assistant", status="streaming"
        )

    async def _message(self, session: Any, message_id: str, role: str) -> Message:
        message: Message | None = await session.get(Message, message_id)
        if message is None or message.role != role:
            raise NotFoundError(f"{role} message", message_id)
        if any(s.conversation_id == message.conversation_id for s in self.active.values()):
            raise InvalidError(
                "a reply is still being written in this conversation", code="chat.reply_in_progress"
            )
        return message

    @staticmethod
    async def _truncate(session: Any, conversation_id: str, from_seq: int) -> None:
        await session.execute(
            delete(Message).where(
                Message.conversation_id == conversation_id, Message.seq >= from_seq
            )
        )

    def _launch(self, started: Started, emit: Emit, options: RunOptions | None = None) -> None:
        options = options or RunOptions()
        if self.events is not None:
            emit = announcing(emit, self.events, self._db, finished=options.announce_finish)
        stream = ActiveStream(started.message_id, started.conversation_id, options=options)
        self.active[started.message_id] = stream
        stream.task = asyncio.create_task(self._run(stream, emit, started.new_conversation))

    async def _run(self, stream: ActiveStream, emit: Emit, new_conversation: bool = False) -> None:
        writer = MessageWriter(self._db, stream.message_id)
        ids = {"conversation_id": stream.conversation_id, "message_id": stream.message_id}
        started_at = time.perf_counter()
        turn: Turn | None = None

        async def fail(status: Literal["failed", "interrupted"], reason: FailureReason,
                       error: str, failure: ChatFailure | None = None) -> None:  # fmt: skip
            code, params = (failure.code, failure.params) if failure else (None, {})
            if turn is not None:
                turn.trace.finish(status, error)
            await writer.finish(status, error=error, usage=turn.usage if turn else None,
                                failure=Failure(reason=reason, code=code, params=params))  # fmt: skip
            await safe_emit(emit, MessageFailed(**ids, status=status, reason=reason, error=error,
                                                code=code, params=params, content=writer.content))  # fmt: skip

        try:
            turn = await self._start_turn(stream, emit, writer)
            if turn.agent.mode == "plan":
                await run_plan(turn)
            else:
                await turn.complete(turn.history)
            await safe_emit(emit, UsageFrame(**ids, **dict(turn.usage)))
            duration = round((time.perf_counter() - started_at) * 1000)
            await writer.finish("completed", usage=turn.usage)
            turn.trace.finish("completed")
            await safe_emit(emit, MessageCompleted(**ids, content=writer.content, usage=turn.usage,
                                                   duration_ms=duration))  # fmt: skip
            if new_conversation and self.settings.auto_title:
                # After the answer, never before it: titling must not delay the first token.
                self._background(name_conversation(turn, writer.content))
        except asyncio.CancelledError:
            await fail("interrupted", "cancelled", "Stopped by the user.")
        except (ProviderError, ChatFailure, NotFoundError) as error:
            reason: FailureReason = error.kind if isinstance(error, ProviderError) else "setup"
            await fail("failed", reason, str(error),
                       error if isinstance(error, ChatFailure) else None)  # fmt: skip
        except Exception:
            log.exception("reply %s failed", stream.message_id)
            await fail("failed", "internal", INTERNAL_ERROR)
        finally:
            self.active.pop(stream.message_id, None)

    async def _start_turn(self, stream: ActiveStream, emit: Emit, writer: MessageWriter) -> Turn:
        agent, provider, model, history = await self._context(
            stream.conversation_id, stream.message_id
        )
        if not model:
            raise ChatFailure(
                f"Choose a model for {agent.name} or a default model for {provider.name}.",
                "no_model",
                agent=agent.name,
                provider=provider.name,
            )
        if any(m.images for m in history):
            sees = await vision.model_sees(self._http, provider.kind, provider.base_url, model)
            history = _images_for(model, sees, history)
        await safe_emit(emit, MessageStarted(conversation_id=stream.conversation_id,
                                             message_id=stream.message_id, model=model))  # fmt: skip
        writer.model = model
        writer.start()
        turn = Turn(
            db=self._db, stream=stream, emit_raw=emit, writer=writer, agent=agent,
            client=providers_service.client_for(provider, self._http), model=model, tools=[],
            workspaces=self._workspaces, workspace_hooks=self.workspace_hooks,
            limits=self.settings.limits, history=history, audit=self.audit,
        )  # fmt: skip
        if self.traces is not None:
            kind = stream.options.kind or ("plan" if agent.mode == "plan" else "chat")
            info = RunInfo(new_run_id(), kind,
                           stream.conversation_id, stream.message_id, agent.id, agent.name,
                           provider.name, provider.kind, model)  # fmt: skip
            turn.trace = self.traces.begin(info, turn.client._headers())
        turn.tools = await self._tools(turn)
        await context_setup.prepare(turn, provider.kind, self.settings.context_tokens)
        if self.skills is not None:
            await skills_runtime.equip(turn, self.skills)  # names in the prompt, skill tools
        await ground(turn, self.knowledge)  # agents with knowledge bases get cited sources
        taint_from_inputs(turn)
        return turn

    async def _tools(self, turn: Turn) -> list[Tool]:
        """Built-ins plus the tools of the agent's MCP servers. A server that cannot start costs
        its tools for this reply, with a notice; the reply itself goes on."""
        tools = tools_for(turn.agent.tools)
        prefix = mcp_servers.AGENT_REF
        names = [t.removeprefix(prefix) for t in turn.agent.tools if t.startswith(prefix)]
        if not names:
            return tools
        async with self._db.session() as session:
            servers = await mcp_servers.servers_named(session, names)
        mcp_tools, errors = await self._mcp.tools_for(servers)
        for error in errors:
            notice = NoticePart(text=error, code="mcp_unavailable", params={"error": error})
            turn.writer.add_part(notice)
            await turn.emit(NoticeFrame(**turn.ids, **dict(notice)))
        return tools + mcp_tools

    async def _context(
        self, conversation_id: str, message_id: str
    ) -> tuple[Agent, Provider, str | None, list[ChatMessage]]:
        async with self._db.session() as session:
            conversation = await get_conversation(session, conversation_id)
            choice = await model_choice.choose(session, conversation.agent_id, conversation.model)
            agent, provider = choice.agent, choice.provider
            if provider is None:
                raise ChatFailure(
                    "No model provider is set up yet. Add one in Settings → Providers.",
                    "no_provider",
                )
            rows = await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.id != message_id)
                .order_by(Message.seq)
            )
            history = [ChatMessage("system", agent.system_prompt)] if agent.system_prompt else []
            for row in rows:
                if row.role == "user":
                    # Attached files travel with the message they were attached to.
                    text = attachments.for_model(row.content, row.parts)
                    urls = attachments.images_for_model(self.settings.attachments_dir, row.parts)
                    history.append(ChatMessage("user", text, images=urls, ref=row.id))
                elif row.content and row.status in ("completed", "interrupted"):
                    history.append(ChatMessage(row.role, row.content, ref=row.id))  # type: ignore[arg-type]
            return agent, provider, choice.model, history


def _images_for(model: str, sees: bool, history: list[ChatMessage]) -> list[ChatMessage]:
    """A model known to be text-only (providers/vision.py) is never sent an image: asked about
    one just attached it fails with `no_vision`; older images are left out of its history."""
    if sees:
        return history
    last_user = next((m for m in reversed(history) if m.role == "user"), None)
    if last_user is not None and last_user.images:
        raise ChatFailure(f"{model} cannot read images: choose a model that can, or send the "
                          "message without them.", "no_vision", model=model)  # fmt: skip
    return [replace(m, images=[]) for m in history]
