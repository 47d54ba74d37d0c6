"""Scheduled tasks: CRUD, run now, each task's history, the preview of fire times, the pause
switch for all of them and the grace window (services/tasks, docs/tasks.md)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from sage_sidecar.api.deps import SessionDep, StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.tasks import (
    SchedulePreviewOut,
    SchedulePreviewRequest,
    SchedulerState,
    TaskCreate,
    TaskOut,
    TaskRunOut,
    TaskSettings,
    TaskUpdate,
)
from sage_sidecar.services.tasks import policies, store
from sage_sidecar.services.tasks.service import Tasks

router = APIRouter(prefix="/api/tasks", tags=["tasks"], responses=COMMON_ERRORS)


def _tasks(state: StateDep) -> Tasks:
    assert state.tasks is not None  # built in the lifespan before any request
    return state.tasks


@router.get("", response_model=list[TaskOut])
async def list_tasks(session: SessionDep, state: StateDep) -> list[TaskOut]:
    return await store.list_tasks(session, _tasks(state).runner.running)


@router.post("", response_model=TaskOut, status_code=201, responses=error_responses(404))
async def create_task(data: TaskCreate, session: SessionDep, state: StateDep) -> TaskOut:
    tasks = _tasks(state)
    task = await store.create_task(session, data, tasks.clock.now())
    tasks.scheduler.wake()
    return store.task_out(task, None, False)


@router.post("/preview", response_model=SchedulePreviewOut)
async def preview(data: SchedulePreviewRequest, state: StateDep) -> SchedulePreviewOut:
    """The next fire times of a schedule in a zone, from now (422 `task.bad_cron`, ...)."""
    schedule = data.schedule.model_dump()
    policies.validate(schedule, data.timezone)
    now = _tasks(state).clock.now()
    return SchedulePreviewOut(
        times=policies.upcoming(schedule, data.timezone, now, now, data.count)
    )


@router.get("/scheduler", response_model=SchedulerState)
async def get_scheduler(session: SessionDep) -> SchedulerState:
    return SchedulerState(paused=await store.is_paused(session))


@router.put("/scheduler", response_model=SchedulerState)
async def put_scheduler(data: SchedulerState, state: StateDep) -> SchedulerState:
    """Pause or resume every task; announced as `task.scheduler_changed` on /ws/events."""
    return SchedulerState(paused=await _tasks(state).scheduler.set_paused(data.paused))


@router.get("/settings", response_model=TaskSettings)
async def get_settings(session: SessionDep) -> TaskSettings:
    grace = await store.grace(session)
    return TaskSettings(grace_minutes=int(grace.total_seconds() // 60))


@router.put("/settings", response_model=TaskSettings)
async def put_settings(data: TaskSettings, session: SessionDep) -> TaskSettings:
    await store.set_grace(session, data.grace_minutes)
    return data


@router.get("/{task_id}", response_model=TaskOut, responses=error_responses(404))
async def get_task(task_id: str, session: SessionDep, state: StateDep) -> TaskOut:
    return await store.one_task(session, task_id, _tasks(state).runner.running)


@router.patch("/{task_id}", response_model=TaskOut, responses=error_responses(404))
async def update_task(task_id: str, data: TaskUpdate, session: SessionDep,
                      state: StateDep) -> TaskOut:  # fmt: skip
    tasks = _tasks(state)
    await store.update_task(session, task_id, data, tasks.clock.now())
    tasks.scheduler.wake()
    return await store.one_task(session, task_id, tasks.runner.running)


@router.delete("/{task_id}", status_code=204, responses=error_responses(404))
async def delete_task(task_id: str, session: SessionDep, state: StateDep) -> Response:
    """Its history goes too; its conversations stay."""
    await store.delete_task(session, task_id)
    _tasks(state).scheduler.wake()
    return Response(status_code=204)


@router.post(
    "/{task_id}/run",
    response_model=TaskRunOut,
    status_code=202,
    responses=error_responses(404, 409),
)
async def run_now(task_id: str, state: StateDep) -> TaskRunOut:
    """Run now, whatever the schedule (a running task: 409 `task.running`, or queued)."""
    return await _tasks(state).runner.fire(task_id, None, "manual")


@router.get("/{task_id}/runs", response_model=list[TaskRunOut], responses=error_responses(404))
async def task_runs(
    task_id: str, session: SessionDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[TaskRunOut]:
    """Newest first."""
    return await store.history(session, task_id, limit)
