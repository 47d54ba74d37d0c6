"""bench/retrieval: recall@10 and latency of a built graph against its search-time expansion.

For an index `bench_million.py --keep DIR` left behind: regenerates the same data (seed 7) and its
exact top 10, maps the newest graph in DIR/kb and searches it at each expansion, rescoring the
candidates with the float rows as the sidecar does (rows added after the build, ids >= COUNT,
are skipped). Prints one line per setting; the figures go in bench/results/retrieval.json by hand.

Usage: sweep_expansion.py DIR [--count N] [--expansions 128,256,512,1024] [--candidates 160]
"""

import argparse
import statistics
import time
from pathlib import Path

import numpy
from bench_million import DIM, PER_CENTRE, QUERIES, K, clustered, exact_top

from sage_sidecar.knowledge import ann


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--expansions", default="128,256,512,1024")
    parser.add_argument("--candidates", type=int, default=4 * ann.MIN_CANDIDATES)
    args = parser.parse_args()
    rng = numpy.random.default_rng(7)  # the same data as bench_million.py
    centres = rng.standard_normal((max(args.count // PER_CENTRE, 100), DIM), dtype=numpy.float32)
    vectors = clustered(rng, centres, args.count)
    queries = clustered(rng, centres, QUERIES)
    truth = exact_top(vectors, queries)
    del vectors
    kb = args.folder / "kb"
    graph = ann.Graph.view(sorted(kb.glob("graph-*.usearch"))[-1], DIM)
    rows = numpy.memmap(kb / "rows.f32", dtype=numpy.float32, mode="r").reshape(-1, DIM)
    ids = numpy.fromfile(kb / "ids.i64", dtype=numpy.int64)
    for expansion in (int(e) for e in args.expansions.split(",")):
        graph._index.expansion_search = expansion
        latencies, recalls = [], []
        for query, expected in zip(queries, truth, strict=True):
            started = time.perf_counter()
            slots = graph.search(query, args.candidates)
            slots = slots[ids[slots] < args.count]
            top = ids[slots[numpy.argsort(-(numpy.asarray(rows[slots]) @ query))[:K]]]
            latencies.append((time.perf_counter() - started) * 1000)
            recalls.append(len(set(top.tolist()) & set(expected.tolist())) / K)
        ordered = sorted(latencies)
        print(f"expansion {expansion}, {args.candidates} candidates: p50 "
              f"{statistics.median(latencies):.2f} ms, p99 {ordered[int(0.99 * len(ordered))]:.2f} "
              f"ms, recall@10 {statistics.fmean(recalls):.4f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
