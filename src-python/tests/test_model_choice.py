"""Which agent, provider and model answer next: one decision, shown by the API and used by the
chat engine."""

from fastapi.testclient import TestClient

from chat_client import ChatSocket, add_scripted_provider


def post(client: TestClient, auth, path: str, body: dict) -> dict:
    response = client.post(path, json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def choice(client: TestClient, auth, path: str) -> dict:
    response = client.get(f"{path}/model-choice", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def default_agent(client: TestClient, auth) -> dict:
    return next(a for a in client.get("/api/agents", headers=auth).json() if a["is_default"])


def test_no_provider_yet(client: TestClient, auth):
    agent = default_agent(client, auth)
    assert choice(client, auth, f"/api/agents/{agent['id']}") == {
        "agent_id": agent["id"], "provider_id": None, "provider_name": None,
        "model": None, "default_model": None,
    }  # fmt: skip


def test_first_enabled_provider_and_its_default_model(client: TestClient, auth):
    off = {"kind": "openai", "base_url": "http://127.0.0.1:9/v1", "enabled": False}
    post(client, auth, "/api/providers", {"name": "Off", **off, "default_model": "m-off"})
    on = post(
        client, auth, "/api/providers", {"name": "On", "kind": "ollama", "default_model": "m-on"}
    )
    post(
        client, auth, "/api/providers", {"name": "Later", "kind": "lmstudio", "default_model": "m3"}
    )
    conversation = post(client, auth, "/api/conversations", {})
    got = choice(client, auth, f"/api/conversations/{conversation['id']}")
    assert got["agent_id"] == default_agent(client, auth)["id"]  # no agent named: the default one
    assert (got["provider_id"], got["provider_name"]) == (on["id"], "On")
    assert (got["model"], got["default_model"]) == ("m-on", "m-on")


def test_agent_provider_and_model_then_the_conversations_pick(client: TestClient, auth):
    post(client, auth, "/api/providers", {"name": "First", "kind": "ollama", "default_model": "a"})
    second = post(client, auth, "/api/providers", {"name": "Second", "kind": "lmstudio"})
    agent = post(client, auth, "/api/agents", {"name": "Writer", "provider_id": second["id"]})
    assert choice(client, auth, f"/api/agents/{agent['id']}")["model"] is None  # nobody names one
    client.patch(f"/api/agents/{agent['id']}", json={"model": "agent-model"}, headers=auth)
    conversation = post(client, auth, "/api/conversations", {"agent_id": agent["id"]})
    path = f"/api/conversations/{conversation['id']}"
    assert choice(client, auth, path) == {
        "agent_id": agent["id"], "provider_id": second["id"], "provider_name": "Second",
        "model": "agent-model", "default_model": "agent-model",
    }  # fmt: skip
    client.patch(path, json={"model": "picked"}, headers=auth)
    got = choice(client, auth, path)
    assert (got["model"], got["default_model"]) == ("picked", "agent-model")
    assert client.get("/api/conversations/nope/model-choice", headers=auth).status_code == 404
    assert client.get("/api/agents/nope/model-choice", headers=auth).status_code == 404


def test_the_chat_engine_answers_with_the_chosen_model(client: TestClient, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"text": "one"}, {"text": "two"}])
    with ChatSocket(client, api_key) as chat:
        accepted, frames = chat.send("hello")
        path = f"/api/conversations/{accepted['conversationId']}"
        assert frames[0]["model"] == choice(client, auth, path)["model"] == "scripted-1"
        client.patch(path, json={"model": "scripted-2"}, headers=auth)
        _, frames = chat.send("again", conversationId=accepted["conversationId"])
        assert frames[0]["model"] == choice(client, auth, path)["model"] == "scripted-2"
