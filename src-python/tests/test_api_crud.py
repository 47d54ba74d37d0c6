"""Providers, agents and conversations through the HTTP API, on a real SQLite file."""

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.demo.scripted import RunningScripted


@pytest.fixture(scope="module")
def scripted():
    with RunningScripted() as server:
        yield server


def make_provider(client: TestClient, auth, **overrides) -> dict:
    body = {"name": "Local", "kind": "openai", "base_url": "http://127.0.0.1:9/v1", **overrides}
    response = client.post("/api/providers", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_provider_key_is_write_only(client: TestClient, auth, caplog):
    caplog.set_level("DEBUG")
    created = make_provider(client, auth, api_key="sk-secret-value-123")
    assert created["has_api_key"] is True
    assert "api_key" not in created
    listed = client.get("/api/providers", headers=auth).json()
    assert "sk-secret-value-123" not in str(listed)
    # Clearing the key with an empty string.
    cleared = client.patch(f"/api/providers/{created['id']}", json={"api_key": ""}, headers=auth)
    assert cleared.json()["has_api_key"] is False
    assert "sk-secret-value-123" not in caplog.text


def test_provider_defaults_and_validation(client: TestClient, auth):
    ollama = make_provider(client, auth, kind="ollama", base_url=None)
    assert ollama["base_url"] == "http://127.0.0.1:11434/v1"
    bad = client.post("/api/providers", json={"name": "x", "kind": "nope"}, headers=auth)
    assert bad.status_code == 422
    bad_url = client.post(
        "/api/providers", json={"name": "x", "kind": "openai", "base_url": "ftp://x"}, headers=auth
    )
    assert bad_url.status_code == 422
    assert client.get("/api/providers/missing", headers=auth).status_code == 404


def test_connection_verdicts(client: TestClient, auth, scripted):
    good = make_provider(client, auth, base_url=scripted.base_url, api_key="k")
    verdict = client.post(f"/api/providers/{good['id']}/test", headers=auth).json()
    assert verdict == {"ok": True, "verdict": "ok", "message": "1 models", "models": ["scripted-1"]}
    bad_key = make_provider(client, auth, base_url=scripted.base_url, api_key="bad-key")
    assert (
        client.post(f"/api/providers/{bad_key['id']}/test", headers=auth).json()["verdict"]
        == "bad_key"
    )
    down = make_provider(client, auth)
    assert (
        client.post(f"/api/providers/{down['id']}/test", headers=auth).json()["verdict"]
        == "unreachable"
    )
    wrong = make_provider(client, auth, base_url=f"http://127.0.0.1:{scripted.port}/nothing")
    assert (
        client.post(f"/api/providers/{wrong['id']}/test", headers=auth).json()["verdict"]
        == "wrong_url"
    )
    models = client.get(f"/api/providers/{down['id']}/models", headers=auth)
    assert models.status_code == 502 and "Cannot reach the provider" in models.json()["detail"]


def test_default_agent_exists_and_cannot_be_deleted(client: TestClient, auth):
    agents = client.get("/api/agents", headers=auth).json()
    default = next(a for a in agents if a["is_default"])
    assert default["name"] == "Sage"
    assert "current_time" in default["tools"]
    response = client.delete(f"/api/agents/{default['id']}", headers=auth)
    assert response.status_code == 409


def test_agent_crud_and_validation(client: TestClient, auth):
    provider = make_provider(client, auth)
    body = {"name": "Coder", "system_prompt": "Write code.", "provider_id": provider["id"],
            "model": "m1", "temperature": 0.2, "tools": ["calculator", "write_file"]}  # fmt: skip
    agent = client.post("/api/agents", json=body, headers=auth).json()
    assert agent["tools"] == ["calculator", "write_file"]
    patched = client.patch(f"/api/agents/{agent['id']}", json={"name": "Coder 2"}, headers=auth)
    assert patched.json()["name"] == "Coder 2" and patched.json()["model"] == "m1"
    unknown = client.post("/api/agents", json={"name": "x", "tools": ["rm_rf"]}, headers=auth)
    assert unknown.status_code == 422 and "unknown tools: rm_rf" in unknown.text
    hot = client.post("/api/agents", json={"name": "x", "temperature": 5}, headers=auth)
    assert hot.status_code == 422
    missing = client.post("/api/agents", json={"name": "x", "provider_id": "nope"}, headers=auth)
    assert missing.status_code == 404
    assert client.delete(f"/api/agents/{agent['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/agents/{agent['id']}", headers=auth).status_code == 404


def test_agent_export_import_round_trip_without_provider(client: TestClient, auth):
    provider = make_provider(client, auth, api_key="sk-top-secret")
    body = {
        "name": "Exporter",
        "avatar": "🦉",
        "provider_id": provider["id"],
        "tools": ["calculator"],
    }
    agent = client.post("/api/agents", json=body, headers=auth).json()
    exported = client.get(f"/api/agents/{agent['id']}/export", headers=auth).json()
    assert exported["format"] == "sage.agent.v1"
    assert "provider_id" not in exported["agent"] and "sk-top-secret" not in str(exported)
    imported = client.post("/api/agents/import", json=exported, headers=auth).json()
    assert imported["id"] != agent["id"]
    assert (imported["name"], imported["avatar"], imported["tools"]) == (
        "Exporter",
        "🦉",
        ["calculator"],
    )
    bad = client.post("/api/agents/import", json={"format": "other", "agent": {}}, headers=auth)
    assert bad.status_code == 422


def test_conversation_crud(client: TestClient, auth):
    created = client.post("/api/conversations", json={}, headers=auth).json()
    assert created["title"] == "New chat" and created["agent_id"]
    renamed = client.patch(
        f"/api/conversations/{created['id']}", json={"title": "Plans"}, headers=auth
    )
    assert renamed.json()["title"] == "Plans"
    assert client.get(f"/api/conversations/{created['id']}/messages", headers=auth).json() == []
    assert (
        client.patch(
            f"/api/conversations/{created['id']}", json={"title": ""}, headers=auth
        ).status_code
        == 422
    )
    assert client.delete(f"/api/conversations/{created['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/conversations/{created['id']}", headers=auth).status_code == 404


def test_demo_mode_configures_the_labelled_scripted_provider(settings, auth, api_key, scripted):
    from sage_sidecar.app import create_app

    from chat_client import send_once
    from conftest import TEST_ORIGIN

    settings.demo_provider_url = scripted.base_url
    for _ in range(2):  # restarting does not duplicate it
        with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
            providers = client.get("/api/providers", headers=auth).json()
    assert [(p["name"], p["default_model"]) for p in providers] == [
        ("Demo (scripted)", "scripted-1")
    ]
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as client:
        scripted.load([])  # no script: the demo model answers on its own
        _, frames = send_once(client, api_key, "What time is it?")
    assert [f["name"] for f in frames if f["type"] == "tool.call"] == ["current_time"]
    assert "The tool answered" in frames[-1]["content"]


def test_local_servers_are_detected_at_start_and_on_demand(settings, auth, api_key):
    """A server answering like Ollama on Ollama's default port is found and announced."""
    import socket as sockets

    from sage_sidecar.app import create_app

    from conftest import TEST_ORIGIN, WS_BASE

    with sockets.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 11434)) == 0:
            pytest.skip("something already listens on Ollama's port")
    with (
        RunningScripted(port=11434),
        TestClient(create_app(settings), base_url=TEST_ORIGIN) as client,
    ):
        found = client.get("/api/providers/detect", headers=auth).json()
        assert {
            "kind": "ollama",
            "base_url": "http://127.0.0.1:11434/v1",
            "models": ["scripted-1"],
        } in found
        assert all(s["kind"] != "lmstudio" or s["models"] for s in found)
        with client.websocket_connect(WS_BASE + "/ws/events") as ws:
            ws.send_json({"type": "auth", "apiKey": api_key})
            ws.receive_json()  # auth.ok
            # The start-up detection ran before we subscribed; a new one is announced the same way.
            state = client.app.state.sage
            client.portal.call(
                lambda: __import__("sage_sidecar.app", fromlist=["x"]).announce_local_servers(state)
            )
            event = next(
                f for f in iter(ws.receive_json, None) if f["type"] == "providers.detected"
            )
    assert any(s["kind"] == "ollama" for s in event["servers"])


def test_builtin_tools_are_listed_with_their_approval_needs(client: TestClient, auth):
    tools = {t["name"]: t for t in client.get("/api/tools", headers=auth).json()}
    assert {
        "current_time",
        "calculator",
        "read_file",
        "write_file",
        "fetch_url",
        "run_python",
    } <= set(tools)
    assert tools["write_file"]["needs_approval"] and not tools["calculator"]["needs_approval"]
