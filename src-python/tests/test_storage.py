"""The data dir layout and database exist on disk after start-up, migrated and in WAL mode."""

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from sage_sidecar.core.config import Settings
from sage_sidecar.storage.migrate import head_revision, upgrade_to_head


def test_startup_creates_layout_and_migrated_wal_database(client: TestClient, settings: Settings):
    for folder in ("storage", "vectors", "logs"):
        assert (settings.data_dir / folder).is_dir()
    with sqlite3.connect(settings.db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert (
            conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head_revision()
        )
        keys = {row[0] for row in conn.execute("SELECT key FROM app_meta")}
    assert {"first_started_at", "last_started_at", "last_version"} <= keys


def test_restart_keeps_first_start_and_migrations_are_idempotent(app, settings: Settings):
    with TestClient(app, base_url="http://127.0.0.1:1"):
        pass
    with sqlite3.connect(settings.db_path) as conn:
        first = conn.execute("SELECT value FROM app_meta WHERE key='first_started_at'").fetchone()
    assert upgrade_to_head(settings.db_path) == head_revision()
    with TestClient(app, base_url="http://127.0.0.1:1"):
        pass
    with sqlite3.connect(settings.db_path) as conn:
        again = conn.execute("SELECT value FROM app_meta WHERE key='first_started_at'").fetchone()
    assert first == again


def test_fast_path_head_matches_alembic_and_file_names():
    """The start-up fast path relies on revision ids equal to file-name prefixes."""
    import re

    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from sage_sidecar.storage.migrate import MIGRATIONS_DIR, head_revision

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    scripts = ScriptDirectory.from_config(config)
    assert scripts.get_current_head() == head_revision()
    for script in scripts.walk_revisions():
        assert re.match(rf"{script.revision}_", Path(script.path).name), script.path


def test_upgrade_skips_alembic_when_at_head_and_runs_it_when_behind(settings: Settings):
    settings.ensure_layout()
    assert upgrade_to_head(settings.db_path) == head_revision()  # new database: migrated
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'stale'")
    # A database the fast path cannot vouch for is refused, untouched, rather than guessed at.
    import pytest

    from sage_sidecar.core.errors import StartupFailure

    with pytest.raises(StartupFailure) as refused:
        upgrade_to_head(settings.db_path)
    assert refused.value.code == "storage.unknown_revision"
