"""What an import of another app's history found (a preview) or did."""

from typing import Literal

from pydantic import BaseModel, Field


class ImportedItem(BaseModel):
    id: str | None = Field(description="The conversation's id here (None for an empty one)")
    title: str
    messages: int = Field(description="Its messages in the file (the imported branch)")
    added: int = Field(
        description="Messages this import adds (all of a new one's, an update's new)"
    )
    skipped_messages: int = Field(description="System, tool, hidden or empty messages left out")
    branches_left_out: int = Field(description="ChatGPT: branches off the one imported")
    # `updated`: imported before, and the file has more of it now (the chat went on there): the
    # new messages are added. `already_imported`: nothing new, or it changed here since.
    outcome: Literal["new", "updated", "already_imported", "empty"]


class ImportReport(BaseModel):
    source: Literal["chatgpt", "claude", "sage"] | None
    dry_run: bool
    agent_id: str = Field(description="The agent the conversations are (or would be) given to")
    conversations: int = Field(description="New conversations imported (or to import)")
    updated: int = Field(description="Conversations imported before that get new messages")
    messages: int = Field(description="Messages added, to new and updated conversations")
    skipped: int = Field(description="Conversations skipped: already imported, or empty")
    skipped_messages: int
    branches_left_out: int
    items: list[ImportedItem]
