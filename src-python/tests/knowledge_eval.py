"""Retrieval-quality evaluation over Python's own help topics (`pydoc_data.topics`: real prose that
ships with every Python). Shared by tests/test_knowledge_quality.py and bench/quality.

Each topic becomes one Markdown document (its reST-style underlined titles turned into headings);
`data/knowledge/eval_questions.json` holds questions written in plain words, each with a short
evidence phrase from the passage that answers it. A retrieved chunk is relevant when its text
contains the evidence. Metrics per mode (vector, bm25, hybrid): recall@5 (a relevant chunk among
the first 5) and MRR@10 (1/rank of the first relevant chunk among the first 10, else 0).

Transport-agnostic: `call(method, path, body)` returns the JSON of an API call, so the same code
runs in-process (TestClient) and against a real sidecar process.
"""

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

QUESTIONS = Path(__file__).parent / "data" / "knowledge" / "eval_questions.json"
MODES = ("vector", "bm25", "hybrid")
RECALL_AT, MRR_DEPTH = 5, 10
_UNDERLINE = {"*": "#", "=": "##", "-": "###", "~": "####"}

Call = Callable[[str, str, dict | None], Any]


def normalise(text: str) -> str:
    return " ".join(text.split())


def topic_markdown(text: str) -> str:
    """pydoc's underlined titles (`Title` over `*****`, `=====`, `-----`) as Markdown headings."""
    return re.sub(
        r"^(.+)\n([*=\-~])\2{3,}$",
        lambda m: f"{_UNDERLINE[m.group(2)]} {m.group(1)}",
        text,
        flags=re.MULTILINE,
    )


def write_corpus(folder: Path) -> list[Path]:
    from pydoc_data.topics import topics

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in sorted(topics.items()):
        path = folder / f"{name}.md"
        path.write_text(topic_markdown(text), encoding="utf-8")
        paths.append(path)
    return paths


def load_questions() -> list[dict[str, str]]:
    """The questions whose evidence this Python's help topics contain (they change a little
    between Python versions)."""
    from pydoc_data.topics import topics

    corpus = {name: normalise(text) for name, text in topics.items()}
    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))["questions"]
    return [q for q in questions if normalise(q["evidence"]) in corpus.get(q["topic"], "")]


def ingest(call: Call, folder: Path, name: str = "Python help") -> tuple[str, float]:
    """Create a base, add every topic by path, wait until indexed: (kb id, seconds)."""
    started = time.perf_counter()
    kb = call("POST", "/api/knowledge/bases", {"name": name})
    paths = [str(p) for p in write_corpus(folder)]
    call("POST", f"/api/knowledge/bases/{kb['id']}/files/paths", {"paths": paths})
    while True:
        files = call("GET", f"/api/knowledge/bases/{kb['id']}/files", None)
        if all(f["status"] in ("ready", "failed") for f in files):
            break
        time.sleep(0.1)
    failed = [f["name"] for f in files if f["status"] != "ready"]
    assert not failed, f"topics failed to index: {failed}"
    return kb["id"], time.perf_counter() - started


def evaluate(call: Call, kb_id: str, questions: list[dict[str, str]]) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for mode in MODES:
        recall = reciprocal = 0.0
        misses = []
        started = time.perf_counter()
        for q in questions:
            body = {"query": q["question"], "kb_ids": [kb_id], "mode": mode, "top_k": MRR_DEPTH}
            hits = call("POST", "/api/knowledge/search", body)["hits"]
            evidence = normalise(q["evidence"])
            ranks = [i for i, h in enumerate(hits, start=1) if evidence in normalise(h["text"])]
            if ranks and ranks[0] <= RECALL_AT:
                recall += 1
            else:
                misses.append(q["topic"])
            reciprocal += 1 / ranks[0] if ranks else 0.0
        results[mode] = {
            f"recall@{RECALL_AT}": round(recall / len(questions), 3),
            f"mrr@{MRR_DEPTH}": round(reciprocal / len(questions), 3),
            "ms_per_query": round((time.perf_counter() - started) * 1000 / len(questions), 1),
            "missed": misses,
        }
    return results


def table(results: dict[str, Any]) -> str:
    lines = [f"{'mode':8} recall@{RECALL_AT}  mrr@{MRR_DEPTH}  ms/query"]
    for mode in MODES:
        r = results[mode]
        lines.append(
            f"{mode:8} {r[f'recall@{RECALL_AT}']:>8.3f}  {r[f'mrr@{MRR_DEPTH}']:>6.3f}"
            f"  {r['ms_per_query']:>8.1f}"
        )
    return "\n".join(lines)
