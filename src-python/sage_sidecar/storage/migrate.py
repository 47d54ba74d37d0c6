"""Run Alembic migrations to head at start-up, before the server accepts requests.

Migrations run on a short-lived synchronous connection: simpler than Alembic's async recipe, and
start-up is sequential anyway. The scripts ship as data files in the frozen build (see
`sage_sidecar.spec`) because Alembic discovers them on disk.

Start-up fast path: importing Alembic costs ~0.1 s, which matters for the READY target. Revision
ids follow the file names (`versions/NNNN_*.py` has revision "NNNN", a test enforces it), so the
head is known from a directory listing and an up-to-date database skips Alembic entirely.
"""

import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, event

from sage_sidecar.storage.db import _sqlite_pragmas, sqlite_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSIONS_DIR = MIGRATIONS_DIR / "versions"


def head_revision() -> str:
    return max(p.name.split("_", 1)[0] for p in VERSIONS_DIR.glob("[0-9]*_*.py"))


def stored_revision(db_path: Path) -> str | None:
    if not db_path.exists():
        return None
    with sqlite3.connect(db_path) as conn:
        try:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:  # no table yet: a new database
            return None
    return row[0] if row else None


def upgrade_to_head(db_path: Path) -> str | None:
    """Apply pending migrations and return the revision the database is now at."""
    current = stored_revision(db_path)
    if current == head_revision():
        return current
    return _alembic_upgrade(db_path)


def _alembic_upgrade(db_path: Path) -> str | None:
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(sqlite_url(db_path, asynchronous=False))
    event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.begin() as connection:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
