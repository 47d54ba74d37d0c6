"""The encrypted database option (storage/cipher.py, storage/conversion.py): turned on and off
through the API, converted at the next start, unreadable without its key, FTS5 and WAL working on
it, and a missing, wrong or unreachable key refused with a coded error instead of a crash."""

import asyncio
import hashlib
import io
import json
import sqlite3
import subprocess
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from sage_sidecar.app import create_app
from sage_sidecar.core import keychain
from sage_sidecar.core.config import Settings
from sage_sidecar.core.contract import FAILED_PREFIX
from sage_sidecar.core.errors import StartupFailure
from sage_sidecar.storage import cipher, conversion
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.migrate import upgrade_to_head

from conftest import TEST_ORIGIN
from sidecar_process import sidecar_command, sidecar_env

HISTORY = Path(__file__).parent / "data" / "history_import" / "chatgpt_conversations.json"
URL = "/api/privacy/database"


@pytest.fixture(autouse=True)
def fresh_key_cache():
    cipher.forget_keys()  # each test has its own keychain file
    yield
    cipher.forget_keys()


def start(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), base_url=TEST_ORIGIN)


def with_history(settings: Settings, auth) -> None:
    with start(settings) as client:
        headers = {**auth, "content-type": "application/octet-stream"}
        imported = client.post("/api/conversations/import/history", content=HISTORY.read_bytes(),
                               headers=headers)  # fmt: skip
        assert imported.status_code == 200, imported.text


def search(client: TestClient, auth, query: str) -> list[str]:
    hits = client.get("/api/conversations/search", params={"q": query}, headers=auth)
    assert hits.status_code == 200, hits.text
    return [h["snippet"] for h in hits.json()]


def switch(settings: Settings, auth, encrypted: bool) -> None:
    """Ask for the change through the API, then start again (the conversion runs at start-up)."""
    with start(settings) as client:
        asked = client.put(URL, json={"encrypted": encrypted}, headers=auth)
        assert asked.status_code == 200, asked.text
        want = "encrypted" if encrypted else "plain"
        assert asked.json()["pending"] == want and asked.json()["encrypted"] is not encrypted
    with start(settings) as client:
        status = client.get(URL, headers=auth).json()
        assert status == {"encrypted": encrypted, "pending": None, "keychain": "test file",
                          "last_failure": None}  # fmt: skip


def files_in(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def test_turning_encryption_on_converts_the_database_and_search_and_wal_still_work(
    settings: Settings, auth, test_keychain: Path
):
    db = settings.db_path
    with_history(settings, auth)
    with start(settings) as client:
        before = search(client, auth, "sums to")
    assert before and all("sums to" in s.replace("[", "").replace("]", "") for s in before)

    switch(settings, auth, encrypted=True)
    assert db.read_bytes()[:16] != b"SQLite format 3\x00"
    with pytest.raises(sqlite3.DatabaseError, match="file is not a database"):
        sqlite3.connect(db).execute("SELECT count(*) FROM messages").fetchone()
    with start(settings) as client:
        assert search(client, auth, "sums to") == before  # FTS5 trigram on the encrypted file
        assert search(client, auth, "2+") != []  # and the short-query LIKE path
        new = client.post("/api/conversations", json={}, headers=auth)
        assert new.status_code == 201, new.text
        # WAL: the write above is in the log beside the file while the app runs.
        assert Path(f"{db}-wal").exists()
        conn = cipher.connect_sync(db)
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    # The key is in the keychain, and nowhere in the data folder, as bytes or as hex.
    key = keychain.get_secret(cipher.KEY_NAME)
    assert key is not None and len(key) == 32
    for path in files_in(settings.data_dir):
        content = path.read_bytes()
        assert key not in content and key.hex().encode() not in content, path
    # No plain copy is left behind: the kept source and the marker are gone.
    leftovers = [p.name for p in settings.data_dir.iterdir() if p.name.startswith(db.name + ".")]
    assert leftovers == []


def test_turning_it_off_gives_back_a_plain_database_with_everything_in_it(settings: Settings, auth):
    with_history(settings, auth)
    switch(settings, auth, encrypted=True)
    switch(settings, auth, encrypted=False)
    with sqlite3.connect(settings.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 6
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with start(settings) as client:
        assert search(client, auth, "sums to")


def test_asking_for_the_current_state_withdraws_a_pending_change(settings: Settings, auth):
    with start(settings) as client:
        assert client.put(URL, json={"encrypted": True}, headers=auth).json()["pending"] == (
            "encrypted"
        )
        assert client.put(URL, json={"encrypted": False}, headers=auth).json()["pending"] is None
    with start(settings) as client:
        assert client.get(URL, headers=auth).json()["encrypted"] is False


def test_an_export_of_an_encrypted_database_is_plain_and_has_no_secrets(settings: Settings, auth):
    with_history(settings, auth)
    with start(settings) as client:
        provider = {"name": "P", "kind": "openai", "base_url": "http://127.0.0.1:9",
                    "api_key": "sk-planted-secret-123"}  # fmt: skip
        assert client.post("/api/providers", json=provider, headers=auth).status_code == 201
    switch(settings, auth, encrypted=True)
    with start(settings) as client:
        exported = client.get("/api/system/export", headers=auth)
        assert exported.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(exported.content))
    copy = settings.data_dir.parent / "exported.db"
    copy.write_bytes(archive.read("agent_platform.db"))
    with sqlite3.connect(copy) as conn:  # restorable without the key
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 6
        assert conn.execute("SELECT api_key FROM providers").fetchall() == [(None,)]
    assert b"sk-planted-secret-123" not in copy.read_bytes()


def test_an_encrypted_database_with_another_key_in_the_keychain_is_refused_untouched(
    settings: Settings, auth
):
    with_history(settings, auth)
    switch(settings, auth, encrypted=True)
    db = settings.db_path
    keychain.set_secret(cipher.KEY_NAME, b"\x07" * 32)
    cipher.forget_keys()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    with pytest.raises(StartupFailure) as refused:
        upgrade_to_head(db)
    assert refused.value.code == "storage.wrong_key"
    assert refused.value.params == {"path": str(db)}
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_a_missing_key_or_an_unreachable_keychain_is_refused_with_the_reason(
    settings: Settings, auth, test_keychain: Path
):
    with_history(settings, auth)
    switch(settings, auth, encrypted=True)
    db = settings.db_path
    saved = test_keychain.read_bytes()
    keychain.delete_secret(cipher.KEY_NAME)
    cipher.forget_keys()
    with pytest.raises(StartupFailure) as missing:
        upgrade_to_head(db)
    assert missing.value.code == "storage.key_unavailable"
    assert "no entry 'database-key'" in missing.value.params["reason"]
    test_keychain.write_text("{not json", encoding="utf-8")  # a keychain that cannot be read
    with pytest.raises(StartupFailure) as unreachable:
        upgrade_to_head(db)
    assert unreachable.value.code == "storage.key_unavailable"
    assert "cannot be read" in unreachable.value.params["reason"]
    test_keychain.write_bytes(saved)  # the key is back: the same file opens again
    assert upgrade_to_head(db) is not None


def test_a_real_sidecar_without_its_key_prints_a_coded_failure_every_time(
    settings: Settings, auth, tmp_path: Path
):
    with_history(settings, auth)
    switch(settings, auth, encrypted=True)
    data = settings.data_dir
    env = sidecar_env(data, SAGE_TEST_KEYCHAIN_FILE=str(tmp_path / "empty-keychain.json"))
    for _attempt in range(2):  # the same answer every time, not a crash to retry
        result = subprocess.run(sidecar_command(), env=env, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=60)  # fmt: skip
        assert result.returncode == 3, result.stderr[-2000:]
        [line] = result.stdout.splitlines()
        prefix, _, payload = line.partition(" ")
        assert prefix == FAILED_PREFIX
        failure = json.loads(payload)
        assert failure["code"] == "storage.key_unavailable"
        assert failure["params"]["path"] == str(settings.db_path)
    assert cipher.is_encrypted(settings.db_path)


def test_encrypting_without_a_keychain_is_refused_before_anything_changes(
    settings: Settings, auth, test_keychain: Path
):
    with start(settings) as client:
        test_keychain.write_text("{not json", encoding="utf-8")
        refused = client.put(URL, json={"encrypted": True}, headers=auth)
        assert refused.status_code == 502
        assert refused.json()["code"] == "privacy.keychain_unavailable"
        assert client.get(URL, headers=auth).json()["pending"] is None


def test_a_conversion_that_cannot_run_leaves_the_database_as_it_was_and_says_why(
    settings: Settings, auth, test_keychain: Path
):
    with_history(settings, auth)
    conversion.request(settings.db_path, "encrypted")
    test_keychain.write_text("{not json", encoding="utf-8")  # the keychain went away meanwhile
    with start(settings) as client:
        status = client.get(URL, headers=auth).json()
        assert status["encrypted"] is False and status["pending"] is None
        assert status["last_failure"]["target"] == "encrypted"
        assert "cannot be read" in status["last_failure"]["reason"]
        assert search(client, auth, "sums to")


async def test_driver_errors_on_an_encrypted_database_are_sqlalchemys(settings: Settings, auth):
    """SQLCipher's exception classes are not sqlite3's: SQLAlchemy must still wrap them, or an
    IntegrityError (a unique clash the services catch) would escape as a bare driver error."""
    await asyncio.to_thread(with_history, settings, auth)
    await asyncio.to_thread(switch, settings, auth, True)
    db = Database(settings.db_path)
    try:
        async with db.session() as session:
            with pytest.raises(IntegrityError):  # the same primary key again
                await session.execute(
                    text("INSERT INTO conversations SELECT * FROM conversations LIMIT 1")
                )
    finally:
        await db.dispose()


def test_starting_afresh_sets_the_encrypted_database_aside_whole(settings: Settings, auth):
    """The user's choice when the key is gone: the shell writes the start-fresh marker and
    restarts; the database (and its WAL) is moved whole into backups/, and a new one starts."""
    with_history(settings, auth)
    switch(settings, auth, encrypted=True)
    db = settings.db_path
    before = db.read_bytes()
    keychain.delete_secret(cipher.KEY_NAME)
    cipher.forget_keys()
    with pytest.raises(StartupFailure):
        upgrade_to_head(db)
    conversion.start_fresh_path(db).write_bytes(b"")
    with start(settings) as client:
        assert client.get("/api/conversations", headers=auth).json() == []
        assert client.get(URL, headers=auth).json()["encrypted"] is False
    [kept] = (settings.data_dir / "backups").glob("set-aside-*")
    assert (kept / db.name).read_bytes() == before  # untouched, still encrypted
    assert not conversion.start_fresh_path(db).exists()
    with start(settings) as client:  # the next start keeps the new database
        assert client.get("/api/conversations", headers=auth).json() == []
