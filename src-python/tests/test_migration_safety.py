"""An upgrade never leaves a database that no later start can open: a copy is made first, the
migrations run in one transaction (DDL included), a failure restores the copy and stops with a
coded error, a kill at any point leaves the old revision, and a newer database is refused."""

import hashlib
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sage_sidecar.core.errors import StartupFailure
from sage_sidecar.storage import migrate
from sage_sidecar.storage.migrate import MIGRATIONS_DIR, backups_dir, head_revision, upgrade_to_head

from sidecar_process import SRC_PYTHON

SECRET = "sk-planted-in-the-provider-row"
CHILD_TIMEOUT_S = 60

# An extra migration after the app's head. It does some of everything a real one does (a new
# table, a column, a data rewrite, a batch rebuild of a parent table), then ends as {ending}.
INJECTED = """
import os, signal
import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.add_column("messages", sa.Column("scratch", sa.Text(), nullable=True))
    op.execute("UPDATE messages SET content = 'clobbered'")
    # Rebuilds conversations (copy, drop, rename): with foreign keys enforced the drop would
    # cascade-delete every message.
    with op.batch_alter_table("conversations", recreate="always") as batch:
        batch.alter_column("title", existing_type=sa.String(300), type_=sa.String(400))
    op.execute("UPDATE messages SET content = 'migrated ' || seq")
    {ending}
"""
ENDINGS = {
    "ok": "pass",
    "fail": "raise RuntimeError('injected failure half-way')",
    "kill": "os.kill(os.getpid(), signal.SIGKILL)",
}


def migrations_with(tmp_path: Path, ending: str) -> Path:
    """The app's migrations plus the injected one (named like the others: NNNN_*.py)."""
    folder = tmp_path / f"migrations-{ending}"
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    head = head_revision()
    revision = f"{int(head) + 1:04d}"
    script = INJECTED.format(revision=revision, down=head, ending=ENDINGS[ending])
    (folder / "versions" / f"{revision}_injected.py").write_text(textwrap.dedent(script))
    return folder


def populated_database(tmp_path: Path) -> Path:
    """A database at the app's head with a provider (and its key) and a conversation."""
    data = tmp_path / "data"
    data.mkdir()
    db = data / "agent_platform.db"
    upgrade_to_head(db)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO providers (id, name, kind, base_url, api_key, enabled, "
                     "created_at, updated_at) VALUES ('p', 'P', 'openai', 'http://x', ?, 1, "
                     "'2026-01-01', '2026-01-01')", (SECRET,))  # fmt: skip
        conn.execute("INSERT INTO conversations (id, title, created_at, updated_at) "
                     "VALUES ('c', 'Kept', '2026-01-01', '2026-01-01')")  # fmt: skip
        for seq in range(1, 41):
            conn.execute("INSERT INTO messages (id, conversation_id, seq, role, content, parts, "
                         "status, created_at) VALUES (?, 'c', ?, 'user', ?, '[]', 'completed', "
                         "'2026-01-01')", (f"m{seq}", seq, f"original {seq} " + "x" * 2000))  # fmt: skip
    return db


def tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def columns(db: Path, table: str) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def contents(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [r[0] for r in conn.execute("SELECT content FROM messages ORDER BY seq")]


def assert_intact_at_old_head(db: Path) -> None:
    """The database is exactly as before the upgrade began: old revision, no trace of the
    injected migration, every row as written."""
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert migrate.stored_revision(db) == head_revision()
    assert "half_done" not in tables(db)
    assert "scratch" not in columns(db, "messages")
    assert contents(db) == [f"original {seq} " + "x" * 2000 for seq in range(1, 41)]


def test_a_migration_failing_half_way_is_rolled_back_restored_and_reported(tmp_path: Path):
    db = populated_database(tmp_path)
    with pytest.raises(StartupFailure) as failed:
        upgrade_to_head(db, migrations_with(tmp_path, "fail"))
    assert failed.value.code == "storage.migration_failed"
    assert failed.value.params["revision"] == head_revision()
    assert "injected failure half-way" in str(failed.value)
    assert_intact_at_old_head(db)
    [backup] = backups_dir(db).iterdir()
    assert failed.value.params["backup"] == str(backup)
    assert migrate.stored_revision(backup) == head_revision()
    if os.name != "nt":
        assert backup.stat().st_mode & 0o777 == 0o600  # it holds the keys too
    # Fixed in the next version: the same data upgrades, messages and their parent intact.
    fixed = migrations_with(tmp_path, "ok")
    assert upgrade_to_head(db, fixed) == head_revision(fixed)
    assert contents(db) == [f"migrated {seq}" for seq in range(1, 41)]


def test_only_the_newest_backups_are_kept(tmp_path: Path):
    db = populated_database(tmp_path)
    for _ in range(migrate.KEEP_BACKUPS + 2):
        with pytest.raises(StartupFailure):
            upgrade_to_head(db, migrations_with(tmp_path, "fail"))
        time.sleep(1.01)  # backups are named by the second
    assert len(list(backups_dir(db).iterdir())) == migrate.KEEP_BACKUPS


# A child process runs the upgrade, as the sidecar does at start, and is SIGKILLed at one step.
CHILD = """
import os, signal, sys
from pathlib import Path
from sage_sidecar.storage import migrate

db, migrations, step = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

def kill_before(name):
    original = getattr(migrate, name)
    def wrapper(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(migrate, name, wrapper)

def kill_inside(module, name):
    original = getattr(module, name)
    def wrapper(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    setattr(module, name, wrapper)

if step == "backup-written":  # the copy exists under its temporary name
    kill_inside(migrate.os, "replace")
elif step == "backup-done":
    kill_before("_prune_backups")
elif step == "before-restore":  # the migration failed, the restore has not begun
    kill_before("_restore")
# "mid-migration": the injected migration kills itself; "any": killed from outside
migrate.upgrade_to_head(db, migrations)
print("upgraded", flush=True)
"""


def run_child(db: Path, migrations: Path, step: str, *, kill_after_s: float | None = None) -> int:
    env = {**os.environ, "PYTHONPATH": str(SRC_PYTHON)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db), str(migrations), step],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        if kill_after_s is not None:
            time.sleep(kill_after_s)
            child.send_signal(signal.SIGKILL)
        child.communicate(timeout=CHILD_TIMEOUT_S)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    return child.returncode


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
@pytest.mark.parametrize(
    ("step", "ending"),
    [
        ("backup-written", "ok"),
        ("backup-done", "ok"),
        ("mid-migration", "kill"),
        ("before-restore", "fail"),
    ],  # fmt: skip
)
def test_a_kill_at_any_step_leaves_the_old_revision_and_the_next_start_upgrades(
    tmp_path: Path, step: str, ending: str
):
    db = populated_database(tmp_path)
    assert run_child(db, migrations_with(tmp_path, ending), step) == -signal.SIGKILL
    assert_intact_at_old_head(db)
    fixed = migrations_with(tmp_path, "ok")
    assert upgrade_to_head(db, fixed) == head_revision(fixed)  # the next start
    assert contents(db) == [f"migrated {seq}" for seq in range(1, 41)]
    assert not list(backups_dir(db).glob("*.partial")), "a half-written copy was left behind"


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL")
def test_a_kill_at_arbitrary_moments_never_leaves_half_a_schema(tmp_path: Path):
    """SIGKILL from outside at spread-out moments of a real upgrade (start-up, copy, migration,
    commit): each time the database is at the old or the new revision, whole, and the next start
    upgrades it."""
    fixed = migrations_with(tmp_path, "ok")
    new_head = head_revision(fixed)
    outcomes: set[str] = set()
    for i, delay in enumerate((0.05, 0.2, 0.4, 0.6, 0.8, 1.0, 1.3, 1.8)):
        case = tmp_path / f"case{i}"
        case.mkdir()
        db = populated_database(case)
        run_child(db, fixed, "any", kill_after_s=delay)
        revision = migrate.stored_revision(db)
        if revision == new_head:
            outcomes.add("new")
            assert contents(db) == [f"migrated {seq}" for seq in range(1, 41)]
        else:
            outcomes.add("old")
            assert_intact_at_old_head(db)
        assert upgrade_to_head(db, fixed) == new_head
        assert contents(db) == [f"migrated {seq}" for seq in range(1, 41)]
    assert "old" in outcomes  # at least one kill landed before the commit


def test_a_database_from_a_newer_app_is_refused_untouched(tmp_path: Path):
    db = populated_database(tmp_path)
    newer = f"{int(head_revision()) + 5:04d}"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (newer,))
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(StartupFailure) as refused:
        upgrade_to_head(db)
    assert refused.value.code == "storage.newer_database"
    assert refused.value.params == {"revision": newer, "supported": head_revision()}
    assert "newer version of Sage" in str(refused.value)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    assert not backups_dir(db).exists()


def test_a_file_that_is_not_a_database_is_refused_untouched(tmp_path: Path):
    db = tmp_path / "agent_platform.db"
    db.write_bytes(b"this is not an SQLite database, it is garbage " * 100)
    before = db.read_bytes()
    with pytest.raises(StartupFailure) as refused:
        upgrade_to_head(db)
    assert refused.value.code == "storage.unreadable"
    assert refused.value.params["path"] == str(db)
    assert db.read_bytes() == before
