from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sage_sidecar.schemas.timestamps import UtcDateTime

AuditKind = Literal["execution", "approval"]


class AuditEventOut(BaseModel):
    """One tool execution (status, duration) or one approval decision (decision, decided_by,
    reason). `arguments` is a shortened summary with secrets redacted."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: UtcDateTime
    kind: str = Field(description="execution | approval")
    agent_id: str | None
    agent_name: str
    conversation_id: str | None
    message_id: str | None
    call_id: str
    tool: str
    arguments: str
    decision: str = Field(description="approve | deny | always | timeout | auto | refused | -")
    decided_by: str = Field(description="user | always | trusted | policy | none | -")
    reason: str | None = Field(description="a coded why: domain, tainted, capability.*")
    status: str | None = Field(description="ok | error | refused | denied (executions)")
    duration_ms: int | None


class AuditExport(BaseModel):
    format: Literal["sage.audit.v1"] = "sage.audit.v1"
    exported_at: UtcDateTime
    events: list[AuditEventOut]


class AuditSettings(BaseModel):
    retention_days: int = Field(
        ge=1, le=3650, description="Audit events older than this are pruned"
    )
