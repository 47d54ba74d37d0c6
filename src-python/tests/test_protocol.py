"""The WebSocket protocol is defined once (schemas/protocol): bad client frames get a readable
`error` frame, every frame is camelCase, old snake_case rows still load, and docs/protocol.md
names every frame with its fields."""

import re
import sqlite3
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.core.config import Settings
from sage_sidecar.schemas.protocol import UNIONS, frame_type, frame_types, members
from sage_sidecar.storage.migrate import MIGRATIONS_DIR, head_revision, upgrade_to_head

from chat_client import ChatSocket, add_scripted_provider

PROTOCOL_MD = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
# Fields every frame of a kind has, documented once in prose rather than in each row.
COMMON_FIELDS = {"type", "conversationId", "messageId", "requestId", "seq", "time"}


@pytest.fixture
def chat(client: TestClient, api_key: str):
    with ChatSocket(client, api_key) as socket:
        yield socket


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        ("not json", "frames must be JSON objects"),
        ("[1, 2]", "frames must be JSON objects"),
        ('{"requestId": "r1"}', "frames need a type"),
        ('{"type": "chat.fly", "requestId": "r1"}', "unknown frame type 'chat.fly'"),
        ('{"type": "chat.cancel", "requestId": "r1"}', "messageId: Field required"),
        ('{"type": "chat.send", "content": 5, "requestId": "r1"}', "content: Input should be"),
        ('{"type": "tool.approval", "callId": "c", "decision": "maybe", "requestId": "r1"}',
         "decision: Input should be 'approve', 'deny' or 'always'"),
    ],
)  # fmt: skip
def test_a_bad_client_frame_gets_a_readable_error_and_the_socket_stays(chat, frame, error):
    chat.ws.send_text(frame)
    reply = chat.until(lambda f: f["type"] == "error")[-1]
    assert reply["error"].startswith(error), reply
    assert reply["requestId"] == ("r1" if "r1" in frame else None)
    # The connection still answers.
    assert chat.request({"type": "chat.cancel", "messageId": "nope"})["type"] == "error"


def _keys(value, found: set[str]) -> set[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            found.add(key)
            _keys(inner, found)
    elif isinstance(value, list):
        for inner in value:
            _keys(inner, found)
    return found


def test_every_frame_and_json_column_is_camel_case(chat, client, auth, scripted):
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"tool_calls": [{"id": "c1", "name": "calculator",
                                    "arguments": '{"expression": "6*7"}'}]},
                   {"text": "It is 42.", "usage": {"prompt_tokens": 5, "completion_tokens": 2}}])  # fmt: skip
    agent = client.post("/api/agents", json={"name": "Calc", "tools": ["calculator"]},
                        headers=auth).json()  # fmt: skip
    accepted, frames = chat.send("what is 6*7?", agentId=agent["id"])
    keys = _keys([accepted, *frames], set())
    assert not [k for k in keys if "_" in k], keys
    assert {"promptTokens", "completionTokens", "callId", "isError", "durationMs"} <= keys
    saved = client.get(f"/api/conversations/{accepted['conversationId']}/messages",
                       headers=auth).json()[-1]  # fmt: skip
    assert saved["usage"] == frames[-1]["usage"] and set(saved["usage"]) == {
        "promptTokens", "completionTokens"}  # fmt: skip
    columns = _keys([saved["parts"], saved["usage"], saved["citations"]], set())
    assert not [k for k in columns if "_" in k], columns


def _alembic(db_path: Path, revision: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine

    from sage_sidecar.storage.db import sqlite_url

    engine = create_engine(sqlite_url(db_path, asynchronous=False))
    with engine.begin() as connection:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def test_rows_written_before_camel_case_are_migrated_and_still_load(app, settings: Settings, auth):
    settings.ensure_layout()
    _alembic(settings.db_path, "0006")
    now = "2026-11-01 10:00:00.000000"
    plan = ('[{"type": "plan", "steps": [{"index": 0, "title": "Look", "status": "failed", '
            '"error": "Stopped after 8 tool steps without a final answer."}], '
            '"check": {"ok": true, "fix": null}}, {"type": "notice", "text": "MCP down"}, '
            '{"type": "hologram"}, {"type": "tool_result", "id": "x"}]')  # fmt: skip
    with sqlite3.connect(settings.db_path) as conn:
        conn.execute("INSERT INTO conversations (id, agent_id, title, created_at, updated_at) "
                     "VALUES ('c1', NULL, 'Old', ?, ?)", (now, now))  # fmt: skip
        conn.execute(
            "INSERT INTO messages (id, conversation_id, seq, role, content, parts, status, error, "
            "model, usage, created_at) VALUES ('m1', 'c1', 1, 'assistant', 'Hi', ?, 'completed', "
            "NULL, 'm', '{\"prompt_tokens\": 7, \"completion_tokens\": 3}', ?)",
            (plan, now),
        )
    assert upgrade_to_head(settings.db_path) == head_revision()
    with sqlite3.connect(settings.db_path) as conn:
        (usage,) = conn.execute("SELECT usage FROM messages WHERE id = 'm1'").fetchone()
    assert usage.replace(" ", "") == '{"promptTokens":7,"completionTokens":3}'
    with TestClient(app, base_url="http://127.0.0.1:1") as client:
        (message,) = client.get("/api/conversations/c1/messages", headers=auth).json()
    assert message["usage"] == {"promptTokens": 7, "completionTokens": 3}
    step = message["parts"][0]["steps"][0]
    assert step["error"].startswith("Stopped after 8") and step["corrective"] is False
    assert message["parts"][1] == {"type": "notice", "text": "MCP down", "code": None,
                                   "params": {}}  # fmt: skip
    # What this version cannot read (a newer kind of part, a broken one) stays in the row unshown.
    assert len(message["parts"]) == 2


def test_an_old_export_with_snake_case_usage_imports_in_the_new_shape(client, auth):
    body = {"format": "sage.conversation.v1", "title": "Old export", "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello", "usage": {"prompt_tokens": 4, "completion_tokens": 1}},
    ]}  # fmt: skip
    conversation = client.post("/api/conversations/import", json=body, headers=auth).json()
    messages = client.get(f"/api/conversations/{conversation['id']}/messages", headers=auth).json()
    assert messages[1]["usage"] == {"promptTokens": 4, "completionTokens": 1}


def test_the_openapi_schema_publishes_every_frame_union(client, auth):
    schemas = client.get("/api/openapi.json", headers=auth).json()["components"]["schemas"]
    for name in UNIONS:
        mapping = schemas[name]["discriminator"]["mapping"]
        assert sorted(mapping) == sorted(frame_types()[name])


def _documented_rows() -> dict[str, str]:
    """`| \\`type\\` | fields… |` rows of docs/protocol.md, by frame type."""
    rows: dict[str, str] = {}
    for line in PROTOCOL_MD.read_text().splitlines():
        match = re.match(r"\|\s*`([a-z_.]+)`\s*\|(.*)\|\s*$", line)
        if match:
            rows.setdefault(match.group(1), match.group(2))
    return rows


@pytest.mark.parametrize("union", ["ServerChatFrame", "EventFrame", "ClientChatFrame"])
def test_docs_protocol_md_names_every_frame_and_its_fields(union):
    rows = _documented_rows()
    problems = []
    for member in members(UNIONS[union]):
        kind = frame_type(member)
        row = rows.get(kind)
        if row is None:
            problems.append(f"{kind}: no row")
            continue
        for name, field in member.model_fields.items():
            alias = field.alias or name
            if alias not in COMMON_FIELDS and not re.search(f"`{alias}[`:]", row):
                problems.append(f"{kind}: `{alias}` not in its row")
    assert not problems, "docs/protocol.md is behind schemas/protocol:\n" + "\n".join(problems)


def test_a_domain_error_frame_carries_its_code_and_params(chat):
    reply = chat.request({"type": "chat.regenerate", "messageId": "gone", "requestId": "r7"})
    assert reply == {"type": "error", "requestId": "r7", "error": "assistant message 'gone' not found",
                     "code": "not_found", "params": {"what": "assistant message", "id": "gone"}}  # fmt: skip


def test_a_failure_is_kept_as_codes_for_the_ui(chat, client, auth):
    # No provider is set up: the reply fails with a code the UI words itself.
    accepted, frames = chat.send("hello?")
    assert (frames[-1]["code"], frames[-1]["reason"]) == ("no_provider", "setup")
    saved = client.get(f"/api/conversations/{accepted['conversationId']}/messages",
                       headers=auth).json()[-1]  # fmt: skip
    assert saved["failure"] == {"reason": "setup", "code": "no_provider", "params": {}}
    assert saved["error"].startswith("No model provider is set up yet")
