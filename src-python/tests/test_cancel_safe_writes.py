"""Two guards against a SQLite write lock that outlives its writer.

1. The ingest worker's database writes run to their end even when the file's task is cancelled
   (a delete or a re-index): a cancel lands at any await, and inside a commit it could cut the
   transaction off mid-statement.
2. When a write times out on a lock, a full garbage collection closes connections nothing refers
   to any more (an abandoned one keeps the lock until then), so the next try gets through.
"""

import asyncio
import gc
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from sage_sidecar.knowledge import ingest
from sage_sidecar.storage import locked


def _row(db: Path) -> str | None:
    with sqlite3.connect(db) as conn:
        found = conn.execute("SELECT v FROM t").fetchone()
        return found[0] if found else None


def test_a_cancelled_write_still_commits_before_the_cancel_goes_on(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (v TEXT)")

    async def main() -> None:
        inside = asyncio.Event()
        release = asyncio.Event()

        async def write() -> None:  # a transaction with an await in the middle, like a commit
            conn = sqlite3.connect(db, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO t VALUES ('written')")
                inside.set()
                await release.wait()
                conn.execute("COMMIT")
            finally:
                conn.close()

        async def file_task() -> None:
            await ingest._to_the_end(write())

        task = asyncio.create_task(file_task())
        await asyncio.wait_for(inside.wait(), 5)
        task.cancel()  # what IngestWorker.cancel() does to a file being deleted
        await asyncio.sleep(0.05)
        assert not task.done(), "the cancel waits for the write to finish"
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)

    asyncio.run(main())
    assert _row(db) == "written"  # without the guard the transaction is cut off and rolled back


class _Leaked:
    """A connection in a reference cycle, holding the write lock, that nothing refers to."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")
        self.me = self


def test_a_lock_timeout_frees_a_leaked_connection(tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "w.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (v TEXT)")
    monkeypatch.setattr(locked, "FIRST_DELAY_S", 0.01)
    monkeypatch.setattr(locked, "_last_collect", float("-inf"))
    gc.disable()  # only the guard may collect, as when the lock lasted minutes
    try:
        _Leaked(db)
        attempts = 0

        async def write() -> None:
            nonlocal attempts
            attempts += 1
            conn = sqlite3.connect(db, timeout=0.05)
            try:
                conn.execute("INSERT INTO t VALUES ('after')")
                conn.commit()
            except sqlite3.OperationalError as error:
                raise OperationalError("INSERT", {}, error) from error
            finally:
                conn.close()

        asyncio.run(asyncio.wait_for(locked.retry_while_locked("test", write), 10))
    finally:
        gc.enable()
    assert attempts == 2  # locked once, then through after the collection
    assert _row(db) == "after"
