from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ConversationCreate(BaseModel):
    agent_id: str | None = None  # the default agent when omitted
    title: str | None = Field(default=None, min_length=1, max_length=300)


class ConversationUpdate(BaseModel):
    title: str = Field(min_length=1, max_length=300)


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    agent_id: str | None
    title: str
    created_at: datetime
    updated_at: datetime


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    conversation_id: str
    seq: int
    role: str
    content: str
    parts: list[dict[str, Any]]
    status: str
    error: str | None
    model: str | None
    usage: dict[str, Any] | None
    created_at: datetime
    first_token_at: datetime | None
    completed_at: datetime | None
