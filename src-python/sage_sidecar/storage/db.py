"""The async database handle: one engine per process on `agent_platform.db`.

SQLite specifics (WAL, busy timeout, foreign keys) stay in this module so the rest of the code is
portable to PostgreSQL (see docs/architecture.md, "Beyond one machine").
"""

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import sqlcipher3.dbapi2
from sqlalchemy import event, text
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

from sage_sidecar.storage import cipher, sqlite_driver

T = TypeVar("T")
# How long a statement waits for another connection's write lock before "database is locked".
BUSY_TIMEOUT_MS = 5000


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer, and a killed process loses nothing already committed.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def sqlite_url(db_path: Path, *, asynchronous: bool) -> str:
    driver = "sqlite+aiosqlite" if asynchronous else "sqlite"
    return f"{driver}:///{db_path}"


class _SqlCipherDbapi(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite adapter with SQLCipher's exception classes: SQLAlchemy recognises
    a driver error (IntegrityError, "database is locked") by the adapter's classes, and
    SQLCipher's are not sqlite3's, so without this they would escape unwrapped."""

    def _init_dbapi_attributes(self) -> None:
        super()._init_dbapi_attributes()
        for name in _DBAPI_ERRORS:
            setattr(self, name, getattr(self.sqlite, name))


_DBAPI_ERRORS = ("DatabaseError", "Error", "IntegrityError", "NotSupportedError",
                 "OperationalError", "ProgrammingError")  # fmt: skip


class Database:
    def __init__(self, db_path: Path) -> None:
        self.path = db_path
        # An encrypted database (storage/cipher.py) opens with its key from the keychain, on
        # SQLCipher connections driven exactly like the plain ones.
        key = cipher.key_for(db_path)
        extra: dict[str, Any] = {}
        creator: Callable[..., Any] = sqlite_driver.connect
        if key is not None:
            creator = sqlite_driver.encrypted_connector(key)
            extra["module"] = _SqlCipherDbapi(aiosqlite, sqlcipher3.dbapi2)
        # hide_parameters: a failing statement's error (logged, maybe shown) must not carry its
        # values, which include provider API keys and MCP secrets. async_creator_fn: connections
        # a cancelled task cannot leave holding the write lock (storage/sqlite_driver.py).
        self.engine: AsyncEngine = create_async_engine(
            sqlite_url(db_path, asynchronous=True),
            hide_parameters=True,
            connect_args={"async_creator_fn": creator},
            **extra,
        )
        event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:  # noqa: BLE001 - health reports any failure as "not ok"
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


async def run_on_connection(session: AsyncSession, fn: Callable[[sqlite3.Connection], T]) -> T:
    """`fn` with the session's own DB-API connection, run on that connection's thread in one
    hand-off: same transaction, and keyed like every other statement on an encrypted database.
    For hot reads of several statements (knowledge search), where the adapter's three or four
    thread wake-ups per statement cost more than the SQL."""
    await session.flush()  # what session.execute's autoflush would write first (a no-op if none)
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    if not isinstance(driver, sqlite_driver.CancelSafeConnection):
        raise TypeError(f"not a connection of this module: {type(driver).__name__}")
    return await driver.run(fn)
