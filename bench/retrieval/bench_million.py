"""bench/retrieval: the sidecar's VectorIndex at a million chunks, against exact numpy search.

Data: unit vectors of 384 dimensions (the offline model's size), clustered, not uniform: one
centre per 50 vectors (standard normal), each vector its centre plus standard normal noise,
normalised — the same recipe as bench_search.py at 100k (2,000 centres), so a query's nearest
neighbours form a real neighbourhood (top-1 cosine ≈ 0.57, like MiniLM on prose). Uniform noise
would give near-ties that make any approximate index look worse than on real embeddings.
Queries: 200 more from the same distribution, not in the index. Ground truth: exact scores.

Measured in one run:
- exact numpy (`vectors @ q` + argpartition over the float32 matrix in memory): the baseline,
  and what the previous index did;
- build: `VectorIndex.add` in batches of 10k with a `save()` per 50k (as ingest saves), so the
  graph grows incrementally; the time of the last save (the graph's growth at full size);
- search in a fresh child process that only opens the index (as the sidecar would): p50/p99,
  recall@10 vs exact, its resident memory (VmRSS, VmHWM) after the queries; also with a filter
  allowing 10% of the ids, and after removing 1%;
- adding 1,000 chunks to the full index and saving them durably;
- the boundary: the exact part topped up to its limit, then 1,000 chunks added the way ingest
  writes them (`IndexCache.write` per batch of 64, then one saving write), which pushes it past
  the limit: the time until that write returns (wall and the calling thread's CPU), then the
  background growth's duration until its generation is installed, and searches meanwhile.

Usage: bench_million.py OUT_JSON [--count N] [--keep DIR] [--growth-threads N]
       bench_million.py OUT_JSON --count N --measure DIR [--growth-threads N]
The second form measures an index a (possibly still running, so cut short) build left in DIR:
it copies DIR/kb's committed state aside and measures it against the same data's first rows.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy

from sage_sidecar.knowledge import ann
from sage_sidecar.knowledge.indexes import IndexCache
from sage_sidecar.knowledge.vectors import EXACT_LIMIT, VectorIndex

DIM, QUERIES, K, PER_CENTRE = 384, 200, 10, 50
TARGET = {"p50_ms": 30.0, "recall_at_10": 0.95, "rss_mb": 700, "add_1000_s": 5.0}
INGEST_BATCH = 64  # chunks per IndexCache.write, as the ingest worker adds them
GROWTH_TIMEOUT_S = 4 * 3600


def clustered(rng: numpy.random.Generator, centres: numpy.ndarray, count: int) -> numpy.ndarray:
    out = numpy.empty((count, DIM), dtype=numpy.float32)
    for start in range(0, count, 100_000):  # in slices: no float64 copy of the whole set
        n = min(100_000, count - start)
        points = centres[rng.integers(0, len(centres), n)]
        points += rng.standard_normal((n, DIM), dtype=numpy.float32)
        out[start : start + n] = points / numpy.linalg.norm(points, axis=1, keepdims=True)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def exact_top(vectors: numpy.ndarray, queries: numpy.ndarray) -> numpy.ndarray:
    scores = queries @ vectors.T
    top = numpy.argpartition(-scores, K, axis=1)[:, :K]
    return top


def dataset(count: int, density_of: int | None = None) -> tuple[numpy.ndarray, ...]:
    """main()'s vectors, queries and their exact top K (seed 7, drawn in main's order), with one
    centre per PER_CENTRE rows of `density_of` rows (default: `count`): for the sweeps."""
    rng = numpy.random.default_rng(7)
    centres = rng.standard_normal(
        (max((density_of or count) // PER_CENTRE, 100), DIM), dtype=numpy.float32
    )
    vectors = clustered(rng, centres, count)
    queries = clustered(rng, centres, QUERIES)
    return vectors, queries, exact_top(vectors, queries)


def timed_recall(search: Callable[[numpy.ndarray], numpy.ndarray], queries, truth) -> dict:
    """p50/p99 ms and recall@K of `search` (a query -> ids, best first) against `truth`."""
    times, recalls = [], []
    for query, expected in zip(queries, truth, strict=True):
        start = time.perf_counter()
        found = search(query)[:K]
        times.append((time.perf_counter() - start) * 1000)
        recalls.append(len(set(found.tolist()) & set(expected.tolist())) / K)
    return {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(pct(times, 0.99), 2),
            "recall_at_10": round(statistics.fmean(recalls), 4)}  # fmt: skip


def bench_numpy(vectors, queries, truth) -> dict:
    times = []
    for i, query in enumerate(queries):
        start = time.perf_counter()
        scores = vectors @ query
        top = numpy.argpartition(-scores, K)[:K]
        top[numpy.argsort(-scores[top])]
        if i >= 10:
            times.append((time.perf_counter() - start) * 1000)
    return {
        "engine": "exact numpy, float32 in memory (baseline, the previous index)",
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(pct(times, 0.99), 2),
        "recall_at_10": 1.0,
        "matrix_mb": round(vectors.nbytes / 1e6, 1),
    }


CHILD = r"""
import json, statistics, sys, time
import numpy
from pathlib import Path
from sage_sidecar.knowledge.vectors import VectorIndex

def rss():
    status = Path("/proc/self/status").read_text().splitlines()
    return {l.split(":")[0]: int(l.split()[1]) // 1024 for l in status if l.startswith(("VmRSS", "VmHWM"))}

folder, dim, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
queries = numpy.load(folder + "/../queries.npy")
allowed = numpy.load(folder + "/../allowed.npy")
baseline = rss()
start = time.perf_counter()
index = VectorIndex.open(Path(folder), dim)
open_s = time.perf_counter() - start
out = {"open_s": round(open_s, 3), "rss_mb_before_open": baseline["VmRSS"]}
for name, filt in (("plain", None), ("filter", allowed)):
    for query in queries[:10]:
        index.search(query, k, filt)
    times, hits = [], []
    for query in queries:
        t = time.perf_counter()
        found = index.search(query, k, filt)
        times.append((time.perf_counter() - t) * 1000)
        hits.append([i for i, _ in found])
    out[name] = {"times": times, "hits": hits}
out["rss_mb"] = rss()
print(json.dumps(out))
"""


def search_in_child(folder: Path, truth, truth_filtered) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder), str(DIM), str(K)],
        capture_output=True, text=True, timeout=1800, check=True,
    )  # fmt: skip
    data = json.loads(result.stdout)
    report = {"open_s": data["open_s"], "rss_mb": data["rss_mb"],
              "rss_mb_python_numpy_before_open": data["rss_mb_before_open"]}  # fmt: skip
    for name, expected in (("plain", truth), ("filter", truth_filtered)):
        times = data[name]["times"]
        recalls = [len(set(h) & set(e.tolist())) / K for h, e in zip(data[name]["hits"], expected, strict=True)]  # fmt: skip
        report[name] = {
            "p50_ms": round(statistics.median(times), 2),
            "p99_ms": round(pct(times, 0.99), 2),
            "recall_at_10": round(statistics.fmean(recalls), 4),
        }
    return report


def searches_while(index, queries, going, times: list[float]) -> list[float]:
    """One search every half second (a user's pace, not a load test) while `going()`."""
    while going():
        query = queries[len(times) % len(queries)]
        started = time.perf_counter()
        index.search(query, K)
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.5)
    return times


def boundary_case(root: Path, first_id: int, rng, centres, queries) -> dict:
    """The exact part of root/kb topped up to its limit, then 1,000 chunks written as ingest
    writes them, crossing it: how long the writes take, and the background growth after them."""
    cache = IndexCache(root)
    index = cache.get("kb", DIM)
    next_id = first_id

    def write(rows: numpy.ndarray, save: bool) -> None:
        nonlocal next_id
        ids = numpy.arange(next_id, next_id + len(rows))
        next_id += len(rows)
        assert cache.write("kb", index, lambda i: i.add(ids, rows), save=save)

    missing = EXACT_LIMIT - (index._count - index._graph_count)
    for begin in range(0, max(missing, 0), 10_000):
        write(clustered(rng, centres, min(10_000, missing - begin)), save=False)
    assert cache.write("kb", index, lambda _i: None)
    exact_before, graph_before = index._count - index._graph_count, index._graph_count
    idle: list[float] = []
    searches_while(index, queries, lambda: len(idle) < 20, idle)
    extra = clustered(rng, centres, 1000)
    wall, cpu = time.perf_counter(), time.thread_time()
    for begin in range(0, 1000, INGEST_BATCH):
        write(extra[begin : begin + INGEST_BATCH], save=False)
    assert cache.write("kb", index, lambda _i: None)  # the file's save: it becomes ready
    add_s, add_cpu_s = time.perf_counter() - wall, time.thread_time() - cpu
    growing = index._growth is not None
    process_cpu = time.process_time()
    times = searches_while(
        index,
        queries,
        lambda: (
            index._graph_count == graph_before and time.perf_counter() - wall < GROWTH_TIMEOUT_S
        ),
        [],
    )
    growth_s = time.perf_counter() - wall
    report = {
        "exact_rows_before": exact_before,
        "graph_rows_before": graph_before,
        "add_1000_and_save_s": round(add_s, 3),
        "add_1000_and_save_thread_cpu_s": round(add_cpu_s, 3),
        "growth_started_in_background": growing,
        "background_growth_s": round(growth_s, 1),
        "background_growth_process_cpu_s": round(time.process_time() - process_cpu, 1),
        "graph_rows_after": index._graph_count,
        "growth_threads": ann.BACKGROUND_THREADS,
        "searches_during_growth": len(times),
        "search_p50_ms_during_growth": round(statistics.median(times), 2) if times else None,
        "search_p50_ms_before_it": round(statistics.median(idle), 2),
    }
    print(f"boundary: {report}", flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="build the index here and keep it")
    parser.add_argument("--measure", type=Path, help="measure the index built in this folder")
    parser.add_argument("--growth-threads", type=int, default=ann.BACKGROUND_THREADS,
                        help="threads of the background growth (the sidecar's default)")  # fmt: skip
    args = parser.parse_args()
    ann.BACKGROUND_THREADS = args.growth_threads
    if args.measure:
        measure_existing(args.out, args.count, args.measure)
        return
    load_start = round(os.getloadavg()[0], 2)
    count = args.count
    rng = numpy.random.default_rng(7)
    centres = rng.standard_normal((max(count // PER_CENTRE, 100), DIM), dtype=numpy.float32)
    vectors = clustered(rng, centres, count)
    queries = clustered(rng, centres, QUERIES)
    extra = clustered(rng, centres, 1000)
    ids = numpy.arange(count, dtype=numpy.int64)
    allowed = numpy.sort(rng.choice(ids, count // 10, replace=False))
    truth = exact_top(vectors, queries)
    truth_filtered = allowed[exact_top(vectors[allowed], queries)]
    top1 = float((queries @ vectors[: min(count, 200_000)].T).max(axis=1).mean())
    print(f"{count} x {DIM}, {QUERIES} queries; top-1 cosine (first 200k) {top1:.3f}", flush=True)

    baseline = bench_numpy(vectors, queries, truth)
    print(f"exact numpy: {baseline}", flush=True)

    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        folder = root / "kb"
        numpy.save(root / "queries.npy", queries)
        numpy.save(root / "allowed.npy", allowed)
        start = time.perf_counter()
        index = VectorIndex.open(folder, DIM)
        last_save = 0.0
        for begin in range(0, count, 10_000):
            index.add(ids[begin : begin + 10_000], vectors[begin : begin + 10_000])
            if (begin + 10_000) % 50_000 == 0 or begin + 10_000 >= count:
                saved = time.perf_counter()
                index.save()
                last_save = time.perf_counter() - saved
                print(f"  {begin + 10_000} rows, {time.perf_counter() - start:.0f} s "
                      f"(save {last_save:.1f} s)", flush=True)  # fmt: skip
        build_s = time.perf_counter() - start
        del index
        files_mb = {p.name: round(p.stat().st_size / 1e6, 1) for p in folder.iterdir()}
        child = search_in_child(folder, truth, truth_filtered)
        print(f"index search: {child}", flush=True)

        index = VectorIndex.open(folder, DIM)
        start = time.perf_counter()
        index.add(numpy.arange(count, count + 1000), extra)
        index.save()
        add_1000_s = time.perf_counter() - start
        gone = rng.choice(ids, count // 100, replace=False)
        start = time.perf_counter()
        index.remove(gone.tolist())
        index.save()
        remove_s = time.perf_counter() - start
        keep = numpy.ones(count, dtype=bool)
        keep[gone] = False
        live = numpy.flatnonzero(keep)
        truth_after = exact_top(numpy.concatenate([vectors[live], extra]), queries)
        all_ids = numpy.concatenate([live, numpy.arange(count, count + 1000)])
        recalls = []
        for query, expected in zip(queries, truth_after, strict=True):
            hits = [i for i, _ in index.search(query, K)]
            recalls.append(len(set(hits) & set(all_ids[expected].tolist())) / K)
        after_changes = round(statistics.fmean(recalls), 4)
        del index
        boundary = boundary_case(root, count + 1000, rng, centres, queries)

    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "numpy": numpy.__version__,
            "platform": platform.platform(),
            "load_avg_1min_start_end": [load_start, round(os.getloadavg()[0], 2)],
        },
        "vectors": count,
        "dim": DIM,
        "data": f"clustered: {count // PER_CENTRE} centres, unit vectors, top-1 cosine {top1:.3f}",
        "queries": QUERIES,
        "k": K,
        "target": TARGET,
        "exact_numpy": baseline,
        "index": {
            "engine": f"VectorIndex: exact numpy for the newest {EXACT_LIMIT} rows, usearch "
            f"HNSW int8 (M={ann.CONNECTIVITY}, ef_add={ann.EXPANSION_ADD}, "
            f"ef_search={ann.EXPANSION_SEARCH}, {4 * ann.MIN_CANDIDATES}+ candidates rescored in "
            "float32), mapped with view=True",
            "build_s": round(build_s, 1),
            "last_graph_growth_save_s": round(last_save, 1),
            "files_mb": files_mb,
            **child,
            "add_1000_and_save_s": round(add_1000_s, 2),
            "remove_1pct_and_save_s": round(remove_s, 2),
            "recall_at_10_after_add_and_remove": after_changes,
            "boundary": boundary,
        },
    }
    index_report = report["index"]
    assert isinstance(index_report, dict)
    report["meets_target"] = {
        "p50": index_report["plain"]["p50_ms"] <= TARGET["p50_ms"],
        "recall": index_report["plain"]["recall_at_10"] >= TARGET["recall_at_10"],
        "rss": index_report["rss_mb"]["VmRSS"] <= TARGET["rss_mb"],
        "add_1000": add_1000_s <= TARGET["add_1000_s"],
        "add_1000_at_the_boundary": boundary["add_1000_and_save_s"] <= TARGET["add_1000_s"],
    }
    print(json.dumps(report, indent=2))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    existing[f"search_{count // 1000}k"] = report
    args.out.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"wrote {args.out}")


def measure_existing(out: Path, count: int, source: Path) -> None:
    """Search, memory and add-1000 on the committed rows of an index built by this script with
    the same --count (same seed, so the same vectors), against exact search over those rows."""
    load_start = round(os.getloadavg()[0], 2)
    scratch = Path(tempfile.mkdtemp(prefix="bench-million-"))
    folder = scratch / "kb"
    folder.mkdir()
    manifest = (source / "kb" / "manifest.sagevec").read_bytes()  # the commit point, first
    for entry in (source / "kb").iterdir():
        if entry.suffix in (".f32", ".i64") or entry.name.endswith(".usearch"):
            subprocess.run(["cp", str(entry), str(folder / entry.name)], check=True)
    (folder / "manifest.sagevec").write_bytes(manifest)
    opened = VectorIndex.open(folder, DIM)
    rows = len(opened)
    if rows != opened._count:
        raise SystemExit(f"{source}: rows were removed or replaced; measure a build cut short")
    del opened
    rng = numpy.random.default_rng(7)
    centres = rng.standard_normal((max(count // PER_CENTRE, 100), DIM), dtype=numpy.float32)
    vectors = clustered(rng, centres, count)[:rows]
    queries = clustered(rng, centres, QUERIES)
    extra = clustered(rng, centres, 1000)
    allowed = numpy.sort(numpy.random.default_rng(8).choice(rows, rows // 10, replace=False))
    numpy.save(scratch / "queries.npy", queries)
    numpy.save(scratch / "allowed.npy", allowed)
    truth = exact_top(vectors, queries)
    truth_filtered = allowed[exact_top(vectors[allowed], queries)]
    baseline = bench_numpy(vectors, queries, truth)
    print(f"{rows} rows; exact numpy: {baseline}", flush=True)
    child = search_in_child(folder, truth, truth_filtered)
    print(f"index search: {child}", flush=True)
    index = VectorIndex.open(folder, DIM)
    start = time.perf_counter()
    index.add(numpy.arange(count, count + 1000), extra)
    index.save()
    add_1000_s = time.perf_counter() - start
    files_mb = {p.name: round(p.stat().st_size / 1e6, 1) for p in folder.iterdir()}
    graph_rows = index._graph_count
    del index
    boundary = boundary_case(scratch, count + 1000, rng, centres, queries)
    subprocess.run(["rm", "-rf", str(scratch)], check=True)
    report = {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "load_avg_1min_start_end": [load_start, round(os.getloadavg()[0], 2)]},
        "vectors": rows,
        "note": f"the first {rows} rows of a {count}-row build (cut short), measured as is",
        "target": TARGET,
        "exact_numpy": baseline,
        "index": {"files_mb": files_mb, **child, "add_1000_and_save_s": round(add_1000_s, 2),
                  "graph_rows": graph_rows, "boundary": boundary},
    }  # fmt: skip
    print(json.dumps(report, indent=2))
    existing = json.loads(out.read_text()) if out.exists() else {}
    existing[f"search_{rows // 1000}k_of_{count // 1000}k"] = report
    out.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
