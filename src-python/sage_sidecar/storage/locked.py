""" "database is locked": another connection held SQLite's write lock past the busy timeout.

Transient by nature (a long write elsewhere, a backup, another process on the same file), so a
long-lived worker waits and tries again instead of dying on it. Kept here because it is
SQLite-specific: PostgreSQL's equivalents would be recognised here too.
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")

_LOCKED = ("database is locked", "database table is locked", "database is busy")
FIRST_DELAY_S = 0.25
MAX_DELAY_S = 10.0
CALM_AFTER_S = 60.0  # a lock this long after the last one starts the backoff afresh


def is_database_locked(error: BaseException) -> bool:
    return isinstance(error, OperationalError) and any(m in str(error.orig) for m in _LOCKED)


class LockBackoff:
    """Delays that double from FIRST_DELAY_S up to MAX_DELAY_S while locks keep coming."""

    def __init__(self) -> None:
        self._failures = 0
        self._last = 0.0

    def next_delay(self) -> float:
        now = time.monotonic()
        if now - self._last > CALM_AFTER_S:
            self._failures = 0
        self._last = now
        self._failures += 1
        return float(min(FIRST_DELAY_S * 2 ** (self._failures - 1), MAX_DELAY_S))


async def retry_while_locked(what: str, operation: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run `operation(*args)` until it gets through without "database is locked", waiting more after
    each lock. Anything else it raises goes through."""
    backoff = LockBackoff()
    while True:
        try:
            return await operation(*args)
        except OperationalError as error:
            if not is_database_locked(error):
                raise
            delay = backoff.next_delay()
            log.warning("%s: the database is locked; trying again in %.2f s", what, delay)
            await asyncio.sleep(delay)
