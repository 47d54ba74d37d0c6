"""bench/ingest: knowledge-base ingest throughput against the raw embedder, the event loop's worst
gap while it ingests, and the sidecar's memory.

1. A real sidecar (the frozen build when there is one, else the venv) starts on a fresh data dir;
   its idle RSS is read before any knowledge base exists, then one search loads the embedder (so
   neither side of the ratio pays for loading the model).
2. A real document set — Python's help topics, one plain-text file per topic, so chunks fill up
   to the ~200-token target — is added by path to a new base and indexed through the whole
   pipeline (copy, parse, chunk, SQLite + FTS5, offline embedder, vector index saved).
   Throughput = chunks / wall time from the request to the last file ready. Meanwhile a client
   polls GET /api/health (10 ms apart): its worst and p99 latency are the event loop's gap, and
   the sidecar's RSS is sampled for its peak.
3. The raw embedder on exactly the texts the sidecar embedded, in this process, the way the
   worker calls it (batches of 64 to the embedder's own process at nice 10, as in the sidecar).
4. Steps 2 and 3 alternate ROUNDS times (ingest, raw, ingest, raw, ...) in one run, each ingest
   into a new base, so the load of the shared machine falls on both sides alike; the ratio is
   mean ingest rate / mean raw rate, each round's ratio listed too.
5. Many small files: FILES_10K one-paragraph files in one base, the sidecar's RSS sampled for its
   peak while they ingest (target ≤ 500 MB).
6. The sidecar is restarted on the same data dir: a base exists but nothing was searched, so the
   model must not be loaded (lazy loading).

Each rate is also given per CPU-second, which other processes move less than wall time: the
sidecar's CPU time (with its children) during ingest; for the raw runs, this process's (the
probe's thread left out) and its embedder process's, plus the idle sidecar's while the probe polls
it — serving 100 requests a second costs CPU on both sides, so both sides count it.

Prints the figures and writes JSON. Usage: bench_ingest.py ROOT OUT_JSON
(BENCH_SIDECAR=venv measures the venv sidecar even when a frozen build exists; BENCH_ROUNDS and
BENCH_FILES_10K change the rounds and the small-file count, BENCH_MIN_CHUNKS the document set's
size; BENCH_SRC=<checkout>/src-python runs the venv sidecar from another checkout, e.g. a
worktree of the previous commit. BENCH_COMPARE=<checkout>/src-python runs that checkout's sidecar
beside this one: every round ingests into both, in alternating order, each followed by its raw
run, so old and new code meet the same load; "compare" gives new / old per wall and CPU second.)
"""

import http.client
import json
import os
import secrets
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: the shared client
from sidecar_client import Sidecar  # noqa: E402

TARGETS = {"ratio_to_raw": 0.95, "loop_worst_gap_ms": 100, "rss_10k_files_mb": 500}
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
FILES_10K = int(os.environ.get("BENCH_FILES_10K", "10000"))
# Topics are repeated (with a marker, so no duplicate content) up to this many chunks.
MIN_CHUNKS = int(os.environ.get("BENCH_MIN_CHUNKS", "1000"))
COMPARE = os.environ.get("BENCH_COMPARE")  # another checkout's src-python, run beside this one


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def write_documents(folder: Path) -> list[Path]:
    from pydoc_data.topics import topics

    folder.mkdir(parents=True)
    paths, total, copy = [], 0, 0
    while total < MIN_CHUNKS * 1000:  # ~1000 characters per 200-token chunk of this prose
        for name, text in sorted(topics.items()):
            path = folder / f"{name}-{copy}.txt"
            path.write_text(f"Copy {copy} of the help topic {name}.\n\n{text}", encoding="utf-8")
            paths.append(path)
            total += len(text)
        copy += 1
    return paths


def embedder_pids(sidecar: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{sidecar}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"embed_worker" in cmdline or b"--embed-worker" in cmdline:  # venv or frozen
                found.append(int(child))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and everything below it: its threads, its children
    that ended (parse workers), and those still running (the embedder's process)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = [int(c) for task in Path(f"/proc/{pid}/task").iterdir()
                    for c in (task / "children").read_text().split()]  # fmt: skip
    except OSError:  # it ended meanwhile: its parent's cutime has it
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in children)


def raw_throughput(texts: list[str], sidecar: Sidecar) -> tuple[float, float]:
    """(chunks per wall second, chunks per CPU second) embedding `texts` directly, the way the
    worker calls the embedder: `await embed(64 texts)`, answered by the embedder's own process
    at nice 10 (CPU: this process and that one, the probe's thread left out). On a loaded
    machine a nice-0 baseline would outrun the app's embedder by the priority alone. The health
    probe polls the (idle) sidecar meanwhile as it does during ingest: its load on the machine
    falls on both sides of the ratio."""
    import asyncio

    from sage_sidecar.knowledge.embedders import local_embedder

    embedder = local_embedder()

    async def run() -> float:
        started = time.perf_counter()
        for start in range(0, len(texts), 64):  # the ingest worker's batch size
            await embedder.embed(texts[start : start + 64])
        return time.perf_counter() - started

    asyncio.run(embedder.embed(texts[:16]))  # start the process, load and warm up the model
    assert embedder.pid is not None
    probe = Probe(sidecar)
    probe.start()
    # Our embedder (a child of this process) and the idle sidecar serving the probe.
    cpu = time.process_time() + cpu_seconds(embedder.pid) + cpu_seconds(sidecar.proc.pid)
    wall = asyncio.run(run())
    cpu = time.process_time() + cpu_seconds(embedder.pid) + cpu_seconds(sidecar.proc.pid) - cpu
    probe.finish()
    cpu -= probe.cpu_s
    return len(texts) / wall, len(texts) / cpu


class Probe(threading.Thread):
    """Polls /api/health back to back (the event loop's gaps) and samples the sidecar's RSS."""

    def __init__(self, sidecar: Sidecar) -> None:
        super().__init__(daemon=True)
        self.sidecar = sidecar
        self.latencies: list[float] = []
        self.peak_rss_mb = 0.0
        self.peak_embedder_rss_mb = 0.0  # the embedder's own process (embed_process.py)
        self.stopping = threading.Event()
        self.cpu_s = 0.0  # this thread's own CPU time (the raw side leaves it out)

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.sidecar.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.sidecar.key}"}
        sampled = 0.0
        while not self.stopping.is_set():
            started = time.perf_counter()
            conn.request("GET", "/api/health", headers=headers)
            conn.getresponse().read()
            self.latencies.append(time.perf_counter() - started)
            if started - sampled >= 0.2:
                sampled = started
                self.peak_rss_mb = max(self.peak_rss_mb, rss_mb(self.sidecar.proc.pid))
                embedder = sum(rss_mb(pid) for pid in embedder_pids(self.sidecar.proc.pid))
                self.peak_embedder_rss_mb = max(self.peak_embedder_rss_mb, embedder)
            time.sleep(0.01)
        self.cpu_s = time.thread_time()

    def finish(self) -> dict:
        self.stopping.set()
        self.join(10)
        ms = sorted(x * 1000 for x in self.latencies)
        return {"requests": len(ms), "worst_ms": round(ms[-1], 1),
                "p99_ms": round(ms[int(len(ms) * 0.99)], 1), "p50_ms": round(ms[len(ms) // 2], 1),
                "peak_rss_mb": self.peak_rss_mb,
                "peak_embedder_rss_mb": round(self.peak_embedder_rss_mb, 1)}  # fmt: skip


def ingest(sidecar: Sidecar, name: str, paths: list[Path]) -> dict:
    """One base, these files, to the last one ready; with the loop and memory probe running."""
    kb = sidecar.call("POST", "/api/knowledge/bases", {"name": name})
    probe = Probe(sidecar)
    probe.start()
    started, cpu = time.perf_counter(), cpu_seconds(sidecar.proc.pid)
    for start in range(0, len(paths), 1000):
        sidecar.call("POST", f"/api/knowledge/bases/{kb['id']}/files/paths",
                     {"paths": [str(p) for p in paths[start : start + 1000]]})  # fmt: skip
    while sidecar.call("GET", f"/api/knowledge/bases/{kb['id']}")["status"] != "ready":
        time.sleep(0.2)  # light polling: the sidecar's CPU time is measured
    elapsed = time.perf_counter() - started
    cpu = cpu_seconds(sidecar.proc.pid) - cpu
    loop = probe.finish()
    files = sidecar.call("GET", f"/api/knowledge/bases/{kb['id']}/files")
    failed = [f["name"] for f in files if f["status"] != "ready"]
    assert not failed, failed[:5]
    chunks = sum(f["chunk_count"] for f in files)
    return {"kb_id": kb["id"], "files": len(paths), "chunks": chunks, "seconds": round(elapsed, 2),
            "chunks_per_s": round(chunks / elapsed, 1), "cpu_s": round(cpu, 2),
            "chunks_per_cpu_s": round(chunks / cpu, 1), "loop": loop}  # fmt: skip


def write_small_files(folder: Path, count: int) -> list[Path]:
    """`count` notes of one sentence each (one short chunk): the per-file cost, not embedding,
    is what many files add, and memory must not grow with their number."""
    from pydoc_data.topics import topics

    folder.mkdir(parents=True)
    sentences = [s.strip() for text in topics.values() for s in text.split(". ")]
    sentences = [s for s in sentences if 40 <= len(s) <= 200 and "\n" not in s]
    paths = []
    for i in range(count):
        path = folder / f"note-{i}.txt"
        path.write_text(f"Note {i}: {sentences[i % len(sentences)]}.", encoding="utf-8")
        paths.append(path)
    return paths


def chunk_texts(db: Path, kb_id: str) -> list[str]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT heading, text FROM knowledge_chunks WHERE kb_id = ? "
                            "ORDER BY id", (kb_id,)).fetchall()  # fmt: skip
    return [f"{h}\n{t}" if h else t for h, t in rows]


def start_sidecar(command: list[str], base: dict[str, str], data: Path) -> tuple[Sidecar, float]:
    """A sidecar on its own data dir and its idle RSS, then its model loaded by one search
    (neither side of the ratio pays for loading it). Started outside any checkout: `python -m`
    puts its working directory first on the path, before BENCH_SRC / BENCH_COMPARE."""
    env = {**base, "SAGE_API_KEY": secrets.token_hex(32), "SAGE_DATA_DIR": str(data)}
    sidecar = Sidecar(command, env, cwd=data.parent)
    time.sleep(2)  # settle before the idle reading
    idle_rss = rss_mb(sidecar.proc.pid)
    warm = sidecar.call("POST", "/api/knowledge/bases", {"name": "warm-up"})
    sidecar.call("POST", "/api/knowledge/search", {"query": "load", "kb_ids": [warm["id"]]})
    return sidecar, idle_rss


def measured_round(sidecar: Sidecar, data: Path, name: str, paths: list[Path]) -> dict:
    """One ingest, then the raw embedder on the texts it stored, with the probe on the same
    sidecar both times."""
    run = ingest(sidecar, name, paths)
    texts = chunk_texts(data / "agent_platform.db", run["kb_id"])
    raw, raw_cpu = raw_throughput(texts, sidecar)
    run["raw_chunks_per_s"], run["raw_chunks_per_cpu_s"] = round(raw, 1), round(raw_cpu, 1)
    run["ratio"] = round(run["chunks_per_s"] / raw, 3)
    run["ratio_cpu"] = round(run["chunks_per_cpu_s"] / raw_cpu, 3)
    run["load_avg"] = round(os.getloadavg()[0], 2)
    return run


def summary(rounds: list[dict]) -> dict:
    """Mean rates over the rounds and their ratios, per wall and per CPU second."""
    ingest_rate = statistics.mean(r["chunks_per_s"] for r in rounds)
    raw_rate = statistics.mean(r["raw_chunks_per_s"] for r in rounds)
    return {
        "ingest_chunks_per_s": round(ingest_rate, 1),
        "raw_chunks_per_s": round(raw_rate, 1),
        "ingest_chunks_per_cpu_s": round(statistics.mean(r["chunks_per_cpu_s"] for r in rounds), 2),
        "ratio_ingest_to_raw": round(ingest_rate / raw_rate, 3),
        "ratio_ingest_to_raw_cpu": round(
            statistics.mean(r["chunks_per_cpu_s"] for r in rounds)
            / statistics.mean(r["raw_chunks_per_cpu_s"] for r in rounds),
            3,
        ),  # fmt: skip
        "round_ratios": [r["ratio"] for r in rounds],
        "round_ratios_cpu": [r["ratio_cpu"] for r in rounds],
    }


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    sys.path.insert(0, str(root / "src-python"))
    python = str(root / ".venv/bin/python")
    frozen = root / "src-python/dist/sage-sidecar/sage-sidecar"
    use_frozen = frozen.exists() and os.environ.get("BENCH_SIDECAR") != "venv" and not COMPARE
    command = [str(frozen)] if use_frozen else [python, "-m", "sage_sidecar"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    result: dict = {"sidecar": "frozen" if use_frozen else "venv", "cpus": os.cpu_count(),
                    "load_avg_start": round(os.getloadavg()[0], 2), "rounds": []}  # fmt: skip
    if os.environ.get("BENCH_SRC") and not use_frozen:  # another checkout's sidecar (old code)
        base["PYTHONPATH"] = os.environ["BENCH_SRC"]
        result["src"] = os.environ["BENCH_SRC"]
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_documents(Path(tmp) / "docs")
        small = write_small_files(Path(tmp) / "notes", FILES_10K) if FILES_10K else []
        sides = {"new": Path(tmp) / "data"}
        if COMPARE:
            sides["old"] = Path(tmp) / "data-old"
            result["compare_src"] = COMPARE
        sidecars: dict[str, Sidecar] = {}
        try:
            for side, data in sides.items():
                env = {**base, "PYTHONPATH": COMPARE} if side == "old" else base
                sidecars[side], idle_rss = start_sidecar(command, env, data)
                result.setdefault("rss_idle_no_knowledge_mb", idle_rss)  # the new side's
            for n in range(ROUNDS):
                order = list(sides) if n % 2 == 0 else list(reversed(sides))
                for side in order:  # old and new alternate which goes first
                    run = measured_round(sidecars[side], sides[side], f"bench-{n}", paths)
                    run["side"] = side
                    print(f"round {n + 1}{f' ({side})' if COMPARE else ''}: ingest "
                          f"{run['chunks_per_s']} chunks/s, raw {run['raw_chunks_per_s']} "
                          f"(ratio {run['ratio']}, per CPU-second {run['ratio_cpu']}), loop "
                          f"worst {run['loop']['worst_ms']} ms, load {run['load_avg']}",
                          flush=True)  # fmt: skip
                    result["rounds"].append(run)
            new = sidecars["new"]
            result["rss_after_ingest_mb"] = rss_mb(new.proc.pid)
            if small:
                many = ingest(new, "many-files", small)
                result["files_10k"] = {
                    k: many[k] for k in ("files", "chunks", "seconds", "chunks_per_s")
                }
                result["files_10k"]["peak_rss_mb"] = many["loop"]["peak_rss_mb"]
                result["files_10k"]["loop"] = many["loop"]
                print(f"{many['files']} small files: {many['seconds']} s, peak RSS "
                      f"{many['loop']['peak_rss_mb']} MB, loop worst {many['loop']['worst_ms']} ms",
                      flush=True)  # fmt: skip
        finally:
            for sidecar in sidecars.values():
                sidecar.stop()

        env = {**base, "SAGE_API_KEY": secrets.token_hex(32), "SAGE_DATA_DIR": str(sides["new"])}
        sidecar = Sidecar(command, env, cwd=Path(tmp))  # bases exist, nothing searched: no model
        try:
            time.sleep(2)
            result["rss_idle_with_knowledge_base_mb"] = rss_mb(sidecar.proc.pid)
        finally:
            sidecar.stop()

    rounds = [r for r in result["rounds"] if r["side"] == "new"]
    result.update(summary(rounds))
    if COMPARE:
        old = summary([r for r in result["rounds"] if r["side"] == "old"])
        result["old"] = old
        result["compare"] = {
            "new_over_old_chunks_per_s": round(
                result["ingest_chunks_per_s"] / old["ingest_chunks_per_s"], 3),
            "new_over_old_chunks_per_cpu_s": round(
                result["ingest_chunks_per_cpu_s"] / old["ingest_chunks_per_cpu_s"], 3),
        }  # fmt: skip
    result["loop_worst_gap_ms"] = max(r["loop"]["worst_ms"] for r in rounds)
    result["loop_p99_ms"] = max(r["loop"]["p99_ms"] for r in rounds)
    result["peak_rss_mb"] = max(r["loop"]["peak_rss_mb"] for r in rounds)
    result["peak_embedder_rss_mb"] = max(r["loop"]["peak_embedder_rss_mb"] for r in rounds)
    result["load_avg_end"] = round(os.getloadavg()[0], 2)
    result["targets"] = TARGETS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"ingest {result['ingest_chunks_per_s']} chunks/s, raw embedder "
        f"{result['raw_chunks_per_s']} on the same texts, interleaved over {len(rounds)} rounds: "
        f"ingest/raw = {result['ratio_ingest_to_raw']} (target ≥ {TARGETS['ratio_to_raw']}); "
        f"per CPU-second {result['ratio_ingest_to_raw_cpu']}"
    )
    if COMPARE:
        print(f"old code ({COMPARE}): ingest/raw = {result['old']['ratio_ingest_to_raw']}, per "
              f"CPU-second {result['old']['ratio_ingest_to_raw_cpu']}; new / old: "
              f"{result['compare']}")  # fmt: skip
    print(
        f"event loop while ingesting: worst {result['loop_worst_gap_ms']} ms (target ≤ "
        f"{TARGETS['loop_worst_gap_ms']}), p99 {result['loop_p99_ms']} ms; load average "
        f"{result['load_avg_start']} → {result['load_avg_end']}"
    )
    print(
        f"sidecar RSS: idle {result['rss_idle_no_knowledge_mb']} MB, peak while ingesting "
        f"{result['peak_rss_mb']} MB (the embedder's process {result['peak_embedder_rss_mb']} MB), "
        "restarted with bases (model not loaded) "
        f"{result['rss_idle_with_knowledge_base_mb']} MB"
    )


if __name__ == "__main__":
    main()
