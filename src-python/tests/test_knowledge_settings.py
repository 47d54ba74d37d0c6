"""Settings → Knowledge through the HTTP API: chunking defaults for new bases (SQLite on disk,
read back by a second app on the same data), the embedder and retrieval facts, per-base disk use
from the real ingest worker's files and vector index."""

from fastapi.testclient import TestClient

from sage_sidecar.app import create_app

from conftest import TEST_ORIGIN
from knowledge_client import create_base, upload, wait_indexed


def test_defaults_apply_to_new_bases_and_survive_a_restart(client: TestClient, auth, settings):
    before = client.get("/api/knowledge/settings", headers=auth).json()
    assert before["defaults"] == {"chunk_tokens": 200, "chunk_overlap": 40}
    saved = client.put("/api/knowledge/settings/defaults", headers=auth,
                       json={"chunk_tokens": 120, "chunk_overlap": 20})  # fmt: skip
    assert saved.status_code == 200, saved.text
    kb = create_base(client, auth)  # no chunking given: the saved defaults
    assert (kb["chunk_tokens"], kb["chunk_overlap"]) == (120, 20)
    kb = create_base(client, auth, chunk_tokens=300, chunk_overlap=60)  # given: kept
    assert (kb["chunk_tokens"], kb["chunk_overlap"]) == (300, 60)
    kb = create_base(client, auth, chunk_tokens=36)  # the saved overlap does not fit: halved
    assert (kb["chunk_tokens"], kb["chunk_overlap"]) == (36, 18)
    # The same data dir, read by a new app.
    with TestClient(create_app(settings), base_url=TEST_ORIGIN) as again:
        assert again.get("/api/knowledge/settings", headers=auth).json()["defaults"] == {
            "chunk_tokens": 120, "chunk_overlap": 20}  # fmt: skip


def test_defaults_are_validated_like_a_base(client: TestClient, auth):
    for body, field in (({"chunk_tokens": 10, "chunk_overlap": 0}, "chunk_tokens"),
                        ({"chunk_tokens": 100, "chunk_overlap": 60}, None)):  # fmt: skip
        response = client.put("/api/knowledge/settings/defaults", json=body, headers=auth)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "request.invalid"
        if field:
            assert response.json()["params"]["field"] == field
    assert (
        client.get("/api/knowledge/settings", headers=auth).json()["defaults"]["chunk_tokens"]
        == 200
    )


def test_reports_the_embedder_retrieval_and_each_bases_disk_use(client: TestClient, auth):
    empty = create_base(client, auth, name="Empty")
    full = create_base(client, auth, name="Notes")
    text = b"# Tea\n\nGreen tea brews at 80 degrees for two minutes.\n" * 20
    assert upload(client, auth, full["id"], ("tea.md", text)).status_code == 201
    wait_indexed(client, auth, full["id"])
    facts = client.get("/api/knowledge/settings", headers=auth).json()
    assert facts["local_embedder"]["id"] == "local:all-minilm-l6-v2"
    assert facts["local_embedder"]["dim"] == 384 and facts["local_embedder"]["present"] is True
    assert facts["local_embedder"]["loaded"] is True  # it embedded the file above
    assert facts["local_embedder"]["threads"] >= 1
    assert facts["retrieval"] == {"mode": "hybrid", "sources_per_reply": 5}
    by_name = {b["name"]: b for b in facts["bases"]}
    assert by_name["Empty"]["files_bytes"] == by_name["Empty"]["index_bytes"] == 0
    assert by_name["Notes"]["files_bytes"] == len(text)
    assert by_name["Notes"]["index_bytes"] > 0 and by_name["Notes"]["file_count"] == 1
    assert by_name["Empty"]["id"] == empty["id"]
