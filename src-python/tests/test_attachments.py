"""Files attached to a chat message: uploaded, read, and sent to the model with the message."""

import pytest
from fastapi.testclient import TestClient

from chat_client import ChatSocket, add_scripted_provider
from knowledge_client import write_pdf


@pytest.fixture
def chat(client: TestClient, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    with ChatSocket(client, api_key) as socket:
        yield socket


def upload(client, auth, *files: tuple[str, bytes]):
    return client.post(
        "/api/attachments", headers=auth, files=[("files", (name, data)) for name, data in files]
    )


def test_attached_files_go_to_the_model_with_the_message(chat, client, auth, scripted, tmp_path):
    pdf = write_pdf(tmp_path / "manual.pdf").read_bytes()
    response = upload(
        client, auth, ("notes.md", b"# Notes\n\nThe door code is 4711."), ("manual.pdf", pdf)
    )
    assert response.status_code == 201, response.text
    notes, manual = response.json()
    assert notes["name"] == "notes.md" and notes["chars"] > 10 and not notes["truncated"]
    assert manual["name"] == "manual.pdf" and manual["chars"] > 100

    scripted.load([{"text": "The code is 4711."}, {"text": "Still 4711."}])
    accepted, _ = chat.send("What is the door code?", attachments=[notes["id"], manual["id"]])
    sent = scripted.recorded()[-1]["messages"][-1]["content"]
    assert sent.startswith("What is the door code?")
    assert '<attachment name="notes.md">' in sent and "The door code is 4711." in sent
    assert '<attachment name="manual.pdf">' in sent

    # The next turn still carries the files: they belong to the message, not to one request.
    chat.send("Are you sure?", conversationId=accepted["conversationId"])
    history = scripted.recorded()[-1]["messages"]
    assert any("The door code is 4711." in m["content"] for m in history if m["role"] == "user")

    stored = client.get(
        f"/api/conversations/{accepted['conversationId']}/messages", headers=auth
    ).json()
    parts = stored[0]["parts"]
    assert [p["name"] for p in parts if p["type"] == "attachment"] == ["notes.md", "manual.pdf"]


def test_a_message_may_be_only_a_file(chat, client, auth, scripted):
    [notes] = upload(client, auth, ("todo.txt", b"buy milk")).json()
    scripted.load([{"text": "Noted."}])
    accepted, _ = chat.send("", attachments=[notes["id"]])
    conversation = client.get(
        f"/api/conversations/{accepted['conversationId']}", headers=auth
    ).json()
    assert conversation["title"] == "todo.txt"


def test_bad_files_and_ids_are_refused_with_reasons(chat, client, auth):
    unsupported = upload(client, auth, ("tool.exe", b"MZ"))
    assert unsupported.status_code == 415
    broken = upload(client, auth, ("ok.txt", b"fine"), ("broken.pdf", b"%PDF-1.4 nope"))
    assert broken.status_code == 422 and broken.json()["detail"].startswith("broken.pdf:")
    empty = upload(client, auth, ("empty.md", b""))
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]

    reply = chat.request(
        {"type": "chat.send", "content": "hi", "attachments": ["../../etc/passwd"]}
    )
    assert reply["type"] == "error" and "not found" in reply["error"]
    reply = chat.request({"type": "chat.send", "content": "hi", "attachments": ["0" * 32]})
    assert reply["type"] == "error" and "not found" in reply["error"]
