"""Restore from an "export everything" zip (services/restore.py) at the API boundary."""

from pydantic import BaseModel, Field


class RestoreStaged(BaseModel):
    """The backup is checked and unpacked; it replaces the current data at the next start."""

    files: int
    bytes: int
    schema_revision: str | None
    created_at: str | None = Field(description="When the backup was made (from its manifest)")
    app_version: str | None
    conversations: int
    agents: int


class RestoreStatus(BaseModel):
    pending: bool = Field(description="A checked backup waits for the next start")
