"""bench/quality: retrieval quality of knowledge-base search on real text, per retriever.

A real sidecar indexes Python's help topics (one Markdown document per topic) and answers the
questions of src-python/tests/data/knowledge/eval_questions.json in each mode; the harness is the
one tests/test_knowledge_quality.py uses (tests/knowledge_eval.py). Then, on a copy of the
database, the BM25 retriever is re-run with other FTS5 tokenizers (the choice made in migration
0005 is measured here, not assumed).

Prints the figures and writes JSON. Usage: eval_quality.py ROOT OUT_JSON
(BENCH_SIDECAR=venv measures the venv sidecar even when a frozen build exists.)
"""

import http.client
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOKENIZERS = {
    "porter unicode61 (chosen)": "porter unicode61 remove_diacritics 2",
    "unicode61": "unicode61 remove_diacritics 2",
    "trigram": "trigram",
}


def start(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("SAGE_SIDECAR_READY "):
            return proc, json.loads(line.split(" ", 1)[1])["port"]
    raise RuntimeError("the sidecar did not start")


def bm25_with(db: Path, tokenizer: str, questions: list[dict], fts_query, normalise) -> dict:
    """recall@5 / MRR@10 of BM25 alone over an FTS5 table built with `tokenizer`."""
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE VIRTUAL TABLE alt USING fts5(text, heading, content='knowledge_chunks', "
            f"content_rowid='id', tokenize='{tokenizer}')"
        )
        conn.execute("INSERT INTO alt(alt) VALUES ('rebuild')")
        recall = reciprocal = 0.0
        for q in questions:
            match = fts_query(q["question"])
            if tokenizer == "trigram" and match:  # trigrams cannot match words under 3 letters
                match = " OR ".join(t for t in match.split(" OR ") if len(t) >= 5) or None
            rows = conn.execute(
                "SELECT c.text FROM alt JOIN knowledge_chunks c ON c.id = alt.rowid "
                "WHERE alt MATCH ? ORDER BY bm25(alt, 1.0, 0.5) LIMIT 10",
                (match,),
            ).fetchall() if match else []  # fmt: skip
            evidence = normalise(q["evidence"])
            ranks = [i for i, (text,) in enumerate(rows, 1) if evidence in normalise(text)]
            recall += bool(ranks and ranks[0] <= 5)
            reciprocal += 1 / ranks[0] if ranks else 0.0
        conn.execute("DROP TABLE alt")
    return {"recall@5": round(recall / len(questions), 3),
            "mrr@10": round(reciprocal / len(questions), 3)}  # fmt: skip


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    sys.path[:0] = [str(root / "src-python" / "tests"), str(root / "src-python")]
    from sage_sidecar.storage.knowledge import fts_query

    from knowledge_eval import evaluate, ingest, load_questions, normalise, table

    frozen = root / "src-python/dist/sage-sidecar/sage-sidecar"
    use_frozen = frozen.exists() and os.environ.get("BENCH_SIDECAR") != "venv"
    command = (
        [str(frozen)] if use_frozen else [str(root / ".venv/bin/python"), "-m", "sage_sidecar"]
    )
    key = secrets.token_hex(32)
    questions = load_questions()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
        env.update({"SAGE_API_KEY": key, "SAGE_DATA_DIR": str(data)})
        proc, port = start(command, env)

        def call(method: str, path: str, body: dict | None = None):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
            response = conn.getresponse()
            payload = json.loads(response.read() or "null")
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {payload}")
            return payload

        try:
            kb_id, seconds = ingest(call, Path(tmp) / "topics")
            kb = call("GET", f"/api/knowledge/bases/{kb_id}")
            results = evaluate(call, kb_id, questions)
        finally:
            proc.terminate()
            proc.wait(15)
        copy = Path(tmp) / "copy.db"
        shutil.copy(data / "agent_platform.db", copy)
        tokenizers = {
            name: bm25_with(copy, spec, questions, fts_query, normalise)
            for name, spec in TOKENIZERS.items()
        }
    result = {
        "sidecar": "frozen" if use_frozen else "venv",
        "python": sys.version.split()[0],
        "questions": len(questions),
        "documents": kb["file_count"],
        "chunks": kb["chunk_count"],
        "ingest_s": round(seconds, 1),
        "modes": results,
        "bm25_by_tokenizer": tokenizers,
        "measured_at": time.strftime("%Y-%m-%d"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(questions)} questions over {kb['file_count']} help topics "
          f"({kb['chunk_count']} chunks, indexed in {seconds:.1f} s)")  # fmt: skip
    print(table(results))
    print("BM25 alone by FTS5 tokenizer:")
    for name, figures in tokenizers.items():
        print(f"  {name:28} recall@5 {figures['recall@5']:.3f}  mrr@10 {figures['mrr@10']:.3f}")


if __name__ == "__main__":
    main()
