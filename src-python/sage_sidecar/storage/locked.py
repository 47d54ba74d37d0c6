""" "database is locked": another connection held SQLite's write lock past the busy timeout.

Transient by nature (a long write elsewhere, a backup, another process on the same file), so a
long-lived worker waits and tries again instead of dying on it. Kept here because it is
SQLite-specific: PostgreSQL's equivalents would be recognised here too.
"""

import asyncio
import gc
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import sqlcipher3.dbapi2
from sqlalchemy.exc import OperationalError

log = logging.getLogger(__name__)
T = TypeVar("T")

# The driver's own, unwrapped: SQL run on the connection's thread (db.run_on_connection).
DRIVER_ERRORS = (sqlite3.OperationalError, sqlcipher3.dbapi2.OperationalError)
_LOCKED = ("database is locked", "database table is locked", "database is busy")
FIRST_DELAY_S = 0.25
MAX_DELAY_S = 10.0
CALM_AFTER_S = 60.0  # a lock this long after the last one starts the backoff afresh
COLLECT_EVERY_S = 10.0  # at most one full garbage collection per this many seconds
_last_collect = float("-inf")


def is_database_locked(error: BaseException) -> bool:
    """Through SQLAlchemy (its OperationalError wraps the driver's) or straight from the driver
    (SQL run on the connection's thread, db.run_on_connection: sqlite3's or SQLCipher's)."""
    if isinstance(error, OperationalError):
        error = error.orig or error
    elif not isinstance(error, DRIVER_ERRORS):
        return False
    return any(m in str(error) for m in _LOCKED)


def release_leaked_connections() -> None:
    """Safety net: close sqlite3 connections nothing refers to any more, so a lock they hold ends.

    A connection abandoned mid-transaction (seen under the fuzz layer's storm of cancelled
    requests; docs/architecture.md, "Cancellation and the database") sits in a reference cycle
    with its statement cache, keeping SQLite's write lock until a full collection frees it:
    minutes, during which every write waits out the busy timeout. Collecting when a lock times
    out ends that at once. Rate-limited: a lock held by a live writer is not helped by it."""
    global _last_collect
    now = time.monotonic()
    if now - _last_collect < COLLECT_EVERY_S:
        return
    _last_collect = now
    if unreachable := gc.collect():
        log.warning("database locked: a full collection freed %d unreachable objects", unreachable)


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
        except (OperationalError, *DRIVER_ERRORS) as error:
            if not is_database_locked(error):
                raise
            release_leaked_connections()
            delay = backoff.next_delay()
            log.warning("%s: the database is locked; trying again in %.2f s", what, delay)
            await asyncio.sleep(delay)
