"""A task cancelled in the middle of a write never leaves SQLite's write lock held (the fuzz layer's
"write lock that is never released": every write then answered 503 storage.busy for minutes).

Real engine (storage/db.py's Database) on a database file on disk; another connection checks the
lock the way any other writer would meet it. See storage/sqlite_driver.py for the cause."""

import asyncio
import contextlib
import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sage_sidecar.storage import sqlite_driver
from sage_sidecar.storage.db import Database

# About a second of work on the connection's thread on the CI VM: long enough that the cancels
# below land while it runs.
SLOW_INSERT = text(
    "INSERT INTO t(v) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
    "WHERE i < 3000000) SELECT 'x' FROM n"
)
TEST_TIMEOUT_S = 60


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    path = tmp_path / "agent_platform.db"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
    return path


@pytest.fixture
def no_gc() -> Iterator[None]:
    """A leaked sqlite3 connection is in a reference cycle with its statement cache: only a full
    collection closes it, which in the sidecar may not come for many minutes. Not here either."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def can_write_now(path: Path) -> bool:
    """Another writer gets the write lock within 0.2 s."""
    with contextlib.closing(sqlite3.connect(path, timeout=0.2)) as conn:
        try:
            conn.execute("INSERT INTO t(v) VALUES ('probe')")
            conn.commit()
        except sqlite3.OperationalError as error:
            assert "locked" in str(error)
            return False
    return True


async def slow_write(db: Database) -> None:
    async with db.session() as session:
        await session.execute(SLOW_INSERT)
        await session.commit()


async def test_cancelled_writes_release_the_lock_before_they_end(
    db_file: Path, no_gc: None
) -> None:
    """Cancelled (once, or twice as concurrent re-index requests do) while its statement runs:
    by the time the task has ended, its transaction is rolled back and the lock is free, and its
    connection is back in the pool or closed."""
    db = Database(db_file)
    try:
        async with asyncio.timeout(TEST_TIMEOUT_S):
            for cancels in (1, 2, 1, 2, 2):
                task = asyncio.create_task(slow_write(db))
                await asyncio.sleep(0.1)  # the INSERT is running on the connection's thread
                for _ in range(cancels):
                    task.cancel()
                    await asyncio.sleep(0)
                await asyncio.wait({task})
                assert task.cancelled()
                assert can_write_now(db_file), f"still locked after {cancels} cancel(s)"
                assert db.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            # and the engine still writes
            async with db.session() as session:
                await session.execute(text("INSERT INTO t(v) VALUES ('after')"))
                await session.commit()
    finally:
        await db.dispose()


async def test_stop_closes_the_connection_even_when_close_runs_first(
    db_file: Path, no_gc: None
) -> None:
    """SQLAlchemy's terminate falls back to stop() when its graceful close() is interrupted; the
    two then race. Whatever the order, the sqlite3 connection is closed (its transaction rolled
    back) and close() does not wait for a thread that has already ended."""
    async with asyncio.timeout(TEST_TIMEOUT_S):
        conn = await sqlite_driver.connect(db_file, isolation_level=None)
        await conn.execute("BEGIN IMMEDIATE")
        await conn.execute("INSERT INTO t(v) VALUES ('uncommitted')")
        busy = asyncio.create_task(conn.execute(SLOW_INSERT.text))  # the thread is busy...
        await asyncio.sleep(0.05)
        conn.stop()  # ...while the force-close is queued, then the graceful close starts
        with contextlib.suppress(ValueError):
            await asyncio.wait_for(conn.close(), 5)
        with contextlib.suppress(Exception):
            await busy
        await asyncio.to_thread(conn._thread.join, 10)
        assert not conn._thread.is_alive()
        assert can_write_now(db_file)


async def test_finish_then_cancel_waits_for_the_operation() -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    waiter = asyncio.create_task(sqlite_driver.finish_then_cancel(done))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.sleep(0.05)
    assert not waiter.done()  # still waiting for the statement
    done.set_result(1)
    await asyncio.wait({waiter})
    assert waiter.cancelled() and not done.cancelled()
