"""Provider-neutral types: what the chat engine sends and the stream events it gets back."""

import json
from dataclasses import dataclass, field
from typing import Any, Literal

ErrorKind = Literal[
    "auth", "rate_limit", "server", "unreachable", "timeout", "bad_url", "bad_response",
    "dropped", "bad_request",
]  # fmt: skip

# Before the first token these are worth another try; after it, never (the user saw text). A
# stream that ends or breaks before any text is `dropped`, and as worth retrying as a timeout.
RETRYABLE: frozenset[ErrorKind] = frozenset(
    {"rate_limit", "server", "unreachable", "timeout", "dropped"}
)
# The longest wait a server's Retry-After can ask for that Sage sits through (the user watches a
# "retrying in N s" notice); asked for longer, the reply fails at once and says how long.
MAX_RETRY_AFTER_S = 30.0

_HUMAN = {
    "auth": "The provider refused the API key",
    "rate_limit": "The provider is rate-limiting requests (HTTP 429)",
    "server": "The provider had a server error",
    "unreachable": "Cannot reach the provider",
    "timeout": "The provider did not answer in time",
    "bad_url": "The provider URL looks wrong (nothing answers there)",
    "bad_response": "The provider sent a response Sage cannot read",
    "dropped": "The connection to the provider dropped mid-answer",
    "bad_request": "The provider rejected the request",
}


class ProviderError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        detail: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.kind = kind
        self.status = status
        self.detail = detail
        self.retry_after = retry_after  # seconds, from the response's Retry-After (429 and 503)
        message = _HUMAN[kind]
        if status:
            message += f" (HTTP {status})" if f"HTTP {status}" not in message else ""
        if detail:
            message += f": {detail}"
        super().__init__(message)

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    def retry_wait(self, backoff: float) -> float | None:
        """How long to wait before the next try: what the server asked for, else Sage's own
        backoff; None when the server asks for more than MAX_RETRY_AFTER_S (do not retry)."""
        if self.retry_after is None:
            return backoff
        return self.retry_after if self.retry_after <= MAX_RETRY_AFTER_S else None


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str  # JSON text, as models produce it

    def parsed_arguments(self) -> dict[str, Any]:
        try:
            value = json.loads(self.arguments or "{}")
        except json.JSONDecodeError as error:
            raise ValueError(f"arguments are not valid JSON: {error}") from error
        if not isinstance(value, dict):
            raise ValueError("arguments must be a JSON object")
        return value


@dataclass
class ChatMessage:
    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    tool_call_id: str | None = None
    images: list[str] = field(default_factory=list)  # data URLs (user messages)
    ref: str | None = None  # the stored message it came from (the context-cut marker names it)
    # Blocks the provider wants back verbatim with this assistant message within one tool loop
    # (Anthropic's thinking blocks and their signatures); never stored.
    echo: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass
class ChatRequest:
    model: str
    messages: list[ChatMessage]
    tools: list[ToolSpec] = field(default_factory=list)
    temperature: float | None = None
    max_tokens: int | None = None
    # Each left out of the request when None; the client sends only what its API takes.
    top_p: float | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    reasoning_effort: str | None = None  # minimal | low | medium | high (providers/params.py)


# Stream events --------------------------------------------------------------------------------


@dataclass
class TextDelta:
    text: str


@dataclass
class ReasoningDelta:
    """The model's thinking (`reasoning_content`, Anthropic thinking, `<think>` text): shown
    apart from the answer, never part of it."""

    text: str


@dataclass
class ToolCalls:
    """All tool calls of one model turn, assembled from the stream's fragments."""

    calls: list[ToolCall]
    echo: list[dict[str, Any]] = field(default_factory=list)  # see ChatMessage.echo


@dataclass
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass
class Finish:
    """Why the model stopped (`stop`, `tool_calls`, `end_turn`, `length`…), as the API says it."""

    reason: str


StreamEvent = TextDelta | ReasoningDelta | ToolCalls | Usage | Finish
