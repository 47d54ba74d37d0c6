"""The tasks of one sidecar process: the runner and the scheduler, built in app.py's lifespan."""

from dataclasses import dataclass

from sage_sidecar.core.events import EventBus
from sage_sidecar.services.chat import ChatEngine
from sage_sidecar.services.tasks.clock import Clock
from sage_sidecar.services.tasks.runner import TaskRunner
from sage_sidecar.services.tasks.scheduler import Scheduler
from sage_sidecar.services.workspace import Workspaces
from sage_sidecar.storage.db import Database


@dataclass
class Tasks:
    runner: TaskRunner
    scheduler: Scheduler

    @classmethod
    def build(cls, db: Database, chat: ChatEngine, events: EventBus, workspaces: Workspaces,
              clock: Clock) -> "Tasks":  # fmt: skip
        runner = TaskRunner(db, chat, events, workspaces, clock)
        return cls(runner, Scheduler(db, runner, events, clock))

    @property
    def clock(self) -> Clock:
        return self.scheduler.clock
