"""Scheduled tasks through the API against the real app, its SQLite on disk and the scripted
model: every run a real chat turn with a trace of kind `task` and a `task.run_finished` event.
Time is a ManualClock the test moves (services/tasks/clock.py): nothing waits for a schedule."""

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from sage_sidecar.app import create_app
from sage_sidecar.services.tasks.clock import ManualClock
from sage_sidecar.services.tasks.service import Tasks

from chat_client import EventsSocket, add_scripted_provider
from conftest import TEST_ORIGIN

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def client(app: FastAPI, clock: ManualClock) -> Iterator[TestClient]:
    app.state.task_clock = clock
    with TestClient(app, base_url=TEST_ORIGIN) as test_client:
        yield test_client


def tasks_of(client: TestClient) -> Tasks:
    tasks = client.app.state.sage.tasks  # type: ignore[attr-defined]
    assert tasks is not None
    return tasks


def move_to(client: TestClient, when: datetime) -> None:
    """Set the clock, let the scheduler tick, and wait until every run it started has ended."""
    tasks = tasks_of(client)
    assert client.portal is not None
    client.portal.call(tasks.clock.set, when)  # type: ignore[attr-defined]
    client.portal.call(tasks.scheduler.tick)
    client.portal.call(tasks.runner.wait_idle)


def settle(client: TestClient) -> None:
    assert client.portal is not None
    client.portal.call(tasks_of(client).runner.wait_idle)


def default_agent(client, auth) -> str:
    agents = client.get("/api/agents", headers=auth).json()
    return next(a["id"] for a in agents if a["is_default"])


def create(client, auth, **fields) -> dict:
    body = {"name": "Morning summary", "agent_id": default_agent(client, auth),
            "prompt": "Summarise the news", "timezone": "Europe/Berlin",
            "schedule": {"kind": "interval", "every": 1, "unit": "hours"}, **fields}  # fmt: skip
    response = client.post("/api/tasks", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def runs_of(client, auth, task_id) -> list[dict]:
    response = client.get(f"/api/tasks/{task_id}/runs", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def answers(scripted) -> int:
    """Chat requests the scripted model received (since its last `load`)."""
    return sum(1 for body in scripted.recorded() if "messages" in body)


def test_a_scheduled_run_is_a_chat_turn_with_a_task_trace_and_an_event(
    client, auth, api_key, scripted
):
    add_scripted_provider(client, auth, scripted)
    task = create(client, auth, append_to="notes/summary.md")
    assert task["next_run_at"] == "2026-06-01T10:00:00Z" and task["last_run"] is None
    scripted.load([{"text": "Three things happened.",
                    "usage": {"prompt_tokens": 21, "completion_tokens": 4}}])  # fmt: skip
    with EventsSocket(client, api_key) as events:
        move_to(client, T0 + timedelta(minutes=59))
        assert runs_of(client, auth, task["id"]) == []  # not yet
        move_to(client, T0 + timedelta(hours=1))
        event = events.next_of("task.run_finished")
    [run] = runs_of(client, auth, task["id"])
    assert (run["status"], run["trigger"], run["error"]) == ("completed", "schedule", None)
    assert run["scheduled_for"] == "2026-06-01T10:00:00Z"
    assert (run["prompt_tokens"], run["completion_tokens"]) == (21, 4)
    assert event["taskId"] == task["id"] and event["runId"] == run["id"]
    assert event["taskName"] == "Morning summary" and event["status"] == "completed"
    assert event["conversationId"] == run["conversation_id"] and event["notify"] is True
    assert event["messageId"] == run["message_id"] and event["error"] is None
    # Openable as a chat: the prompt and the answer, in a conversation named after the task.
    conversation = client.get(f"/api/conversations/{run['conversation_id']}", headers=auth).json()
    assert conversation["title"] == "Morning summary"
    messages = client.get(f"/api/conversations/{run['conversation_id']}/messages",
                          headers=auth).json()  # fmt: skip
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", "Summarise the news"), ("assistant", "Three things happened.")]  # fmt: skip
    # And its trace: a run of kind task.
    trace = client.get(f"/api/messages/{run['message_id']}/trace", headers=auth).json()
    assert (trace["kind"], trace["status"], trace["id"]) == (
        "task",
        "completed",
        run["trace_run_id"],
    )
    # The answer was appended to the workspace file, through the workspace's confinement.
    file = client.get(f"/api/workspaces/{task['agent_id']}/download",
                      params={"path": "notes/summary.md"}, headers=auth)  # fmt: skip
    assert file.status_code == 200 and "Three things happened." in file.text
    assert "## Morning summary · 2026-06-01 12:00 CEST" in file.text
    listed = client.get(f"/api/tasks/{task['id']}", headers=auth).json()
    assert listed["next_run_at"] == "2026-06-01T11:00:00Z"
    assert listed["last_run"]["id"] == run["id"] and listed["running"] is False


def test_a_fire_time_missed_within_the_grace_window_runs_once_outside_it_is_missed(
    client, auth, scripted
):
    add_scripted_provider(client, auth, scripted)
    recent = create(client, auth, name="Recent")  # due 10:00
    daily = create(client, auth, name="Daily", schedule={"kind": "cron", "expression": "0 9 * * *"})
    assert daily["next_run_at"] == "2026-06-02T07:00:00Z"  # 09:00 in Berlin, tomorrow
    # The app was "closed" (nothing ticked) until 12:30 the next day: Recent's latest occurrence
    # (12:00) is within the hour of grace, Daily's 09:00 is 3.5 hours late.
    move_to(client, datetime(2026, 6, 2, 10, 30, tzinfo=UTC))
    recent_runs = runs_of(client, auth, recent["id"])
    assert [(r["status"], r["scheduled_for"]) for r in recent_runs] == [
        ("completed", "2026-06-02T10:00:00Z"), ("missed", "2026-06-01T10:00:00Z")]  # fmt: skip
    [missed] = runs_of(client, auth, daily["id"])
    assert missed["status"] == "missed" and missed["conversation_id"] is None
    assert answers(scripted) == 1  # only Recent's run reached the model
    assert client.get(f"/api/tasks/{daily['id']}", headers=auth).json()["next_run_at"] == (
        "2026-06-03T07:00:00Z"
    )
    # A shorter grace window turns the same lateness into a miss.
    assert client.put("/api/tasks/settings", json={"grace_minutes": 10}, headers=auth).json() == {
        "grace_minutes": 10
    }
    move_to(client, datetime(2026, 6, 2, 11, 30, tzinfo=UTC))
    assert runs_of(client, auth, recent["id"])[0]["status"] == "missed"


def test_preview_gives_the_next_five_times_and_bad_input_is_coded(client, auth):
    body = {"schedule": {"kind": "cron", "expression": "30 8 * * 1-5"}, "timezone": "Asia/Shanghai"}
    response = client.post("/api/tasks/preview", json=body, headers=auth)
    assert response.status_code == 200, response.text
    assert response.json()["times"] == [  # T0 is Monday 17:00 in Shanghai
        "2026-06-02T00:30:00Z", "2026-06-03T00:30:00Z", "2026-06-04T00:30:00Z",
        "2026-06-05T00:30:00Z", "2026-06-08T00:30:00Z"]  # fmt: skip
    bad = client.post("/api/tasks/preview", headers=auth,
                      json={**body, "schedule": {"kind": "cron", "expression": "every day"}})  # fmt: skip
    assert bad.status_code == 422
    assert (bad.json()["code"], bad.json()["params"]) == (
        "task.bad_cron",
        {"expression": "every day"},
    )
    zone = client.post("/api/tasks/preview", headers=auth, json={**body, "timezone": "Nowhere/X"})
    assert (zone.status_code, zone.json()["code"]) == (422, "task.bad_zone")
    outside = client.post("/api/tasks", headers=auth, json={
        "name": "x", "agent_id": default_agent(client, auth), "prompt": "p", "timezone": "UTC",
        "schedule": {"kind": "interval", "every": 5, "unit": "minutes"}, "append_to": "../x.md"})  # fmt: skip
    assert (outside.status_code, outside.json()["code"]) == (422, "workspace.path_refused")


def test_crud_disable_and_run_now(client, auth, scripted):
    add_scripted_provider(client, auth, scripted)
    task = create(client, auth)
    changed = client.patch(f"/api/tasks/{task['id']}", headers=auth, json={
        "schedule": {"kind": "once", "at": "2026-06-01T18:00"}, "name": "Evening"}).json()  # fmt: skip
    assert (changed["name"], changed["next_run_at"]) == ("Evening", "2026-06-01T16:00:00Z")
    off = client.patch(f"/api/tasks/{task['id']}", json={"enabled": False}, headers=auth).json()
    assert off["enabled"] is False and off["next_run_at"] is None
    started = client.post(f"/api/tasks/{task['id']}/run", headers=auth)  # disabled: still runs
    assert started.status_code == 202 and started.json()["status"] == "running"
    assert started.json()["trigger"] == "manual"
    settle(client)
    [run] = runs_of(client, auth, task["id"])
    assert run["status"] == "completed" and run["duration_ms"] is not None
    assert [t["id"] for t in client.get("/api/tasks", headers=auth).json()] == [task["id"]]
    assert client.delete(f"/api/tasks/{task['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/tasks/{task['id']}", headers=auth).status_code == 404
    # Its conversation stays: it is the user's chat.
    assert (
        client.get(f"/api/conversations/{run['conversation_id']}", headers=auth).status_code == 200
    )


def test_pause_all_stops_firing_and_resume_does_not_catch_up(client, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    task = create(client, auth)
    with EventsSocket(client, api_key) as events:
        assert client.put("/api/tasks/scheduler", json={"paused": True}, headers=auth).json() == {
            "paused": True
        }
        assert events.next_of("task.scheduler_changed")["paused"] is True
    assert client.get("/api/tasks/scheduler", headers=auth).json() == {"paused": True}
    move_to(client, T0 + timedelta(hours=3, minutes=10))
    assert runs_of(client, auth, task["id"]) == []
    assert client.put("/api/tasks/scheduler", json={"paused": False}, headers=auth).json() == {
        "paused": False
    }
    move_to(client, T0 + timedelta(hours=3, minutes=11))
    assert runs_of(client, auth, task["id"]) == []  # what fell in the pause is dropped
    after = client.get(f"/api/tasks/{task['id']}", headers=auth).json()
    assert after["next_run_at"] == "2026-06-01T13:00:00Z"
    move_to(client, T0 + timedelta(hours=4))
    assert [r["status"] for r in runs_of(client, auth, task["id"])] == ["completed"]


def test_a_run_over_its_token_budget_is_stopped(client, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    agent = client.post("/api/agents", headers=auth, json={
        "name": "Calc", "tools": ["calculator"],
        "provider_id": client.get("/api/providers", headers=auth).json()[0]["id"]}).json()  # fmt: skip
    task = create(client, auth, agent_id=agent["id"], token_budget=100)
    calc = {"id": "c1", "name": "calculator", "arguments": '{"expression": "6*7"}'}
    scripted.load([
        {"tool_calls": [calc], "usage": {"prompt_tokens": 60, "completion_tokens": 10}},
        {"tool_calls": [{**calc, "id": "c2"}], "usage": {"prompt_tokens": 80, "completion_tokens": 10}},
        {"text": "never asked for"},
    ])  # fmt: skip
    with EventsSocket(client, api_key) as events:
        client.post(f"/api/tasks/{task['id']}/run", headers=auth)
        event = events.next_of("task.run_finished")
    settle(client)
    [run] = runs_of(client, auth, task["id"])
    assert run["status"] == "budget_exceeded" and event["status"] == "budget_exceeded"
    assert "budget of 100" in run["error"] and (run["prompt_tokens"], run["completion_tokens"]) == (
        140,
        20,
    )
    assert answers(scripted) == 2  # stopped after the call that went over
    message = client.get(f"/api/conversations/{run['conversation_id']}/messages",
                         headers=auth).json()[-1]  # fmt: skip
    assert message["failure"]["code"] == "budget_exceeded"


@pytest.mark.parametrize("overlap", ["skip", "queue"])
def test_overlapping_runs_are_skipped_or_queued(client, auth, api_key, scripted, overlap):
    """A run waits for a tool approval while its next fire time comes."""
    add_scripted_provider(client, auth, scripted)
    agent = client.post("/api/agents", headers=auth, json={
        "name": "Writer", "tools": ["write_file"],
        "provider_id": client.get("/api/providers", headers=auth).json()[0]["id"]}).json()  # fmt: skip
    task = create(client, auth, agent_id=agent["id"], overlap=overlap,
                  schedule={"kind": "interval", "every": 10, "unit": "minutes"})  # fmt: skip
    write = {"id": "w1", "name": "write_file", "arguments": '{"path": "a.txt", "content": "x"}'}
    scripted.load([{"tool_calls": [write]}, {"text": "first done"}, {"text": "second done"}])
    tasks = tasks_of(client)
    assert client.portal is not None
    with EventsSocket(client, api_key) as events:
        client.portal.call(tasks.clock.set, T0 + timedelta(minutes=10))  # type: ignore[attr-defined]
        client.portal.call(tasks.scheduler.tick)
        events.next_of("chat.approval_required")  # the first run is waiting
        client.portal.call(tasks.clock.set, T0 + timedelta(minutes=20))  # type: ignore[attr-defined]
        client.portal.call(tasks.scheduler.tick)
        second = runs_of(client, auth, task["id"])[0]
        assert second["status"] == ("skipped" if overlap == "skip" else "queued")
        if overlap == "skip":
            assert events.next_of("task.run_finished")["status"] == "skipped"
            refused = client.post(f"/api/tasks/{task['id']}/run", headers=auth)
            assert (refused.status_code, refused.json()["code"]) == (409, "task.running")
        assert client.portal.call(tasks.runner._chat.answer_approval, "w1", "approve")
        settle(client)
    history = runs_of(client, auth, task["id"])
    if overlap == "skip":
        assert [r["status"] for r in history] == ["skipped", "completed"]
        assert answers(scripted) == 2
    else:
        assert [r["status"] for r in history] == ["completed", "completed"]
        assert history[0]["id"] == second["id"] and answers(scripted) == 3
        last = client.get(f"/api/conversations/{history[0]['conversation_id']}/messages",
                          headers=auth).json()[-1]  # fmt: skip
        assert last["content"] == "second done"


def test_dst_fall_back_in_the_scheduler_runs_a_daily_task_once(client, auth, scripted):
    """02:30 happens twice in Berlin on 2026-10-25: ticking every 15 minutes through the night
    fires it once (and the night it does not exist, once too)."""
    add_scripted_provider(client, auth, scripted)
    task = create(client, auth, schedule={"kind": "cron", "expression": "30 2 * * *"})
    for start in (datetime(2026, 10, 24, 22, tzinfo=UTC), datetime(2026, 3, 28, 22, tzinfo=UTC)):
        client.patch(f"/api/tasks/{task['id']}", json={"enabled": False}, headers=auth)
        tasks = tasks_of(client)
        client.portal.call(tasks.clock.set, start)  # type: ignore[union-attr,attr-defined]
        client.patch(f"/api/tasks/{task['id']}", json={"enabled": True}, headers=auth)
        for quarter in range(4 * 6):
            move_to(client, start + timedelta(minutes=15 * quarter))
    runs = [r for r in runs_of(client, auth, task["id"]) if r["status"] == "completed"]
    assert sorted(r["scheduled_for"] for r in runs) == [
        "2026-03-29T01:30:00Z",  # 03:30 CEST: the 02:30 that did not exist
        "2026-10-25T00:30:00Z",  # 02:30 CEST, the first of the two
    ]


def test_the_scheduler_loop_wakes_at_the_fire_time_on_its_own(client, auth, scripted):
    """No tick called by hand: the lifespan's scheduler task sleeps on the clock until the fire
    time, then runs the task (and sleeps until the next one)."""
    add_scripted_provider(client, auth, scripted)
    task = create(client, auth)  # due 10:00
    tasks = tasks_of(client)
    assert client.portal is not None
    client.portal.call(tasks.clock.set, T0 + timedelta(minutes=30))  # type: ignore[attr-defined]
    time.sleep(0.2)  # the loop would fire now if it misread the time
    assert runs_of(client, auth, task["id"]) == []
    client.portal.call(tasks.clock.set, T0 + timedelta(hours=1))  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while not [r for r in runs_of(client, auth, task["id"]) if r["status"] == "completed"]:
        assert time.monotonic() < deadline, "the scheduler did not fire"
        time.sleep(0.05)
    listed = client.get(f"/api/tasks/{task['id']}", headers=auth).json()
    assert listed["next_run_at"] == "2026-06-01T11:00:00Z"


def test_a_queued_run_waits_through_a_shutdown_and_runs_at_the_next_start(
    settings, auth, api_key, scripted
):
    """Shutting down mid-run: the running one ends `interrupted`, the one queued behind it is
    not started on the way out; at the next start (within the grace window) it runs."""
    write = {"id": "w1", "name": "write_file", "arguments": '{"path": "a.txt", "content": "x"}'}
    first = create_app(settings)
    first.state.task_clock = ManualClock(T0)
    with TestClient(first, base_url=TEST_ORIGIN) as client:
        add_scripted_provider(client, auth, scripted)
        agent = client.post("/api/agents", headers=auth, json={
            "name": "Writer", "tools": ["write_file"],
            "provider_id": client.get("/api/providers", headers=auth).json()[0]["id"]}).json()  # fmt: skip
        task = create(client, auth, agent_id=agent["id"], overlap="queue",
                      schedule={"kind": "interval", "every": 10, "unit": "minutes"})  # fmt: skip
        scripted.load([{"tool_calls": [write]}, {"text": "second done"}])
        tasks = tasks_of(client)
        assert client.portal is not None
        with EventsSocket(client, api_key) as events:
            client.portal.call(tasks.clock.set, T0 + timedelta(minutes=10))  # type: ignore[attr-defined]
            client.portal.call(tasks.scheduler.tick)
            events.next_of("chat.approval_required")
        client.portal.call(tasks.clock.set, T0 + timedelta(minutes=20))  # type: ignore[attr-defined]
        client.portal.call(tasks.scheduler.tick)
        assert [r["status"] for r in runs_of(client, auth, task["id"])] == ["queued", "running"]
    assert answers(scripted) == 1  # the queued run did not start on the way out
    second = create_app(settings)
    second.state.task_clock = ManualClock(T0 + timedelta(minutes=25))
    with TestClient(second, base_url=TEST_ORIGIN) as client:
        settle(client)
        history = runs_of(client, auth, task["id"])
        assert [r["status"] for r in history] == ["completed", "interrupted"]
        last = client.get(f"/api/conversations/{history[0]['conversation_id']}/messages",
                          headers=auth).json()[-1]  # fmt: skip
        assert last["content"] == "second done"
