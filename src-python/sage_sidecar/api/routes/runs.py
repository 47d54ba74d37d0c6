"""Runs and traces: a reply's steps, a conversation's runs and totals, daily usage per agent,
export, replay; the model prices and the retention setting they depend on."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse

from sage_sidecar.api.deps import SessionDep, StateDep
from sage_sidecar.api.errors import COMMON_ERRORS, error_responses
from sage_sidecar.schemas.runs import (
    ConversationRuns,
    DailyUsage,
    PriceIn,
    PriceOut,
    ReplayOut,
    RunTrace,
    TraceSettings,
)
from sage_sidecar.services.conversations import get_conversation
from sage_sidecar.services.traces import prices, replay, store

router = APIRouter(tags=["runs"], responses=COMMON_ERRORS)
ModelName = Annotated[str, Query(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]


async def _written(state: StateDep) -> None:
    """What the recorders collected so far is written before it is read. Shielded: a client that
    goes away must not cut the batch's transaction off half-way."""
    if state.chat.traces is not None:
        await asyncio.shield(state.chat.traces.flush())


@router.get("/api/runs/{run_id}", response_model=RunTrace, responses=error_responses(404))
async def get_run(run_id: str, session: SessionDep, state: StateDep) -> RunTrace:
    await _written(state)
    return await store.run_trace(session, run_id)


@router.get(
    "/api/runs/{run_id}/export",
    response_model=RunTrace,
    responses=error_responses(404),
)
async def export_run(run_id: str, session: SessionDep, state: StateDep) -> JSONResponse:
    """The whole trace as a JSON file (secrets and attachments were never stored)."""
    await _written(state)
    trace = await store.run_trace(session, run_id)
    return JSONResponse(
        trace.model_dump(mode="json"),
        headers={"Content-Disposition": f'attachment; filename="sage-run-{run_id}.json"'},
    )


@router.post(
    "/api/runs/{run_id}/replay", response_model=ReplayOut, responses=error_responses(404, 422)
)
async def replay_run(
    run_id: str,
    request: Request,
    session: SessionDep,
    state: StateDep,
    seq: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> ReplayOut:
    """Send the run's model requests (or the one at `seq`) to the scripted test provider."""
    await _written(state)
    return await replay.replay(session, run_id, request.app.state.replay_targets, seq)


@router.get(
    "/api/messages/{message_id}/trace", response_model=RunTrace, responses=error_responses(404)
)
async def get_message_trace(message_id: str, session: SessionDep, state: StateDep) -> RunTrace:
    """The trace of the run that wrote this reply (the latest, if it was retried)."""
    await _written(state)
    return await store.message_trace(session, message_id)


@router.get(
    "/api/conversations/{conversation_id}/runs",
    response_model=ConversationRuns,
    responses=error_responses(404),
)
async def list_runs(conversation_id: str, session: SessionDep, state: StateDep) -> ConversationRuns:
    await get_conversation(session, conversation_id)  # 404 for an unknown conversation
    await _written(state)
    return await store.conversation_runs(session, conversation_id)


@router.get("/api/usage/daily", response_model=list[DailyUsage])
async def usage_daily(
    session: SessionDep, state: StateDep, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> list[DailyUsage]:
    """Tokens and estimated cost per agent per day (UTC)."""
    await _written(state)
    return await store.daily_usage(session, days)


@router.get("/api/prices", response_model=list[PriceOut])
async def list_prices(session: SessionDep) -> list[PriceOut]:
    """The prices in force: shipped defaults and the user's own (`source`)."""
    book = await prices.price_book(session)
    return [PriceOut(**vars(p)) for p in book.listing()]


@router.put("/api/prices", response_model=PriceOut)
async def set_price(data: PriceIn, session: SessionDep) -> PriceOut:
    await prices.set_price(session, data.model, data.input_per_mtok, data.output_per_mtok)
    return PriceOut(**data.model_dump(), source="user")


@router.delete("/api/prices", status_code=status.HTTP_204_NO_CONTENT)
async def reset_price(model: ModelName, session: SessionDep) -> None:
    """Back to the shipped price, or to none."""
    await prices.reset_price(session, model)


@router.get("/api/traces/settings", response_model=TraceSettings)
async def get_trace_settings(session: SessionDep) -> TraceSettings:
    return TraceSettings(retention_days=await store.retention_days(session))


@router.put("/api/traces/settings", response_model=TraceSettings)
async def put_trace_settings(data: TraceSettings, session: SessionDep) -> TraceSettings:
    """A shorter window applies at once: older traces are pruned now."""
    await store.set_retention_days(session, data.retention_days)
    await store.prune(session)
    return data
