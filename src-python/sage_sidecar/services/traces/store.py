"""Reading runs back (with their totals and estimated cost), the retention setting, pruning."""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import NotFoundError
from sage_sidecar.schemas.runs import (
    ConversationRuns,
    DailyUsage,
    RunSummary,
    RunTrace,
    StepOut,
    Totals,
    duration_ms,
)
from sage_sidecar.schemas.timestamps import as_utc
from sage_sidecar.services import app_meta
from sage_sidecar.services.traces.prices import PriceBook, price_book
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Run, RunStep, utcnow

log = logging.getLogger(__name__)

RETENTION_KEY = "trace_retention_days"
DEFAULT_RETENTION_DAYS = 30
PRUNE_EVERY_S = 24 * 3600

# (model, provider kind, prompt tokens, completion tokens)
Tokens = tuple[str, str, int, int]


def totals(items: Iterable[Tokens], book: PriceBook) -> Totals:
    prompt = completion = 0
    cost: float | None = None
    unpriced: set[str] = set()
    for model, kind, p, c in items:
        prompt, completion = prompt + p, completion + c
        if not p and not c:
            continue
        step_cost = book.cost(model, kind, p, c)
        if step_cost is None:
            unpriced.add(model)
        else:
            cost = (cost or 0.0) + step_cost
    return Totals(prompt_tokens=prompt, completion_tokens=completion, cost_usd=cost,
                  unpriced_models=sorted(unpriced))  # fmt: skip


async def _steps(session: AsyncSession, run_ids: list[str]) -> dict[str, list[RunStep]]:
    by_run: dict[str, list[RunStep]] = defaultdict(list)
    if run_ids:
        rows = await session.scalars(
            select(RunStep).where(RunStep.run_id.in_(run_ids)).order_by(RunStep.seq)
        )
        for row in rows:
            by_run[row.run_id].append(row)
    return by_run


def _summary(run: Run, steps: list[RunStep], book: PriceBook) -> dict[str, Any]:
    tokens = [(s.name, run.provider_kind, s.prompt_tokens, s.completion_tokens)
              for s in steps if s.kind == "model"]  # fmt: skip
    return {
        **{k: getattr(run, k) for k in ("id", "kind", "status", "conversation_id", "message_id",
           "agent_id", "agent_name", "provider_name", "provider_kind", "model", "error",
           "started_at", "ended_at")},
        "duration_ms": duration_ms(as_utc(run.started_at), run.ended_at and as_utc(run.ended_at)),
        "step_count": len(steps),
        "totals": totals(tokens, book),
    }  # fmt: skip


def _step(step: RunStep, run: Run, book: PriceBook) -> StepOut:
    cost = None
    if step.kind == "model":
        cost = book.cost(step.name, run.provider_kind, step.prompt_tokens, step.completion_tokens)
    offset = (as_utc(step.started_at) - as_utc(run.started_at)).total_seconds() * 1000
    return StepOut(
        id=step.id, seq=step.seq, kind=step.kind, purpose=step.purpose,
        name=step.name, started_at=step.started_at, offset_ms=max(0, round(offset)),
        duration_ms=step.duration_ms, ttft_ms=step.ttft_ms, prompt_tokens=step.prompt_tokens,
        completion_tokens=step.completion_tokens, cost_usd=cost, error=step.error,
        detail=step.detail,
    )  # fmt: skip


async def run_trace(session: AsyncSession, run_id: str) -> RunTrace:
    run = await session.get(Run, run_id)
    if run is None:
        raise NotFoundError("run", run_id)
    book = await price_book(session)
    steps = (await _steps(session, [run.id]))[run.id]
    return RunTrace(**_summary(run, steps, book), steps=[_step(s, run, book) for s in steps])


async def message_trace(session: AsyncSession, message_id: str) -> RunTrace:
    """The latest run that wrote this reply."""
    run_id = await session.scalar(
        select(Run.id).where(Run.message_id == message_id).order_by(Run.started_at.desc()).limit(1)
    )
    if run_id is None:
        raise NotFoundError("trace of message", message_id)
    return await run_trace(session, run_id)


async def conversation_runs(session: AsyncSession, conversation_id: str) -> ConversationRuns:
    """Every run of a conversation, newest first, including replies since regenerated (their
    tokens were spent), and the conversation's totals."""
    runs = list(await session.scalars(
        select(Run).where(Run.conversation_id == conversation_id).order_by(Run.started_at.desc())
    ))  # fmt: skip
    book = await price_book(session)
    steps = await _steps(session, [r.id for r in runs])
    summaries = [RunSummary(**_summary(r, steps[r.id], book)) for r in runs]
    every = [(s.name, r.provider_kind, s.prompt_tokens, s.completion_tokens)
             for r in runs for s in steps[r.id] if s.kind == "model"]  # fmt: skip
    return ConversationRuns(runs=summaries, totals=totals(every, book))


async def daily_usage(
    session: AsyncSession, days: int, now: datetime | None = None
) -> list[DailyUsage]:
    """Tokens and cost per agent per UTC day, newest day first."""
    since = (now or utcnow()) - timedelta(days=days)
    rows = await session.execute(
        select(Run.id, Run.agent_id, Run.agent_name, Run.provider_kind, Run.started_at,
               RunStep.name, RunStep.prompt_tokens, RunStep.completion_tokens)
        .join(RunStep, (RunStep.run_id == Run.id) & (RunStep.kind == "model"), isouter=True)
        .where(Run.started_at >= since)
    )  # fmt: skip
    groups: dict[tuple[str, str | None], dict[str, Any]] = {}
    for run_id, agent_id, agent_name, kind, started, model, prompt, completion in rows:
        day = as_utc(started).date().isoformat()
        group = groups.setdefault(
            (day, agent_id), {"name": agent_name, "runs": set(), "tokens": []}
        )
        group["runs"].add(run_id)
        if model is not None:
            group["tokens"].append((model, kind, prompt, completion))
    book = await price_book(session)
    return [
        DailyUsage(
            day=day,
            agent_id=agent_id,
            agent_name=g["name"],
            runs=len(g["runs"]),
            totals=totals(g["tokens"], book),
        )  # fmt: skip
        for (day, agent_id), g in sorted(
            groups.items(), key=lambda i: (i[0][0], i[1]["name"]), reverse=True
        )  # fmt: skip
    ]


async def retention_days(session: AsyncSession) -> int:
    return await app_meta.retention_days(session, RETENTION_KEY, DEFAULT_RETENTION_DAYS)


async def set_retention_days(session: AsyncSession, days: int) -> None:
    await app_meta.set_retention_days(session, RETENTION_KEY, days)


async def prune(session: AsyncSession, now: datetime | None = None) -> int:
    """Delete runs (and their steps) started before the retention window."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=await retention_days(session))
    result = await session.execute(delete(Run).where(Run.started_at < cutoff))
    await session.commit()
    return cast("CursorResult[Any]", result).rowcount or 0


async def mark_interrupted_runs(session: AsyncSession) -> int:
    """At start-up: a run still `running` was cut off by a crash or a kill."""
    result = await session.execute(
        update(Run).where(Run.status == "running").values(
            status="interrupted", error="The app stopped during this run.")
    )  # fmt: skip
    await session.commit()
    return cast("CursorResult[Any]", result).rowcount or 0


async def prune_daily(db: Database, every_s: float = PRUNE_EVERY_S) -> None:
    """Prune at start, then once a day while the sidecar runs."""
    while True:
        try:
            async with db.session() as session:
                removed = await prune(session)
            if removed:
                log.info("pruned %d run trace(s) past the retention window", removed)
        except Exception:  # a locked database today is tried again tomorrow, the app goes on
            log.exception("pruning traces failed")
        await asyncio.sleep(every_s)


async def run_count(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Run)) or 0)
