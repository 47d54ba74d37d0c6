"""A kill -9 at every step of turning encryption on or off leaves a database that opens, with
everything in it, and the next start finishes the job (storage/conversion.py)."""

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sage_sidecar.storage import cipher, conversion
from sage_sidecar.storage.migrate import upgrade_to_head

ROWS = 300
IN_WAL = 20
SRC_PYTHON = Path(__file__).resolve().parents[1]
# One start-up's worth of work: the pending conversion, then the migrations' check.
START = "import sys; from pathlib import Path; from sage_sidecar.storage.migrate import " \
        "upgrade_to_head; upgrade_to_head(Path(sys.argv[1]))"  # fmt: skip

WAL_WRITER = f"""
import os, signal, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA journal_mode=WAL")
with conn:
    for i in range({ROWS}, {ROWS + IN_WAL}):
        conn.execute("INSERT INTO messages (id, conversation_id, seq, role, content, parts, "
                     "status, created_at) VALUES (?, 'c1', ?, 'user', 'in the log about "
                     "encryption', '[]', 'completed', '2024-01-01')", (f"m{{i}}", i))
os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.fixture(autouse=True)
def fresh_key_cache():
    cipher.forget_keys()
    yield
    cipher.forget_keys()


def populated(tmp_path: Path) -> Path:
    db = tmp_path / "data" / "agent_platform.db"
    db.parent.mkdir()
    upgrade_to_head(db)
    conn = sqlite3.connect(db)
    with conn:  # commits; the close below matters: the conversion needs the file to itself
        conn.execute("INSERT INTO conversations (id, title, created_at, updated_at) "
                     "VALUES ('c1', 'Crash', '2024-01-01', '2024-01-01')")  # fmt: skip
        conn.executemany(
            "INSERT INTO messages (id, conversation_id, seq, role, content, parts, status, "
            "created_at) VALUES (?, 'c1', ?, 'user', ?, '[]', 'completed', '2024-01-01')",
            [(f"m{i}", i, f"message number {i} about encryption") for i in range(ROWS)],
        )
    conn.close()
    # And the last ones only in the write-ahead log of a process killed before it checkpointed:
    # the conversion must carry them over, and must not leave that log beside the new file.
    writer = subprocess.run([sys.executable, "-c", WAL_WRITER, str(db)], timeout=60)
    assert writer.returncode == -signal.SIGKILL and Path(f"{db}-wal").stat().st_size > 0
    return db


def start_once(db: Path, crash_at: str | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if k != conversion.CRASH_ENV}
    env["PYTHONPATH"] = str(SRC_PYTHON)
    if crash_at:
        env[conversion.CRASH_ENV] = crash_at
    done = subprocess.run([sys.executable, "-c", START, str(db)], env=env,
                          capture_output=True, timeout=60)  # fmt: skip
    return done.returncode


def contents(db: Path) -> tuple[int, int]:
    """(messages, FTS hits for 'encryption'), opened as the file is, with its key if encrypted."""
    cipher.forget_keys()
    conn = cipher.connect_sync(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        messages = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        hits = conn.execute(
            "SELECT count(*) FROM messages_fts WHERE messages_fts MATCH '\"encryption\"'"
        ).fetchone()[0]
    finally:
        conn.close()
    return messages, hits


@pytest.mark.parametrize("target", ["encrypted", "plain"])
@pytest.mark.parametrize("step", conversion.STEPS)
def test_a_kill_at_any_step_leaves_a_usable_database_and_the_next_start_finishes(
    tmp_path: Path, step: str, target: str
):
    db = populated(tmp_path)
    if target == "plain":  # start from an encrypted database
        conversion.request(db, "encrypted")
        assert start_once(db) == 0 and cipher.is_encrypted(db)
    conversion.request(db, target)  # type: ignore[arg-type]

    assert start_once(db, crash_at=step) == -signal.SIGKILL
    assert contents(db) == (
        ROWS + IN_WAL,
        ROWS + IN_WAL,
    )  # usable as it is, whichever form it is in

    assert start_once(db) == 0  # the next start carries on
    assert cipher.is_encrypted(db) == (target == "encrypted")
    assert contents(db) == (ROWS + IN_WAL, ROWS + IN_WAL)
    assert conversion.pending(db) is None and conversion.last_failure(db) is None
    leftovers = sorted(p.name for p in db.parent.iterdir() if p.name != db.name)
    assert [n for n in leftovers if n.startswith(db.name + ".")] == []
