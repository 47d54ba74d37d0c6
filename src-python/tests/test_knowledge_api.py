"""Knowledge bases through the HTTP API: real files, the real ingest worker and offline embedder,
SQLite and the vector index on disk."""

import sqlite3

import pytest
from fastapi.testclient import TestClient

from sage_sidecar.core.config import Settings

from conftest import WS_BASE
from knowledge_client import (
    create_base,
    files_of,
    search,
    upload,
    wait_indexed,
    write_docx,
    write_html,
    write_pdf,
)


def chunk_rows(settings: Settings, file_id: str) -> tuple[int, int]:
    """(chunks, FTS rows matching them) in the database for one file."""
    with sqlite3.connect(settings.db_path) as conn:
        chunks = conn.execute(
            "SELECT count(*) FROM knowledge_chunks WHERE file_id = ?", (file_id,)
        ).fetchone()[0]
        fts = conn.execute(
            "SELECT count(*) FROM knowledge_chunks_fts f JOIN knowledge_chunks c "
            "ON c.id = f.rowid WHERE c.file_id = ?",
            (file_id,),
        ).fetchone()[0]
    return chunks, fts


def test_upload_every_format_then_search_with_sources(client: TestClient, auth, api_key, tmp_path):
    kb = create_base(client, auth, description="manuals")
    assert kb["embedder"] == "local:all-minilm-l6-v2" and kb["status"] == "ready"
    notes = tmp_path / "notes.md"
    notes.write_text("# Garden\n\n## Tomatoes\n\nWater tomatoes deeply twice a week in summer.\n")
    with client.websocket_connect(WS_BASE + "/ws/events") as events:
        events.send_json({"type": "auth", "apiKey": api_key})
        assert events.receive_json()["type"] == "auth.ok"
        response = upload(client, auth, kb["id"], write_pdf(tmp_path / "guide.pdf"),
                          write_docx(tmp_path / "birds.docx"), write_html(tmp_path / "tea.html"),
                          notes)  # fmt: skip
        assert response.status_code == 201, response.text
        added = response.json()
        assert [f["status"] for f in added] == ["queued"] * 4
        assert [f["kind"] for f in added] == ["pdf", "docx", "html", "md"]
        files = wait_indexed(client, auth, kb["id"])
        seen: dict[str, list[str]] = {}
        while sum(s[-1:] == ["ready"] for s in seen.values()) < 4:
            event = events.receive_json()
            if event["type"] == "knowledge.file":
                statuses = seen.setdefault(event["fileId"], [])
                if not statuses or statuses[-1] != event["status"]:
                    statuses.append(event["status"])
    assert all(f["status"] == "ready" and f["chunk_count"] > 0 for f in files), files
    for statuses in seen.values():  # progress events per file, in order
        assert statuses == ["queued", "parsing", "embedding", "ready"]
    kb = client.get(f"/api/knowledge/bases/{kb['id']}", headers=auth).json()
    assert kb["file_count"] == 4 and kb["chunk_count"] == sum(f["chunk_count"] for f in files)
    assert kb["status"] == "ready" and kb["embedding_dim"] == 384

    hits = search(client, auth, "how long does a grey heron stand in the water", [kb["id"]])
    assert hits[0]["file_name"] == "birds.docx"
    assert hits[0]["heading"] == "Field guide › Herons"
    assert hits[0]["vector_rank"] and hits[0]["bm25_rank"]
    hits = search(client, auth, "where do I choose the data folder during setup", [kb["id"]])
    assert (hits[0]["file_name"], hits[0]["page"]) == ("guide.pdf", 2)
    assert "installer" in hits[0]["text"]
    hits = search(client, auth, "temperature for green tea", [kb["id"]], mode="vector", top_k=2)
    assert hits[0]["file_name"] == "tea.html" and hits[0]["bm25_rank"] is None
    assert len(hits) == 2 and hits[0]["score"] == hits[0]["vector_score"] > hits[1]["score"]
    hits = search(client, auth, "tomatoes", [kb["id"]], mode="bm25")
    assert [h["file_name"] for h in hits] == ["notes.md"] and hits[0]["vector_rank"] is None
    assert hits[0]["heading"] == "Garden › Tomatoes"
    chunk = client.get(f"/api/knowledge/chunks/{hits[0]['chunk_id']}", headers=auth).json()
    assert notes.read_text()[chunk["char_start"] : chunk["char_end"]] == chunk["text"]

    only_pdf = [f["id"] for f in files if f["kind"] == "pdf"]
    hits = search(client, auth, "grey heron", [kb["id"]], file_ids=only_pdf)
    assert hits and {h["file_name"] for h in hits} == {"guide.pdf"}
    hits = search(client, auth, "heron", [kb["id"]], mmr=True, top_k=3)
    assert len(hits) == 3 and len({h["chunk_id"] for h in hits}) == 3


def test_a_bad_file_fails_alone_with_its_reason(client: TestClient, auth, tmp_path):
    kb = create_base(client, auth)
    good = tmp_path / "good.txt"
    good.write_text("Lighthouses guide ships along the coast at night.")
    response = upload(client, auth, kb["id"], ("broken.pdf", b"%PDF-1.7\n1 0 obj <<"),
                      ("empty.txt", b""), write_pdf(tmp_path / "locked.pdf", password="pw"),
                      good)  # fmt: skip
    assert response.status_code == 201
    by_name = {f["name"]: f for f in wait_indexed(client, auth, kb["id"])}
    assert by_name["good.txt"]["status"] == "ready"
    assert by_name["broken.pdf"]["status"] == "failed"
    assert "valid PDF" in by_name["broken.pdf"]["error"]
    assert by_name["empty.txt"]["error"] == "The file is empty."
    assert "password-protected" in by_name["locked.pdf"]["error"]
    assert all(f["chunk_count"] == 0 for f in by_name.values() if f["status"] == "failed")
    hits = search(client, auth, "lighthouse ships", [kb["id"]])
    assert [h["file_name"] for h in hits] == ["good.txt"]
    assert client.get("/api/health", headers=auth).json()["status"] == "ok"


@pytest.fixture
def small_limit(settings: Settings) -> Settings:
    settings.max_upload_mb = 0.05  # 52 KB
    return settings


def test_oversized_upload_is_refused_and_nothing_is_kept(small_limit, client, auth, tmp_path):
    kb = create_base(client, auth)
    # Larger than the limit plus multipart overhead: refused from the Content-Length alone.
    response = upload(client, auth, kb["id"], ("big.txt", b"a " * 100_000))
    assert response.status_code == 413
    assert response.json()["detail"] == "the upload is larger than the 51 KB limit"
    # Over the limit but within the overhead allowance: refused while streaming.
    response = upload(client, auth, kb["id"], ("ok.txt", b"fine"), ("big.txt", b"b " * 30_000))
    assert response.status_code == 413, response.text
    assert response.json()["detail"].startswith("big.txt is larger than")
    assert files_of(client, auth, kb["id"]) == []  # all or nothing: ok.txt went too
    folder = small_limit.storage_dir / "knowledge" / kb["id"]
    assert [p for p in folder.rglob("*") if p.is_file()] == []
    # The same limit applies to files added by path.
    big = tmp_path / "big.md"
    big.write_bytes(b"c " * 30_000)
    response = client.post(f"/api/knowledge/bases/{kb['id']}/files/paths",
                           json={"paths": [str(big)]}, headers=auth)  # fmt: skip
    assert response.status_code == 413


def test_unsupported_type_and_malformed_uploads(client: TestClient, auth):
    kb = create_base(client, auth)
    response = upload(client, auth, kb["id"], ("tool.exe", b"MZ..."))
    assert response.status_code == 415 and "not supported" in response.json()["detail"]
    response = client.post(f"/api/knowledge/bases/{kb['id']}/files", data={"note": "no file"},
                           files={"x": ("", b"")}, headers=auth)  # fmt: skip
    assert response.status_code in (422, 400), response.text
    response = client.post(f"/api/knowledge/bases/{kb['id']}/files", content=b"raw",
                           headers={**auth, "content-type": "text/plain"})  # fmt: skip
    assert response.status_code == 422 and "multipart" in response.json()["detail"]
    assert upload(client, auth, "nope", ("a.txt", b"x")).status_code == 404
    assert files_of(client, auth, kb["id"]) == []


def test_path_traversal_in_names_stays_inside_the_base(client, auth, settings: Settings):
    kb = create_base(client, auth)
    response = upload(client, auth, kb["id"], ("../../../escape.md", b"# Escape\n\nNope."),
                      ("..\\..\\win.txt", b"Windows style"))  # fmt: skip
    assert response.status_code == 201, response.text
    assert [f["name"] for f in response.json()] == ["escape.md", "win.txt"]
    assert not (settings.data_dir.parent / "escape.md").exists()
    folder = settings.storage_dir / "knowledge" / kb["id"]
    stored = sorted(p.name for p in folder.iterdir() if p.is_file())
    assert stored == sorted(f"{f['id']}.{f['kind']}" for f in response.json())
    assert {f["status"] for f in wait_indexed(client, auth, kb["id"])} == {"ready"}


def test_same_content_twice_is_a_no_op(client: TestClient, auth):
    kb = create_base(client, auth)
    first = upload(client, auth, kb["id"], ("a.txt", b"Owls hunt at night.")).json()[0]
    again = upload(client, auth, kb["id"], ("copy.txt", b"Owls hunt at night.")).json()[0]
    assert again["id"] == first["id"] and again["duplicate"] and not first["duplicate"]
    assert again["name"] == "a.txt"
    assert len(files_of(client, auth, kb["id"])) == 1
    other = create_base(client, auth, name="Other")  # another base may hold the same file
    assert not upload(client, auth, other["id"], ("a.txt", b"Owls hunt at night.")).json()[0][
        "duplicate"
    ]


def test_delete_file_removes_chunks_vectors_and_the_stored_copy(client, auth, settings):
    kb = create_base(client, auth)
    keep, gone = upload(client, auth, kb["id"], ("keep.txt", b"Bees make honey from nectar."),
                        ("gone.txt", b"Ants carry leaves to their nest.")).json()  # fmt: skip
    wait_indexed(client, auth, kb["id"])
    index = client.app.state.sage.knowledge.indexes.get(kb["id"], 384)
    assert len(index) == 2 and chunk_rows(settings, gone["id"]) == (1, 1)
    stored = settings.storage_dir / "knowledge" / kb["id"] / f"{gone['id']}.txt"
    assert stored.exists()
    response = client.delete(f"/api/knowledge/bases/{kb['id']}/files/{gone['id']}", headers=auth)
    assert response.status_code == 204
    assert chunk_rows(settings, gone["id"]) == (0, 0) and not stored.exists()
    assert len(index) == 1
    assert [h["file_name"] for h in search(client, auth, "ants leaves nest", [kb["id"]])] == [
        "keep.txt"
    ]
    kb_now = client.get(f"/api/knowledge/bases/{kb['id']}", headers=auth).json()
    assert (kb_now["file_count"], kb_now["chunk_count"]) == (1, 1)
    url = f"/api/knowledge/bases/{kb['id']}/files/{gone['id']}"
    assert client.delete(url, headers=auth).status_code == 404
    assert keep["id"]


def test_delete_base_removes_files_vectors_and_agent_links(client, auth, settings: Settings):
    kb = create_base(client, auth)
    upload(client, auth, kb["id"], ("a.txt", b"Rivers flow to the sea."))
    wait_indexed(client, auth, kb["id"])
    agent = client.post("/api/agents", json={"name": "Reader", "knowledge_base_ids": [kb["id"]]},
                        headers=auth).json()  # fmt: skip
    assert agent["knowledge_base_ids"] == [kb["id"]]
    assert (settings.vectors_dir / kb["id"]).exists()
    assert client.delete(f"/api/knowledge/bases/{kb['id']}", headers=auth).status_code == 204
    assert not (settings.vectors_dir / kb["id"]).exists()
    assert not (settings.storage_dir / "knowledge" / kb["id"]).exists()
    with sqlite3.connect(settings.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM knowledge_chunks").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM knowledge_files").fetchone()[0] == 0
    agent = client.get(f"/api/agents/{agent['id']}", headers=auth).json()
    assert agent["knowledge_base_ids"] == []
    response = client.post("/api/knowledge/search", json={"query": "x", "kb_ids": [kb["id"]]},
                           headers=auth)  # fmt: skip
    assert response.status_code == 404


def test_new_chunking_reindexes_every_file_with_progress(client: TestClient, auth, api_key):
    kb = create_base(client, auth, chunk_tokens=200, chunk_overlap=0)
    text = " ".join(f"Sentence number {i} talks about topic {i % 7}." for i in range(200))
    upload(client, auth, kb["id"], ("long.txt", text.encode()))
    before = wait_indexed(client, auth, kb["id"])[0]
    with client.websocket_connect(WS_BASE + "/ws/events") as events:
        events.send_json({"type": "auth", "apiKey": api_key})
        events.receive_json()
        response = client.patch(f"/api/knowledge/bases/{kb['id']}",
                                json={"chunk_tokens": 64, "chunk_overlap": 16}, headers=auth)  # fmt: skip
        assert response.status_code == 200 and response.json()["status"] == "indexing"
        progress = []
        while True:
            event = events.receive_json()
            if event["type"] == "knowledge.file":
                progress.append((event["status"], event["progress"]))
                if event["status"] == "ready":
                    break
    after = wait_indexed(client, auth, kb["id"])[0]
    assert after["id"] == before["id"] and after["chunk_count"] > 3 * before["chunk_count"]
    embedding = [p for s, p in progress if s == "embedding"]
    assert embedding == sorted(embedding) and embedding[-1] == 1.0
    hits = search(client, auth, "sentence number 123", [kb["id"]], top_k=3)
    assert any("Sentence number 123 " in h["text"] for h in hits)
    again = client.post(f"/api/knowledge/bases/{kb['id']}/reindex", headers=auth)
    assert again.status_code == 200 and again.json()["status"] == "indexing"
    assert wait_indexed(client, auth, kb["id"])[0]["chunk_count"] == after["chunk_count"]
    bad = client.patch(f"/api/knowledge/bases/{kb['id']}", json={"chunk_overlap": 50},
                       headers=auth)  # fmt: skip
    assert bad.status_code == 422  # more than half of 64


def test_add_by_path_copies_regular_files_only(client, auth, settings: Settings, tmp_path):
    kb = create_base(client, auth)
    source = tmp_path / "picked.md"
    source.write_text("# Picked\n\nChosen in the desktop file dialog.")
    url = f"/api/knowledge/bases/{kb['id']}/files/paths"
    response = client.post(url, json={"paths": [str(source)]}, headers=auth)
    assert response.status_code == 201, response.text
    added = response.json()[0]
    assert added["name"] == "picked.md" and added["size"] == source.stat().st_size
    source.unlink()  # a copy was taken
    assert wait_indexed(client, auth, kb["id"])[0]["status"] == "ready"
    for paths, detail in (
        (["relative/file.md"], "must be absolute"),
        ([str(tmp_path / "missing.md")], "no such file"),
        ([str(tmp_path)], "not a regular file"),
    ):
        response = client.post(url, json={"paths": paths}, headers=auth)
        assert response.status_code == 422 and detail in response.json()["detail"], paths
    assert len(files_of(client, auth, kb["id"])) == 1


FTS_SYNTAX = ['"unbalanced', "AND OR NOT", "*", "NEAR(a b", "text:owl", "^owl", "owl -hawk", "(",
              "'", "💡", "the"]  # fmt: skip


def test_search_treats_fts_syntax_as_plain_words(client: TestClient, auth):
    kb = create_base(client, auth)
    upload(client, auth, kb["id"], ("owl.txt", b"The owl and the hawk hunt the same field."))
    wait_indexed(client, auth, kb["id"])
    for query in FTS_SYNTAX:
        for mode in ("bm25", "hybrid"):
            response = client.post("/api/knowledge/search", headers=auth,
                                   json={"query": query, "kb_ids": [kb["id"]], "mode": mode})  # fmt: skip
            assert response.status_code == 200, (query, response.text)
    hits = search(client, auth, "text:owl", [kb["id"]], mode="bm25")
    assert [h["file_name"] for h in hits] == ["owl.txt"]  # the words still count


def test_knowledge_base_validation(client: TestClient, auth):
    bad = [
        {"name": ""},
        {"name": "x", "chunk_tokens": 8},
        {"name": "x", "chunk_tokens": 100, "chunk_overlap": 80},
    ]
    for body in bad:
        assert client.post("/api/knowledge/bases", json=body, headers=auth).status_code == 422
    response = client.post("/api/knowledge/bases", headers=auth,
                           json={"name": "x", "embedder": "provider:nope:model"})  # fmt: skip
    assert response.status_code == 404 and "provider" in response.json()["detail"]
    response = client.post("/api/knowledge/bases", json={"name": "x", "embedder": "magic"},
                           headers=auth)  # fmt: skip
    assert response.status_code == 422
    response = client.post("/api/agents", json={"name": "A", "knowledge_base_ids": ["nope"]},
                           headers=auth)  # fmt: skip
    assert response.status_code == 422 and "nope" in response.json()["detail"]
    kb = create_base(client, auth)
    agent = client.post("/api/agents", json={"name": "A"}, headers=auth).json()
    response = client.patch(f"/api/agents/{agent['id']}",
                            json={"knowledge_base_ids": [kb["id"], kb["id"]]}, headers=auth)  # fmt: skip
    assert response.json()["knowledge_base_ids"] == [kb["id"]]
    exported = client.get(f"/api/agents/{agent['id']}/export", headers=auth).json()
    assert "knowledge_base_ids" not in exported["agent"]  # per machine, like the provider
    assert [b["name"] for b in client.get("/api/knowledge/bases", headers=auth).json()] == ["Docs"]


def test_files_of_another_base_are_not_reachable(client: TestClient, auth):
    one, two = create_base(client, auth), create_base(client, auth, name="Two")
    file = upload(client, auth, one["id"], ("a.txt", b"Alpha.")).json()[0]
    assert client.get(f"/api/knowledge/bases/{two['id']}/files/{file['id']}",
                      headers=auth).status_code == 404  # fmt: skip
    assert client.delete(f"/api/knowledge/bases/{two['id']}/files/{file['id']}",
                         headers=auth).status_code == 404  # fmt: skip
    wait_indexed(client, auth, one["id"])


def test_mmr_pushes_near_duplicates_down(client: TestClient, auth):
    kb = create_base(client, auth)
    same = "Grey herons hunt fish in shallow water, standing still for a long time{}."
    upload(client, auth, kb["id"], ("a.txt", same.format("").encode()),
           ("b.txt", same.format(" at dawn").encode()), ("c.txt", same.format(" at dusk").encode()),
           ("d.txt", b"Herons build their nests high in trees, in colonies."))  # fmt: skip
    wait_indexed(client, auth, kb["id"])
    plain = search(client, auth, "grey herons hunting fish", [kb["id"]], top_k=2)
    diverse = search(client, auth, "grey herons hunting fish", [kb["id"]], top_k=2, mmr=True)
    assert {h["file_name"] for h in plain} <= {"a.txt", "b.txt", "c.txt"}
    assert diverse[0]["chunk_id"] == plain[0]["chunk_id"]  # the best stays first
    assert diverse[1]["file_name"] == "d.txt"


def test_deleting_a_file_mid_ingest_stops_it_and_leaves_nothing(client, auth, settings):
    kb = create_base(client, auth)
    text = " ".join(
        f"Line {i} of a long report about harbour cranes and tides." for i in range(3000)
    )
    big, small = upload(client, auth, kb["id"], ("big.txt", text.encode()),
                        ("small.txt", b"Tides rise twice a day.")).json()  # fmt: skip
    url = f"/api/knowledge/bases/{kb['id']}/files/{big['id']}"
    while client.get(url, headers=auth).json()["status"] != "embedding":
        pass
    assert client.delete(url, headers=auth).status_code == 204
    files = wait_indexed(client, auth, kb["id"])
    assert [(f["name"], f["status"]) for f in files] == [("small.txt", "ready")]
    assert chunk_rows(settings, big["id"]) == (0, 0)
    index = client.app.state.sage.knowledge.indexes.get(kb["id"], 384)
    assert len(index) == files[0]["chunk_count"] == 1
    hits = search(client, auth, "harbour cranes", [kb["id"]])
    assert [h["file_name"] for h in hits] == ["small.txt"]
    assert small["id"] == files[0]["id"]
