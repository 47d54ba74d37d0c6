"""The long-lived objects one sidecar process owns, created in the app's lifespan."""

import time
from dataclasses import dataclass, field

import httpx

from sage_sidecar.core.config import Settings
from sage_sidecar.core.events import EventBus
from sage_sidecar.services.chat import ChatEngine
from sage_sidecar.services.knowledge import Knowledge
from sage_sidecar.services.mcp_connections import McpManager
from sage_sidecar.services.tasks.service import Tasks
from sage_sidecar.services.workspace import Workspaces
from sage_sidecar.storage.db import Database


@dataclass
class AppState:
    settings: Settings
    db: Database
    events: EventBus
    http: httpx.AsyncClient  # shared connection pool for provider calls
    chat: ChatEngine
    mcp: McpManager
    knowledge: Knowledge  # knowledge bases: ingest worker, vector indexes, embedders
    schema_revision: str | None
    workspaces: Workspaces  # agents' files: the Workspace API and the file tools' hooks
    started_at: float = field(default_factory=time.monotonic)
    tasks: Tasks | None = None  # scheduled tasks: runner and scheduler (services/tasks)

    @property
    def uptime_s(self) -> float:
        return time.monotonic() - self.started_at
