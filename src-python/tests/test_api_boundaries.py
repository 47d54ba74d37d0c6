"""Bad input is refused with a 4xx in the one error body, never a 500: the crashes the fuzz layer
(tests/fuzz/run_fuzz.py) found, each pinned here. Timestamps are served as UTC with an offset."""

import time
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient


def _invalid(response, field: str) -> dict:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "request.invalid" and body["params"]["field"] == field, body
    return body


def test_a_nul_in_the_search_text_is_refused(client: TestClient, auth):
    """SQLite's full-text parser reads a NUL as the end of the query: it answered 500."""
    _invalid(client.get("/api/conversations/search", params={"q": "abc\x00def"}, headers=auth), "q")
    assert client.get("/api/conversations/search", params={"q": "abc"}, headers=auth).json() == []


@pytest.mark.parametrize(
    "base_url", ["http://xn--/v1", "http://\u00ad.example/v1", "http://host:99999/v1"]
)
def test_a_provider_url_the_client_cannot_use_is_refused_when_saved(client, auth, base_url):
    """An invalid IDNA host was saved, then its test and model list crashed (500)."""
    body = {"name": "bad", "kind": "openai", "base_url": base_url}
    _invalid(client.post("/api/providers", json=body, headers=auth), "base_url")
    good = client.post("/api/providers", json={**body, "base_url": "http://127.0.0.1:9/v1"},
                       headers=auth).json()  # fmt: skip
    patch = client.patch(f"/api/providers/{good['id']}", json={"base_url": base_url}, headers=auth)
    _invalid(patch, "base_url")


def test_a_unicode_host_is_still_a_usable_provider_url(client, auth):
    body = {"name": "idn", "kind": "openai", "base_url": "http://bücher.example/v1"}
    assert client.post("/api/providers", json=body, headers=auth).status_code == 201


def test_a_provider_key_that_cannot_be_sent_in_a_header_is_refused(client, auth):
    """A non-ASCII key was saved, then the provider's test crashed encoding the header (500)."""
    key = "sk-ключ-secret"
    body = {"name": "p", "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": key}
    response = client.post("/api/providers", json=body, headers=auth)
    _invalid(response, "api_key")
    assert key not in response.text  # a refused key is not echoed back
    created = client.post("/api/providers", json={**body, "api_key": "sk-ascii"}, headers=auth)
    patch = client.patch(f"/api/providers/{created.json()['id']}", json={"api_key": key},
                         headers=auth)  # fmt: skip
    _invalid(patch, "api_key")


@pytest.mark.parametrize(
    ("change", "field"),
    [({"command": "a\x00b"}, "command"), ({"args": ["\x00"]}, "args.0"),
     ({"env": {"TOKEN": "x\x00"}}, "env.TOKEN"), ({"headers": {"X-Key": "ключ"}}, "headers.X-Key")],
)  # fmt: skip
def test_an_mcp_server_the_os_or_http_cannot_start_is_refused(client, auth, change, field):
    body = {"name": "srv", "transport": "stdio", "command": "true", **change}
    _invalid(client.post("/api/mcp-servers", json=body, headers=auth), field)


@pytest.mark.parametrize("chunk_id", [2**63, 106368928995692444123136, 0])
def test_a_chunk_id_past_sqlites_integers_is_refused(client: TestClient, auth, chunk_id):
    """A number SQLite cannot bind answered 500 (OverflowError); the fuzz run found it."""
    _invalid(client.get(f"/api/knowledge/chunks/{chunk_id}", headers=auth), "chunk_id")
    assert client.get(f"/api/knowledge/chunks/{2**63 - 1}", headers=auth).status_code == 404


def _is_utc_with_offset(value: str) -> bool:
    parsed = datetime.fromisoformat(value)
    return parsed.tzinfo is not None and parsed.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


@pytest.fixture
def far_from_utc(monkeypatch):
    """The process's local time zone is UTC+8, so a naive time read as local time is 8 h off."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_timestamps_are_utc_with_an_offset(far_from_utc, client: TestClient, auth):
    before = datetime.now(UTC)
    agent = client.get("/api/agents", headers=auth).json()[0]
    created = client.post("/api/conversations", json={}, headers=auth).json()
    # Read back, from the database (naive UTC there), not the object that was just saved.
    conversation = client.get(f"/api/conversations/{created['id']}", headers=auth).json()
    kb = client.post("/api/knowledge/bases", json={"name": "Docs"}, headers=auth).json()
    export = client.get(f"/api/conversations/{created['id']}/export", headers=auth).json()
    for item in (agent, conversation, kb, export):
        for field in ("created_at", "updated_at"):
            assert item[field].endswith("Z") and _is_utc_with_offset(item[field]), item
    # The instant is now, not now shifted by the local time zone.
    created = datetime.fromisoformat(conversation["created_at"])
    assert abs((created - before).total_seconds()) < 60


def test_an_imported_timestamp_keeps_its_instant(client: TestClient, auth):
    export = {"format": "sage.conversation.v1", "title": "t", "messages": [
        {"role": "user", "content": "hi", "created_at": "2026-01-02T08:00:00+08:00"},
        {"role": "assistant", "content": "hello", "created_at": "2026-01-02T00:30:00"},
    ]}  # fmt: skip
    imported = client.post("/api/conversations/import", json=export, headers=auth).json()
    messages = client.get(f"/api/conversations/{imported['id']}/messages", headers=auth).json()
    assert [m["created_at"] for m in messages] == ["2026-01-02T00:00:00Z", "2026-01-02T00:30:00Z"]


def test_a_timestamp_with_no_utc_instant_is_refused(client: TestClient, auth):
    """Year 1 at +01:00 is before the first UTC instant Python has: converting it overflowed."""
    export = {"format": "sage.conversation.v1", "title": "t", "messages": [
        {"role": "user", "content": "hi", "created_at": "0001-01-01T00:00:00+01:00"}]}  # fmt: skip
    _invalid(client.post("/api/conversations/import", json=export, headers=auth),
             "messages.0.created_at")  # fmt: skip


def test_a_database_locked_past_the_busy_timeout_is_a_503_to_retry(
    client: TestClient, auth, settings
):
    """Another writer holding SQLite's lock past the busy timeout (5 s) was a 500; the fuzz run
    met it on a loaded machine. It is transient: a 503 with Retry-After, in the error body."""
    import sqlite3

    holder = sqlite3.connect(settings.db_path, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held
        busy = client.post("/api/conversations", json={}, headers=auth)
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "1"
        assert busy.json() == {"detail": "the database is busy; try again", "code": "storage.busy",
                               "params": {}}  # fmt: skip
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert client.post("/api/conversations", json={}, headers=auth).status_code == 201


def test_another_database_error_is_still_a_bug(settings):
    import sqlite3

    from sqlalchemy.exc import OperationalError

    from sage_sidecar.app import create_app

    app = create_app(settings)

    @app.get("/api/broken")
    async def broken() -> None:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: x"))

    key = settings.api_key.get_secret_value()
    with TestClient(app, base_url="http://127.0.0.1:8765", raise_server_exceptions=False) as c:
        response = c.get("/api/broken", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 500 and response.json()["code"] == "internal"
