"""Frames the sidecar sends on `/ws/chat` (docs/protocol.md). Reply frames carry the ids of their
conversation and message; `chat.accepted` and `error` answer a client frame (its `requestId`)."""

from typing import Annotated, Any, Literal

from pydantic import Field

from sage_sidecar.schemas.protocol.base import ProtocolModel
from sage_sidecar.schemas.protocol.parts import (
    Citation,
    ContextPart,
    FailureCode,
    FailureReason,
    NoticeCode,
    PlanStep,
    PlanStepStatus,
    Usage,
)


class AuthOk(ProtocolModel):
    """The answer to a good `auth` frame, on both sockets."""

    type: Literal["auth.ok"] = "auth.ok"


class ReplyFrame(ProtocolModel):
    conversation_id: str
    message_id: str


class ChatAccepted(ProtocolModel):
    type: Literal["chat.accepted"] = "chat.accepted"
    request_id: str | None = None
    conversation_id: str
    message_id: str  # the reply that starts
    user_message_id: str | None = None  # send and edit


class MessageStarted(ReplyFrame):
    type: Literal["message.started"] = "message.started"
    model: str


class CitationsFrame(ReplyFrame):
    type: Literal["citations"] = "citations"
    citations: list[Citation]


class MessageDelta(ReplyFrame):
    type: Literal["message.delta"] = "message.delta"
    delta: str


class ReasoningDeltaFrame(ReplyFrame):
    """A piece of the model's thinking. `started` says it opens a new reasoning part (a new model
    call); `durationMs` is the thinking's time so far."""

    type: Literal["reasoning.delta"] = "reasoning.delta"
    delta: str
    started: bool
    duration_ms: int


class ToolCallFrame(ReplyFrame):
    type: Literal["tool.call"] = "tool.call"
    call_id: str
    name: str
    arguments: str


# Why a call asks although it might not have: `domain` — fetch_url to a host the agent's limits
# neither allow nor refuse (params: domain); `tainted` — the reply has read untrusted content and
# now wants to write files or run code, so a standing "always" does not apply (params: source).
ApprovalReason = Literal["domain", "tainted"]
TaintSource = Literal["fetched_page", "mcp_result", "attachment", "knowledge"]


class ToolApprovalRequired(ReplyFrame):
    type: Literal["tool.approval_required"] = "tool.approval_required"
    call_id: str
    name: str
    arguments: str
    timeout_s: float
    reason: ApprovalReason | None = None  # None: the tool always asks (writes, runs code, MCP)
    reason_params: dict[str, str] = {}


class ToolResultFrame(ReplyFrame):
    type: Literal["tool.result"] = "tool.result"
    call_id: str
    name: str
    content: str
    is_error: bool
    duration_ms: int


class NoticeFrame(ReplyFrame):
    type: Literal["notice"] = "notice"
    text: str
    code: NoticeCode | None = None
    params: dict[str, str] = {}


class ContextTrimmedFrame(ReplyFrame):
    """The history was cut to fit the model's context window (a `ContextPart`, kept on the reply;
    sent again when a later step of the same reply cuts more)."""

    type: Literal["context.trimmed"] = "context.trimmed"
    part: ContextPart


class PlanCreated(ReplyFrame):
    type: Literal["plan.created"] = "plan.created"
    steps: list[PlanStep]


class PlanStepFrame(ReplyFrame):
    type: Literal["plan.step"] = "plan.step"
    index: int
    title: str
    status: PlanStepStatus
    error: str | None = None
    error_code: FailureCode | None = None
    error_params: dict[str, str] = {}
    corrective: bool = False

    @classmethod
    def of(cls, step: PlanStep, conversation_id: str, message_id: str) -> "PlanStepFrame":
        return cls(conversation_id=conversation_id, message_id=message_id, **dict(step))


class PlanCheckFrame(ReplyFrame):
    type: Literal["plan.check"] = "plan.check"
    ok: bool
    fix: str | None


class ConversationTitled(ReplyFrame):
    type: Literal["conversation.titled"] = "conversation.titled"
    title: str


class UsageFrame(ReplyFrame):
    type: Literal["usage"] = "usage"
    prompt_tokens: int
    completion_tokens: int


class MessageCompleted(ReplyFrame):
    type: Literal["message.completed"] = "message.completed"
    status: Literal["completed"] = "completed"
    content: str
    usage: Usage
    duration_ms: int


class MessageFailed(ReplyFrame):
    type: Literal["message.failed"] = "message.failed"
    status: Literal["failed", "interrupted"]
    reason: FailureReason
    error: str  # readable English; `code` (when set) is what the UI translates
    code: FailureCode | None = None
    params: dict[str, str] = {}
    content: str  # the text that did arrive, also saved


class ErrorFrame(ProtocolModel):
    """A bad client frame: nothing was started. `code` and `params` are a domain error's
    (core/errors.py), which the UI translates like an HTTP error's; `error` is the English."""

    type: Literal["error"] = "error"
    request_id: str | None = None
    error: str
    code: str | None = None
    params: dict[str, Any] = {}


ServerChatFrame = Annotated[
    ChatAccepted
    | MessageStarted
    | CitationsFrame
    | MessageDelta
    | ReasoningDeltaFrame
    | ToolCallFrame
    | ToolApprovalRequired
    | ToolResultFrame
    | NoticeFrame
    | ContextTrimmedFrame
    | PlanCreated
    | PlanStepFrame
    | PlanCheckFrame
    | ConversationTitled
    | UsageFrame
    | MessageCompleted
    | MessageFailed
    | ErrorFrame,
    Field(discriminator="type"),
]
