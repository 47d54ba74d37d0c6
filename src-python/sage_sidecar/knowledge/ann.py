"""The approximate part of a vector index: a usearch HNSW graph with int8 vectors, keyed by slot.

Parameters by measurement (bench/retrieval/bench_million.py, sweep_expansion.py, docs/knowledge.md),
on clustered 384-d rows at a 1M set's density, 160 candidates rescored in float32 by the caller:
- the add-time expansion decides the graph's quality: at 300k rows (one build each, quiet 2 cores)
  64 gave recall@10 0.85 / 0.93 / 0.96 at search expansion 128 / 512 / 1024, 128 gave 0.96 / 0.989 /
  0.991, for a build 1.3× slower (1,078 rows/s against 1,389). So 128.
- the search-time expansion, not the candidates rescored, moves recall once the graph is built (1M,
  add-time 64: 128 → 0.87, 1024 → 0.94; 400 candidates instead of 160 add ~0), at ~9 ms p50 for
  1024 at 1M. At 100k rows recall is 1.0 either way. Cosine metric.

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
EXPANSION_ADD = 128
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
