"""Plan mode: a plan streamed as events, steps run with tools, a self-check that may add a
corrective step, all persisted with the message."""

import json

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.services.plan import parse_check, parse_plan

from chat_client import add_scripted_provider, send_once


@pytest.fixture
def planner(client: TestClient, auth, scripted) -> dict:
    provider = add_scripted_provider(client, auth, scripted)
    body = {
        "name": "Planner",
        "mode": "plan",
        "provider_id": provider["id"],
        "tools": ["calculator"],
    }
    response = client.post("/api/agents", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def run(client, api_key, agent_id, content="Compute 6*7 and explain"):
    return send_once(client, api_key, content, agentId=agent_id)


def test_plan_steps_tools_and_passing_check(client, auth, api_key, scripted, planner):
    scripted.load([
        {"text": json.dumps({"steps": ["Compute the product", "Explain it"]})},
        {"tool_calls": [{"id": "c1", "name": "calculator", "arguments": '{"expression": "6*7"}'}]},
        {"text": "6*7 = 42."},
        {"text": "42 is six sevens."},
        {"text": '{"ok": true}'},
    ])  # fmt: skip
    accepted, frames = run(client, api_key, planner["id"])
    types = [f["type"] for f in frames]
    created = next(f for f in frames if f["type"] == "plan.created")
    assert [s["title"] for s in created["steps"]] == ["Compute the product", "Explain it"]
    statuses = [(f["index"], f["status"]) for f in frames if f["type"] == "plan.step"]
    assert statuses == [(0, "running"), (0, "done"), (1, "running"), (1, "done")]
    assert types.index("tool.result") < types.index("message.completed")
    assert next(f for f in frames if f["type"] == "plan.check")["ok"] is True
    final = frames[-1]
    assert final["type"] == "message.completed"
    assert "**Step 1: Compute the product**" in final["content"] and "6*7 = 42." in final["content"]
    assert "**Step 2: Explain it**" in final["content"]
    # The planning and checking calls are hidden: no tools offered, text not streamed.
    requests = scripted.recorded()
    assert "tools" not in requests[0] and "tools" in requests[1]
    assert '"steps"' not in final["content"] and '"ok"' not in final["content"]
    saved = client.get(
        f"/api/conversations/{accepted['conversationId']}/messages", headers=auth
    ).json()[-1]
    plan = next(p for p in saved["parts"] if p["type"] == "plan")
    assert [s["status"] for s in plan["steps"]] == ["done", "done"]
    assert plan["check"] == {"ok": True, "fix": None}


def test_failed_check_adds_a_corrective_step(client, auth, api_key, scripted, planner):
    scripted.load([
        {"text": '{"steps": ["Answer"]}'},
        {"text": "It is 41."},
        {"text": '{"ok": false, "fix": "Recompute 6*7 correctly"}'},
        {"text": "Correction: it is 42."},
    ])  # fmt: skip
    accepted, frames = run(client, api_key, planner["id"])
    check = next(f for f in frames if f["type"] == "plan.check")
    assert check == {**check, "ok": False, "fix": "Recompute 6*7 correctly"}
    assert "**Step 2: Recompute 6*7 correctly**" in frames[-1]["content"]
    saved = client.get(
        f"/api/conversations/{accepted['conversationId']}/messages", headers=auth
    ).json()[-1]
    plan = next(p for p in saved["parts"] if p["type"] == "plan")
    assert plan["steps"][-1] == {
        **plan["steps"][-1],
        "index": 1,
        "title": "Recompute 6*7 correctly",
        "status": "done",
        "corrective": True,
    }
    assert len(scripted.recorded()) == 4  # one correction only: no second check


@pytest.mark.settings(chat_max_tool_steps=1)
def test_a_step_that_hits_the_tool_limit_fails_and_the_plan_goes_on(
    client, auth, api_key, scripted, planner
):
    loop = {"tool_calls": [{"id": "c", "name": "calculator", "arguments": '{"expression": "1"}'}]}
    scripted.load(
        [
            {"text": '{"steps": ["Loop", "Finish"]}'},
            loop,
            {"text": "finished"},
            {"text": '{"ok": true}'},
        ]
    )
    _, frames = run(client, api_key, planner["id"])
    statuses = [(f["index"], f["status"]) for f in frames if f["type"] == "plan.step"]
    assert (0, "failed") in statuses and (1, "done") in statuses
    assert frames[-1]["type"] == "message.completed"


@pytest.mark.parametrize(
    ("text", "steps"),
    [('Sure! {"steps": ["a", "b"]}', ["a", "b"]), ("1. first\n2) second\n- third", ["first", "second", "third"]),
     ("no structure at all", ["Answer the request"]), ('{"steps": [' + ", ".join(['"s"'] * 9) + "]}", ["s"] * 6)],
)  # fmt: skip
def test_parse_plan_is_tolerant(text, steps):
    assert parse_plan(text) == steps


def test_parse_check():
    assert parse_check('{"ok": true}') is None
    assert parse_check("looks fine to me") is None
    assert parse_check('{"ok": false, "fix": "add units"}') == "add units"
