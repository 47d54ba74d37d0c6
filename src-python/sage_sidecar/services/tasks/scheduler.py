"""The scheduler: one asyncio task, owned by the app's lifespan, that sleeps on the clock until
the earliest fire time (or until woken by a change), fires what is due and sleeps again.

Start-up first: runs left `running` by the last shutdown are marked `interrupted` (never re-run),
queued ones older than the grace window are `missed`. Then each tick applies the rules of
policies.due: a fire time met (or missed by less than the grace window, the app having been
closed or the machine asleep) runs once; older ones are recorded once as `missed`. The task's
next fire time is written before its run starts. Paused, nothing fires; resuming starts every
task from now (what fell in the pause is not caught up). Rules: docs/tasks.md.
"""

import asyncio
import contextlib
import logging
from datetime import datetime

from sqlalchemy import select

from sage_sidecar.core.events import EventBus
from sage_sidecar.schemas.protocol.events import TaskSchedulerChanged
from sage_sidecar.schemas.timestamps import as_utc
from sage_sidecar.services.tasks import policies, store
from sage_sidecar.services.tasks.clock import Clock
from sage_sidecar.services.tasks.runner import TaskRunner
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.tasks import ScheduledTask, TaskRun

log = logging.getLogger(__name__)

RETRY_S = 5.0


class Scheduler:
    def __init__(self, db: Database, runner: TaskRunner, events: EventBus, clock: Clock) -> None:
        self._db = db
        self.runner = runner
        self._events = events
        self.clock = clock
        self._woken = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._ticking = asyncio.Lock()  # one tick at a time: a due task is read and moved once

    async def start(self) -> None:
        await self.recover()
        self._loop = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self.runner.closing = True
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop

    def wake(self) -> None:
        """A task was created, changed or deleted, or the switch moved: look again now."""
        self._woken.set()

    async def recover(self) -> None:
        now = self.clock.now()
        async with self._db.session() as session:
            interrupted = await store.mark_interrupted(session, now)
            grace = await store.grace(session)
            queued = list(await session.scalars(select(TaskRun).where(TaskRun.status == "queued")))
            for run in queued:
                waiting_since = as_utc(run.scheduled_for or run.created_at)
                if now - waiting_since > grace:
                    run.status, run.ended_at = "missed", now
                    run.error = "Sage was not running when this queued run was due."
            await session.commit()
            for run in [*interrupted, *(r for r in queued if r.status == "missed")]:
                task = await session.get(ScheduledTask, run.task_id)
                fresh = await session.get(TaskRun, run.id)
                if task is not None and fresh is not None:
                    self.runner.announce(task, fresh)
            waiting = sorted({r.task_id for r in queued if r.status == "queued"})
        if interrupted:
            log.warning("%d task run(s) were cut off by the last shutdown", len(interrupted))
        await self.runner.resume_queued(waiting)

    async def tick(self) -> None:
        """Fire every task whose time has come (or record it missed)."""
        async with self._ticking:
            await self._tick()

    async def _tick(self) -> None:
        now = self.clock.now()
        fires: list[tuple[str, datetime]] = []
        async with self._db.session() as session:
            if await store.is_paused(session):
                return
            grace = await store.grace(session)
            missed: list[tuple[ScheduledTask, TaskRun]] = []
            for task in await store.due_tasks(session, now):
                try:
                    due = policies.due(task.schedule, task.timezone, as_utc(task.anchor_at),
                                       as_utc(task.next_run_at), now, grace)  # type: ignore[arg-type]  # fmt: skip
                except Exception:  # e.g. a zone this machine no longer knows: stop, say why
                    log.exception("task %s cannot be scheduled; disabled", task.id)
                    task.enabled, task.next_run_at = False, None
                    continue
                task.next_run_at = due.next_at
                if due.missed_from is not None:
                    run = TaskRun(task_id=task.id, status="missed", trigger="schedule",
                                  scheduled_for=due.missed_from, created_at=now, ended_at=now,
                                  error="Sage was not running at the scheduled time.")  # fmt: skip
                    session.add(run)
                    missed.append((task, run))
                if due.run_for is not None:
                    fires.append((task.id, due.run_for))
            # Written before any run starts: a crash mid-run never fires the same time again.
            await session.commit()
            for task, run in missed:
                self.runner.announce(task, run)
        for task_id, when in fires:
            try:
                await self.runner.fire(task_id, when, "schedule")
            except Exception:
                log.exception("task %s could not start", task_id)

    async def _run(self) -> None:
        while True:
            self._woken.clear()  # a wake() during the tick is seen by the wait below
            try:
                await self.tick()
                async with self._db.session() as session:
                    paused = await store.is_paused(session)
                    until = None if paused else await store.earliest_next(session)
            except Exception:  # a locked database now is tried again a little later
                log.exception("the task scheduler's tick failed")
                await asyncio.sleep(RETRY_S)
                continue
            await self.clock.wait(until, self._woken)

    async def set_paused(self, paused: bool) -> bool:
        async with self._db.session() as session:
            was = await store.is_paused(session)
            await store.set_paused(session, paused)
            if was and not paused:
                await store.reschedule_all(session, self.clock.now())
        self._events.publish(TaskSchedulerChanged(paused=paused))
        self.wake()
        return paused
