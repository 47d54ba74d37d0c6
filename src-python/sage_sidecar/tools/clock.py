from datetime import datetime
from typing import Any

from sage_sidecar.tools.base import Tool, ToolContext


async def _run(_args: dict[str, Any], _ctx: ToolContext) -> str:
    now = datetime.now().astimezone()
    return now.isoformat(timespec="seconds") + f" ({now.strftime('%A')}, {now.tzname()})"


CURRENT_TIME = Tool(
    name="current_time",
    description="The current local date, time, weekday and time zone.",
    parameters={"type": "object", "properties": {}},
    run=_run,
)
