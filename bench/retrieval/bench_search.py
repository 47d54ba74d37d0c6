"""bench/retrieval: top-10 vector search over 100k chunks, to choose the vector engine.

Data: 100k unit vectors of 384 dimensions (the offline model's size) drawn around 2,000 random
centres, so that a query's nearest neighbours form a real neighbourhood (top-1 cosine ≈ 0.57,
like MiniLM on prose) instead of the near-ties of uniform noise; 300 queries from the same
distribution, not in the index. Ground truth: exact scores from one matrix product.

Engines, each measured in this run, one query at a time after a warm-up:
- numpy brute force (`vectors @ q` + argpartition): the baseline;
- `VectorIndex` as the sidecar uses it (numpy, exact; also with an id filter, and its save/open);
- hnswlib and usearch (HNSW, at several `ef`; usearch with f16 storage, which measured the
  same recall as f32 at half the memory), and sqlite-vec (exact, in SQLite) when installed
  (`pip install -e 'src-python[bench]'`; bench/retrieval/run.sh does it).

Prints a table and writes JSON. Usage: bench_search.py OUT_JSON [--count N]
"""

import argparse
import json
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy

from sage_sidecar.knowledge.vectors import VectorIndex

DIM, QUERIES, K = 384, 300, 10
TARGET = {"p50_ms": 15.0, "recall_at_10": 0.95}


def clustered(rng: numpy.random.Generator, centres: numpy.ndarray, count: int) -> numpy.ndarray:
    picks = rng.integers(0, len(centres), count)
    points = centres[picks] + rng.standard_normal((count, DIM), dtype=numpy.float32)
    return points / numpy.linalg.norm(points, axis=1, keepdims=True)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(name: str, search, queries, truth, **extra) -> dict:
    for query in queries[:20]:
        search(query)  # warm caches and lazy structures
    times, recalls = [], []
    for query, expected in zip(queries, truth, strict=True):
        start = time.perf_counter()
        found = search(query)
        times.append((time.perf_counter() - start) * 1000)
        recalls.append(len(set(map(int, found)) & set(expected.tolist())) / K)
    result = {
        "engine": name,
        "p50_ms": round(statistics.median(times), 3),
        "p99_ms": round(pct(times, 0.99), 3),
        "recall_at_10": round(statistics.fmean(recalls), 4),
        **extra,
    }
    print(f"{name:34s} p50 {result['p50_ms']:8.3f} ms  p99 {result['p99_ms']:8.3f} ms  "
          f"recall@10 {result['recall_at_10']:.4f}  {extra or ''}", flush=True)  # fmt: skip
    return result


def bench_numpy(vectors, queries, truth) -> dict:
    def search(query):
        scores = vectors @ query
        top = numpy.argpartition(-scores, K)[:K]
        return top[numpy.argsort(-scores[top])]

    return measure("numpy brute force (baseline)", search, queries, truth)


def bench_vector_index(vectors, queries, truth, rng) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        # The exact part alone (its limit raised past the count); bench_million.py measures the
        # graph that rows move into past the default limit.
        index = VectorIndex.open(Path(folder) / "kb", DIM, exact_limit=len(vectors))
        start = time.perf_counter()
        index.add(numpy.arange(len(vectors)), vectors)
        add_s = time.perf_counter() - start
        plain = measure(
            "VectorIndex (sidecar, exact)",
            lambda q: [i for i, _ in index.search(q, K)], queries, truth,
            add_s=round(add_s, 2),
        )  # fmt: skip
        start = time.perf_counter()
        index.save()
        save_s = time.perf_counter() - start
        start = time.perf_counter()
        reopened = VectorIndex.open(Path(folder) / "kb", DIM, exact_limit=len(vectors))
        open_s = time.perf_counter() - start
        plain.update(save_s=round(save_s, 3), open_s=round(open_s, 3),
                     file_mb=round(sum(f.stat().st_size for f in (Path(folder) / "kb").iterdir()) / 2**20, 1))  # fmt: skip
        assert len(reopened) == len(vectors)
        # A filter to one file's worth of chunks (2%) and to a large share (50%).
        filtered = []
        for share in (0.02, 0.5):
            allowed = rng.choice(len(vectors), int(len(vectors) * share), replace=False)
            allowed_set = set(allowed.tolist())
            scores = queries @ vectors[numpy.sort(allowed)].T
            ordered = numpy.sort(allowed)
            expected = [ordered[numpy.argsort(-row)[:K]] for row in scores]
            filtered.append(measure(
                f"VectorIndex, filter {share:.0%} of ids",
                lambda q, a=allowed_set: [i for i, _ in index.search(q, K, allowed_ids=a)],
                queries, expected, allowed_share=share,
            ))  # fmt: skip
    return [plain, *filtered]


def bench_hnswlib(vectors, queries, truth) -> list[dict]:
    try:
        import hnswlib
    except ImportError:
        print("hnswlib: not installed, skipped")
        return []
    index = hnswlib.Index(space="ip", dim=DIM)
    index.init_index(max_elements=len(vectors), ef_construction=128, M=16)
    start = time.perf_counter()
    index.add_items(vectors, numpy.arange(len(vectors)), num_threads=os.cpu_count())
    build_s = round(time.perf_counter() - start, 1)
    index.set_num_threads(1)
    results = []
    for ef in (32, 64, 128):
        index.set_ef(ef)
        results.append(measure(f"hnswlib M=16 ef={ef}", lambda q: index.knn_query(q, K)[0][0],
                               queries, truth, build_s=build_s, ef=ef))  # fmt: skip
    return results


def bench_usearch(vectors, queries, truth) -> list[dict]:
    try:
        from usearch.index import Index
    except ImportError:
        print("usearch: not installed, skipped")
        return []
    results = []
    for dtype in ("f16",):  # f32 measured the same recall, slower and twice the memory
        index = Index(ndim=DIM, metric="cos", dtype=dtype, connectivity=16, expansion_add=128)
        start = time.perf_counter()
        index.add(numpy.arange(len(vectors)), vectors, threads=os.cpu_count())
        build_s = round(time.perf_counter() - start, 1)
        for ef in (32, 64, 128):
            index.expansion_search = ef
            results.append(measure(
                f"usearch {dtype} M=16 ef={ef}",
                lambda q, i=index: i.search(q, K, threads=1).keys, queries, truth,
                build_s=build_s, ef=ef,
            ))  # fmt: skip
    return results


def bench_sqlite_vec(vectors, queries, truth) -> list[dict]:
    try:
        import sqlite_vec
    except ImportError:
        print("sqlite-vec: not installed, skipped")
        return []
    db = sqlite3.connect(":memory:")
    try:
        db.enable_load_extension(True)
        sqlite_vec.load(db)
    except (AttributeError, sqlite3.OperationalError) as error:
        print(f"sqlite-vec: this Python cannot load SQLite extensions ({error}), skipped")
        return []
    db.execute(f"CREATE VIRTUAL TABLE v USING vec0(embedding float[{DIM}])")
    start = time.perf_counter()
    db.executemany("INSERT INTO v(rowid, embedding) VALUES (?, ?)",
                   ((i, row.tobytes()) for i, row in enumerate(vectors)))  # fmt: skip
    build_s = round(time.perf_counter() - start, 1)
    sql = "SELECT rowid FROM v WHERE embedding MATCH ? AND k = ? ORDER BY distance"
    return [measure("sqlite-vec vec0 (exact)",
                    lambda q: [r[0] for r in db.execute(sql, (q.tobytes(), K))],
                    queries, truth, build_s=build_s)]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    load_start = round(os.getloadavg()[0], 2)
    rng = numpy.random.default_rng(7)
    centres = rng.standard_normal((2000, DIM), dtype=numpy.float32)
    vectors = clustered(rng, centres, args.count)
    queries = clustered(rng, centres, QUERIES)
    exact = queries @ vectors.T
    truth = [numpy.argsort(-row)[:K] for row in exact]
    print(f"{args.count} x {DIM} vectors, {QUERIES} queries, top-{K}; "
          f"mean top-1 cosine {exact.max(axis=1).mean():.3f}", flush=True)  # fmt: skip
    del exact

    baseline = bench_numpy(vectors, queries, truth)
    engines = [baseline, *bench_vector_index(vectors, queries, truth, rng)]
    engines += bench_hnswlib(vectors, queries, truth)
    engines += bench_usearch(vectors, queries, truth)
    engines += bench_sqlite_vec(vectors, queries, truth)
    for engine in engines:
        engine["p50_vs_numpy"] = round(engine["p50_ms"] / baseline["p50_ms"], 3)
        engine["meets_target"] = (
            engine["p50_ms"] <= TARGET["p50_ms"]
            and engine["recall_at_10"] >= TARGET["recall_at_10"]
        )
    machine = {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "platform": platform.platform(),
        # Other work on the machine moves these figures: say how busy it was.
        "load_avg_1min_start_end": [load_start, round(os.getloadavg()[0], 2)],
    }
    report = {"machine": machine, "vectors": args.count, "dim": DIM, "queries": QUERIES, "k": K,
              "target": TARGET, "engines": engines}  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    existing["search"] = report
    args.out.write_text(json.dumps(existing, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
