"""App-wide event bus: services publish, every `/ws/events` subscriber receives.

Each subscriber has a bounded queue; a subscriber too slow to keep up loses its oldest events
rather than growing memory without limit or blocking publishers. Events are the models of
`schemas/protocol/events.py`; the bus stamps each with `seq` and `time`.
"""

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeVar, cast

from sage_sidecar.schemas.protocol.events import AppEvent, Heartbeat

QUEUE_SIZE = 256
E = TypeVar("E", bound=AppEvent)


class EventBus:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[AppEvent]] = set()
        self._seq = itertools.count(1)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: E) -> E:
        stamped = cast(E, event.model_copy(update={"seq": next(self._seq), "time": time.time()}))
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(stamped)
        return stamped

    @asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[AppEvent]]:
        queue: asyncio.Queue[AppEvent] = asyncio.Queue(maxsize=QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)


async def run_heartbeat(bus: EventBus, interval: float, started_at: float) -> None:
    """Publish `heartbeat` forever: proves the Python -> UI event path is alive."""
    while True:
        await asyncio.sleep(interval)
        bus.publish(Heartbeat(uptime_s=round(time.monotonic() - started_at, 3)))
