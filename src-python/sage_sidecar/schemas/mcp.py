from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Tool names become `mcp__<server>__<tool>`; providers allow [A-Za-z0-9_-] up to 64 characters.
ServerName = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")


class McpServerCreate(BaseModel):
    name: str = ServerName
    transport: Literal["stdio", "http"]
    command: str | None = Field(default=None, min_length=1, max_length=2000)
    args: list[str] = []
    env: dict[str, str] = {}
    url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2000)
    headers: dict[str, str] = {}
    enabled: bool = True
    trusted: bool = False

    @model_validator(mode="after")
    def _transport_fields(self) -> "McpServerCreate":
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio server needs a command")
        if self.transport == "http" and not self.url:
            raise ValueError("an http server needs a url")
        return self


class McpServerUpdate(BaseModel):
    command: str | None = Field(default=None, min_length=1, max_length=2000)
    args: list[str] | None = None
    env: dict[str, str] | None = None
    url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2000)
    headers: dict[str, str] | None = None
    enabled: bool | None = None
    trusted: bool | None = None


class McpServerOut(BaseModel):
    """Env values and header values are write-only; their names come back."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    transport: str
    command: str | None
    args: list[str]
    env_keys: list[str]
    url: str | None
    header_keys: list[str]
    enabled: bool
    trusted: bool
    created_at: datetime
    updated_at: datetime


class McpToolOut(BaseModel):
    name: str  # namespaced: mcp__<server>__<tool>
    description: str
    input_schema: dict[str, Any]


class McpToolList(BaseModel):
    ok: bool
    error: str | None = None
    tools: list[McpToolOut] = []
