"""bench/retrieval: the graph's recall@10 against its add-time expansion, at any size.

Builds one graph per add-time expansion over `COUNT` clustered 384-d rows drawn at a 1M set's
density (the recipe and seed of bench_million.py), in one `Graph.add` each (the product grows its
graph in generations of the same inserts), then searches it at several search-time expansions,
rescoring 4 × MIN_CANDIDATES candidates in float32 as the sidecar does. Prints one line per pair.

Usage: sweep_build.py COUNT [--adds 64,128] [--expansions 128,512,1024]
"""

import argparse
import statistics
import time

import numpy
from bench_million import DIM, PER_CENTRE, QUERIES, K, clustered, exact_top

from sage_sidecar.knowledge import ann


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--adds", default="64,128")
    parser.add_argument("--expansions", default="128,512,1024")
    args = parser.parse_args()
    rng = numpy.random.default_rng(7)
    centres = rng.standard_normal((1_000_000 // PER_CENTRE, DIM), dtype=numpy.float32)
    vectors = clustered(rng, centres, args.count)
    queries = clustered(rng, centres, QUERIES)
    truth = exact_top(vectors, queries)
    for add in (int(a) for a in args.adds.split(",")):
        ann.EXPANSION_ADD = add  # read when a Graph is made
        graph = ann.Graph(DIM)
        started = time.perf_counter()
        graph.add(numpy.arange(args.count), vectors)
        build_s = time.perf_counter() - started
        for expansion in (int(e) for e in args.expansions.split(",")):
            graph._index.expansion_search = expansion
            latencies, recalls = [], []
            for query, expected in zip(queries, truth, strict=True):
                started = time.perf_counter()
                slots = graph.search(query, 4 * ann.MIN_CANDIDATES)
                top = slots[numpy.argsort(-(vectors[slots] @ query))[:K]]
                latencies.append((time.perf_counter() - started) * 1000)
                recalls.append(len(set(top.tolist()) & set(expected.tolist())) / K)
            print(f"{args.count} rows, add-time {add} (build {build_s:.0f} s, "
                  f"{args.count / build_s:.0f} rows/s), search {expansion}: p50 "
                  f"{statistics.median(latencies):.2f} ms, recall@10 {statistics.fmean(recalls):.4f}",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
