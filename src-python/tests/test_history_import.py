"""Importing history from ChatGPT and Claude data exports and Sage's own JSON, and exporting a
conversation as Markdown, JSON and one HTML page, through the API on a database on disk."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

DATA = Path(__file__).parent / "data" / "history_import"
CHATGPT = (DATA / "chatgpt_conversations.json").read_bytes()
CLAUDE = (DATA / "claude_conversations.json").read_bytes()
URL = "/api/conversations/import/history"


def upload(client: TestClient, auth, body: bytes, **params):
    headers = {**auth, "content-type": "application/octet-stream"}
    return client.post(URL, content=body, params=params, headers=headers)


def messages(client, auth, conversation_id):
    got = client.get(f"/api/conversations/{conversation_id}/messages", headers=auth)
    assert got.status_code == 200
    return [(m["role"], m["content"]) for m in got.json()]


def test_chatgpt_preview_counts_and_stores_nothing(client, auth):
    report = upload(client, auth, CHATGPT, dry_run="true").json()
    assert report["source"] == "chatgpt" and report["dry_run"] is True
    assert (report["conversations"], report["messages"], report["skipped"]) == (2, 6, 1)
    assert report["branches_left_out"] == 2
    assert [(i["title"], i["outcome"]) for i in report["items"]] == [
        ("数学 help 🧮", "new"), ("Empty", "empty"), ("Imported chat", "new")]  # fmt: skip
    assert client.get("/api/conversations", headers=auth).json() == []


def test_chatgpt_imports_the_current_branch_only(client, auth):
    report = upload(client, auth, CHATGPT).json()
    first = report["items"][0]
    assert (first["messages"], first["skipped_messages"], first["branches_left_out"]) == (4, 3, 2)
    assert messages(client, auth, first["id"]) == [
        ("user", "What is 2+2? 二加二"),
        ("assistant", "2 + 2 = **4**."),
        ("user", "[image]\n\nWhat does this chart show?"),
        # The code it ran and what it said after are one turn, as ChatGPT shows them.
        (
            "assistant",
            "```python\nprint(sum([1, 2, 3]))\n```\n\n"
            "It sums to 6.\n\n```js\nconsole.log('<b>ok</b>')\n```",
        ),
    ]  # no system prompt, hidden thinking, tool output, or the edited/regenerated branches
    listed = {c["id"]: c for c in client.get("/api/conversations", headers=auth).json()}
    assert listed[first["id"]]["title"] == "数学 help 🧮"
    assert listed[first["id"]]["created_at"].startswith("2024-11-30")  # the source's dates


def test_reimport_skips_instead_of_duplicating(client, auth):
    assert upload(client, auth, CHATGPT).json()["conversations"] == 2
    again = upload(client, auth, CHATGPT).json()
    assert (again["conversations"], again["messages"], again["skipped"]) == (0, 0, 3)
    assert {i["outcome"] for i in again["items"]} == {"already_imported", "empty"}
    assert len(client.get("/api/conversations", headers=auth).json()) == 2


def test_a_whole_export_zip_is_accepted(client, auth):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("user.json", "{}")
        archive.writestr("chat.html", "<html></html>")
        archive.writestr("conversations.json", CHATGPT)
    assert upload(client, auth, buffer.getvalue()).json()["conversations"] == 2


def test_claude_export(client, auth):
    report = upload(client, auth, CLAUDE).json()
    assert report["source"] == "claude"
    assert (report["conversations"], report["messages"], report["skipped"]) == (1, 3, 1)
    item = report["items"][0]
    assert (item["title"], item["skipped_messages"]) == ("Rust lifetimes", 1)
    assert messages(client, auth, item["id"]) == [
        ("user", "Explain 'a lifetimes"),
        ("assistant", "A lifetime names how long a borrow lives.\n\n"
                      "```rust\nfn f<'a>(x: &'a str) -> &'a str { x }\n```"),
        ("user", "谢谢!"),
    ]  # fmt: skip
    assert upload(client, auth, CLAUDE).json()["conversations"] == 0


def test_imported_conversations_go_to_the_chosen_agent(client, auth):
    agent = client.post("/api/agents", json={"name": "Archivist"}, headers=auth).json()
    report = upload(client, auth, CLAUDE, agent_id=agent["id"]).json()
    assert report["agent_id"] == agent["id"]
    listed = client.get("/api/conversations", params={"agent_id": agent["id"]}, headers=auth)
    assert [c["title"] for c in listed.json()] == ["Rust lifetimes"]
    missing = upload(client, auth, CLAUDE, agent_id="nope")
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"", 422, "import.unreadable"),
        (b"\xff\xfe not json", 422, "import.unreadable"),
        (b'{"hello": "world"}', 422, "import.unknown_format"),
        (b'[{"mapping": {"a": {"children": "not a list"}}}]', 422, "import.invalid"),
        (b'[{"uuid": "x", "chat_messages": [{"text": "no sender"}]}]', 422, "import.invalid"),
        (b'{"format": "sage.conversation.v1", "title": "", "messages": []}', 422, "import.invalid"),
        (b"PK\x03\x04 broken zip", 422, "import.unreadable"),
    ],
)
def test_bad_files_are_refused_with_a_code(client, auth, body, status, code):
    response = upload(client, auth, body)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert client.get("/api/conversations", headers=auth).json() == []


def test_a_zip_without_conversations_json_and_a_zip_bomb(client, auth, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hi")
    response = upload(client, auth, buffer.getvalue())
    assert response.json()["code"] == "import.no_conversations_json"

    from sage_sidecar.services.history_import import reading

    monkeypatch.setattr(reading, "MAX_JSON", 1000)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("conversations.json", b"[" + b" " * 100_000 + b"]")
    response = upload(client, auth, bomb.getvalue())
    assert (response.status_code, response.json()["code"]) == (413, "import.too_large")


def test_an_upload_past_the_cap_is_413(client, auth, monkeypatch):
    from sage_sidecar.services.history_import import reading

    monkeypatch.setattr(reading, "MAX_UPLOAD", 100)
    response = upload(client, auth, b"[" + b" " * 200 + b"]")
    assert (response.status_code, response.json()["code"]) == (413, "import.too_large")


def test_sage_json_round_trip_is_idempotent(client, auth):
    source = upload(client, auth, CHATGPT).json()["items"][0]["id"]
    exported = client.get(f"/api/conversations/{source}/export", headers=auth).json()
    assert exported["format"] == "sage.conversation.v1" and exported["id"] == source
    report = upload(client, auth, json.dumps(exported).encode()).json()
    assert (report["source"], report["conversations"]) == ("sage", 1)
    copy = report["items"][0]["id"]
    assert copy != source
    assert messages(client, auth, copy) == messages(client, auth, source)
    again = client.get(f"/api/conversations/{copy}/export", headers=auth).json()
    assert [m["content"] for m in again["messages"]] == [m["content"] for m in exported["messages"]]
    assert upload(client, auth, json.dumps(exported).encode()).json()["conversations"] == 0


def test_html_export_is_self_contained_and_inert(client, auth):
    report = upload(client, auth, CHATGPT).json()
    hostile = report["items"][2]["id"]  # "Hi <script>alert(1)</script>"
    client.patch(f"/api/conversations/{hostile}", json={"title": '</title><script>x()</script>'},
                 headers=auth)  # fmt: skip
    response = client.get(
        f"/api/conversations/{hostile}/export", params={"format": "html"}, headers=auth
    )
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<script" not in page.lower() and "</title><script" not in page
    assert "Hi &lt;script&gt;alert(1)&lt;/script&gt;" in page and "Hello! 👋" in page
    assert "<style>" in page and "Content-Security-Policy" in page
    assert "http://" not in page and "https://" not in page  # nothing to fetch


def test_markdown_export_of_an_imported_conversation(client, auth):
    first = upload(client, auth, CHATGPT).json()["items"][0]["id"]
    text = client.get(
        f"/api/conversations/{first}/export", params={"format": "markdown"}, headers=auth
    ).text
    assert text.startswith("# 数学 help 🧮")
    assert "```python\nprint(sum([1, 2, 3]))\n```" in text


def _continued(extra_turns: int) -> bytes:
    """The ChatGPT export again, after the first conversation went on there."""
    data = json.loads(CHATGPT)
    mapping = data[0]["mapping"]
    parent = data[0]["current_node"]
    for n in range(extra_turns):
        node_id = f"more-{n}"
        mapping[parent]["children"].append(node_id)
        role = "user" if n % 2 == 0 else "assistant"
        mapping[node_id] = {"id": node_id, "parent": parent, "children": [], "message": {
            "author": {"role": role}, "create_time": 1733000000.0 + n,
            "content": {"content_type": "text", "parts": [f"later turn {n}"]}}}  # fmt: skip
        parent = node_id
    data[0]["current_node"] = parent
    data[0]["update_time"] = 1733000100.0
    return json.dumps(data).encode()


def test_reimport_after_the_chat_went_on_adds_only_the_new_messages(client, auth):
    first = upload(client, auth, CHATGPT).json()["items"][0]["id"]
    preview = upload(client, auth, _continued(2), dry_run="true").json()
    assert (preview["conversations"], preview["updated"], preview["messages"]) == (0, 1, 2)
    assert preview["items"][0]["outcome"] == "updated" and preview["items"][0]["added"] == 2
    assert len(messages(client, auth, first)) == 4  # the preview changed nothing
    report = upload(client, auth, _continued(2)).json()
    assert report["updated"] == 1
    got = messages(client, auth, first)
    assert len(got) == 6 and got[-2:] == [("user", "later turn 0"), ("assistant", "later turn 1")]
    listed = {c["id"]: c for c in client.get("/api/conversations", headers=auth).json()}
    assert listed[first]["updated_at"].startswith("2024-11-30T20:55")  # the source's update_time
    assert upload(client, auth, _continued(2)).json()["updated"] == 0  # nothing new the 2nd time


def test_a_conversation_that_differs_from_the_file_gets_nothing_appended(client, auth):
    def sage(*texts: str) -> bytes:
        roles = ["user", "assistant"]
        return json.dumps({"format": "sage.conversation.v1", "id": "conv-1", "title": "T",
                           "messages": [{"role": roles[i % 2], "content": t}
                                        for i, t in enumerate(texts)]}).encode()  # fmt: skip

    conversation = upload(client, auth, sage("q", "a")).json()["items"][0]["id"]
    differs = upload(client, auth, sage("q edited", "a", "q2")).json()
    assert (differs["items"][0]["outcome"], differs["messages"]) == ("already_imported", 0)
    assert messages(client, auth, conversation) == [("user", "q"), ("assistant", "a")]
    grew = upload(client, auth, sage("q", "a", "q2")).json()
    assert (grew["items"][0]["outcome"], grew["messages"]) == ("updated", 1)
    assert messages(client, auth, conversation)[-1] == ("user", "q2")
    deleted = client.delete(f"/api/conversations/{conversation}", headers=auth)
    assert deleted.status_code == 204
    back = upload(client, auth, sage("q", "a")).json()  # deleted here: the user asks again
    assert back["items"][0]["outcome"] == "new"


def test_a_list_of_sage_exports_and_hostile_tool_parts_in_html(client, auth):
    hostile = '<img src=x onerror="alert(1)">'
    exports = [
        {"format": "sage.conversation.v1", "id": "a", "title": "One", "messages": [
            {"role": "user", "content": "run it"},
            {"role": "assistant", "content": "done", "parts": [
                {"type": "tool_call", "id": "c1", "name": hostile, "arguments": hostile},
                {"type": "tool_result", "id": "c1", "name": "x", "content": "</div><script>x()</script>"},
            ]},
        ]},
        {"format": "sage.conversation.v1", "id": "b", "title": "Two",
         "messages": [{"role": "user", "content": "hi"}]},
    ]  # fmt: skip
    report = upload(client, auth, json.dumps(exports).encode()).json()
    assert (report["source"], report["conversations"], report["messages"]) == ("sage", 2, 3)
    page = client.get(
        f"/api/conversations/{report['items'][0]['id']}/export",
        params={"format": "html"},
        headers=auth,
    ).text
    assert "<img" not in page and "<script" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (CHATGPT[:-40], "import.unreadable"),  # cut off mid-file
        (CHATGPT + b" trailing", "import.unreadable"),
        (CHATGPT.replace(b'"title": "Empty"', b'"title": Empty', 1), "import.unreadable"),
        (b"[" + b"[" * 100_000, "import.unreadable"),  # nested past any recursion limit
    ],
)
def test_an_export_broken_after_its_first_conversation_is_refused_whole(client, auth, body, code):
    response = upload(client, auth, body)
    assert (response.status_code, response.json()["code"]) == (422, code)
    assert client.get("/api/conversations", headers=auth).json() == []


def test_a_bad_conversation_is_named_by_its_place_in_the_file(client, auth):
    data = json.loads(CHATGPT)
    data[2]["mapping"]["u"]["children"] = "not a list"
    response = upload(client, auth, json.dumps(data).encode())
    assert response.json()["code"] == "import.invalid"
    assert response.json()["params"]["where"] == "2.mapping.u.children"
    assert client.get("/api/conversations", headers=auth).json() == []


def test_a_utf8_bom_and_an_empty_list_are_read(client, auth):
    assert upload(client, auth, b"\xef\xbb\xbf" + CLAUDE).json()["conversations"] == 1
    empty = upload(client, auth, b" [ ] ").json()
    assert (empty["source"], empty["conversations"], empty["items"]) == (None, 0, [])
