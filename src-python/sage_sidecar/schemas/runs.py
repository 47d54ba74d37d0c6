"""Runs and traces at the API (services/traces): what a reply did, step by step, and its cost."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from sage_sidecar.schemas.timestamps import UtcDateTime

RunKind = Literal["chat", "plan", "task"]
RunStatus = Literal["running", "completed", "failed", "interrupted"]


class Totals(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = Field(
        description="Estimated; null when no token was priced. Partial when `unpriced_models`."
    )
    unpriced_models: list[str] = Field(
        description="Models that have no price: their cost is unknown"
    )


class StepOut(BaseModel):
    id: int
    seq: int
    kind: Literal["model", "tool"]
    purpose: str = Field(
        description="answer | plan | self_check | title | summary (model steps), tool"
    )
    name: str = Field(description="The model id or the tool name")
    started_at: UtcDateTime
    offset_ms: int = Field(description="Start, from the run's start")
    duration_ms: int
    ttft_ms: int | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    error: str | None
    detail: dict[str, Any] = Field(
        description="Model steps: provider, finish_reason, request_messages, request_tokens "
        "(estimated), request (the redacted messages and tools sent), headers (values redacted), "
        "output, tool_calls. Tool steps: call_id, arguments, result, result_chars, is_error, "
        "approval (not_needed | preapproved | approve | always | deny | timeout)."
    )


class RunSummary(BaseModel):
    id: str
    kind: RunKind
    status: RunStatus
    conversation_id: str | None
    message_id: str | None
    agent_id: str | None
    agent_name: str
    provider_name: str
    provider_kind: str
    model: str
    error: str | None
    started_at: UtcDateTime
    ended_at: UtcDateTime | None
    duration_ms: int | None
    step_count: int
    totals: Totals


class RunTrace(RunSummary):
    steps: list[StepOut]


class ConversationRuns(BaseModel):
    runs: list[RunSummary]
    totals: Totals


class DailyUsage(BaseModel):
    day: str = Field(description="YYYY-MM-DD, UTC")
    agent_id: str | None
    agent_name: str
    runs: int
    totals: Totals


class PriceOut(BaseModel):
    model: str
    input_per_mtok: float = Field(description="USD per million input tokens")
    output_per_mtok: float = Field(description="USD per million output tokens")
    source: Literal["default", "user", "local"]


class PriceIn(BaseModel):
    model: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]*$")
    input_per_mtok: float = Field(ge=0, le=100_000)
    output_per_mtok: float = Field(ge=0, le=100_000)


class TraceSettings(BaseModel):
    retention_days: int = Field(ge=1, le=3650, description="Traces older than this are pruned")


class ReplayStep(BaseModel):
    seq: int
    purpose: str
    sent: dict[str, Any] = Field(description="The request the scripted provider received")
    output: str
    tool_calls: list[dict[str, Any]]


class ReplayOut(BaseModel):
    run_id: str
    steps: list[ReplayStep]


def duration_ms(started: datetime, ended: datetime | None) -> int | None:
    return None if ended is None else max(0, round((ended - started).total_seconds() * 1000))
