"""ORM models: the data model of the agent platform (documented in docs/data-model.md)."""

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sage_sidecar.storage import secrets


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class AppMeta(Base):
    """Small key/value facts about this data dir (first start, last start, app version)."""

    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow, nullable=False
    )


class Provider(Timestamped, Base):
    """An LLM endpoint. `api_key` is write-only at the API boundary and never logged."""

    __tablename__ = "providers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))  # openai | ollama | lmstudio | anthropic
    base_url: Mapped[str] = mapped_column(String(2000))
    # Encrypted with the keychain-held key (storage/secrets.py); plaintext only in memory.
    api_key: Mapped[str | None] = mapped_column(secrets.SecretText(secrets.PROVIDER_KEY))
    default_model: Mapped[str | None] = mapped_column(String(200), default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)


class Agent(Timestamped, Base):
    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    avatar: Mapped[str] = mapped_column(String(32), default="🌿")
    system_prompt: Mapped[str] = mapped_column(Text, default="")
    provider_id: Mapped[str | None] = mapped_column(
        ForeignKey("providers.id", ondelete="SET NULL"), default=None
    )
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    temperature: Mapped[float | None] = mapped_column(Float, default=None)
    max_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    # The other model parameters (0013); None / [] leaves each to the provider's default.
    top_p: Mapped[float | None] = mapped_column(Float, default=None)
    seed: Mapped[int | None] = mapped_column(BigInteger, default=None)
    stop: Mapped[list[Any]] = mapped_column(default=list)
    reasoning_effort: Mapped[str | None] = mapped_column(String(16), default=None)
    # When the history outgrows the model's context window: drop | summarise (services/context).
    context_policy: Mapped[str] = mapped_column(String(16), default="drop")
    tools: Mapped[list[Any]] = mapped_column(default=list)
    # Legacy (before 0011): standing approvals are rows of tool_approvals now; kept empty.
    approved_tools: Mapped[list[Any]] = mapped_column(default=list)
    # What the tool layer lets this agent do (schemas/capabilities.py; {} = the defaults).
    capabilities: Mapped[dict[str, Any]] = mapped_column(default=dict)
    knowledge_base_ids: Mapped[list[Any]] = mapped_column(default=list)
    mode: Mapped[str] = mapped_column(String(16), default="chat")  # chat | plan
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Conversation(Timestamped, Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agent_id: Mapped[str | None] = mapped_column(
        ForeignKey("agents.id", ondelete="SET NULL"), default=None, index=True
    )
    title: Mapped[str] = mapped_column(String(300), default="New chat")
    # Picked in the composer; None means the agent's model (or its provider's default).
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    # Model parameters set for this conversation over its agent's (schemas/model_params.py).
    model_params: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Message(Base):
    """One turn. `content` is the text; `parts` holds tool calls and results in order."""

    __tablename__ = "messages"
    # One place per seq: concurrent sends must never share one (services/conversations.next_seq).
    __table_args__ = (Index("ux_messages_conversation_seq", "conversation_id", "seq", unique=True),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # order within the conversation
    role: Mapped[str] = mapped_column(String(16))  # user | assistant
    content: Mapped[str] = mapped_column(Text, default="")
    parts: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(16), default="completed")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    # Why a reply failed, as codes the UI translates (schemas/protocol/parts.py `Failure`).
    failure: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    usage: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    # Knowledge-base sources the reply was given, numbered as its [n] markers (knowledge/citations.py).
    citations: Mapped[list[Any] | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    first_token_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class McpServer(Timestamped, Base):
    """A configured MCP server. `env` and `headers` may hold secrets: write-only at the API."""

    __tablename__ = "mcp_servers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # namespace for its tools
    transport: Mapped[str] = mapped_column(String(16))  # stdio | http
    command: Mapped[str | None] = mapped_column(String(2000), default=None)
    args: Mapped[list[Any]] = mapped_column(default=list)
    # The values of env and headers are encrypted (storage/secrets.py), their names are not.
    env: Mapped[dict[str, Any]] = mapped_column(secrets.SecretValues(secrets.MCP_ENV), default=dict)
    url: Mapped[str | None] = mapped_column(String(2000), default=None)
    headers: Mapped[dict[str, Any]] = mapped_column(
        secrets.SecretValues(secrets.MCP_HEADERS), default=dict
    )
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Tools of a trusted server run without asking; otherwise every call needs approval.
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)


class KnowledgeBase(Timestamped, Base):
    """A collection of documents searched together, with one embedder and one chunking setting."""

    __tablename__ = "knowledge_bases"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    embedder: Mapped[str] = mapped_column(String(300))  # an Embedder.id (knowledge/embedders.py)
    embedding_dim: Mapped[int | None] = mapped_column(Integer, default=None)  # known after a vector
    chunk_tokens: Mapped[int] = mapped_column(Integer, default=200)
    chunk_overlap: Mapped[int] = mapped_column(Integer, default=40)
    status: Mapped[str] = mapped_column(String(16), default="ready")  # ready | indexing
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)


class KnowledgeFile(Timestamped, Base):
    """One document in a knowledge base. Its `status` is the ingest queue: queued → parsing →
    embedding → ready | failed (knowledge/ingest.py)."""

    __tablename__ = "knowledge_files"
    __table_args__ = (UniqueConstraint("kb_id", "sha256"),)  # same content twice is a no-op

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kb_id: Mapped[str] = mapped_column(ForeignKey("knowledge_bases.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))  # the sanitised original name, for display
    stored_path: Mapped[str] = mapped_column(String(500))  # relative to the storage dir
    kind: Mapped[str] = mapped_column(String(8))  # txt | md | html | pdf | docx
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    # Ingest runs started; one cut off by a crash counts, so a file that kills the process
    # fails after a few tries instead of crashing every start-up.
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class KnowledgeChunk(Base):
    """A passage of a file. Its integer id is also its id in the vector index, so ids are never
    reused (AUTOINCREMENT): a stale vector can never point at another passage."""

    __tablename__ = "knowledge_chunks"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kb_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_bases.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[str] = mapped_column(
        ForeignKey("knowledge_files.id", ondelete="CASCADE"), index=True
    )
    ordinal: Mapped[int] = mapped_column(Integer)  # order within the file
    text: Mapped[str] = mapped_column(Text)
    heading: Mapped[str | None] = mapped_column(Text, default=None)  # "Intro › Setup"
    page: Mapped[int | None] = mapped_column(Integer, default=None)  # 1-based, PDFs only
    char_start: Mapped[int] = mapped_column(Integer)  # offsets in the parsed text of the file
    char_end: Mapped[int] = mapped_column(Integer)
    token_count: Mapped[int] = mapped_column(Integer)


class Run(Base):
    """One reply of an agent (a chat reply, a plan-mode reply, later a scheduled task's run) and
    the steps it took (services/traces). Written off the streaming path, in batches."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))  # chat | plan | task
    # running, then completed | failed | interrupted
    status: Mapped[str] = mapped_column(String(16), default="running")
    conversation_id: Mapped[str | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), default=None, index=True
    )
    # No foreign key: a regenerated reply's run stays (its tokens were spent) until pruned.
    message_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    agent_id: Mapped[str | None] = mapped_column(String(32), default=None)
    agent_name: Mapped[str] = mapped_column(String(200), default="")
    provider_name: Mapped[str] = mapped_column(String(200), default="")
    provider_kind: Mapped[str] = mapped_column(String(32), default="")
    model: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True
    )
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class RunStep(Base):
    """A model call or a tool call of a run. Kind-specific fields (the redacted request, the tool's
    arguments and result, the approval decision) are in `detail`."""

    __tablename__ = "run_steps"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)  # order of starting within the run
    kind: Mapped[str] = mapped_column(String(8))  # model | tool
    purpose: Mapped[str] = mapped_column(String(16))  # answer | plan | self_check | title | tool
    name: Mapped[str] = mapped_column(String(200))  # the model id or the tool name
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    ttft_ms: Mapped[int | None] = mapped_column(Integer, default=None)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ModelPrice(Base):
    """A price the user set for a model (USD per million tokens); shipped defaults live in code
    (services/traces/prices.py) and are overridden by a row here."""

    __tablename__ = "model_prices"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    input_per_mtok: Mapped[float] = mapped_column(Float)
    output_per_mtok: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )


class ToolApproval(Base):
    """A standing "always" the user gave an agent for one tool. `scope` ties it to what was
    approved: "builtin", an MCP server's identity (a hash of its command and args or its URL,
    services/approvals.py) or a fetch_url domain ("domain:example.com")."""

    __tablename__ = "tool_approvals"
    __table_args__ = (UniqueConstraint("agent_id", "tool", "scope"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    tool: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(300))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEvent(Base):
    """One tool execution or approval decision (services/audit.py). Not tied to other rows by
    foreign keys: the log outlives the agent or conversation it names; pruned by age."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # execution | approval
    agent_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    agent_name: Mapped[str] = mapped_column(String(200), default="")
    conversation_id: Mapped[str | None] = mapped_column(String(32), default=None)
    message_id: Mapped[str | None] = mapped_column(String(32), default=None)
    call_id: Mapped[str] = mapped_column(String(200), default="")
    tool: Mapped[str] = mapped_column(String(200), index=True)
    arguments: Mapped[str] = mapped_column(Text, default="")  # redacted, shortened
    # approve | deny | always | timeout | auto (no approval needed) | refused (capability limit)
    decision: Mapped[str] = mapped_column(String(16), index=True)
    decided_by: Mapped[str] = mapped_column(String(16))  # user | always | trusted | policy | none
    reason: Mapped[str | None] = mapped_column(String(64), default=None)  # a coded why
    status: Mapped[str | None] = mapped_column(String(16), default=None)  # ok | error | refused
    duration_ms: Mapped[int | None] = mapped_column(Integer, default=None)
