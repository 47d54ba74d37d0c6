"""bench/retrieval: knowledge search over HTTP against a real (venv) sidecar with a 10k-chunk base:
issue #18's latency target (hybrid p50 ≤ 40 ms on 2 cores, query embedding included).

Corpus (real text, nothing committed): Python's help topics (787 chunks), the `manpages` quality
set (3,309 chunks), then more English man pages of sections 3, 2, 5, 7 and 1 (≤ 10 kB of roff
each, as tests/retrieval_sets.py reads them) until the base holds `--chunks` chunks. Everything is
indexed through the API (add by path, the real ingest and offline embedder), in one base.
Queries: the two sets' plain-language questions (~110), English, each asked once per pass.

Per pass (one mode, one top_k): wall time of each request over a kept-alive connection, p50 and
p99; and the sidecar's own CPU per query, (utime + stime) of /proc/<pid>/stat across the pass
divided by the queries. On a shared machine CPU is the figure to read: wall time also measures
waiting for a core. Passes are interleaved over rounds so the machine's load falls on each alike.
Hybrid at top_k 5 is what a chat turn asks (services/knowledge.retrieve) and the API's default.
The manpages questions' hybrid recall@5 / MRR@10 in this bigger base are kept as a sanity check
that a speed-up changed no result (`--hits FILE` writes every hybrid result list for a diff).

Usage: bench_http.py ROOT OUT_JSON [--chunks 10000] [--rounds 3] [--data DIR] [--hits FILE]
                     [--src SRC_PYTHON_DIR]
--data DIR keeps the indexed data dir and reuses it next time (indexing 10k chunks takes 5-10 min
on two busy cores); without it the base is built in a temporary folder.
"""

import argparse
import gzip
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: the shared client
from sidecar_client import Sidecar  # noqa: E402

FILLER_FOLDERS = ("man3", "man2", "man5", "man7", "man1")
PASSES = (("hybrid", 5), ("hybrid", 10), ("vector", 5), ("bm25", 5))
KB_NAME = "bench-http"


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process, all its threads (not its reaped children)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:13]) / os.sysconf("SC_CLK_TCK")


def descendants(pid: int) -> list[int]:
    """Live child processes, recursively (the offline embedder's process, parse workers)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").iterdir():
            children = (task / "children").read_text().split()
            found += [int(c) for c in children]
            todo += [int(c) for c in children]
    return found


def tree_cpu_s(pid: int) -> dict[int, float]:
    """CPU seconds per process of the tree under `pid` (itself included); a process that ended
    meanwhile is left out."""
    cpu = {}
    for member in [pid, *descendants(pid)]:
        try:
            cpu[member] = cpu_s(member)
        except FileNotFoundError:
            pass
    return cpu


def filler_pages(retrieval_sets: Any, skip: set[str]) -> list[tuple[str, str]]:
    """(file name, Markdown) of English man pages outside the quality set, in a fixed order."""
    pages = []
    for folder in FILLER_FOLDERS:
        for path in sorted(Path("/usr/share/man", folder).glob("*.gz")):
            name = retrieval_sets.page_name(path)
            if name in skip or path.is_symlink():
                continue
            raw = gzip.decompress(path.read_bytes())
            if len(raw) > retrieval_sets.MAX_BYTES:
                continue
            markdown = retrieval_sets.roff_markdown(raw.decode("utf-8", "replace"))
            if markdown is not None and len(markdown) >= 200:
                pages.append((name, markdown))
    return pages


def add_and_wait(sidecar: Sidecar, kb_id: str, paths: list[Path]) -> None:
    for start in range(0, len(paths), 1000):  # the route takes up to 1000 paths
        body = {"paths": [str(p) for p in paths[start : start + 1000]]}
        sidecar.call("POST", f"/api/knowledge/bases/{kb_id}/files/paths", body)
    while True:
        files = sidecar.call("GET", f"/api/knowledge/bases/{kb_id}/files")
        if all(f["status"] in ("ready", "failed") for f in files):
            return
        time.sleep(0.5)


def build_base(sidecar: Sidecar, kb: dict[str, Any] | None, target: int, corpus: Path) -> str:
    """Index the corpus into the bench's base until it holds `target` chunks; a base left by an
    interrupted run is topped up."""
    import retrieval_sets

    import knowledge_eval

    if kb is None:
        kb = sidecar.call("POST", "/api/knowledge/bases", {"name": KB_NAME})
        first = knowledge_eval.write_corpus(corpus / "pydoc")
        first += retrieval_sets.write_corpus("manpages", corpus / "manpages")
        add_and_wait(sidecar, kb["id"], first)
    kb_id = kb["id"]
    indexed = {f["name"] for f in sidecar.call("GET", f"/api/knowledge/bases/{kb_id}/files")}
    filler = filler_pages(retrieval_sets, indexed)
    (corpus / "filler").mkdir(parents=True, exist_ok=True)
    while True:
        kb = sidecar.call("GET", f"/api/knowledge/bases/{kb_id}")
        missing = target - kb["chunk_count"]
        print(f"  {kb['chunk_count']} chunks in {kb['file_count']} files", flush=True)
        if missing <= 0 or not filler:
            return kb_id
        count = max(1, missing // 12)  # ~12 chunks a page: a little under, then topped up
        batch, filler = filler[:count], filler[count:]
        paths = []
        for name, markdown in batch:
            path = corpus / "filler" / name
            path.write_text(markdown, encoding="utf-8")
            paths.append(path)
        add_and_wait(sidecar, kb_id, paths)


def measure_pass(
    sidecar: Sidecar, kb_id: str, questions: list[str], mode: str, top_k: int
) -> tuple[list[float], float, float, list[list[dict[str, Any]]]]:
    """Wall ms per request, then the sidecar's own and its child processes' CPU ms per query
    (the offline embedder runs in a child), and the hits."""
    took, lists = [], []
    before = tree_cpu_s(sidecar.proc.pid)
    for question in questions:
        body = {"query": question, "kb_ids": [kb_id], "mode": mode, "top_k": top_k}
        started = time.perf_counter()
        hits = sidecar.call("POST", "/api/knowledge/search", body)["hits"]
        took.append((time.perf_counter() - started) * 1000)
        lists.append(hits)
    after = tree_cpu_s(sidecar.proc.pid)
    own = (after[sidecar.proc.pid] - before[sidecar.proc.pid]) * 1000 / len(questions)
    children = sum(after[p] - before.get(p, 0.0) for p in after if p != sidecar.proc.pid)
    return took, own, children * 1000 / len(questions), lists


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("root", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--chunks", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--hits", type=Path)
    # Another checkout's src-python (e.g. `git archive` of an older commit) to compare versions
    # on the same base and machine.
    parser.add_argument("--src", type=Path)
    args = parser.parse_args()
    sys.path[:0] = [str(args.root / "src-python" / "tests"), str(args.root / "src-python")]
    import retrieval_sets

    import knowledge_eval

    pydoc_questions = knowledge_eval.load_questions()
    man_questions = retrieval_sets.load_questions("manpages")
    questions = [q["question"] for q in pydoc_questions + man_questions]
    commit = subprocess.run(["git", "-C", str(args.root), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    report: dict[str, Any] = {
        "sidecar": "venv", "commit": commit, "cpus": os.cpu_count(),
        "load_avg_1min_start": round(os.getloadavg()[0], 1), "queries": len(questions),
        "rounds": args.rounds,
    }  # fmt: skip
    temporary = None
    if args.data is None:
        temporary = tempfile.mkdtemp(prefix="bench-http-")
        args.data = Path(temporary)
    data = args.data / "data"
    source = args.src or args.root / "src-python"
    report["source"] = str(source)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAGE_")}
    env.update({"SAGE_API_KEY": secrets.token_hex(32), "SAGE_DATA_DIR": str(data)})
    # cwd: `-m sage_sidecar` imports the package from `source` first
    sidecar = Sidecar([str(args.root / ".venv/bin/python"), "-m", "sage_sidecar"], env, cwd=source)
    try:
        bases = sidecar.call("GET", "/api/knowledge/bases")
        kb = next((b for b in bases if b["name"] == KB_NAME), None)
        if kb is None or kb["chunk_count"] < args.chunks:
            print(f"indexing a {args.chunks}-chunk base (once; kept in {args.data})", flush=True)
            started = time.perf_counter()
            kb_id = build_base(sidecar, kb, args.chunks, args.data / "corpus")
            report["index_s"] = round(time.perf_counter() - started, 1)
        else:
            kb_id = kb["id"]
        kb = sidecar.call("GET", f"/api/knowledge/bases/{kb_id}")
        report["chunks"], report["files"] = kb["chunk_count"], kb["file_count"]
        for mode, top_k in PASSES:  # warm-up: the model loads, the index opens, caches fill
            measure_pass(sidecar, kb_id, questions[:5], mode, top_k)
        walls: dict[str, list[float]] = {f"{m}@{k}": [] for m, k in PASSES}
        own: dict[str, list[float]] = {name: [] for name in walls}
        children: dict[str, list[float]] = {name: [] for name in walls}
        hybrid_lists: list[list[dict[str, Any]]] = []
        for round_ in range(args.rounds):
            for mode, top_k in PASSES:
                name = f"{mode}@{top_k}"
                took, own_ms, child_ms, lists = measure_pass(sidecar, kb_id, questions, mode, top_k)
                walls[name] += took
                own[name].append(own_ms)
                children[name].append(child_ms)
                if round_ == 0 and name == "hybrid@10":
                    hybrid_lists = lists
        report["passes"] = {
            name: {
                "p50_ms": percentile(walls[name], 0.5),
                "p99_ms": percentile(walls[name], 0.99),
                # the sidecar process itself, and with its children (the embedder's process)
                "sidecar_cpu_ms_per_query": round(statistics.median(own[name]), 1),
                "with_children_cpu_ms_per_query": round(
                    statistics.median(
                        o + c for o, c in zip(own[name], children[name], strict=True)
                    ),
                    1,
                ),
                "sidecar_cpu_ms_per_round": [round(c, 1) for c in own[name]],
                "children_cpu_ms_per_round": [round(c, 1) for c in children[name]],
            }
            for name in walls
        }
        man_lists = hybrid_lists[len(pydoc_questions) :]
        ranks = [retrieval_sets.first_relevant(q, hits) for q, hits in zip(man_questions, man_lists, strict=True)]  # fmt: skip
        report["manpages_hybrid_in_this_base"] = {
            "recall@5": round(sum(bool(r and r <= 5) for r in ranks) / len(ranks), 3),
            "mrr@10": round(sum(1 / r for r in ranks if r) / len(ranks), 3),
        }
        if args.hits is not None:
            args.hits.write_text(json.dumps(
                [[(h["chunk_id"], round(h["score"], 6)) for h in hits] for hits in hybrid_lists]
            ) + "\n")  # fmt: skip
    finally:
        sidecar.stop()
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
    report["load_avg_1min_end"] = round(os.getloadavg()[0], 1)
    report["measured_at"] = time.strftime("%Y-%m-%d %H:%M")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
