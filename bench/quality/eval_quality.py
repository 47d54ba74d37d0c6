"""bench/quality: retrieval quality of knowledge-base search on three kinds of text, per retriever,
and the fusions and lexical indexes the choices were made between.

A real sidecar indexes each evaluation set in its own base and answers its questions in each
mode (vector, BM25, hybrid) over HTTP:
- `pydoc`: Python's help topics, 52 questions with an evidence phrase
  (src-python/tests/data/knowledge/eval_questions.json, harness tests/knowledge_eval.py);
- `manpages`: English man pages (sections 2, 5 and 7 of Debian's manpages and manpages-dev);
- `manpages-zh`: Chinese man pages (Debian's manpages-zh, sections 1 and 8);
  questions in bench/quality/sets/, corpus built from the installed packages by
  tests/retrieval_sets.py.
Then, from the vector and BM25 lists (50 deep), other fusions are scored the same way (RRF,
weighted RRF, min-max CombSUM, distribution-based score fusion at several weights), and on copies
of the databases BM25 is re-run with other lexical indexes: FTS5 tokenizers on `pydoc`, CJK
indexes (trigram, bigrams alone, bigrams + unigrams) on `manpages-zh`.

Prints the figures and writes JSON. Usage: eval_quality.py ROOT OUT_JSON
(BENCH_SIDECAR=venv measures the venv sidecar even when a frozen build exists;
QUALITY_SETS=pydoc,manpages picks sets; QUALITY_EMBEDDER=local:use-multilingual-v3 indexes the
man-page sets with that embedder instead of the default.)
"""

import http.client
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SETS = ("pydoc", "manpages", "manpages-zh")
TOKENIZERS = {
    "porter unicode61 (chosen)": "porter unicode61 remove_diacritics 2",
    "unicode61": "unicode61 remove_diacritics 2",
    "trigram": "trigram",
}
DEPTH = 50  # each retriever's list, as the sidecar fuses it


def start(command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen(command, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("SAGE_SIDECAR_READY "):
            return proc, json.loads(line.split(" ", 1)[1])["port"]
    raise RuntimeError("the sidecar did not start")


def sidecar_cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process itself (Linux /proc): not its reaped children,
    whose CPU lands all at once when an idle parse worker retires."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def score(questions: list[dict], ranked: list[list[dict]], is_relevant) -> dict[str, float]:
    recall = reciprocal = 0.0
    for q, hits in zip(questions, ranked, strict=True):
        rank = next((r for r, h in enumerate(hits[:10], 1) if is_relevant(q, h)), None)
        recall += bool(rank and rank <= 5)
        reciprocal += 1 / rank if rank else 0.0
    return {"recall@5": round(recall / len(questions), 3),
            "mrr@10": round(reciprocal / len(questions), 3)}  # fmt: skip


def fusions(questions: list[dict], modes: dict[str, Any], is_relevant) -> dict[str, dict]:
    """Other ways to merge the same vector and BM25 lists, scored like the API's modes."""
    from sage_sidecar.knowledge.fusion import reciprocal_rank_fusion, score_fusion
    from sage_sidecar.storage.cjk import is_cjk_query

    def minmax(pairs: list[tuple[int, float]]) -> list[tuple[int, float]]:
        if not pairs:
            return []
        hi, lo = max(s for _, s in pairs), min(s for _, s in pairs)
        return [(i, (s - lo) / (hi - lo) if hi > lo else 1.0) for i, s in pairs]

    def weighted_rrf(lists, weights, k):
        fused: dict[int, float] = {}
        for weight, pairs in zip(weights, lists, strict=True):
            for rank, (item, _) in enumerate(pairs, 1):
                fused[item] = fused.get(item, 0.0) + weight / (k + rank)
        return sorted(fused.items(), key=lambda p: (-p[1], p[0]))

    def combsum(lists, weights):
        fused: dict[int, float] = {}
        for weight, pairs in zip(weights, lists, strict=True):
            for item, value in minmax(pairs):
                fused[item] = fused.get(item, 0.0) + weight * value
        return sorted(fused.items(), key=lambda p: (-p[1], p[0]))

    variants: dict[str, Callable[[list, list, str], list]] = {
        "rrf k=60 (before)": lambda v, b, _q: reciprocal_rank_fusion([[i for i, _ in v],
                                                                      [i for i, _ in b]]),
        "weighted rrf k=10, vector 1.5": lambda v, b, _q: weighted_rrf([v, b], [1.5, 1.0], 10),
        "min-max combsum, vector 0.65": lambda v, b, _q: combsum([v, b], [0.65, 0.35]),
    }  # fmt: skip

    def dbsf(weight: float) -> Callable[[list, list, str], list]:
        return lambda v, b, _q: score_fusion([(weight, v), (1 - weight, b)])

    for w in (0.5, 0.6, 0.65, 0.7, 0.8):
        variants[f"dbsf, vector {w}"] = dbsf(w)
    # what the sidecar does: dbsf 0.65, an English-only embedder left out of a CJK query (a
    # multilingual one, QUALITY_EMBEDDER=local:use-multilingual-v3, keeps its vote)
    from sage_sidecar.knowledge.search import ENGLISH_ONLY_EMBEDDERS

    embedder = os.environ.get("QUALITY_EMBEDDER") or "local:all-minilm-l6-v2"
    skips = embedder in ENGLISH_ONLY_EMBEDDERS
    variants["dbsf 0.65 + language (chosen)"] = lambda v, b, q: score_fusion(
        [(0.0, []) if skips and is_cjk_query(q) else (0.65, v), (0.35, b)]
    )
    out = {}
    for name, fuse in variants.items():
        ranked = []
        for i, q in enumerate(questions):
            hits: dict[int, dict] = {}
            pairs = {}
            for mode in ("vector", "bm25"):
                entries = modes[mode]["lists"][i]
                pairs[mode] = [(cid, s) for cid, s, _ in entries]
                hits.update({cid: h for cid, _, h in entries})
            fused = fuse(pairs["vector"], pairs["bm25"], q["question"])
            ranked.append([hits[cid] for cid, _ in fused[:10]])
        out[name] = score(questions, ranked, is_relevant)
    return out


def bm25_alternatives(
    db: Path, kb_id: str, questions: list[dict], indexes: dict, is_relevant
) -> dict:
    """BM25 alone over other FTS5 tables built from one base's chunks (so the term statistics
    are that set's): name -> (tokenizer, row text function, query function); a row text
    function returning None leaves the chunk out."""
    results = {}
    with sqlite3.connect(db) as conn:
        chunks = conn.execute(
            "SELECT c.id, c.text, coalesce(c.heading, ''), f.name FROM knowledge_chunks c "
            "JOIN knowledge_files f ON f.id = c.file_id WHERE c.kb_id = ?",
            (kb_id,),
        ).fetchall()
        hits = {i: {"file_name": name, "text": text} for i, text, _, name in chunks}
        for name, (tokenizer, row_text, query) in indexes.items():
            conn.execute(
                f"CREATE VIRTUAL TABLE alt USING fts5(text, heading, tokenize='{tokenizer}')"
            )
            rows = [(i, row_text(t), row_text(h) or "") for i, t, h, _ in chunks]
            conn.executemany("INSERT INTO alt(rowid, text, heading) VALUES (?, ?, ?)",
                             [r for r in rows if r[1] is not None])  # fmt: skip
            ranked = []
            for q in questions:
                match = query(q["question"])
                found = conn.execute(
                    "SELECT rowid FROM alt WHERE alt MATCH ? ORDER BY bm25(alt, 1.0, 0.5) LIMIT 10",
                    (match,),
                ).fetchall() if match else []  # fmt: skip
                ranked.append([hits[r] for (r,) in found])
            results[name] = score(questions, ranked, is_relevant)
            conn.execute("DROP TABLE alt")
    return results


def pydoc_tokenizers(fts_query) -> dict:
    def trigram_query(question: str) -> str | None:  # trigrams cannot match words under 3 letters
        match = fts_query(question)
        return " OR ".join(t for t in match.split(" OR ") if len(t) >= 5) or None if match else None

    return {
        name: (spec, lambda t: t, trigram_query if spec == "trigram" else fts_query)
        for name, spec in TOKENIZERS.items()
    }


def cjk_indexes() -> dict:
    from sage_sidecar.storage import cjk

    run = re.compile(f"[{cjk.CJK_RANGES}]+|[^\\W{cjk.CJK_RANGES}]+")

    def bigrams_only(text: str) -> list[str]:
        out = []
        for m in run.finditer(text.lower()):
            r = m.group(0)
            is_cjk = cjk.has_cjk(r) and len(r) > 1
            out += [r[i : i + 2] for i in range(len(r) - 1)] if is_cjk else [r]
        return out

    def quoted(terms: list[str]) -> str | None:
        return " OR ".join(f'"{t}"' for t in dict.fromkeys(terms)) or None

    def trigram_query(question: str) -> str | None:
        terms = []
        for m in run.finditer(question.lower()):
            r = m.group(0)
            terms += [r[i : i + 3] for i in range(len(r) - 2)] if cjk.has_cjk(r) else [r]
        return quoted([t for t in terms if len(t) >= 3])

    plain = "unicode61 remove_diacritics 2"
    return {
        "porter unicode61 (before)": (
            "porter unicode61 remove_diacritics 2",
            lambda t: t,
            lambda q: quoted(re.findall(r"\w+", q.lower())),
        ),
        "trigram": ("trigram", lambda t: t if cjk.has_cjk(t) else None, trigram_query),
        "bigrams": (plain, lambda t: " ".join(bigrams_only(t)) if cjk.has_cjk(t) else None,
                    lambda q: quoted(bigrams_only(q))),
        "bigrams + unigrams (chosen)": (
            plain, lambda t: cjk.index_text(t) if cjk.has_cjk(t) else None, cjk.match_query),
    }  # fmt: skip


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    sys.path[:0] = [str(root / "src-python" / "tests"), str(root / "src-python")]
    import retrieval_sets

    from sage_sidecar.storage.knowledge import fts_query

    import knowledge_eval

    wanted = os.environ.get("QUALITY_SETS", ",".join(SETS)).split(",")
    frozen = root / "src-python/dist/sage-sidecar/sage-sidecar"
    use_frozen = frozen.exists() and os.environ.get("BENCH_SIDECAR") != "venv"
    command = (
        [str(frozen)] if use_frozen else [str(root / ".venv/bin/python"), "-m", "sage_sidecar"]
    )
    key = secrets.token_hex(32)
    report: dict[str, Any] = {"sidecar": "frozen" if use_frozen else "venv",
                              "python": sys.version.split()[0], "cpus": os.cpu_count(),
                              "load_avg_1min_start": round(os.getloadavg()[0], 1),
                              "embedder": os.environ.get("QUALITY_EMBEDDER", "default"),
                              "sets": {}}  # fmt: skip
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

        evaluated = {}
        try:
            for name in wanted:
                if name == "pydoc":
                    questions = knowledge_eval.load_questions()
                    kb_id, seconds = knowledge_eval.ingest(call, Path(tmp) / name)
                else:
                    questions = retrieval_sets.load_questions(name)
                    kb_id, seconds = retrieval_sets.ingest(
                        call, name, Path(tmp) / name, os.environ.get("QUALITY_EMBEDDER")
                    )
                kb = call("GET", f"/api/knowledge/bases/{kb_id}")
                modes = retrieval_sets.evaluate(call, [kb_id], questions, depth=DEPTH)
                evaluated[name] = (questions, modes, kb_id)
                report["sets"][name] = {
                    "questions": len(questions), "documents": kb["file_count"],
                    "chunks": kb["chunk_count"], "ingest_s": round(seconds, 1),
                }  # fmt: skip
            bases = [b["id"] for b in call("GET", "/api/knowledge/bases")]
            chunks = sum(s["chunks"] for s in report["sets"].values())
            every = [q for questions, _, _ in evaluated.values() for q in questions]
            latency: dict[str, Any] = {"chunks": chunks, "queries": len(every)}
            for mode in retrieval_sets.MODES:
                # CPU time per query is steadier than wall time on a shared machine: on an idle
                # one a search's wall time is about its CPU time (ONNX may use both cores).
                cpu = sidecar_cpu_s(proc.pid)
                together = retrieval_sets.evaluate(call, bases, every, modes=(mode,))[mode]
                latency[mode] = {
                    "p50_ms": together["p50_ms"],
                    "sidecar_cpu_ms_per_query": round(
                        (sidecar_cpu_s(proc.pid) - cpu) * 1000 / len(every), 1
                    ),
                }
            report["all_bases_together"] = latency
        finally:
            proc.terminate()
            proc.wait(15)
        copy = Path(tmp) / "copy.db"
        shutil.copy(data / "agent_platform.db", copy)
        for name, (questions, modes, _) in evaluated.items():
            entry = report["sets"][name]
            entry["modes"] = {m: {k: v for k, v in r.items() if k != "lists"}
                              for m, r in modes.items()}  # fmt: skip
            entry["fusions"] = fusions(questions, modes, retrieval_sets.is_relevant)
            best = {k: max(modes[m][k] for m in ("vector", "bm25")) for k in ("recall@5", "mrr@10")}
            entry["target"] = {"best_single": best, "hybrid_met": all(
                modes["hybrid"][k] >= best[k] for k in best)}  # fmt: skip
        if "pydoc" in evaluated:
            questions, _, kb_id = evaluated["pydoc"]
            report["sets"]["pydoc"]["bm25_by_tokenizer"] = bm25_alternatives(
                copy, kb_id, questions, pydoc_tokenizers(fts_query), retrieval_sets.is_relevant
            )
        if "manpages-zh" in evaluated:
            questions, _, kb_id = evaluated["manpages-zh"]
            report["sets"]["manpages-zh"]["bm25_by_index"] = bm25_alternatives(
                copy, kb_id, questions, cjk_indexes(), retrieval_sets.is_relevant
            )
    report["load_avg_1min_end"] = round(os.getloadavg()[0], 1)
    report["measured_at"] = time.strftime("%Y-%m-%d")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    for name, entry in report["sets"].items():
        print(f"\n{name}: {entry['questions']} questions over {entry['documents']} documents "
              f"({entry['chunks']} chunks, indexed in {entry['ingest_s']} s)")  # fmt: skip
        print(retrieval_sets.table(evaluated[name][1]))
        for group in ("fusions", "bm25_by_tokenizer", "bm25_by_index"):
            for variant, figures in entry.get(group, {}).items():
                print(f"  {variant:34} recall@5 {figures['recall@5']:.3f}  "
                      f"mrr@10 {figures['mrr@10']:.3f}")  # fmt: skip
    print(f"\nall bases together: {report['all_bases_together']}")


if __name__ == "__main__":
    main()
