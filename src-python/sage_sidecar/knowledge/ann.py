"""The approximate part of a vector index: a usearch HNSW graph with int8 vectors, keyed by slot.

Parameters by measurement (bench/retrieval/bench_million.py, docs/knowledge.md): connectivity 16
and an add-time expansion of 64 build at about 1,000 rows a second on 2 cores; a search-time
expansion of `EXPANSION_SEARCH`, fetching 4 × `MIN_CANDIDATES` candidates (more when a filter or
tombstones hide some) rescored with float32 rows by the caller. At 1M clustered rows the graph's
recall@10 grows with the search expansion and not with the candidates rescored (this machine,
quiet, one graph: 128 → 0.87 at 2.2 ms p50, 256 → 0.91, 512 → 0.92 at 4.6 ms, 1024 → 0.94 at
8.9 ms; 400 candidates instead of 160 add ~0), so 1024: still short of the 0.95 target, which a
graph built with a larger add-time expansion may reach (not measured: a 1M build takes 20–30 min).
At 100k rows recall is 1.0 either way. Cosine metric.

Rows are quantized here (`quantize`), not by usearch: its own float → int8 cast normalises a
row and stores `x * 127` truncated, and the components of a unit 384-d embedding are about
±0.05, so they used ±21 of ±127 — about 5 bits. The graph's own ranking then missed true
neighbours (recall@10 0.85 at 1M rows with 160 candidates rescored; 0.90 graph-only at 20k rows).
Scaled so a row's largest component is ±127 (cosine ignores scale), the same 20k rows reach
0.986 graph-only (tests/test_ann.py). Graphs built before keep their coarse rows and stay
searchable: a cosine between a coarse and a fine row is still a cosine.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy

if TYPE_CHECKING:
    from usearch.index import Index

CONNECTIVITY = 16
EXPANSION_ADD = 64
EXPANSION_SEARCH = 1024
MIN_CANDIDATES = 40  # the caller fetches 4× this (at least) per query before rescoring
THREADS = 2  # the sidecar never has more than this to itself
# A growth in the background leaves the other core to searches and the embedder: ingest adds
# ~60 chunks/s, so the next 50k rows take ~15 min to come, and a one-thread growth keeps up.
BACKGROUND_THREADS = 1


@cache
def _usearch_index() -> type[Index]:
    """usearch's Index class, imported on first use and only after onnxruntime: loading
    onnxruntime's library after usearch's compiled module crashes the process (SIGSEGV in
    onnxruntime's initialisers, tests/test_ann_load_order.py),
    while the other order works. Lazy also keeps usearch out of start-up."""
    import onnxruntime  # noqa: F401  (load order, see above)
    from usearch.index import Index

    return Index


class Graph:
    """Add, save, load or map, search. Not thread-safe: `VectorIndex` holds its lock."""

    def __init__(self, dim: int, index: Index | None = None) -> None:
        self.dim = dim
        self._index = index or _usearch_index()(
            ndim=dim,
            metric="cos",
            dtype="i8",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )

    @classmethod
    def load(cls, path: Path, dim: int) -> Graph:
        """Read a saved graph into memory, to add to it."""
        return cls._restore(path, dim, view=False)

    @classmethod
    def view(cls, path: Path, dim: int) -> Graph:
        """Map a saved graph read-only: pages load as searches touch them."""
        return cls._restore(path, dim, view=True)

    @classmethod
    def _restore(cls, path: Path, dim: int, *, view: bool) -> Graph:
        index = _usearch_index().restore(
            str(path), view=view, expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH
        )
        if index is None or index.ndim != dim:
            from sage_sidecar.knowledge.vectors import CorruptIndexError

            raise CorruptIndexError(f"{path}: not a {dim}-dimensional graph")
        return cls(dim, index)

    def __len__(self) -> int:
        return len(self._index)

    def add(self, slots: numpy.ndarray, vectors: numpy.ndarray, threads: int = THREADS) -> None:
        if len(slots):
            self._index.add(slots.astype(numpy.uint64), quantize(vectors), threads=threads)

    def save(self, path: Path) -> None:
        self._index.save(str(path))

    def search(self, query: numpy.ndarray, count: int) -> numpy.ndarray:
        """Up to `count` slots, nearest first (int8 distances: the caller rescores)."""
        matches = self._index.search(quantize(query)[0], count)
        return numpy.asarray(matches.keys, dtype=numpy.int64)


def quantize(vectors: numpy.ndarray) -> numpy.ndarray:
    """Rows as int8, each scaled so its largest component is ±127 (see the module's docstring);
    an all-zero row stays zero. Always 2-D."""
    rows = numpy.atleast_2d(numpy.asarray(vectors, dtype=numpy.float32))
    peak = numpy.abs(rows).max(axis=1, keepdims=True)
    scaled = rows * (127.0 / numpy.where(peak > 0, peak, numpy.float32(1)))
    return numpy.rint(scaled).astype(numpy.int8)
