"""aiosqlite connections that a cancelled task cannot leave holding SQLite's write lock.

aiosqlite runs each statement on the connection's own thread and hands the result back through a
future. Cancelling the task that awaits it (the ingest worker's `cancel()` when a base is
re-indexed or a file deleted, a parse budget's timeout, a shutdown) abandons the future while the
statement carries on, and SQLAlchemy then treats the connection as broken: it terminates it from
inside its greenlet, where a second cancellation interrupts the graceful close and falls back to
`stop()`. In aiosqlite 0.22, `close()` and `stop()` each set `_connection = None` before the
other's thread step closes it, so the sqlite3 connection could stay open with its write
transaction; on Python 3.11 a sqlite3 connection is in a reference cycle with its own statement
cache, so nothing but a full garbage collection would ever close it. Every write then waited out
the busy timeout (a 503 `storage.busy`) until the process ended: the fuzz layer's "write lock that
is never released".

Two changes close it at the driver:
- a statement that was started is waited for before the cancellation goes on (bounded by the busy
  timeout), so SQLAlchemy's rollback and close run on a connection that is not mid-statement and
  reach the thread in order;
- `stop()` closes the sqlite3 connection it was called on, whatever `close()` did meanwhile, and a
  close after a stop does not wait for a thread that has already ended.
"""

import asyncio
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
from aiosqlite.core import _STOP_RUNNING_SENTINEL

from sage_sidecar.storage import cipher

T = TypeVar("T")


async def finish_then_cancel(future: "asyncio.Future[Any]") -> Any:
    """Await `future` to its end even if this task is cancelled meanwhile; then re-raise the
    cancellation (the result or error is dropped: the caller asked to stop)."""
    cancelled: asyncio.CancelledError | None = None
    while not future.done():
        try:
            await asyncio.wait({future})  # unlike a plain await, a cancel leaves `future` alone
        except asyncio.CancelledError as error:
            cancelled = error
    if cancelled is not None:
        raise cancelled
    return future.result()


class CancelSafeConnection(aiosqlite.Connection):
    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """`fn(connection)` on this connection's own thread, in one hand-off. Through the DB-API
        adapter every statement takes three or four (cursor, execute, fetch, close), each a
        thread wake-up; a read of several statements this way takes one."""
        result: T = await self._execute(lambda: fn(self._conn))
        return result

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        future = asyncio.get_running_loop().create_future()
        self._tx.put_nowait((future, partial(fn, *args, **kwargs)))
        return await finish_then_cancel(future)

    def stop(self) -> "asyncio.Future[Any] | None":
        # Taken now, on the loop: the thread step below closes this connection whatever close()
        # does meanwhile, and from here on every call sees the connection as closed.
        connection, self._connection = self._connection, None
        if not self._running:  # told to end already: the thread is gone or about to be
            return None
        self._running = False

        def close_and_stop() -> object:
            if connection is not None:
                connection.close()  # rolls back an open transaction, releasing the write lock
            return _STOP_RUNNING_SENTINEL

        try:
            future: asyncio.Future[Any] | None = asyncio.get_event_loop().create_future()
        except RuntimeError:  # no event loop: a connection garbage-collected at exit
            future = None
        self._tx.put_nowait((future, close_and_stop))
        return future


def connect(database: str | Path, **kwargs: Any) -> CancelSafeConnection:
    """SQLAlchemy's `async_creator_fn`: aiosqlite.connect with the connection above."""

    def connector() -> sqlite3.Connection:
        connection: sqlite3.Connection = sqlite3.connect(str(database), **kwargs)
        return connection

    return _cancel_safe(connector)


def encrypted_connector(key: bytes) -> Callable[..., CancelSafeConnection]:
    """`async_creator_fn` for an encrypted database: the same connection on its own thread, but
    a SQLCipher one keyed first thing on that thread (storage/cipher.py). aiosqlite only calls the
    connector and the DB-API methods both modules share, so nothing else differs."""

    def connect_encrypted(database: str | Path, **kwargs: Any) -> CancelSafeConnection:
        def connector() -> sqlite3.Connection:
            connection: sqlite3.Connection = cipher.connect_encrypted(database, key, **kwargs)
            return connection

        return _cancel_safe(connector)

    return connect_encrypted


def _cancel_safe(connector: Callable[[], sqlite3.Connection]) -> CancelSafeConnection:
    connection = CancelSafeConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for its own aiosqlite connections
    return connection
