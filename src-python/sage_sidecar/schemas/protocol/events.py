"""Frames of `/ws/events`: `hello` on connect, then what services publish on the event bus
(core/events.py), which stamps each with `seq` and `time`."""

from typing import Annotated, Literal

from pydantic import Field

from sage_sidecar.schemas.knowledge import FileStatus
from sage_sidecar.schemas.protocol.base import ProtocolModel
from sage_sidecar.schemas.protocol.chat import ApprovalReason
from sage_sidecar.schemas.workspace import WorkspaceAction


class Hello(ProtocolModel):
    type: Literal["hello"] = "hello"
    uptime_s: float


class BusEvent(ProtocolModel):
    seq: int | None = None  # set by the bus
    time: float | None = None  # Unix seconds, set by the bus


class Heartbeat(BusEvent):
    type: Literal["heartbeat"] = "heartbeat"
    uptime_s: float


class LocalServer(ProtocolModel):
    kind: Literal["ollama", "lmstudio"]
    base_url: str
    models: list[str]


class ProvidersDetected(BusEvent):
    """Ollama / LM Studio answering on their default ports; published once at start."""

    type: Literal["providers.detected"] = "providers.detected"
    servers: list[LocalServer]


class KnowledgeFileEvent(BusEvent):
    type: Literal["knowledge.file"] = "knowledge.file"
    kb_id: str
    file_id: str
    name: str
    status: FileStatus | Literal["deleted"]  # a file's stored status, or its removal
    progress: float  # 0–1, per embedded batch
    error: str | None
    chunk_count: int


class KnowledgeBaseEvent(BusEvent):
    type: Literal["knowledge.base"] = "knowledge.base"
    kb_id: str
    status: Literal["ready", "indexing", "deleted"]
    file_count: int
    chunk_count: int


class ReplyFinished(BusEvent):
    """Every reply, whichever `/ws/chat` connection started it (services/reply_events.py)."""

    type: Literal["chat.reply_finished"] = "chat.reply_finished"
    conversation_id: str
    message_id: str
    status: Literal["completed", "failed", "interrupted"]
    title: str  # of the conversation
    preview: str  # the reply's first characters
    error: str | None


class ApprovalRequiredEvent(BusEvent):
    type: Literal["chat.approval_required"] = "chat.approval_required"
    conversation_id: str
    message_id: str
    call_id: str
    tool: str
    arguments: str
    title: str
    reason: ApprovalReason | None = None  # why it asks, as on tool.approval_required
    reason_params: dict[str, str] = {}


class WorkspaceChanged(BusEvent):
    """A file or folder in an agent's workspace changed: written by the agent's file tool, or
    changed through the Workspace API. `path` is `/`-separated inside the workspace."""

    type: Literal["workspace.changed"] = "workspace.changed"
    agent_id: str
    action: WorkspaceAction
    path: str | None  # none for trash_emptied, and for `written` by run_python (any file)
    to_path: str | None  # moved: the new path
    by: Literal["agent", "user"]


class TaskRunFinished(BusEvent):
    """A scheduled task's run ended (completed, failed, interrupted, budget_exceeded), or an
    occurrence was recorded as missed or skipped (services/tasks, docs/tasks.md)."""

    type: Literal["task.run_finished"] = "task.run_finished"
    task_id: str
    task_name: str
    run_id: str  # the task run (GET /api/tasks/{task_id}/runs)
    conversation_id: str | None  # none for missed and skipped
    message_id: str | None
    status: Literal["completed", "failed", "interrupted", "budget_exceeded", "missed", "skipped"]
    error: str | None
    notify: bool  # the task asks for a notification


class TaskSchedulerChanged(BusEvent):
    """All scheduled tasks were paused or resumed (the UI's switch or the tray's)."""

    type: Literal["task.scheduler_changed"] = "task.scheduler_changed"
    paused: bool


AppEvent = (
    Heartbeat
    | ProvidersDetected
    | KnowledgeFileEvent
    | KnowledgeBaseEvent
    | ReplyFinished
    | ApprovalRequiredEvent
    | WorkspaceChanged
    | TaskRunFinished
    | TaskSchedulerChanged
)  # what the bus carries
EventFrame = Annotated[
    Hello
    | Heartbeat
    | ProvidersDetected
    | KnowledgeFileEvent
    | KnowledgeBaseEvent
    | ReplyFinished
    | ApprovalRequiredEvent
    | WorkspaceChanged
    | TaskRunFinished
    | TaskSchedulerChanged,
    Field(discriminator="type"),
]
