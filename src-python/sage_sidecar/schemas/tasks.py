"""Scheduled tasks at the API: a task, its schedule, its runs, the preview of fire times and the
scheduler's pause switch (services/tasks, docs/tasks.md)."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sage_sidecar.schemas.timestamps import UtcDateTime

TaskRunStatus = Literal[
    "queued", "running", "completed", "failed", "interrupted", "budget_exceeded", "missed",
    "skipped",
]  # fmt: skip
TERMINAL: tuple[TaskRunStatus, ...] = (
    "completed", "failed", "interrupted", "budget_exceeded", "missed", "skipped",
)  # fmt: skip


class OnceSchedule(BaseModel):
    kind: Literal["once"]
    at: str = Field(
        max_length=32, description="a local date-time in the task's zone, e.g. 2026-12-01T08:00"
    )


class IntervalSchedule(BaseModel):
    kind: Literal["interval"]
    every: int = Field(ge=1, le=100_000)
    unit: Literal["minutes", "hours"]


class CronSchedule(BaseModel):
    kind: Literal["cron"]
    expression: str = Field(max_length=200, description="five fields, read in the task's zone")


Schedule = Annotated[OnceSchedule | IntervalSchedule | CronSchedule, Field(discriminator="kind")]
ZoneName = Annotated[str, Field(min_length=1, max_length=64, description="an IANA time zone")]


class TaskFields(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    agent_id: str = Field(min_length=1, max_length=32)
    prompt: str = Field(min_length=1, max_length=100_000)
    schedule: Schedule
    timezone: ZoneName
    enabled: bool = True
    overlap: Literal["skip", "queue"] = "skip"
    token_budget: int | None = Field(default=None, ge=1, le=100_000_000)
    notify: bool = True
    append_to: str | None = Field(
        default=None, max_length=500, description="a file in the agent's workspace, appended to"
    )


class TaskCreate(TaskFields):
    pass


class TaskUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    agent_id: str | None = Field(default=None, min_length=1, max_length=32)
    prompt: str | None = Field(default=None, min_length=1, max_length=100_000)
    schedule: Schedule | None = None
    timezone: ZoneName | None = None
    enabled: bool | None = None
    overlap: Literal["skip", "queue"] | None = None
    token_budget: int | None = Field(default=None, ge=1, le=100_000_000)
    notify: bool | None = None
    append_to: str | None = Field(default=None, max_length=500)


class TaskRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    task_id: str
    status: TaskRunStatus
    trigger: Literal["schedule", "manual"]
    scheduled_for: UtcDateTime | None
    created_at: UtcDateTime
    started_at: UtcDateTime | None
    ended_at: UtcDateTime | None
    duration_ms: int | None
    conversation_id: str | None
    message_id: str | None
    trace_run_id: str | None
    prompt_tokens: int
    completion_tokens: int
    error: str | None


class TaskOut(TaskFields):
    id: str
    next_run_at: UtcDateTime | None
    running: bool
    last_run: TaskRunOut | None
    created_at: UtcDateTime
    updated_at: UtcDateTime


class SchedulePreviewRequest(BaseModel):
    schedule: Schedule
    timezone: ZoneName
    count: int = Field(default=5, ge=1, le=20)


class SchedulePreviewOut(BaseModel):
    times: list[UtcDateTime] = Field(description="the next fire times, as UTC instants")


class SchedulerState(BaseModel):
    paused: bool


class TaskSettings(BaseModel):
    grace_minutes: int = Field(
        ge=0, le=7 * 24 * 60, description="a fire time missed by less than this runs at start"
    )
