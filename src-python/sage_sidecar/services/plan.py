"""Plan mode: plan, then execute step by step with tools, then check the work.

1. One hidden model call asks for a short plan (JSON list of steps); it is streamed to the client
   as `plan.created` and stored as a `plan` part of the message.
2. Each step runs the normal tool loop, its text streamed under a "Step N" heading; step status
   goes `pending` → `running` → `done`/`failed` (`plan.step` frames, persisted in the part).
3. A hidden self-check call may add one corrective step, which runs the same way.

The stored part is the whole record: a UI replays the plan and its statuses from it.
"""

import json
import re
from typing import Any

from sage_sidecar.providers.base import ChatMessage
from sage_sidecar.schemas.protocol.chat import (
    MessageDelta,
    PlanCheckFrame,
    PlanCreated,
    PlanStepFrame,
)
from sage_sidecar.schemas.protocol.parts import PlanCheck, PlanPart, PlanStep, PlanStepStatus
from sage_sidecar.services.turn import ChatFailure, Turn

MAX_STEPS = 6
PLAN_PROMPT = (
    "Before answering the user's last message, make a short plan. Reply with JSON only, shaped "
    '{"steps": ["first step", "second step"]}, with 1 to 6 short, concrete steps.'
)
STEP_PROMPT = (
    "Carry out step {number} of the plan now: {title}\nUse tools when they help. Reply with the "
    "result of this step only."
)
CHECK_PROMPT = (
    "Check the work above against the user's request. Reply with JSON only: "
    '{"ok": true} if it is complete and correct, or {"ok": false, "fix": "one corrective step"}.'
)


def _json_object(text: str) -> dict[str, Any] | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        value = json.loads(text[start : end + 1])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def parse_plan(text: str) -> list[str]:
    """Steps from the model's plan: JSON if it complied, else numbered or bulleted lines, else
    one step that simply answers."""
    data = _json_object(text)
    if data and isinstance(data.get("steps"), list):
        steps = [str(s).strip() for s in data["steps"] if str(s).strip()]
    else:
        steps = [
            m.group(1).strip()
            for m in re.finditer(r"^\s*(?:\d+[.)]|[-*•])\s+(.+)$", text, re.MULTILINE)
        ]
    return steps[:MAX_STEPS] or ["Answer the request"]


def parse_check(text: str) -> str | None:
    """The corrective step the self-check asks for, or None when the work passed."""
    data = _json_object(text)
    if data is None or data.get("ok") is not False:
        return None
    fix = str(data.get("fix") or "").strip()
    return fix or None


async def run_plan(turn: Turn) -> None:
    history = turn.history
    plan_text = await turn.ask([*history, ChatMessage("system", PLAN_PROMPT)], purpose="plan")
    steps = [
        PlanStep(index=i, title=t, status="pending") for i, t in enumerate(parse_plan(plan_text))
    ]
    part = PlanPart(steps=steps)
    turn.writer.add_part(part)
    await turn.emit(PlanCreated(**turn.ids, steps=part.steps))

    outline = "\n".join(f"{s.index + 1}. {s.title}" for s in part.steps)
    work: list[ChatMessage] = [*history, ChatMessage("assistant", f"My plan:\n{outline}")]
    for step in list(part.steps):
        work = await _run_step(turn, step, work)

    verdict = await turn.ask([*work, ChatMessage("system", CHECK_PROMPT)], purpose="self_check")
    fix = parse_check(verdict)
    part.check = PlanCheck(ok=fix is None, fix=fix)
    turn.writer.touch()
    await turn.emit(PlanCheckFrame(**turn.ids, ok=fix is None, fix=fix))
    if fix is not None:
        step = PlanStep(index=len(part.steps), title=fix, status="pending", corrective=True)
        part.steps.append(step)
        await turn.emit(PlanStepFrame.of(step, **turn.ids))
        await _run_step(turn, step, work)


async def _run_step(turn: Turn, step: PlanStep, work: list[ChatMessage]) -> list[ChatMessage]:
    number = step.index + 1
    await _set_status(turn, step, "running")
    heading = f"{'' if not turn.writer.content else chr(10) * 2}**Step {number}: {step.title}**\n\n"
    turn.writer.append_text(heading)
    await turn.emit(MessageDelta(**turn.ids, delta=heading))
    prompt = ChatMessage("system", STEP_PROMPT.format(number=number, title=step.title))
    try:
        result = await turn.complete([*work, prompt])
    except ChatFailure as error:
        step.error, step.error_code, step.error_params = str(error), error.code, error.params
        await _set_status(turn, step, "failed")
        return work
    await _set_status(turn, step, "done")
    return [*work, ChatMessage("assistant", f"Step {number} ({step.title}): {result}")]


async def _set_status(turn: Turn, step: PlanStep, status: PlanStepStatus) -> None:
    step.status = status
    turn.writer.touch()
    await turn.emit(PlanStepFrame.of(step, **turn.ids))
