"""Run Alembic migrations to head at start-up, before the server accepts requests.

Migrations run on a short-lived synchronous connection: it is simpler than Alembic's async recipe
and start-up is sequential anyway. The migration scripts ship as data files in the frozen build
(see `sage_sidecar.spec`), because Alembic discovers them on disk.
"""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event

from sage_sidecar.storage.db import _sqlite_pragmas, sqlite_url

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def upgrade_to_head(db_path: Path) -> str | None:
    """Apply pending migrations and return the revision the database is now at."""
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
