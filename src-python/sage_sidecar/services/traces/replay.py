"""Replay: send a recorded run's model requests again, to the scripted test provider
(demo/scripted.py) served in-process, and report what it received and produced. It shows what
the model saw (the request as recorded, secrets and attachments already replaced) without
calling the real provider or spending tokens.

The scripted provider is handed in by the wiring layer (app.py): services/ may not import demo/.
"""

from collections.abc import Callable
from typing import Any, Protocol

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from sage_sidecar.core.errors import InvalidError
from sage_sidecar.providers.base import ChatRequest, TextDelta, ToolCalls, ToolSpec
from sage_sidecar.providers.openai_compat import OpenAICompatClient
from sage_sidecar.schemas.runs import ReplayOut, ReplayStep, StepOut
from sage_sidecar.services.traces.recorder import message_from_json
from sage_sidecar.services.traces.store import run_trace

SCRIPTED_BASE = "http://scripted.invalid/v1"  # never resolved: the transport is the app itself


class ScriptedTarget(Protocol):
    """What replay needs of demo/scripted.py's ScriptedProvider."""

    app: Any  # an OpenAI-compatible ASGI app
    requests: list[dict[str, Any]]  # the request bodies it received, in order


ReplayTargets = Callable[[], ScriptedTarget]  # a fresh provider per replay


def recorded_request(step: StepOut) -> ChatRequest:
    request = step.detail.get("request") or {}
    return ChatRequest(
        model=str(request.get("model") or step.name),
        messages=[message_from_json(m) for m in request.get("messages") or []],
        tools=[
            ToolSpec(t["name"], t.get("description", ""), t.get("parameters") or {})
            for t in request.get("tools") or []
        ],  # fmt: skip
        temperature=request.get("temperature"),
        max_tokens=request.get("max_tokens"),
        top_p=request.get("top_p"),
        stop=list(request.get("stop") or []),
        seed=request.get("seed"),
        reasoning_effort=request.get("reasoning_effort"),
    )


async def replay(
    session: AsyncSession, run_id: str, targets: ReplayTargets, seq: int | None = None
) -> ReplayOut:
    trace = await run_trace(session, run_id)
    steps = [s for s in trace.steps if s.kind == "model" and (seq is None or s.seq == seq)]
    if not steps:
        raise InvalidError("this run has no model call to replay", code="runs.nothing_to_replay")
    scripted = targets()
    replayed: list[ReplayStep] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=scripted.app)) as http:
        client = OpenAICompatClient(SCRIPTED_BASE, None, http)
        for step in steps:
            text: list[str] = []
            calls: list[dict[str, str]] = []
            async for event in client.stream_chat(recorded_request(step)):
                if isinstance(event, TextDelta):
                    text.append(event.text)
                elif isinstance(event, ToolCalls):
                    calls = [{"id": c.id, "name": c.name, "arguments": c.arguments}
                             for c in event.calls]  # fmt: skip
            replayed.append(ReplayStep(seq=step.seq, purpose=step.purpose,
                                       sent=scripted.requests[-1], output="".join(text),
                                       tool_calls=calls))  # fmt: skip
    return ReplayOut(run_id=run_id, steps=replayed)
