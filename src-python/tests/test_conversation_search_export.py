"""Search across titles and message text, and export/import of whole conversations."""

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.demo.scripted import RunningScripted

from chat_client import add_scripted_provider, send_once


@pytest.fixture
def conversation(client: TestClient, auth, api_key) -> str:
    with RunningScripted() as scripted:
        add_scripted_provider(client, auth, scripted)
        scripted.load([
            {"tool_calls": [{"id": "c1", "name": "calculator", "arguments": '{"expression": "2+2"}'}]},
            {"text": "Photosynthesis turns light into sugar. 光合作用"},
        ])  # fmt: skip
        accepted, _ = send_once(client, api_key, "Explain photosynthesis briefly")
    return accepted["conversationId"]


def search(client, auth, q):
    return client.get("/api/conversations/search", params={"q": q}, headers=auth).json()


def test_search_finds_message_text_and_titles(client, auth, conversation):
    hits = search(client, auth, "light into")
    assert [h["conversation_id"] for h in hits] == [conversation]
    assert "[light into]" in hits[0]["snippet"]
    assert search(client, auth, "光合作用")[0]["conversation_id"] == conversation  # CJK substring
    titled = search(client, auth, "Explain photo")
    assert titled[0]["message_id"] is None  # the title matched
    assert search(client, auth, "nothing like this") == []
    assert search(client, auth, 'quote " and % wildcards') == []  # no FTS/LIKE syntax errors


def test_search_follows_edits_and_deletes(client, auth, conversation):
    assert search(client, auth, "sugar")
    client.delete(f"/api/conversations/{conversation}", headers=auth)
    assert search(client, auth, "sugar") == []


def test_markdown_export(client, auth, conversation):
    response = client.get(
        f"/api/conversations/{conversation}/export", params={"format": "markdown"}, headers=auth
    )
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith("# Explain photosynthesis briefly")
    assert "## You\n\nExplain photosynthesis briefly" in text
    assert "> Tool call `calculator`" in text and "> Result of `calculator`: 4" in text
    assert "Photosynthesis turns light into sugar." in text


def test_json_export_import_round_trip(client, auth, conversation):
    exported = client.get(f"/api/conversations/{conversation}/export", headers=auth).json()
    assert exported["format"] == "sage.conversation.v1"
    imported = client.post("/api/conversations/import", json=exported, headers=auth)
    assert imported.status_code == 201
    new_id = imported.json()["id"]
    assert new_id != conversation
    original = client.get(f"/api/conversations/{conversation}/messages", headers=auth).json()
    copy = client.get(f"/api/conversations/{new_id}/messages", headers=auth).json()
    strip = lambda ms: [(m["role"], m["content"], m["parts"], m["status"]) for m in ms]  # noqa: E731
    assert strip(copy) == strip(original)


def test_import_rejects_bad_files_with_a_reason(client, auth):
    bad = client.post("/api/conversations/import", json={"format": "other"}, headers=auth)
    assert bad.status_code == 422
    wrong_role = {"title": "x", "messages": [{"role": "system", "content": "hi"}]}
    assert (
        client.post("/api/conversations/import", json=wrong_role, headers=auth).status_code == 422
    )
