"""bench/ingest/bench_loop.py: does the embedder's CPU work delay the event loop, and does limiting
onnxruntime's threads help? (docs/knowledge.md, "Ingest pipeline", has the table.)

For each setting of SAGE_EMBEDDER_THREADS (all cores, 1), a fresh process runs an asyncio loop
that embeds the same texts the way the ingest worker does (`await embedder.embed(batch of 64)`,
answered by the embedder's process at nice 10) while a ticker task measures how late each 5 ms
sleep wakes: its worst and p99 lateness are the loop's gaps. Settings alternate over ROUNDS
rounds in one run so the shared machine's load falls on each alike. Usage: bench_loop.py ROOT [OUT_JSON]
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
TEXTS = 640
SETTINGS = {"all cores": "", "1 thread": "1"}


async def measure() -> dict:
    from pydoc_data.topics import topics

    from sage_sidecar.knowledge.embedders import local_embedder

    words = " ".join(topics.values()).split()
    texts = [" ".join(words[i * 150 : i * 150 + 150]) for i in range(TEXTS)]  # ~200 tokens each
    embedder = local_embedder()
    await embedder.embed(texts[:8])  # load outside the timing
    late: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(0.005)
            late.append((time.perf_counter() - started - 0.005) * 1000)

    tick = asyncio.create_task(ticker())
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        await embedder.embed(texts[start : start + 64])
    elapsed = time.perf_counter() - started
    done.set()
    await tick
    late.sort()
    return {"chunks_per_s": round(len(texts) / elapsed, 1), "worst_ms": round(late[-1], 1),
            "p99_ms": round(late[int(len(late) * 0.99)], 1)}  # fmt: skip


def main() -> None:
    root = Path(sys.argv[1])
    if os.environ.get("BENCH_LOOP_CHILD"):
        print(json.dumps(asyncio.run(measure())))
        return
    runs: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    for _ in range(ROUNDS):
        for name, threads in SETTINGS.items():
            env = {**os.environ, "BENCH_LOOP_CHILD": "1", "SAGE_EMBEDDER_THREADS": threads,
                   "PYTHONPATH": str(root / "src-python")}  # fmt: skip
            out = subprocess.run([sys.executable, __file__, str(root)], env=env, check=True,
                                 capture_output=True, text=True, timeout=900).stdout  # fmt: skip
            runs[name].append(json.loads(out.strip().splitlines()[-1]))
            print(name, runs[name][-1], f"load {os.getloadavg()[0]:.2f}", flush=True)
    result = {
        name: {"chunks_per_s": round(statistics.mean(r["chunks_per_s"] for r in rs), 1),
               "worst_ms": max(r["worst_ms"] for r in rs),
               "p99_ms": max(r["p99_ms"] for r in rs), "runs": rs}
        for name, rs in runs.items()
    }  # fmt: skip
    result["cpus"] = os.cpu_count()
    print(json.dumps(result, indent=2))
    if len(sys.argv) > 2:
        Path(sys.argv[2]).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
