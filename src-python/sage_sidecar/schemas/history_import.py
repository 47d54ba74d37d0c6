"""What an import of another app's history found (a preview) or did."""

from typing import Literal

from pydantic import BaseModel, Field


class ImportedItem(BaseModel):
    id: str | None = Field(description="The conversation's id here (None for an empty one)")
    title: str
    messages: int
    skipped_messages: int = Field(description="System, tool, hidden or empty messages left out")
    branches_left_out: int = Field(description="ChatGPT: branches off the one imported")
    outcome: Literal["new", "already_imported", "empty"]


class ImportReport(BaseModel):
    source: Literal["chatgpt", "claude", "sage"] | None
    dry_run: bool
    agent_id: str = Field(description="The agent the conversations are (or would be) given to")
    conversations: int = Field(description="New conversations imported (or to import)")
    messages: int = Field(description="Their messages")
    skipped: int = Field(description="Conversations skipped: already imported, or empty")
    skipped_messages: int
    branches_left_out: int
    items: list[ImportedItem]
