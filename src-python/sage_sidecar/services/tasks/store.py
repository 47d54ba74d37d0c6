"""Reading and writing tasks and their runs, the pause switch and the grace window (app_meta).
Every datetime handed out is aware UTC (SQLite gives naive UTC back)."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.confinement import path_parts
from sage_sidecar.core.errors import NotFoundError
from sage_sidecar.schemas.tasks import TaskCreate, TaskOut, TaskRunOut, TaskUpdate
from sage_sidecar.schemas.timestamps import as_utc
from sage_sidecar.services import app_meta
from sage_sidecar.services.agents import get_agent
from sage_sidecar.services.tasks import policies
from sage_sidecar.storage.models import AppMeta
from sage_sidecar.storage.tasks import ScheduledTask, TaskRun

PAUSED_KEY = "tasks_paused"
GRACE_KEY = "task_grace_minutes"
DEFAULT_GRACE_MINUTES = 60
HISTORY_LIMIT = 200
# Newest first; a missed record and the run that fired in the same tick share created_at.
NEWEST = (
    TaskRun.created_at.desc(),
    func.coalesce(TaskRun.scheduled_for, TaskRun.created_at).desc(),
)


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def run_out(run: TaskRun) -> TaskRunOut:
    started, ended = utc(run.started_at), utc(run.ended_at)
    duration = round((ended - started).total_seconds() * 1000) if started and ended else None
    return TaskRunOut.model_validate({**{c: getattr(run, c) for c in (
        "id", "task_id", "status", "trigger", "scheduled_for", "created_at", "started_at",
        "ended_at", "conversation_id", "message_id", "trace_run_id", "prompt_tokens",
        "completion_tokens", "error")}, "duration_ms": duration})  # fmt: skip


async def get_task(session: AsyncSession, task_id: str) -> ScheduledTask:
    task = await session.get(ScheduledTask, task_id)
    if task is None:
        raise NotFoundError("task", task_id)
    return task


async def _last_runs(session: AsyncSession, task_ids: list[str]) -> dict[str, TaskRun]:
    last: dict[str, TaskRun] = {}
    if task_ids:
        rows = await session.scalars(
            select(TaskRun)
            .where(TaskRun.task_id.in_(task_ids), TaskRun.status.not_in(("queued",)))
            .order_by(*NEWEST)
        )
        for row in rows:
            last.setdefault(row.task_id, row)
    return last


def task_out(task: ScheduledTask, last: TaskRun | None, running: bool) -> TaskOut:
    fields = {c: getattr(task, c) for c in (
        "id", "name", "agent_id", "prompt", "schedule", "timezone", "enabled", "overlap",
        "token_budget", "notify", "append_to", "next_run_at", "created_at", "updated_at")}  # fmt: skip
    return TaskOut.model_validate(
        {**fields, "running": running, "last_run": run_out(last) if last else None}
    )


async def list_tasks(session: AsyncSession, running: set[str]) -> list[TaskOut]:
    tasks = list(await session.scalars(select(ScheduledTask).order_by(ScheduledTask.created_at)))
    last = await _last_runs(session, [t.id for t in tasks])
    return [task_out(t, last.get(t.id), t.id in running) for t in tasks]


async def one_task(session: AsyncSession, task_id: str, running: set[str]) -> TaskOut:
    task = await get_task(session, task_id)
    last = await _last_runs(session, [task.id])
    return task_out(task, last.get(task.id), task.id in running)


def _check(values: dict[str, Any]) -> None:
    policies.validate(values["schedule"], values["timezone"])
    if values.get("append_to"):
        path_parts(values["append_to"])  # refused now, not at the first run


def _reschedule(task: ScheduledTask, now: datetime) -> None:
    task.next_run_at = (
        policies.next_fire(task.schedule, task.timezone, as_utc(task.anchor_at), now)
        if task.enabled
        else None
    )


async def create_task(session: AsyncSession, data: TaskCreate, now: datetime) -> ScheduledTask:
    values = data.model_dump()
    values["append_to"] = values["append_to"] or None
    _check(values)
    await get_agent(session, data.agent_id)
    task = ScheduledTask(**values, anchor_at=now)
    _reschedule(task, now)
    session.add(task)
    await session.commit()
    return task


async def update_task(
    session: AsyncSession, task_id: str, data: TaskUpdate, now: datetime
) -> ScheduledTask:
    task = await get_task(session, task_id)
    changes = data.model_dump(exclude_unset=True)
    for key in ("name", "agent_id", "prompt", "schedule", "timezone", "enabled", "overlap",
                "notify"):  # fmt: skip
        if changes.get(key) is None:
            changes.pop(key, None)  # these cannot be cleared
    if "append_to" in changes:
        changes["append_to"] = changes["append_to"] or None
    _check({"schedule": task.schedule, "timezone": task.timezone, **changes})
    if "agent_id" in changes:
        await get_agent(session, changes["agent_id"])
    timing = {"schedule", "timezone", "enabled"} & changes.keys()
    for key, value in changes.items():
        setattr(task, key, value)
    if timing:
        # A new schedule starts from now; re-enabling does not catch up on the paused time.
        if "schedule" in changes:
            task.anchor_at = now
        _reschedule(task, now)
    await session.commit()
    return task


async def delete_task(session: AsyncSession, task_id: str) -> None:
    await session.delete(await get_task(session, task_id))
    await session.commit()


async def history(
    session: AsyncSession, task_id: str, limit: int = HISTORY_LIMIT
) -> list[TaskRunOut]:
    await get_task(session, task_id)
    rows = await session.scalars(
        select(TaskRun).where(TaskRun.task_id == task_id).order_by(*NEWEST).limit(limit)
    )
    return [run_out(r) for r in rows]


async def due_tasks(session: AsyncSession, now: datetime) -> list[ScheduledTask]:
    return list(
        await session.scalars(
            select(ScheduledTask)
            .where(ScheduledTask.enabled.is_(True), ScheduledTask.next_run_at.is_not(None))
            .where(ScheduledTask.next_run_at <= now)
            .order_by(ScheduledTask.next_run_at)
        )
    )


async def earliest_next(session: AsyncSession) -> datetime | None:
    value = await session.scalar(
        select(ScheduledTask.next_run_at)
        .where(ScheduledTask.enabled.is_(True), ScheduledTask.next_run_at.is_not(None))
        .order_by(ScheduledTask.next_run_at)
        .limit(1)
    )
    return utc(value)


async def reschedule_all(session: AsyncSession, now: datetime) -> None:
    """After a pause: every enabled task's next fire time from now (the paused ones dropped)."""
    for task in await session.scalars(select(ScheduledTask).where(ScheduledTask.enabled.is_(True))):
        _reschedule(task, now)
    await session.commit()


async def mark_interrupted(session: AsyncSession, now: datetime) -> list[TaskRun]:
    """At start: a run still `running` was cut off by the last shutdown. Never re-run."""
    rows = list(await session.scalars(select(TaskRun).where(TaskRun.status == "running")))
    await session.execute(
        update(TaskRun)
        .where(TaskRun.status == "running")
        .values(status="interrupted", ended_at=now, error="Sage stopped during this run.")
    )
    await session.commit()
    return rows


async def is_paused(session: AsyncSession) -> bool:
    row = await session.get(AppMeta, PAUSED_KEY)
    return row is not None and row.value == "1"


async def set_paused(session: AsyncSession, paused: bool) -> None:
    await app_meta.set_value(session, PAUSED_KEY, "1" if paused else "0")
    await session.commit()


async def grace(session: AsyncSession) -> timedelta:
    row = await session.get(AppMeta, GRACE_KEY)
    try:
        minutes = max(0, int(row.value)) if row else DEFAULT_GRACE_MINUTES
    except ValueError:
        minutes = DEFAULT_GRACE_MINUTES
    return timedelta(minutes=minutes)


async def set_grace(session: AsyncSession, minutes: int) -> None:
    await app_meta.set_value(session, GRACE_KEY, str(minutes))
    await session.commit()
