"""Scheduled tasks and their runs (migration 0012). Apart from models.py so tasks are one module
per layer; they share the one `Base`, so the metadata and the database agree.

A task's schedule is JSON (`{"kind": "once", "at": "2026-12-01T08:00"}`, `{"kind": "interval",
"every": 2, "unit": "hours"}` or `{"kind": "cron", "expression": "0 8 * * 1-5"}`), read in the
task's IANA `timezone`; its next fire time is stored in UTC (services/tasks/policies.py)."""

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sage_sidecar.storage.models import Base, Timestamped, new_id, utcnow


class ScheduledTask(Timestamped, Base):
    __tablename__ = "scheduled_tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200))
    agent_id: Mapped[str] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    prompt: Mapped[str] = mapped_column(Text)
    schedule: Mapped[dict[str, Any]] = mapped_column()
    timezone: Mapped[str] = mapped_column(String(64))  # IANA name, from the browser
    # Where an interval's grid starts (creation, or the last change of its schedule).
    anchor_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    overlap: Mapped[str] = mapped_column(String(8), default="skip")  # skip | queue
    token_budget: Mapped[int | None] = mapped_column(Integer, default=None)
    notify: Mapped[bool] = mapped_column(Boolean, default=True)
    # A workspace path (inside the agent's workspace) each completed run's answer is appended to.
    append_to: Mapped[str | None] = mapped_column(String(500), default=None)
    next_run_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None, index=True
    )


class TaskRun(Base):
    """One occurrence of a task: run, or recorded as missed / skipped. The reply itself is a
    conversation turn with its own trace (`runs`, kind `task`); `trace_run_id` names it."""

    __tablename__ = "task_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    task_id: Mapped[str] = mapped_column(
        ForeignKey("scheduled_tasks.id", ondelete="CASCADE"), index=True
    )
    # queued | running | completed | failed | interrupted | budget_exceeded | missed | skipped
    status: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | manual
    scheduled_for: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # No foreign keys: a run's record outlives a deleted chat or a pruned trace.
    conversation_id: Mapped[str | None] = mapped_column(String(32), default=None)
    message_id: Mapped[str | None] = mapped_column(String(32), default=None)
    trace_run_id: Mapped[str | None] = mapped_column(String(32), default=None)
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, default=None)
