import logging
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from sage_sidecar.schemas.model_params import ModelParams
from sage_sidecar.schemas.protocol.base import dump
from sage_sidecar.schemas.protocol.parts import Citation, Failure, MessagePart, Usage
from sage_sidecar.schemas.timestamps import UtcDateTime

log = logging.getLogger(__name__)


class ConversationCreate(BaseModel):
    agent_id: str | None = None  # the default agent when omitted
    title: str | None = Field(default=None, min_length=1, max_length=300)


class ConversationUpdate(BaseModel):
    """Omitted fields stay as they are; `model: null` goes back to the agent's model."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    model: str | None = Field(default=None, min_length=1, max_length=200)
    # The whole override at once (`{}` or null: the agent's parameters again).
    model_params: ModelParams | None = None


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    agent_id: str | None
    title: str
    model: str | None = None
    model_params: ModelParams = ModelParams()  # only what the conversation sets over its agent
    created_at: UtcDateTime
    updated_at: UtcDateTime


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    conversation_id: str
    seq: int
    role: str
    content: str
    # JSON columns: camelCase inside, like the frames that streamed them (schemas/protocol).
    parts: list[MessagePart]
    status: Literal["streaming", "completed", "interrupted", "failed"]
    error: str | None
    failure: Failure | None = None  # why it failed, for the UI to translate (`error` is English)
    model: str | None
    usage: Usage | None
    citations: list[Citation] | None = None  # the numbered sources behind [n] markers
    created_at: UtcDateTime
    first_token_at: UtcDateTime | None
    completed_at: UtcDateTime | None

    # A JSON column this version cannot read (a newer version wrote it, or an imported file
    # did) is left in the row but not shown, rather than failing the whole conversation.
    @field_validator("parts", mode="before")
    @classmethod
    def _readable_parts(cls, parts: Any) -> Any:
        return _readable(parts, _PARTS) if isinstance(parts, list) else parts

    @field_validator("citations", mode="before")
    @classmethod
    def _readable_citations(cls, citations: Any) -> Any:
        return _readable(citations, _CITATIONS) if isinstance(citations, list) else citations

    @field_validator("usage", mode="before")
    @classmethod
    def _readable_usage(cls, usage: Any) -> Any:
        return usage if usage is None or _readable([usage], _USAGE) else None

    @field_validator("failure", mode="before")
    @classmethod
    def _readable_failure(cls, failure: Any) -> Any:
        return failure if failure is None or _readable([failure], _FAILURE) else None


_PARTS: TypeAdapter[Any] = TypeAdapter(MessagePart)
_CITATIONS: TypeAdapter[Any] = TypeAdapter(Citation)
_USAGE: TypeAdapter[Any] = TypeAdapter(Usage)
_FAILURE: TypeAdapter[Any] = TypeAdapter(Failure)


def _readable(items: list[Any], adapter: TypeAdapter[Any]) -> list[Any]:
    readable = []
    for item in items:
        try:
            adapter.validate_python(item)
        except ValidationError:
            log.warning("a stored JSON value this version cannot read is not shown: %.200r", item)
            continue
        readable.append(item)
    return readable


class SearchHit(BaseModel):
    conversation_id: str
    title: str
    message_id: str | None  # None when the title matched
    snippet: str


class ExportedMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=2_000_000)
    parts: list[dict[str, Any]] = []
    status: Literal["completed", "interrupted", "failed", "streaming"] = "completed"
    error: str | None = None
    failure: dict[str, Any] | None = None  # reason, code, params: see MessageOut
    model: str | None = None
    usage: dict[str, Any] | None = None
    citations: list[dict[str, Any]] | None = None  # knowledge-base sources behind [n] markers
    created_at: UtcDateTime | None = None

    @field_validator("usage", mode="before")
    @classmethod
    def _camel_usage(cls, usage: Any) -> Any:
        """Exports written before frames were camelCase carry `prompt_tokens`: store the new
        shape. Anything unreadable is kept as it came."""
        if not isinstance(usage, dict):
            return usage
        try:
            return dump(Usage.model_validate(usage))
        except ValidationError:
            return usage


class ConversationExport(BaseModel):
    format: Literal["sage.conversation.v1"] = "sage.conversation.v1"
    # The conversation's id where it was exported: a re-import of the same file skips it.
    id: str | None = Field(default=None, min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None
    messages: list[ExportedMessage] = Field(max_length=100_000)


class ModelChoiceOut(BaseModel):
    """Who answers next: the agent, its provider and model, as the chat engine will pick them."""

    agent_id: str
    provider_id: str | None  # None: no provider is set up yet
    provider_name: str | None
    model: str | None  # None: no model is named anywhere, so a reply would fail
    default_model: str | None  # the model without the conversation's own pick
