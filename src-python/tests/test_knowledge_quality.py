"""Retrieval quality on real text (Python's help topics): hybrid search must beat vector-only and
BM25-only, and find the answer in the first five passages for most questions. The figures are
printed; bench/quality/run.sh records them against a real sidecar process."""

from fastapi.testclient import TestClient

from knowledge_eval import MODES, evaluate, ingest, load_questions, table

RECALL_FLOOR = 0.7  # hybrid recall@5; measured 0.808 on Python 3.11 (docs/knowledge.md)


def test_hybrid_beats_each_retriever_alone(client: TestClient, auth, tmp_path):
    questions = load_questions()
    assert len(questions) >= 40  # the set is the same on every supported Python

    def call(method: str, path: str, body: dict | None = None):
        response = client.request(method, path, json=body, headers=auth)
        assert response.status_code < 300, response.text
        return response.json()

    kb_id, seconds = ingest(call, tmp_path / "topics")
    results = evaluate(call, kb_id, questions)
    print(f"\n{len(questions)} questions, ingest {seconds:.1f} s\n{table(results)}")
    hybrid, vector, bm25 = (results[m] for m in ("hybrid", "vector", "bm25"))
    assert set(results) == set(MODES)
    assert hybrid["mrr@10"] > vector["mrr@10"] and hybrid["mrr@10"] > bm25["mrr@10"]
    assert hybrid["recall@5"] >= max(vector["recall@5"], bm25["recall@5"])
    assert hybrid["recall@5"] >= RECALL_FLOOR
