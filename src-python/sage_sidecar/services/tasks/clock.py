"""The scheduler's clock: what time it is, and a wait that ends at a given time or when woken.

The system clock waits in slices of at most `SLICE_S`, reading the wall clock again after each:
asyncio sleeps on a monotonic clock that stops while the machine is asleep, so a long sleep
would overshoot a fire time by however long the lid was closed. Tests use `ManualClock`, which
only moves when told to (no sleeping tests)."""

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Protocol

SLICE_S = 30.0


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def wait(self, until: datetime | None, woken: asyncio.Event) -> None:
        """Return at `until` (None: never), or earlier when `woken` is set."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def wait(self, until: datetime | None, woken: asyncio.Event) -> None:
        while not woken.is_set():
            left = SLICE_S if until is None else (until - self.now()).total_seconds()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), min(left, SLICE_S))


class ManualClock:
    """Time stands still until `advance` or `set`; waiters whose time has come are released."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when
        self._moved.set()
        self._moved = asyncio.Event()

    async def wait(self, until: datetime | None, woken: asyncio.Event) -> None:
        while not woken.is_set() and (until is None or self._now < until):
            moved = asyncio.create_task(self._moved.wait())
            wake = asyncio.create_task(woken.wait())
            try:
                await asyncio.wait({moved, wake}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                moved.cancel()
                wake.cancel()
