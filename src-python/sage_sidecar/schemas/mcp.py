from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sage_sidecar.schemas.timestamps import UtcDateTime

# What a process or an HTTP request can carry: no NUL in a command, an argument or the environment
# (the OS cannot pass one); header names are HTTP tokens and values printable ASCII.
Text = Annotated[str, Field(pattern=r"^[^\x00]*$")]
EnvName = Annotated[str, Field(pattern=r"^[^\x00=]+$")]
HeaderName = Annotated[str, Field(pattern=r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
HeaderValue = Annotated[str, Field(pattern=r"^[\x20-\x7e]*$")]
Command = Field(default=None, min_length=1, max_length=2000, pattern=r"^[^\x00]*$")
# Tool names become `mcp__<server>__<tool>`; providers allow [A-Za-z0-9_-] up to 64 characters.
ServerName = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")


class McpServerCreate(BaseModel):
    name: str = ServerName
    transport: Literal["stdio", "http"]
    command: str | None = Command
    args: list[Text] = []
    env: dict[EnvName, Text] = {}
    url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2000)
    headers: dict[HeaderName, HeaderValue] = {}
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
    command: str | None = Command
    args: list[Text] | None = None
    env: dict[EnvName, Text] | None = None
    url: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=2000)
    headers: dict[HeaderName, HeaderValue] | None = None
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
    created_at: UtcDateTime
    updated_at: UtcDateTime


class McpToolOut(BaseModel):
    name: str  # namespaced: mcp__<server>__<tool>
    description: str
    input_schema: dict[str, Any]


class McpToolList(BaseModel):
    ok: bool
    error: str | None = None  # the raw (redacted) detail, shown behind "Details"
    code: str | None = None  # why, in words: `mcp.start.*` (services/mcp_start_errors.py)
    params: dict[str, Any] = {}
    tools: list[McpToolOut] = []
