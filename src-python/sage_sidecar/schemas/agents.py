import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sage_sidecar.schemas.capabilities import Capabilities
from sage_sidecar.schemas.model_params import (
    MAX_STOP,
    SEED_MAX,
    ContextPolicy,
    ReasoningEffort,
    StopSequence,
    unique_stops,
)
from sage_sidecar.schemas.timestamps import UtcDateTime

EXPORT_FORMAT: Literal["sage.agent.v1"] = "sage.agent.v1"


MCP_REF = re.compile(r"^mcp:[a-z0-9][a-z0-9-]{0,39}$")  # all tools of one MCP server


def _unique_tools(names: list[str] | None) -> list[str] | None:
    # Whether each name is a tool is the service's check (services/agents.py): it knows the tools.
    return None if names is None else list(dict.fromkeys(names))


class AgentFields(BaseModel):
    """What a user sets."""

    name: str = Field(min_length=1, max_length=200)
    avatar: str = Field(default="🌿", max_length=32)
    system_prompt: str = Field(default="", max_length=100_000)
    model: str | None = Field(default=None, max_length=200)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: list[StopSequence] = Field(default=[], max_length=MAX_STOP)
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)
    # Sent only where the provider and model take it (providers/params.py).
    reasoning_effort: ReasoningEffort | None = None
    # When the history outgrows the model's context window (services/context).
    context_policy: ContextPolicy = "drop"
    tools: list[str] = []
    mode: Literal["chat", "plan"] = "chat"
    # Enforced by the tool layer (tools/policy.py): where it may write, what it may fetch, code.
    capabilities: Capabilities = Capabilities()

    _check_tools = field_validator("tools")(classmethod(lambda cls, v: _unique_tools(v)))
    _unique_stops = field_validator("stop")(classmethod(lambda cls, v: unique_stops(v)))


def _unique(ids: list[str] | None) -> list[str] | None:
    return None if ids is None else list(dict.fromkeys(ids))


class AgentCreate(AgentFields):
    provider_id: str | None = None
    # Knowledge bases the agent searches before answering, citing what it used. Per machine,
    # like the provider: not part of an export.
    knowledge_base_ids: list[str] = Field(default=[], max_length=50)

    _unique_kbs = field_validator("knowledge_base_ids")(classmethod(lambda cls, v: _unique(v)))


class AgentUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    avatar: str | None = Field(default=None, max_length=32)
    system_prompt: str | None = Field(default=None, max_length=100_000)
    provider_id: str | None = None
    model: str | None = Field(default=None, max_length=200)
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1, le=1_000_000)
    top_p: float | None = Field(default=None, gt=0, le=1)
    stop: list[StopSequence] | None = Field(default=None, max_length=MAX_STOP)
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)
    reasoning_effort: ReasoningEffort | None = None
    context_policy: ContextPolicy | None = None
    tools: list[str] | None = None
    mode: Literal["chat", "plan"] | None = None
    knowledge_base_ids: list[str] | None = Field(default=None, max_length=50)
    capabilities: Capabilities | None = None

    _check_tools = field_validator("tools")(classmethod(lambda cls, v: _unique_tools(v)))
    _unique_kbs = field_validator("knowledge_base_ids")(classmethod(lambda cls, v: _unique(v)))
    _unique_stops = field_validator("stop")(classmethod(lambda cls, v: unique_stops(v)))


class AgentOut(AgentFields):
    model_config = ConfigDict(from_attributes=True)

    id: str
    provider_id: str | None
    knowledge_base_ids: list[str]
    is_default: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime


class ApprovalOut(BaseModel):
    """A standing "always": the tool, what it covers (scope: "builtin", "mcp:<server identity>"
    or "domain:<host>") and when it was given."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    tool: str
    scope: str
    granted_at: UtcDateTime


class AgentExport(BaseModel):
    """A portable agent: no ids, no provider link (providers hold secrets and are per machine)."""

    format: Literal["sage.agent.v1"] = EXPORT_FORMAT
    agent: AgentFields
