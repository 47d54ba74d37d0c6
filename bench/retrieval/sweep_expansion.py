"""bench/retrieval: recall@10 and latency of a built graph against its search-time expansion.

For an index `bench_million.py --keep DIR` left behind: regenerates the same data (seed 7) and its
exact top 10, maps the newest graph in DIR/kb and searches it at each expansion, rescoring the
candidates with the float rows as the sidecar does (rows added after the build, ids >= COUNT,
are skipped). Prints one line per setting; the figures go in bench/results/retrieval.json by hand.

Usage: sweep_expansion.py DIR [--count N] [--expansions 128,256,512,1024] [--candidates 160]
"""

import argparse
from pathlib import Path

import numpy
from bench_million import DIM, K, dataset, timed_recall

from sage_sidecar.knowledge import ann


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--expansions", default="128,256,512,1024")
    parser.add_argument("--candidates", type=int, default=4 * ann.MIN_CANDIDATES)
    args = parser.parse_args()
    vectors, queries, truth = dataset(args.count)  # the same data as bench_million.py
    del vectors
    kb = args.folder / "kb"
    graph = ann.Graph.view(sorted(kb.glob("graph-*.usearch"))[-1], DIM)
    rows = numpy.memmap(kb / "rows.f32", dtype=numpy.float32, mode="r").reshape(-1, DIM)
    ids = numpy.fromfile(kb / "ids.i64", dtype=numpy.int64)

    def search(query: numpy.ndarray) -> numpy.ndarray:
        slots = graph.search(query, args.candidates)
        slots = slots[ids[slots] < args.count]
        return ids[slots[numpy.argsort(-(numpy.asarray(rows[slots]) @ query))[:K]]]

    for expansion in (int(e) for e in args.expansions.split(",")):
        graph._index.expansion_search = expansion
        figures = timed_recall(search, queries, truth)
        print(f"expansion {expansion}, {args.candidates} candidates: {figures}", flush=True)


if __name__ == "__main__":
    main()
