"""What a message keeps beside its text, in its JSON columns: `parts` (tool calls and results,
notices, the plan, attached files), `citations` and `usage`. The same models travel in frames, so
a reply replayed from the database looks exactly like the one that streamed."""

from typing import Annotated, Literal

from pydantic import Field

from sage_sidecar.schemas.protocol.base import ProtocolModel

# Codes of what the sidecar tells the user, translated by the UI (locales `chat.code.*`); the
# English `text`/`error` beside them is the fallback and what older rows have.
# `rate_limited` and `provider_retry`: a model call failed before its first token and is tried
# again in `seconds` (turn.py).
NoticeCode = Literal[
    "mcp_unavailable", "knowledge_search_failed", "rate_limited", "provider_retry",
    "workspace_full", "workspace_over_quota",
]  # fmt: skip
FailureCode = Literal["no_provider", "no_model", "tool_steps", "no_vision", "budget_exceeded"]
FailureReason = Literal[
    "auth", "rate_limit", "server", "unreachable", "timeout", "bad_url", "bad_response",
    "dropped", "bad_request", "setup", "cancelled", "internal", "app_stopped",
]  # fmt: skip
PlanStepStatus = Literal["pending", "running", "done", "failed"]


class Usage(ProtocolModel):
    """Tokens of a reply, summed over its model calls (hidden ones included)."""

    prompt_tokens: int
    completion_tokens: int


class Failure(ProtocolModel):
    """Why a reply failed, kept on the message (`failure`) so a reload translates it too."""

    reason: FailureReason
    code: FailureCode | None = None  # a setup problem the UI words itself
    params: dict[str, str] = {}


class Citation(ProtocolModel):
    """One numbered source behind a `[n]` marker of a reply (knowledge/citations.py)."""

    number: int
    chunk_id: int
    kb_id: str
    file_id: str
    file_name: str
    heading: str | None
    page: int | None
    char_start: int
    char_end: int
    snippet: str
    score: float


class ToolCallPart(ProtocolModel):
    type: Literal["tool_call"] = "tool_call"
    id: str
    name: str
    arguments: str  # JSON text, as the model wrote it


class ToolResultPart(ProtocolModel):
    type: Literal["tool_result"] = "tool_result"
    id: str  # the call's id
    name: str
    content: str
    is_error: bool
    duration_ms: int


class NoticePart(ProtocolModel):
    type: Literal["notice"] = "notice"
    text: str
    code: NoticeCode | None = None
    params: dict[str, str] = {}


class PlanStep(ProtocolModel):
    index: int
    title: str
    status: PlanStepStatus
    error: str | None = None  # why a `failed` step failed
    error_code: FailureCode | None = None
    error_params: dict[str, str] = {}
    corrective: bool = False  # added by the self-check


class PlanCheck(ProtocolModel):
    ok: bool
    fix: str | None  # the corrective step, when the check failed


class PlanPart(ProtocolModel):
    type: Literal["plan"] = "plan"
    steps: list[PlanStep]
    check: PlanCheck | None = None


class AttachmentPart(ProtocolModel):
    """A file attached to a user message; its text went to the model with it."""

    type: Literal["attachment"] = "attachment"
    id: str
    name: str
    size: int
    chars: int
    truncated: bool
    text: str = ""


class ImagePart(ProtocolModel):
    """An image attached to a user message, stored (downscaled) as
    `<storage>/attachments/<id><suffix>`; sent to models that take images."""

    type: Literal["image"] = "image"
    id: str
    name: str
    size: int  # bytes as stored
    mime: str
    width: int
    height: int


class ContextPart(ProtocolModel):
    """The history was cut to fit the model's context window for this reply: `messages` earlier
    messages were left out (`dropped`) or replaced by a summary (`summarised`), and/or a message
    too big on its own was shortened (`truncated`). Shown where the cut is: before `keptFrom`,
    the first stored message still sent (services/context)."""

    type: Literal["context"] = "context"
    action: Literal["dropped", "summarised"]
    messages: int
    kept_from: str | None = None
    truncated: bool = False
    window: int  # the model's context window, in tokens
    summary: str | None = None  # what the model was given instead of the left-out messages
    covers: str | None = None  # a digest of the summarised messages: the summary cache's key


class ReasoningPart(ProtocolModel):
    """A model's thinking before (or between) its answers: shown collapsed, never sent back to
    the model, exported or used for titles. One part per model call that thought."""

    type: Literal["reasoning"] = "reasoning"
    text: str
    duration_ms: int  # from its first piece to its last


MessagePart = Annotated[
    ToolCallPart
    | ToolResultPart
    | NoticePart
    | PlanPart
    | AttachmentPart
    | ImagePart
    | ReasoningPart
    | ContextPart,
    Field(discriminator="type"),
]
