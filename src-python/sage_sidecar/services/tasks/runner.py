"""One run of a task: a real conversation turn through the chat engine (the one the WebSocket
uses), recorded as a run of kind `task` in the traces, its outcome kept as a `TaskRun`.

Overlap: while a task has a run going, another occurrence is recorded `skipped`, or `queued` and
run when the current one ends (the task's `overlap`). The `TaskRun` row goes to `running` in the
database before the reply starts, so a run cut off by a crash is found and marked `interrupted`
at the next start (scheduler.py) and never silently run again.
"""

import asyncio
import contextlib
import logging
import os
from datetime import datetime
from typing import Literal

from sqlalchemy import select

from sage_sidecar.core.confinement import NOFOLLOW, confine, relative
from sage_sidecar.core.errors import ConflictError, DomainError
from sage_sidecar.core.events import EventBus
from sage_sidecar.core.workspace_quota import check_room
from sage_sidecar.schemas.protocol.chat import MessageCompleted, MessageFailed, ServerChatFrame
from sage_sidecar.schemas.protocol.events import TaskRunFinished
from sage_sidecar.schemas.tasks import TaskRunOut
from sage_sidecar.schemas.timestamps import as_utc
from sage_sidecar.services.chat import ChatEngine
from sage_sidecar.services.tasks import policies, store
from sage_sidecar.services.tasks.clock import Clock
from sage_sidecar.services.titles import shorten
from sage_sidecar.services.turn import RunOptions
from sage_sidecar.services.workspace import Workspaces
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Conversation, Message, Run
from sage_sidecar.storage.tasks import ScheduledTask, TaskRun

log = logging.getLogger(__name__)

Trigger = Literal["schedule", "manual"]


class TaskRunner:
    def __init__(self, db: Database, chat: ChatEngine, events: EventBus, workspaces: Workspaces,
                 clock: Clock) -> None:  # fmt: skip
        self._db = db
        self._chat = chat
        self._events = events
        self._workspaces = workspaces
        self._clock = clock
        self.active: dict[str, str] = {}  # task id -> its running TaskRun's id
        self._lock = asyncio.Lock()  # one overlap decision at a time
        self._tasks: set[asyncio.Task[None]] = set()
        # Set when the app shuts down: a queued run is not started then (at the next start it
        # runs if still within the grace window, else it is missed).
        self.closing = False

    @property
    def running(self) -> set[str]:
        return set(self.active)

    async def fire(
        self, task_id: str, scheduled_for: datetime | None, trigger: Trigger
    ) -> TaskRunOut:
        """Start a run of the task now, or record it skipped / queued behind the running one."""
        async with self._lock, self._db.session() as session:
            task = await store.get_task(session, task_id)
            now = self._clock.now()
            run = TaskRun(task_id=task.id, trigger=trigger, scheduled_for=scheduled_for,
                          created_at=now)  # fmt: skip
            if task.id in self.active:
                if trigger == "manual" and task.overlap == "skip":
                    raise ConflictError("this task is running already", code="task.running",
                                        name=task.name)  # fmt: skip
                run.status = "queued" if task.overlap == "queue" else "skipped"
                if run.status == "skipped":
                    run.ended_at = now
                    run.error = "The previous run was still going."
            else:
                run.status, run.started_at = "running", now
            session.add(run)
            await session.commit()
            if run.status == "skipped":
                self._announce(task, run)
            elif run.status == "running":
                self._start(task, run.id)
            return store.run_out(run)

    def _start(self, task: ScheduledTask, run_id: str) -> None:
        self.active[task.id] = run_id
        snapshot = (task.id, task.name, task.agent_id, task.prompt, task.token_budget,
                    task.append_to, task.timezone)  # fmt: skip
        job = asyncio.create_task(self._execute(run_id, *snapshot))
        self._tasks.add(job)
        job.add_done_callback(self._tasks.discard)

    async def _execute(self, run_id: str, task_id: str, name: str, agent_id: str, prompt: str,
                       budget: int | None, append_to: str | None, zone: str) -> None:  # fmt: skip
        frames: list[ServerChatFrame] = []

        async def capture(frame: ServerChatFrame) -> None:
            frames.append(frame)

        status, error = "failed", None
        conversation_id = message_id = None
        try:
            async with self._db.session() as session:
                conversation = Conversation(agent_id=agent_id, title=shorten(name))
                session.add(conversation)
                await session.commit()
                conversation_id = conversation.id
            options = RunOptions(kind="task", token_budget=budget, announce_finish=False)
            started = await self._chat.send(prompt, capture, conversation_id=conversation_id,
                                            options=options)  # fmt: skip
            message_id = started.message_id
            await self._update(run_id, conversation_id=conversation_id, message_id=message_id)
            stream = self._chat.active.get(message_id)
            if stream is not None and stream.task is not None:
                await asyncio.wait({stream.task})  # never raises: the reply ends however it ends
            status, error = _outcome(frames)
        except asyncio.CancelledError:
            status, error = "interrupted", "Sage stopped during this run."
            raise
        except DomainError as failure:
            error = str(failure)
        except Exception:
            log.exception("task run %s failed", run_id)
            error = "Internal error in Sage; see the sidecar log."
        finally:
            await asyncio.shield(self._finish(run_id, task_id, status, error, message_id,
                                              append_to, name, zone, agent_id))  # fmt: skip

    async def _update(self, run_id: str, **values: object) -> None:
        async with self._db.session() as session:
            run = await session.get(TaskRun, run_id)
            if run is not None:
                for key, value in values.items():
                    setattr(run, key, value)
                await session.commit()

    async def _finish(self, run_id: str, task_id: str, status: str, error: str | None,
                      message_id: str | None, append_to: str | None, name: str, zone: str,
                      agent_id: str) -> None:  # fmt: skip
        try:
            if self._chat.traces is not None and message_id:
                with contextlib.suppress(Exception):  # the run is linked by its reply anyway
                    await self._chat.traces.flush()  # so the trace's run row is there to name
            async with self._db.session() as session:
                run = await session.get(TaskRun, run_id)
                message = await session.get(Message, message_id) if message_id else None
                trace_id = None
                if message_id:
                    trace_id = await session.scalar(
                        select(Run.id).where(Run.message_id == message_id).limit(1)
                    )
                task = await session.get(ScheduledTask, task_id)
                if run is None or task is None:  # the task was deleted meanwhile
                    return
                usage = (message.usage if message else None) or {}
                run.status, run.error = status, error
                run.ended_at = self._clock.now()
                run.trace_run_id = trace_id
                run.prompt_tokens = int(usage.get("promptTokens", usage.get("prompt_tokens", 0)))
                run.completion_tokens = int(
                    usage.get("completionTokens", usage.get("completion_tokens", 0))
                )
                if status == "completed" and append_to and message is not None:
                    try:
                        await asyncio.to_thread(self._append, agent_id, append_to,
                                                _entry(name, run.ended_at, zone, message.content))  # fmt: skip
                    except (DomainError, OSError) as failure:
                        run.error = f"The answer could not be added to {append_to}: {failure}"
                await session.commit()
                self._announce(task, run)
        finally:
            self.active.pop(task_id, None)
            await self._next_queued(task_id)

    def _append(self, agent_id: str, raw: str, text: str) -> None:
        root = self._workspaces.folder(agent_id)
        root.mkdir(parents=True, exist_ok=True)
        path = confine(root, raw)
        data = text.encode()
        check_room(root, self._workspaces.quota_bytes, len(data))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | NOFOLLOW, 0o644)
        with os.fdopen(fd, "ab") as file:
            file.write(data)
        announce = self._workspaces.tool_hooks().written
        if announce is not None:
            announce(agent_id, relative(root, path))

    async def _next_queued(self, task_id: str) -> None:
        async with self._lock, self._db.session() as session:
            if task_id in self.active or self.closing:
                return
            run = await session.scalar(
                select(TaskRun).where(TaskRun.task_id == task_id, TaskRun.status == "queued")
                .order_by(TaskRun.created_at).limit(1)
            )  # fmt: skip
            task = await session.get(ScheduledTask, task_id)
            if run is None or task is None:
                return
            run.status, run.started_at = "running", self._clock.now()
            await session.commit()
            self._start(task, run.id)

    async def resume_queued(self, task_ids: list[str]) -> None:
        for task_id in task_ids:
            await self._next_queued(task_id)

    def _announce(self, task: ScheduledTask, run: TaskRun) -> None:
        self._events.publish(
            TaskRunFinished(
                task_id=task.id,
                task_name=task.name,
                run_id=run.id,
                conversation_id=run.conversation_id,
                message_id=run.message_id,
                status=run.status,
                error=run.error,
                notify=task.notify,
            )  # fmt: skip
        )

    def announce(self, task: ScheduledTask, run: TaskRun) -> None:
        """For the scheduler's own records (missed, interrupted)."""
        self._announce(task, run)

    async def wait_idle(self) -> None:
        """Until no run is going (tests; shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def shutdown(self) -> None:
        """After the chat engine's shutdown (which ends replies as interrupted): let each run
        write its outcome, then stop; what is still going is cancelled."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wait_idle(), 5)
        for job in list(self._tasks):
            job.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _outcome(frames: list[ServerChatFrame]) -> tuple[str, str | None]:
    for frame in reversed(frames):
        if isinstance(frame, MessageCompleted):
            return "completed", None
        if isinstance(frame, MessageFailed):
            if frame.code == "budget_exceeded":
                return "budget_exceeded", frame.error
            return frame.status, frame.error
    return "failed", "The reply ended without an answer."


def _entry(name: str, when: datetime, zone: str, content: str) -> str:
    local = as_utc(when).astimezone(policies.zone(zone)).strftime("%Y-%m-%d %H:%M %Z")
    return f"\n## {name} · {local}\n\n{content.strip()}\n"
