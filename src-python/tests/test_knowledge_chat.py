"""Agents with knowledge bases: retrieval before the answer, sources in the model's request,
citations on the stream and on the stored message; provider embeddings through the scripted
server. Everything over real HTTP and SQLite; the model is the scripted provider."""

from fastapi.testclient import TestClient

from chat_client import add_scripted_provider, send_once, text_of
from knowledge_client import create_base, search, upload, wait_indexed, write_docx


def make_agent(client: TestClient, auth, kb_ids: list[str]) -> dict:
    body = {"name": "Librarian", "knowledge_base_ids": kb_ids, "tools": []}
    response = client.post("/api/agents", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def test_agent_answers_with_cited_sources(client: TestClient, auth, api_key, scripted, tmp_path):
    add_scripted_provider(client, auth, scripted)
    kb = create_base(client, auth, name="Birds")
    upload(client, auth, kb["id"], write_docx(tmp_path / "birds.docx"),
           ("owls.txt", b"Owls hunt at night and swallow their prey whole."))  # fmt: skip
    wait_indexed(client, auth, kb["id"])
    agent = make_agent(client, auth, [kb["id"]])
    scripted.load([{"text": "Grey herons stand still in shallow water [1]."}])

    accepted, frames = send_once(client, api_key, "How do grey herons catch fish?",
                                 agentId=agent["id"])  # fmt: skip

    types = [f["type"] for f in frames]
    assert types.index("citations") < types.index("message.delta")  # before the first token
    cited = frames[types.index("citations")]["citations"]
    assert cited[0]["number"] == 1 and cited[0]["fileName"] == "birds.docx"
    assert cited[0]["heading"] == "Field guide › Herons"
    assert "Grey herons stand still" in cited[0]["snippet"]
    assert [c["number"] for c in cited] == list(range(1, len(cited) + 1))
    assert text_of(frames) == "Grey herons stand still in shallow water [1]."

    sent = scripted.recorded()[-1]["messages"]
    sources = [m for m in sent if m["role"] == "system" and "[1] birds.docx" in m["content"]]
    assert len(sources) == 1, sent
    assert "Grey herons stand still in shallow water" in sources[0]["content"]
    assert "square brackets" in sources[0]["content"]
    assert sent[-1] == {"role": "user", "content": "How do grey herons catch fish?"}
    assert sent.index(sources[0]) == len(sent) - 2  # right before the question it answers

    saved = client.get(f"/api/conversations/{accepted['conversationId']}/messages",
                       headers=auth).json()  # fmt: skip
    assert saved[1]["citations"] == cited and saved[0]["citations"] is None
    chunk = client.get(f"/api/knowledge/chunks/{cited[0]['chunkId']}", headers=auth).json()
    assert chunk["file_id"] == cited[0]["fileId"] and chunk["text"].startswith("Grey herons")

    url = f"/api/conversations/{accepted['conversationId']}/export"
    exported = client.get(url, params={"format": "json"}, headers=auth).json()
    assert exported["messages"][1]["citations"] == cited  # exports keep the sources
    markdown = client.get(url, params={"format": "markdown"}, headers=auth).text
    assert "[1]: birds.docx, Field guide › Herons" in markdown
    imported = client.post("/api/conversations/import", json=exported, headers=auth).json()
    again = client.get(f"/api/conversations/{imported['id']}/messages", headers=auth).json()
    assert again[1]["citations"] == cited


def test_agent_without_knowledge_bases_gets_no_sources(client, auth, api_key, scripted):
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"text": "Hi."}])
    accepted, frames = send_once(client, api_key, "hello")
    assert "citations" not in [f["type"] for f in frames]
    assert not any("Numbered sources" in str(m["content"])
                   for m in scripted.recorded()[-1]["messages"])  # fmt: skip


def test_provider_embeddings_index_and_search(client: TestClient, auth, scripted):
    provider = add_scripted_provider(client, auth, scripted)
    embedder = f"provider:{provider['id']}:scripted-embed"
    kb = create_base(client, auth, embedder=embedder)
    upload(client, auth, kb["id"], ("rivers.txt", b"Rivers carry water to the sea."),
           ("deserts.txt", b"Deserts get very little rain."))  # fmt: skip
    files = wait_indexed(client, auth, kb["id"])
    assert {f["status"] for f in files} == {"ready"}, files
    assert (
        client.get(f"/api/knowledge/bases/{kb['id']}", headers=auth).json()["embedding_dim"] == 64
    )  # the scripted server's vectors
    hits = search(client, auth, "rivers water sea", [kb["id"]], mode="vector")
    assert hits[0]["file_name"] == "rivers.txt"
    embedded = [r for r in scripted.recorded() if "input" in r]
    assert embedded and all(r["model"] == "scripted-embed" for r in embedded)


def test_a_failing_embedder_fails_the_file_and_costs_a_reply_only_its_sources(
    client: TestClient, auth, api_key, scripted
):
    provider = add_scripted_provider(client, auth, scripted)
    kb = create_base(client, auth, embedder=f"provider:{provider['id']}:scripted-embed")
    scripted.load_embeddings([{"error": {"status": 500}}])
    upload(client, auth, kb["id"], ("a.txt", b"Anything at all."))
    file = wait_indexed(client, auth, kb["id"])[0]
    assert file["status"] == "failed" and "failed" in file["error"], file
    # Re-embedding with the offline model recovers the base.
    response = client.patch(f"/api/knowledge/bases/{kb['id']}",
                            json={"embedder": "local:all-minilm-l6-v2"}, headers=auth)  # fmt: skip
    assert response.status_code == 200
    assert wait_indexed(client, auth, kb["id"])[0]["status"] == "ready"
    # An agent whose base cannot be searched still answers, with a notice.
    agent = make_agent(client, auth, [kb["id"]])
    client.patch(f"/api/knowledge/bases/{kb['id']}",
                 json={"embedder": f"provider:{provider['id']}:scripted-embed"}, headers=auth)  # fmt: skip
    assert wait_indexed(client, auth, kb["id"])[0]["status"] == "ready"
    client.delete(f"/api/providers/{provider['id']}", headers=auth)
    add_scripted_provider(client, auth, scripted)
    scripted.load([{"text": "Answer without sources."}])
    _accepted, frames = send_once(client, api_key, "anything?", agentId=agent["id"])
    notices = [f["text"] for f in frames if f["type"] == "notice"]
    assert notices and "Knowledge search failed" in notices[0]
    assert frames[-1]["type"] == "message.completed"
    assert text_of(frames) == "Answer without sources."
