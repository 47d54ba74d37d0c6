"""Run Alembic migrations to head at start-up, before the server accepts requests.

An upgrade must never leave a database that no later start can open, however it ends:

1. A database at a revision this app does not know (written by a newer Sage) is refused with a
   clear error before anything touches it.
2. Before any upgrade of an existing database, a consistent copy is made with `VACUUM INTO`
   (written under a temporary name and renamed, so a half-written copy is never mistaken for a
   backup) in `backups/`; the newest KEEP_BACKUPS are kept.
3. The migrations run in ONE transaction, DDL included. pysqlite would otherwise run each DDL
   statement outside any transaction (it only opens one before INSERT/UPDATE/DELETE), so a
   migration cut off half-way left half a schema. SQLAlchemy's documented workaround: turn off
   pysqlite's own transaction handling and emit BEGIN ourselves. A kill at any point then leaves
   the database at its old revision (SQLite rolls back the WAL on the next open).
4. If the upgrade fails, the database is restored from the copy and the start stops with a
   coded error the shell shows (`core/contract.py`'s FAILED line).

Migrations run on a short-lived synchronous connection: simpler than Alembic's async recipe, and
start-up is sequential anyway. The scripts ship as data files in the frozen build (see
`sage_sidecar.spec`) because Alembic discovers them on disk.

Start-up fast path: importing Alembic costs ~0.1 s, which matters for the READY target. Revision
ids follow the file names (`versions/NNNN_*.py` has revision "NNNN", a test enforces it), so the
head is known from a directory listing and an up-to-date database skips Alembic entirely.
"""

import logging
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from sage_sidecar.core.errors import StartupFailure
from sage_sidecar.storage import cipher, conversion
from sage_sidecar.storage.db import BUSY_TIMEOUT_MS, sqlite_url

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
BACKUPS_DIR_NAME = "backups"
KEEP_BACKUPS = 3
_PARTIAL_SUFFIX = ".partial"


def known_revisions(migrations_dir: Path = MIGRATIONS_DIR) -> list[str]:
    """Every revision this app can migrate from or to, oldest first."""
    return sorted(
        p.name.split("_", 1)[0] for p in (migrations_dir / "versions").glob("[0-9]*_*.py")
    )


def head_revision(migrations_dir: Path = MIGRATIONS_DIR) -> str:
    return known_revisions(migrations_dir)[-1]


def stored_revision(db_path: Path) -> str | None:
    if not db_path.exists():
        return None
    conn = cipher.connect_sync(db_path)
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except (sqlite3.OperationalError, sqlcipher.OperationalError):  # no table yet: a new database
        return None
    finally:
        conn.close()
    return row[0] if row else None


def backups_dir(db_path: Path) -> Path:
    return db_path.parent / BACKUPS_DIR_NAME


def upgrade_to_head(db_path: Path, migrations_dir: Path = MIGRATIONS_DIR) -> str | None:
    """Apply pending migrations and return the revision the database is now at.

    Raises StartupFailure (codes `storage.newer_database`, `storage.unknown_revision`,
    `storage.unreadable`, `storage.migration_failed`, `storage.setup_failed`) when the database cannot be brought to
    this app's head.
    """
    known = known_revisions(migrations_dir)
    head = known[-1]
    # Turning encryption on or off is done here, with no connection open (storage/conversion.py).
    conversion.apply_pending(db_path)
    try:
        current = stored_revision(db_path)
    except (
        sqlite3.DatabaseError,
        sqlcipher.DatabaseError,
    ) as error:  # not a database, or damaged beyond SQLite's reading
        raise StartupFailure(
            f"The database {db_path} cannot be read ({error}); nothing was changed. Restore a "
            f"copy from {backups_dir(db_path)} or move the file away to start afresh.",
            code="storage.unreadable",
            path=str(db_path),
            backups=str(backups_dir(db_path)),
        ) from error
    if current == head:
        return current
    if current is not None and current not in known:
        raise _refusal(current, head)
    backup = _backup(db_path, current) if current is not None else None
    try:
        return _alembic_upgrade(db_path, migrations_dir)
    except Exception as error:
        log.exception("database upgrade from %s to %s failed", current, head)
        if backup is None:  # a new database: nothing to lose
            raise StartupFailure(
                f"The new database could not be set up: {error}", code="storage.setup_failed"
            ) from error
        _restore(backup, db_path)
        log.error("database restored from %s", backup)
        raise StartupFailure(
            f"The database could not be upgraded from schema {current} to {head}: {error}. It "
            f"was restored from the copy made before the upgrade, {backup}.",
            code="storage.migration_failed",
            revision=current,
            backup=str(backup),
        ) from error


def _refusal(current: str, head: str) -> StartupFailure:
    if current.isdigit() and int(current) > int(head):  # revision ids are numbers
        return StartupFailure(
            f"This data was written by a newer version of Sage (database schema {current}; this "
            f"version knows up to {head}). Update Sage to open it; nothing was changed.",
            code="storage.newer_database",
            revision=current,
            supported=head,
        )
    return StartupFailure(
        f"The database has schema revision {current!r}, which this version of Sage does not "
        "know; nothing was changed.",
        code="storage.unknown_revision",
        revision=current,
    )


def _backup(db_path: Path, revision: str) -> Path:
    """A consistent copy of the database as it is before the upgrade."""
    folder = backups_dir(db_path)
    folder.mkdir(mode=0o700, exist_ok=True)
    for leftover in folder.glob(f"*{_PARTIAL_SUFFIX}"):  # a copy cut off by a kill
        leftover.unlink(missing_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = folder / f"{db_path.stem}-{stamp}-schema{revision}{db_path.suffix}"
    partial = target.with_name(target.name + _PARTIAL_SUFFIX)
    # An encrypted database's copy is encrypted with the same key (SQLCipher's VACUUM INTO).
    live = cipher.connect_sync(db_path)
    try:
        live.execute("VACUUM INTO ?", (str(partial),))
    finally:
        live.close()
    partial.chmod(0o600)  # it holds the API keys like the database itself
    with partial.open("rb+") as copy:
        os.fsync(copy.fileno())
    os.replace(partial, target)
    _prune_backups(folder, db_path)
    log.info("database at schema %s copied to %s before upgrading", revision, target)
    return target


def _prune_backups(folder: Path, db_path: Path) -> None:
    backups = sorted(folder.glob(f"{db_path.stem}-*{db_path.suffix}"))  # names sort by time
    for old in backups[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)


def _restore(backup: Path, db_path: Path) -> None:
    """Copy the backup's pages over the database. SQLite's backup API writes them in one
    transaction of the destination, so a kill during the restore leaves the database as it was."""
    source = cipher.connect_sync(backup)  # each file plain or encrypted as it is
    target = cipher.connect_sync(db_path)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _migration_connection(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    # pysqlite: no implicit BEGIN/COMMIT of its own; the "begin" listener below emits BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    # Batch migrations rebuild tables (copy, drop, rename): with foreign keys enforced, dropping
    # a parent table would cascade-delete its children. Checked once before commit instead, as
    # SQLite's "other ALTER TABLE changes" procedure prescribes. (Only settable outside a
    # transaction, which is why it is here.)
    cursor.execute("PRAGMA foreign_keys=OFF")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_immediate(connection: Connection) -> None:
    # IMMEDIATE: take the write lock now, so no other writer interleaves with the upgrade.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _alembic_upgrade(db_path: Path, migrations_dir: Path) -> str | None:
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    key = cipher.key_for(db_path)
    encrypted: dict[str, Any] = {}
    if key is not None:  # SQLAlchemy's pysqlite dialect on SQLCipher's module, keyed connections
        encrypted = {"module": sqlcipher, "creator": lambda: cipher.connect_encrypted(db_path, key)}
    engine = create_engine(
        sqlite_url(db_path, asynchronous=False), hide_parameters=True, **encrypted
    )
    event.listen(engine, "connect", _migration_connection)
    event.listen(engine, "begin", _begin_immediate)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(migrations_dir))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            violations = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise RuntimeError(f"the upgrade broke {len(violations)} foreign key(s)")
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
