"""bench/ingest: knowledge-base ingest throughput and the sidecar's memory with the embedder.

1. A real sidecar (the frozen build when there is one, else the venv) starts on a fresh data dir;
   its idle RSS is read before any knowledge base exists.
2. A real document set — Python's help topics, one plain-text file per topic, so chunks fill up
   to the ~200-token target — is added by path and indexed through the whole pipeline (copy,
   parse, chunk, SQLite + FTS5, offline embedder, vector index saved). Throughput = chunks / wall
   time from the request to the last file ready. RSS is read again: the embedder is loaded now.
3. The sidecar is restarted on the same data dir: a base exists but nothing was searched, so the
   model must not be loaded (lazy loading).
4. The embedder's raw throughput on exactly the texts the sidecar embedded, in this process,
   before and after the ingest (the mean is the baseline; same machine, same run).

The machine is shared, so wall-clock rates move with other load. Each rate is also given per
CPU-second (the sidecar's own CPU time during ingest, this process's for the raw runs), which
other processes barely move: the CPU-time ratio is the pipeline's overhead over bare embedding.

Prints the figures and writes JSON. Usage: bench_ingest.py ROOT OUT_JSON
(BENCH_SIDECAR=venv measures the venv sidecar even when a frozen build exists.)
"""

import http.client
import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGETS = {"chunks_per_s": 100, "ratio_to_raw": 0.8}
MIN_CHUNKS = 1000  # topics are repeated (with a marker, so no duplicate content) up to this many


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class Sidecar:
    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(command, env=env, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("SAGE_SIDECAR_READY "):
                self.port = json.loads(line.split(" ", 1)[1])["port"]
                break
        else:
            raise RuntimeError("the sidecar did not start")
        self.key = env["SAGE_API_KEY"]

    def call(self, method: str, path: str, body: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        conn.request(method, path, body=json.dumps(body) if body else None, headers=headers)
        response = conn.getresponse()
        data = json.loads(response.read() or "null")
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: {response.status} {data}")
        return data

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(15)


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raw_throughput(texts: list[str]) -> tuple[float, float]:
    """(chunks per wall second, chunks per CPU second) embedding `texts` directly."""
    from sage_sidecar.knowledge.embedders import local_embedder

    embedder = local_embedder()
    embedder.embed_sync(texts[:16])  # load and warm up outside the timing
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), 64):  # the ingest worker's batch size
        embedder.embed_sync(texts[start : start + 64])
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return len(texts) / wall, len(texts) / cpu


def main() -> None:
    root, out = Path(sys.argv[1]), Path(sys.argv[2])
    sys.path.insert(0, str(root / "src-python"))
    python = str(root / ".venv/bin/python")
    frozen = root / "src-python/dist/sage-sidecar/sage-sidecar"
    use_frozen = frozen.exists() and os.environ.get("BENCH_SIDECAR") != "venv"
    command = [str(frozen)] if use_frozen else [python, "-m", "sage_sidecar"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    result: dict = {"sidecar": "frozen" if use_frozen else "venv", "cpus": os.cpu_count(),
                    "load_avg_start": round(os.getloadavg()[0], 2)}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        env = {**base, "SAGE_API_KEY": secrets.token_hex(32), "SAGE_DATA_DIR": str(data)}
        paths = write_documents(Path(tmp) / "docs")

        sidecar = Sidecar(command, env)
        try:
            time.sleep(2)  # settle before the idle reading
            result["rss_idle_no_knowledge_mb"] = rss_mb(sidecar.proc.pid)
            kb = sidecar.call("POST", "/api/knowledge/bases", {"name": "bench"})
            started, cpu = time.perf_counter(), cpu_seconds(sidecar.proc.pid)
            sidecar.call("POST", f"/api/knowledge/bases/{kb['id']}/files/paths",
                         {"paths": [str(p) for p in paths]})  # fmt: skip
            while sidecar.call("GET", f"/api/knowledge/bases/{kb['id']}")["status"] != "ready":
                time.sleep(0.2)  # light polling: the sidecar's CPU time is measured
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(sidecar.proc.pid) - cpu
            files = sidecar.call("GET", f"/api/knowledge/bases/{kb['id']}/files")
            failed = [f["name"] for f in files if f["status"] != "ready"]
            assert not failed, failed
            time.sleep(2)
            result["rss_after_ingest_mb"] = rss_mb(sidecar.proc.pid)
            sidecar.call("POST", "/api/knowledge/search", {"query": "assert", "kb_ids": [kb["id"]]})
        finally:
            sidecar.stop()

        with sqlite3.connect(data / "agent_platform.db") as conn:
            rows = conn.execute(
                "SELECT heading, text, token_count FROM knowledge_chunks"
            ).fetchall()
        texts = [f"{h}\n{t}" if h else t for h, t, _ in rows]
        chunks = len(rows)
        result["ingest"] = {
            "files": len(paths),
            "chunks": chunks,
            "mean_tokens_per_chunk": round(statistics.mean(r[2] for r in rows), 1),
            "seconds": round(elapsed, 2),
            "chunks_per_s": round(chunks / elapsed, 1),
            "cpu_s": round(cpu, 2),
            "chunks_per_cpu_s": round(chunks / cpu, 1),
        }

        sidecar = Sidecar(command, env)  # a base exists, nothing searched: no model loaded
        try:
            time.sleep(2)
            result["rss_idle_with_knowledge_base_mb"] = rss_mb(sidecar.proc.pid)
        finally:
            sidecar.stop()

    before, before_cpu = raw_throughput(texts)
    after, after_cpu = raw_throughput(texts)
    raw, raw_cpu = (before + after) / 2, (before_cpu + after_cpu) / 2
    result["raw_embedder"] = {
        "chunks_per_s_before": round(before, 1),
        "chunks_per_s_after": round(after, 1),
        "chunks_per_s": round(raw, 1),
        "chunks_per_cpu_s": round(raw_cpu, 1),
    }
    result["ratio_ingest_to_raw"] = round(result["ingest"]["chunks_per_s"] / raw, 3)
    result["ratio_ingest_to_raw_cpu"] = round(result["ingest"]["chunks_per_cpu_s"] / raw_cpu, 3)
    result["load_avg_end"] = round(os.getloadavg()[0], 2)
    result["targets"] = TARGETS
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    i = result["ingest"]
    print(
        f"ingest: {i['chunks']} chunks (~{i['mean_tokens_per_chunk']} tokens) from {i['files']} "
        f"files in {i['seconds']} s = {i['chunks_per_s']} chunks/s (target ≥ {TARGETS['chunks_per_s']})"
    )
    print(
        f"raw embedder: {raw:.1f} chunks/s (before {before:.1f}, after {after:.1f}); ingest/raw = "
        f"{result['ratio_ingest_to_raw']} (target ≥ {TARGETS['ratio_to_raw']})"
    )
    print(
        f"per CPU-second: ingest {i['chunks_per_cpu_s']}, raw {raw_cpu:.1f}; ingest/raw = "
        f"{result['ratio_ingest_to_raw_cpu']} (load average {result['load_avg_start']} → "
        f"{result['load_avg_end']})"
    )
    print(
        f"sidecar RSS: idle {result['rss_idle_no_knowledge_mb']} MB, after ingest "
        f"{result['rss_after_ingest_mb']} MB, restarted with a base (model not loaded) "
        f"{result['rss_idle_with_knowledge_base_mb']} MB"
    )


if __name__ == "__main__":
    main()
