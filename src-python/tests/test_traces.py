"""Runs and traces: every model and tool call of a reply recorded (hidden calls too), nothing
secret stored, totals and cost from editable prices, pruning, export and replay."""

import asyncio
import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.services.traces import store
from sage_sidecar.services.traces.prices import PriceBook
from sage_sidecar.services.traces.redact import Redactor
from sage_sidecar.storage.db import Database
from sage_sidecar.storage.models import Run, RunStep

from chat_client import ChatSocket, add_scripted_provider, send_once

PLANTED_KEY = "sk-planted-SECRET-0123456789abcdef"


def trace_of(client: TestClient, auth, message_id: str) -> dict:
    response = client.get(f"/api/messages/{message_id}/trace", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def make_agent(client, auth, provider_id: str, **extra) -> dict:
    body = {"name": "Tracer", "provider_id": provider_id, **extra}
    response = client.post("/api/agents", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_chat_reply_is_one_model_step_with_timings_tokens_and_finish(
    client, auth, api_key, scripted
):
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"text": "Hello there, friend", "usage": {"prompt_tokens": 12,
                    "completion_tokens": 3}, "delay_ms": 30}])  # fmt: skip
    accepted, frames = send_once(client, api_key, "Hi")
    assert frames[-1]["type"] == "message.completed"
    trace = trace_of(client, auth, accepted["messageId"])
    assert (trace["kind"], trace["status"]) == ("chat", "completed")
    assert trace["conversation_id"] == accepted["conversationId"]
    assert trace["provider_name"] == "Demo (scripted)" and trace["model"] == "scripted-1"
    [step] = trace["steps"]
    assert (step["kind"], step["purpose"], step["name"]) == ("model", "answer", "scripted-1")
    assert (step["prompt_tokens"], step["completion_tokens"]) == (12, 3)
    assert step["detail"]["finish_reason"] == "stop" and step["error"] is None
    assert step["ttft_ms"] >= 25 and step["duration_ms"] >= step["ttft_ms"]
    sent = step["detail"]["request"]["messages"]
    assert sent[-1] == {"role": "user", "content": "Hi"} and sent[0]["role"] == "system"
    assert step["detail"]["request_messages"] == len(sent)
    size = sum(len(m["content"]) for m in sent)
    assert step["detail"]["request_tokens"] == -(-size // 4)  # estimated: 4 characters a token
    assert step["detail"]["output"] == "Hello there, friend"
    assert trace["totals"]["prompt_tokens"] == 12 and trace["duration_ms"] >= step["duration_ms"]


def test_a_plan_mode_reply_lists_its_hidden_calls(client, auth, api_key, scripted):
    provider = add_scripted_provider(client, auth, scripted)
    agent = make_agent(client, auth, provider["id"], mode="plan", tools=["calculator"])
    scripted.load([
        {"text": json.dumps({"steps": ["Compute the product"]})},
        {"tool_calls": [{"id": "c1", "name": "calculator", "arguments": '{"expression": "6*7"}'}]},
        {"text": "6*7 = 42."},
        {"text": '{"ok": true}'},
    ])  # fmt: skip
    accepted, frames = send_once(client, api_key, "Compute 6*7", agentId=agent["id"])
    assert frames[-1]["type"] == "message.completed"
    trace = trace_of(client, auth, accepted["messageId"])
    assert trace["kind"] == "plan"
    steps = trace["steps"]
    assert [(s["kind"], s["purpose"]) for s in steps] == [
        ("model", "plan"), ("model", "answer"), ("tool", "tool"), ("model", "answer"),
        ("model", "self_check"),
    ]  # fmt: skip
    assert [s["seq"] for s in steps] == [1, 2, 3, 4, 5]
    assert steps[0]["detail"]["output"] == '{"steps": ["Compute the product"]}'
    assert steps[0]["detail"]["request"]["tools"] == []  # hidden calls get no tools
    assert steps[1]["detail"]["finish_reason"] == "tool_calls"
    assert steps[1]["detail"]["tool_calls"][0]["name"] == "calculator"
    tool = steps[2]
    assert tool["name"] == "calculator" and tool["detail"]["result"] == "42"
    assert tool["detail"]["approval"] == "not_needed" and tool["detail"]["result_chars"] == 2
    assert steps[4]["detail"]["output"] == '{"ok": true}'
    offsets = [s["offset_ms"] for s in steps]
    assert offsets == sorted(offsets)


@pytest.mark.settings(auto_title=True)
def test_the_title_call_is_a_step_of_the_first_reply(client, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"text": "Paris."}, {"text": "Capital of France"}])
    with ChatSocket(client, api_key) as chat:
        accepted, _ = chat.send("What is the capital of France?")
        chat.until(lambda f: f["type"] == "conversation.titled")
    purposes = [s["purpose"] for s in trace_of(client, auth, accepted["messageId"])["steps"]]
    assert purposes == ["answer", "title"]


@pytest.mark.parametrize(("decision", "recorded"), [("approve", "approve"), ("deny", "deny")])
def test_a_tool_call_records_the_approval_decision(
    client, auth, api_key, scripted, decision, recorded
):
    provider = add_scripted_provider(client, auth, scripted)
    agent = make_agent(client, auth, provider["id"], tools=["write_file"])
    write = {"id": "w1", "name": "write_file", "arguments": '{"path": "a.txt", "content": "hi"}'}
    scripted.load([{"tool_calls": [write]}, {"text": "done"}])
    with ChatSocket(client, api_key) as chat:
        accepted = chat.request({"type": "chat.send", "content": "write", "agentId": agent["id"]})
        chat.until(lambda f: f["type"] == "tool.approval_required")
        chat.ws.send_json({"type": "tool.approval", "callId": "w1", "decision": decision})
        chat.finish(accepted["messageId"])
    tool = next(
        s for s in trace_of(client, auth, accepted["messageId"])["steps"] if s["kind"] == "tool"
    )
    assert tool["name"] == "write_file" and tool["detail"]["approval"] == recorded
    assert json.loads(tool["detail"]["arguments"]) == {"path": "a.txt", "content": "hi"}
    assert (tool["error"] is not None) == (decision == "deny")
    assert tool["detail"]["is_error"] == (decision == "deny")


def test_a_trace_never_stores_keys_or_attachment_contents(
    client, auth, api_key, scripted, settings
):
    body = {"name": "Keyed", "kind": "openai", "base_url": scripted.base_url,
            "api_key": PLANTED_KEY, "default_model": "scripted-1"}  # fmt: skip
    assert client.post("/api/providers", json=body, headers=auth).status_code == 201
    pasted = "ghp_" + "Z" * 36  # a GitHub token the user pasted into the chat
    upload = client.post("/api/attachments", headers=auth,
                         files=[("files", ("door.md", b"The door code is 4711-SECRET-DOOR."))])  # fmt: skip
    assert upload.status_code == 201, upload.text
    scripted.load([{"text": f"I will not repeat {pasted} nor {PLANTED_KEY}."}])
    accepted, frames = send_once(client, api_key, f"my token is {pasted} and the key {PLANTED_KEY}",
                                 attachments=[upload.json()[0]["id"]])  # fmt: skip
    assert frames[-1]["type"] == "message.completed"
    # The model did get them (the trace is what changes, not the reply).
    assert "4711-SECRET-DOOR" in scripted.recorded()[-1]["messages"][-1]["content"]
    trace = trace_of(client, auth, accepted["messageId"])
    text = json.dumps(trace)
    for secret in (PLANTED_KEY, pasted, api_key, "4711-SECRET-DOOR"):
        assert secret not in text
    sent = trace["steps"][0]["detail"]["request"]["messages"][-1]["content"]
    assert sent.startswith("my token is [redacted] and the key [redacted]")
    assert '<attachment name="door.md" type="md" chars="34">' in sent
    assert trace["steps"][0]["detail"]["headers"] == {"Authorization": "[redacted]"}
    # And nowhere in the trace tables, read straight from the database file.
    with sqlite3.connect(settings.db_path) as conn:
        rows = conn.execute("SELECT detail, error FROM run_steps").fetchall()
        rows += conn.execute("SELECT error, agent_name FROM runs").fetchall()
    stored = json.dumps(rows)
    assert "Authorization" in stored
    for secret in (PLANTED_KEY, pasted, api_key, "4711-SECRET-DOOR"):
        assert secret not in stored


def test_redactor_replaces_known_secrets_and_key_shapes():
    redactor = Redactor(["my-mcp-token-value", "k"])  # too short to be worth replacing
    text = redactor.text("token my-mcp-token-value, api_key=abcdef123456 AKIA" + "A" * 16 + " ok k")
    assert text == "token [redacted], api_key=[redacted] [redacted] ok k"
    assert redactor.value({"a": ["Bearer abcdefghijklmnop"]}) == {"a": ["[redacted]"]}


def test_prices_defaults_user_overrides_local_and_unknown():
    book = PriceBook({"my-model": (1.0, 2.0), "gpt-4o": (5.0, 20.0)})
    assert book.price("gpt-4o-mini-2024-07-18").model == "gpt-4o-mini"  # longest prefix
    assert book.price("openai/gpt-4o-mini").source == "default"
    assert book.price("gpt-4o").source == "user"
    assert book.cost("gpt-4o", "openai", 1_000_000, 500_000) == pytest.approx(15.0)
    assert book.cost("llama3.2", "ollama", 999, 999) == 0.0
    assert book.price("mystery-9b", "openai") is None
    assert book.cost("mystery-9b", "openai", 10, 10) is None
    totals = store.totals([("gpt-4o-mini", "openai", 1_000_000, 1_000_000),
                           ("mystery-9b", "openai", 5, 5), ("mystery-9b", "openai", 0, 0)], book)  # fmt: skip
    assert totals.cost_usd == pytest.approx(0.75)
    assert totals.unpriced_models == ["mystery-9b"]
    assert (totals.prompt_tokens, totals.completion_tokens) == (1_000_005, 1_000_005)


def test_cost_per_reply_conversation_and_agent_day_from_edited_prices(
    client, auth, api_key, scripted
):
    add_scripted_provider(client, auth, scripted)
    usage = {"prompt_tokens": 1000, "completion_tokens": 500}
    scripted.load([{"text": "one", "usage": usage}])
    first, _ = send_once(client, api_key, "Hi")
    # No price for scripted-1: the cost is unknown, not zero.
    unknown = trace_of(client, auth, first["messageId"])["totals"]
    assert unknown == {"prompt_tokens": 1000, "completion_tokens": 500, "cost_usd": None,
                       "unpriced_models": ["scripted-1"]}  # fmt: skip
    price = {"model": "scripted-1", "input_per_mtok": 2.0, "output_per_mtok": 8.0}
    assert client.put("/api/prices", json=price, headers=auth).json()["source"] == "user"
    listed = {p["model"]: p for p in client.get("/api/prices", headers=auth).json()}
    assert listed["scripted-1"]["source"] == "user" and listed["gpt-4o"]["source"] == "default"
    scripted.load([{"text": "two", "usage": usage}])
    second, _ = send_once(client, api_key, "Again", conversationId=first["conversationId"])
    reply_cost = 1000 * 2.0 / 1e6 + 500 * 8.0 / 1e6
    assert trace_of(client, auth, second["messageId"])["totals"]["cost_usd"] == pytest.approx(
        reply_cost
    )
    runs = client.get(f"/api/conversations/{first['conversationId']}/runs", headers=auth).json()
    assert [r["message_id"] for r in runs["runs"]] == [second["messageId"], first["messageId"]]
    assert runs["totals"]["prompt_tokens"] == 2000
    assert runs["totals"]["cost_usd"] == pytest.approx(2 * reply_cost)  # re-priced when edited
    [day] = client.get("/api/usage/daily", headers=auth).json()
    assert day["day"] == datetime.now(UTC).date().isoformat() and day["runs"] == 2
    assert day["agent_name"] == "Sage" or day["agent_id"] is not None
    assert day["totals"]["cost_usd"] == pytest.approx(2 * reply_cost)
    assert (
        client.delete("/api/prices", params={"model": "scripted-1"}, headers=auth).status_code
        == 204
    )
    assert trace_of(client, auth, second["messageId"])["totals"]["cost_usd"] is None


def test_export_is_the_trace_as_a_json_file(client, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    accepted, _ = send_once(client, api_key, "Hi")
    run_id = trace_of(client, auth, accepted["messageId"])["id"]
    response = client.get(f"/api/runs/{run_id}/export", headers=auth)
    assert response.status_code == 200
    assert f'filename="sage-run-{run_id}.json"' in response.headers["content-disposition"]
    assert response.json() == client.get(f"/api/runs/{run_id}", headers=auth).json()
    assert client.get("/api/runs/nope", headers=auth).json()["code"] == "not_found"
    assert client.get("/api/messages/nope/trace", headers=auth).status_code == 404


def test_replay_sends_the_same_request_to_the_scripted_provider(client, auth, api_key, scripted):
    provider = add_scripted_provider(client, auth, scripted)
    agent = make_agent(client, auth, provider["id"], tools=["current_time"],
                       system_prompt="Be brief.", temperature=0.3)  # fmt: skip
    accepted, frames = send_once(client, api_key, "What time is it?", agentId=agent["id"])
    assert frames[-1]["type"] == "message.completed"
    original = scripted.recorded()  # the demo model: a current_time call, then an answer
    assert len(original) == 2
    run_id = trace_of(client, auth, accepted["messageId"])["id"]
    replayed = client.post(f"/api/runs/{run_id}/replay", headers=auth)
    assert replayed.status_code == 200, replayed.text
    steps = replayed.json()["steps"]
    assert [s["sent"] for s in steps] == original
    assert steps[0]["tool_calls"][0]["name"] == "current_time"
    assert steps[1]["output"].startswith("The tool answered:")
    one = client.post(f"/api/runs/{run_id}/replay", params={"seq": 1}, headers=auth).json()
    assert [s["seq"] for s in one["steps"]] == [1]
    none = client.post(f"/api/runs/{run_id}/replay", params={"seq": 999}, headers=auth)
    assert none.status_code == 422 and none.json()["code"] == "runs.nothing_to_replay"


def test_old_traces_are_pruned_by_the_retention_setting(client, auth, settings, app):
    assert client.get("/api/traces/settings", headers=auth).json() == {"retention_days": 30}
    db: Database = app.state.sage.db
    now = datetime.now(UTC)

    async def seed() -> None:
        async with db.session() as session:
            for run_id, age in (("old", 31), ("recent", 10), ("new", 0)):
                session.add(Run(id=run_id, kind="chat", started_at=now - timedelta(days=age)))
                session.add(RunStep(run_id=run_id, seq=1, kind="model", purpose="answer",
                                    name="m", started_at=now, detail={}))  # fmt: skip
            await session.commit()

    def remaining() -> list[str]:
        with sqlite3.connect(settings.db_path) as conn:
            runs = [r[0] for r in conn.execute("SELECT id FROM runs ORDER BY id")]
            steps = {r[0] for r in conn.execute("SELECT run_id FROM run_steps")}
        assert steps == set(runs)  # a run's steps go with it
        return runs

    client.portal.call(seed)  # type: ignore[attr-defined]

    async def prune() -> int:
        async with db.session() as session:
            return await store.prune(session)

    assert client.portal.call(prune) == 1  # type: ignore[attr-defined]
    assert remaining() == ["new", "recent"]
    response = client.put("/api/traces/settings", json={"retention_days": 7}, headers=auth)
    assert response.json() == {"retention_days": 7}
    assert remaining() == ["new"]  # a shorter window prunes at once
    bad = client.put("/api/traces/settings", json={"retention_days": 0}, headers=auth)
    assert bad.status_code == 422


def test_runs_left_running_by_a_crash_are_interrupted_at_start(settings, tmp_path):
    from sage_sidecar.storage.migrate import upgrade_to_head

    settings.ensure_layout()
    upgrade_to_head(settings.db_path)

    async def scenario() -> tuple[int, str]:
        db = Database(settings.db_path)
        async with db.session() as session:
            session.add(Run(id="r", kind="chat"))
            await session.commit()
            count = await store.mark_interrupted_runs(session)
            status = (await session.get(Run, "r")).status  # type: ignore[union-attr]
        await db.dispose()
        return count, status

    assert asyncio.run(scenario()) == (1, "interrupted")


@pytest.mark.settings(trace_recording=False)
def test_recording_can_be_switched_off_for_the_benchmark(client, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    accepted, frames = send_once(client, api_key, "Hi")
    assert frames[-1]["type"] == "message.completed"
    assert (
        client.get(f"/api/messages/{accepted['messageId']}/trace", headers=auth).status_code == 404
    )


@pytest.mark.settings(chat_retry_delays_s=(0.01,))
def test_a_failed_attempt_is_a_step_with_its_error_and_the_retry_another(
    client, auth, api_key, scripted
):
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"error": {"status": 503, "message": "busy"}}, {"error": {"status": 401}}])
    accepted, frames = send_once(client, api_key, "Hi")
    assert frames[-1]["type"] == "message.failed"
    trace = trace_of(client, auth, accepted["messageId"])
    assert trace["status"] == "failed" and "API key" in trace["error"]
    errors = [s["error"] for s in trace["steps"]]
    assert errors[0].startswith("server: ") and errors[1].startswith("auth: ")
    assert all(
        s["ttft_ms"] is None and s["detail"]["finish_reason"] is None for s in trace["steps"]
    )


def test_a_stopped_reply_ends_its_open_step_as_interrupted(client, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"chunks": ["one ", "two ", "three"], "hang_after_chunks": 2}])
    with ChatSocket(client, api_key) as chat:
        accepted = chat.request({"type": "chat.send", "content": "count"})
        chat.until(lambda f: f["type"] == "message.delta" and "two" in f["delta"])
        chat.ws.send_json({"type": "chat.cancel", "messageId": accepted["messageId"]})
        chat.finish(accepted["messageId"])
    trace = trace_of(client, auth, accepted["messageId"])
    assert trace["status"] == "interrupted" and trace["error"] == "Stopped by the user."
    [step] = trace["steps"]
    assert step["error"] == "interrupted" and step["ttft_ms"] is not None
    assert step["detail"]["output"] == "one two "  # what it had received when stopped


def test_a_regenerated_reply_keeps_its_run_and_a_deleted_conversation_takes_them(
    client, auth, api_key, scripted, settings
):
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"text": "first"}, {"text": "second"}])
    with ChatSocket(client, api_key) as chat:
        accepted, _ = chat.send("Hi")
        again = chat.request({"type": "chat.regenerate", "messageId": accepted["messageId"]})
        chat.finish(again["messageId"])
    conversation = accepted["conversationId"]
    runs = client.get(f"/api/conversations/{conversation}/runs", headers=auth).json()
    assert [r["message_id"] for r in runs["runs"]] == [again["messageId"], accepted["messageId"]]
    assert runs["totals"]["completion_tokens"] == 2  # both replies' tokens were spent
    assert client.delete(f"/api/conversations/{conversation}", headers=auth).status_code == 204
    with sqlite3.connect(settings.db_path) as conn:
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM run_steps").fetchone()[0] == 0


def test_old_traces_are_pruned_when_the_sidecar_starts(settings):
    from sage_sidecar.app import create_app
    from sage_sidecar.storage.migrate import upgrade_to_head

    from conftest import TEST_ORIGIN

    settings.ensure_layout()
    upgrade_to_head(settings.db_path)
    old = (datetime.now(UTC) - timedelta(days=45)).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(settings.db_path) as conn:
        for run_id, started in (("old", old), ("today", datetime.now(UTC).isoformat(" "))):
            conn.execute("INSERT INTO runs (id, kind, status, agent_name, provider_name, "
                         "provider_kind, model, started_at) VALUES (?, 'chat', 'completed', '', "
                         "'', '', '', ?)", (run_id, started[:26]))  # fmt: skip
    with TestClient(create_app(settings), base_url=TEST_ORIGIN):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with sqlite3.connect(settings.db_path) as conn:
                left = [r[0] for r in conn.execute("SELECT id FROM runs")]
            if left == ["today"]:
                break
            time.sleep(0.05)
    assert left == ["today"]
