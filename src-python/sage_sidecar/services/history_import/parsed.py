"""What every format's parser produces: plain conversations, ready to store or count."""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

Source = Literal["chatgpt", "claude", "sage"]
Role = Literal["user", "assistant"]
TITLE_LIMIT = 300  # conversations.title


@dataclass
class ParsedMessage:
    role: Role
    content: str
    created_at: datetime | None = None
    # Sage's own export carries more (parts, status, usage…): stored as they came.
    extra: dict[str, object] = field(default_factory=dict)


@dataclass
class ParsedConversation:
    source: Source
    source_id: str  # the other app's id: what makes a re-import skip instead of duplicating
    title: str
    messages: list[ParsedMessage]
    created_at: datetime | None = None
    updated_at: datetime | None = None
    skipped_messages: int = 0  # system, tool, hidden or empty messages left out
    branches_left_out: int = 0  # ChatGPT: edited/regenerated branches off the imported path

    @property
    def conversation_id(self) -> str:
        """The same source conversation always gets the same id here (32 hex, like new_id)."""
        return hashlib.sha256(f"import:{self.source}:{self.source_id}".encode()).hexdigest()[:32]


def short_title(title: str | None, fallback: str = "Imported chat") -> str:
    text = " ".join((title or "").split())
    return (text or fallback)[:TITLE_LIMIT]


def from_epoch(value: float | None) -> datetime | None:
    """ChatGPT's float seconds; out-of-range values are dropped, not an error."""
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def merge_turns(messages: list[ParsedMessage]) -> list[ParsedMessage]:
    """One message per turn: ChatGPT splits a reply that ran code into several assistant
    messages, and a left-out message can leave two of one role in a row. Providers expect turns
    to alternate, and the other app showed them as one."""
    merged: list[ParsedMessage] = []
    for message in messages:
        if merged and merged[-1].role == message.role:
            merged[-1].content = f"{merged[-1].content}\n\n{message.content}"
        else:
            merged.append(message)
    return merged
