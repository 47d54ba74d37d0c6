"""bench/retrieval: the graph's recall@10 against its add-time expansion, at any size.

Builds one graph per add-time expansion over `COUNT` clustered 384-d rows drawn at a 1M set's
density (the recipe and seed of bench_million.py), in one `Graph.add` each (the product grows its
graph in generations of the same inserts), then searches it at several search-time expansions,
rescoring 4 × MIN_CANDIDATES candidates in float32 as the sidecar does. Prints one line per pair.

Usage: sweep_build.py COUNT [--adds 64,128] [--expansions 128,512,1024]
"""

import argparse
import time

import numpy
from bench_million import DIM, K, dataset, timed_recall

from sage_sidecar.knowledge import ann


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("--adds", default="64,128")
    parser.add_argument("--expansions", default="128,512,1024")
    args = parser.parse_args()
    vectors, queries, truth = dataset(args.count, density_of=1_000_000)
    for add in (int(a) for a in args.adds.split(",")):
        ann.EXPANSION_ADD = add  # read when a Graph is made
        graph = ann.Graph(DIM)
        started = time.perf_counter()
        graph.add(numpy.arange(args.count), vectors)
        build_s = time.perf_counter() - started

        def search(query: numpy.ndarray, graph: ann.Graph = graph) -> numpy.ndarray:
            slots = graph.search(query, 4 * ann.MIN_CANDIDATES)
            return slots[numpy.argsort(-(vectors[slots] @ query))[:K]]

        for expansion in (int(e) for e in args.expansions.split(",")):
            graph._index.expansion_search = expansion
            figures = timed_recall(search, queries, truth)
            print(f"{args.count} rows, add-time {add} (build {build_s:.0f} s, "
                  f"{args.count / build_s:.0f} rows/s), search {expansion}: {figures}",
                  flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
