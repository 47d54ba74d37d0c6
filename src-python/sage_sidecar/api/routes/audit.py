"""The audit log: every tool execution and approval decision, filtered, exported; its
retention setting."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from sage_sidecar.api.deps import SessionDep
from sage_sidecar.api.errors import COMMON_ERRORS
from sage_sidecar.schemas.audit import AuditEventOut, AuditExport, AuditSettings
from sage_sidecar.services import audit

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=COMMON_ERRORS)


@router.get("", response_model=list[AuditEventOut])
async def list_events(
    session: SessionDep,
    agent_id: str | None = None,
    tool: str | None = None,
    decision: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 500,
) -> list[AuditEventOut]:
    """Newest first."""
    rows = await audit.list_events(session, agent_id, tool, decision, since, until, limit)
    return [AuditEventOut.model_validate(r) for r in rows]


@router.get("/export", response_model=AuditExport)
async def export_events(
    session: SessionDep,
    agent_id: str | None = None,
    tool: str | None = None,
    decision: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> AuditExport:
    """The same filters, every matching event, as one JSON document."""
    rows = await audit.list_events(session, agent_id, tool, decision, since, until, 1_000_000)
    return AuditExport(exported_at=datetime.now(UTC),
                       events=[AuditEventOut.model_validate(r) for r in rows])  # fmt: skip


@router.get("/settings", response_model=AuditSettings)
async def get_settings(session: SessionDep) -> AuditSettings:
    return AuditSettings(retention_days=await audit.retention_days(session))


@router.put("/settings", response_model=AuditSettings)
async def put_settings(data: AuditSettings, session: SessionDep) -> AuditSettings:
    """A shorter window applies at once: older events are pruned now."""
    await audit.set_retention_days(session, data.retention_days)
    await audit.prune(session)
    return data
