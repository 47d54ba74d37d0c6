"""The audit log: every tool execution and every approval decision, in its own table, with
secrets redacted by the traces' Redactor; listed with filters, exported, pruned by age."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.services import app_meta
from sage_sidecar.services.traces.recorder import _stored_secrets
from sage_sidecar.services.traces.redact import Redactor
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import AuditEvent

log = logging.getLogger(__name__)

RETENTION_KEY = "audit_retention_days"
DEFAULT_RETENTION_DAYS = 90
ARGUMENTS_LIMIT = 2_000  # a summary, not the whole file a write_file carried


@dataclass(frozen=True)
class Who:
    """The reply an event belongs to."""

    agent_id: str | None
    agent_name: str
    conversation_id: str | None
    message_id: str | None


class AuditLog:
    """Writes events as they happen. A failed write is logged, never raised: the audit must not
    end the reply it records."""

    def __init__(self, db: Database, secrets: tuple[str, ...] = ()) -> None:
        self._db = db
        self._secrets = secrets

    async def record(self, who: Who, kind: str, call_id: str, tool: str, arguments: str,
                     decision: str, decided_by: str, reason: str | None = None,
                     status: str | None = None, duration_ms: int | None = None) -> None:  # fmt: skip
        try:
            async with self._db.session() as session:
                redactor = Redactor([*self._secrets, *await _stored_secrets(session)])
                session.add(AuditEvent(
                    kind=kind, agent_id=who.agent_id, agent_name=who.agent_name,
                    conversation_id=who.conversation_id, message_id=who.message_id,
                    call_id=call_id, tool=tool, decision=decision, decided_by=decided_by,
                    arguments=redactor.text(arguments)[:ARGUMENTS_LIMIT], reason=reason,
                    status=status, duration_ms=duration_ms,
                ))  # fmt: skip
                await session.commit()
        except Exception:
            log.exception("writing an audit event failed")


async def list_events(session: AsyncSession, agent_id: str | None = None,
                      tool: str | None = None, decision: str | None = None,
                      since: datetime | None = None, until: datetime | None = None,
                      limit: int = 500) -> list[AuditEvent]:  # fmt: skip
    query = select(AuditEvent)
    if agent_id:
        query = query.where(AuditEvent.agent_id == agent_id)
    if tool:
        query = query.where(AuditEvent.tool == tool)
    if decision:
        query = query.where(AuditEvent.decision == decision)
    if since:
        query = query.where(AuditEvent.at >= since)
    if until:
        query = query.where(AuditEvent.at < until)
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def retention_days(session: AsyncSession) -> int:
    return await app_meta.retention_days(session, RETENTION_KEY, DEFAULT_RETENTION_DAYS)


async def set_retention_days(session: AsyncSession, days: int) -> None:
    await app_meta.set_retention_days(session, RETENTION_KEY, days)


async def prune(session: AsyncSession, now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(UTC)) - timedelta(days=await retention_days(session))
    result = await session.execute(delete(AuditEvent).where(AuditEvent.at < cutoff))
    await session.commit()
    return cast("CursorResult[Any]", result).rowcount or 0


async def prune_daily(db: Database, every_s: float = 24 * 3600) -> None:
    """Prune at start, then once a day while the sidecar runs."""
    while True:
        try:
            async with db.session() as session:
                if removed := await prune(session):
                    log.info("pruned %d audit event(s) past the retention window", removed)
        except Exception:  # tried again tomorrow; the app goes on
            log.exception("pruning the audit log failed")
        await asyncio.sleep(every_s)
