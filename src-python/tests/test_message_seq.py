"""Concurrent sends to one conversation each get their own places (seq): max(seq) is read under
the write lock, and the database refuses a duplicate besides (migration 0009)."""

import asyncio
import sqlite3

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.app_state import AppState

SENDS = 24


async def _send_many(state: AppState, conversation_id: str) -> list[BaseException | None]:
    async def ignore(_frame: object) -> None:
        return None

    async def send(i: int) -> BaseException | None:
        try:
            await state.chat.send(f"question {i}", ignore, conversation_id=conversation_id)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            return error
        return None

    results = await asyncio.gather(*(send(i) for i in range(SENDS)))
    await state.chat.shutdown()  # the replies (no provider: they fail fast) end before we look
    return list(results)


def test_concurrent_sends_to_one_conversation_get_distinct_places(client: TestClient, auth):
    conversation = client.post("/api/conversations", json={}, headers=auth).json()
    state: AppState = client.app.state.sage  # type: ignore[attr-defined]
    errors = client.portal.call(_send_many, state, conversation["id"])  # type: ignore[union-attr]
    assert errors == [None] * SENDS
    with sqlite3.connect(state.settings.db_path) as conn:
        seqs = [row[0] for row in conn.execute(
            "SELECT seq FROM messages WHERE conversation_id = ? ORDER BY seq", (conversation["id"],))]  # fmt: skip
    assert seqs == list(range(1, 2 * SENDS + 1))  # a question and its reply each, no gaps


def test_the_database_refuses_a_duplicate_place(client: TestClient, auth, settings):
    conversation = client.post("/api/conversations", json={}, headers=auth).json()
    with sqlite3.connect(settings.db_path) as conn:
        insert = ("INSERT INTO messages (id, conversation_id, seq, role, content, parts, status, "
                  "created_at) VALUES (?, ?, 1, 'user', '', '[]', 'completed', '2026-01-01')")  # fmt: skip
        conn.execute(insert, ("a" * 32, conversation["id"]))
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute(insert, ("b" * 32, conversation["id"]))


def test_the_upgrade_renumbers_existing_duplicates_in_insertion_order(settings, tmp_path):
    import shutil

    from sage_sidecar.storage.migrate import MIGRATIONS_DIR, head_revision, upgrade_to_head

    settings.ensure_layout()
    db = settings.db_path
    # A database made by the migrations up to 0008 (every later one removed from a copy), then
    # two sends that raced under it.
    before = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, before)
    for newer in (before / "versions").glob("00*.py"):
        if newer.name[:4] > "0008":
            newer.unlink()
    assert upgrade_to_head(db, before) == "0008"
    with sqlite3.connect(db) as conn:
        for cid in ("raced", "calm"):
            conn.execute("INSERT INTO conversations (id, title, created_at, updated_at) "
                         "VALUES (?, 't', '2026-01-01', '2026-01-01')", (cid,))  # fmt: skip
        rows = [("raced", 1, "q1"), ("raced", 2, "a1"), ("raced", 3, "q2"), ("raced", 4, "a2"),
                ("raced", 3, "q3"), ("raced", 4, "a3"), ("calm", 1, "q"), ("calm", 2, "a")]  # fmt: skip
        for i, (cid, seq, content) in enumerate(rows):
            conn.execute("INSERT INTO messages (id, conversation_id, seq, role, content, parts, "
                         "status, created_at) VALUES (?, ?, ?, 'user', ?, '[]', 'completed', "
                         "'2026-01-01')", (f"m{i}", cid, seq, content))  # fmt: skip
    assert upgrade_to_head(db) == head_revision()
    with sqlite3.connect(db) as conn:

        def order(cid: str) -> list[tuple[int, str]]:
            return list(conn.execute("SELECT seq, content FROM messages WHERE conversation_id = ? "
                                     "ORDER BY seq", (cid,)))  # fmt: skip

        assert order("raced") == [(1, "q1"), (2, "a1"), (3, "q2"), (4, "a2"), (5, "q3"), (6, "a3")]
        assert order("calm") == [(1, "q"), (2, "a")]
