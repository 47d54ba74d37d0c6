"""One knowledge base's vectors, under `<data_dir>/vectors/<kb_id>/`: exact search with numpy.

Exact, not an ANN index, by measurement (bench/retrieval, docs/knowledge.md): over 100k × 384
vectors on the 2-core development machine a numpy matrix-vector product answers top-10 in a few
milliseconds, well inside the 15 ms target, with recall 1.0 by construction; HNSW (hnswlib,
usearch) answers in under a millisecond but costs a ~40 s build per 100k vectors, approximate
results, deletion bookkeeping, and a filter that calls back into Python per candidate.

On disk an index is one file, `index.sagevec`: a header, the int64 ids, then the float32 rows.
`save()` writes a temporary file, fsyncs it, renames it over the old one and fsyncs the folder,
so a crash at any moment leaves either the old or the new index, never a torn one.

Methods are synchronous and thread-safe; async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import os
import shutil
import struct
import threading
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy

FILE_NAME = "index.sagevec"
MAGIC = b"SAGEVEC1"
_HEADER = struct.Struct("<8sIQ")  # magic, dim, count
# With fewer allowed rows than this share of the index, score only those rows (gathering is
# cheaper than scoring everything); with more, score everything and pick the allowed ones.
_GATHER_BELOW = 0.25


class CorruptIndexError(Exception):
    """The index file is not one this module wrote, or it was cut short."""


class VectorIndex:
    def __init__(self, directory: Path, dim: int) -> None:
        if dim <= 0:
            raise ValueError(f"dimension must be positive, got {dim}")
        self.directory = directory
        self.dim = dim
        self._lock = threading.RLock()
        self._ids = numpy.zeros(0, dtype=numpy.int64)
        self._rows = numpy.zeros((0, dim), dtype=numpy.float32)  # capacity ≥ count
        self._count = 0
        self._position: dict[int, int] = {}
        self._sorted: tuple[numpy.ndarray, numpy.ndarray] | None = None  # ids sorted, their rows
        self._dirty = False

    @classmethod
    def open(cls, directory: Path, dim: int) -> VectorIndex:
        """The index saved in `directory`, or a new empty one (nothing is written until save)."""
        index = cls(directory, dim)
        path = directory / FILE_NAME
        if path.exists():
            index._load(path)
        return index

    def __len__(self) -> int:
        return self._count

    def add(self, ids: numpy.ndarray, vectors: numpy.ndarray) -> None:
        """Insert rows; an id already present gets its vector replaced."""
        ids = numpy.asarray(ids, dtype=numpy.int64).reshape(-1)
        vectors = numpy.asarray(vectors, dtype=numpy.float32)
        if vectors.ndim != 2 or vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected {len(ids)} vectors of {self.dim}, got {vectors.shape}")
        if len(numpy.unique(ids)) != len(ids):
            raise ValueError("duplicate ids in one add")
        with self._lock:
            fresh = [i for i, key in enumerate(ids.tolist()) if key not in self._position]
            for i, key in enumerate(ids.tolist()):
                row = self._position.get(key)
                if row is not None:
                    self._rows[row] = vectors[i]
            if fresh:
                self._reserve(self._count + len(fresh))
                end = self._count + len(fresh)
                self._ids[self._count : end] = ids[fresh]
                self._rows[self._count : end] = vectors[fresh]
                for offset, key in enumerate(ids[fresh].tolist()):
                    self._position[key] = self._count + offset
                self._count = end
                self._sorted = None
            self._dirty = True

    def remove(self, ids: Iterable[int]) -> None:
        """Drop rows by id; unknown ids are ignored. The last row moves into each hole."""
        with self._lock:
            for key in ids:
                row = self._position.pop(int(key), None)
                if row is None:
                    continue
                last = self._count - 1
                if row != last:
                    moved = int(self._ids[last])
                    self._ids[row] = moved
                    self._rows[row] = self._rows[last]
                    self._position[moved] = row
                self._count = last
                self._sorted = None
                self._dirty = True

    def search(
        self, query: numpy.ndarray, k: int, allowed_ids: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """The k nearest rows as (id, cosine), best first; with `allowed_ids`, only among those."""
        query = numpy.asarray(query, dtype=numpy.float32).reshape(-1)
        if query.shape != (self.dim,):
            raise ValueError(f"query has {query.shape[0]} dimensions, the index {self.dim}")
        with self._lock:
            if k <= 0 or self._count == 0:
                return []
            if allowed_ids is None:
                scores = self._rows[: self._count] @ query
                rows = None
            else:
                rows = self._rows_of(allowed_ids)
                if len(rows) == 0:
                    return []
                if len(rows) < self._count * _GATHER_BELOW:
                    scores = self._rows[rows] @ query
                else:
                    scores = (self._rows[: self._count] @ query)[rows]
            top = _top_k(scores, k)
            hits = top if rows is None else rows[top]
            return list(zip(self._ids[hits].tolist(), scores[top].tolist(), strict=True))

    def _rows_of(self, ids: Collection[int]) -> numpy.ndarray:
        """Row numbers of the ids present, vectorised: a filter can hold tens of thousands of
        ids, and a Python loop over them costs more than the search itself."""
        if isinstance(ids, numpy.ndarray):
            wanted = ids.astype(numpy.int64, copy=False).reshape(-1)
        else:
            wanted = numpy.fromiter(ids, dtype=numpy.int64, count=len(ids))
        if self._sorted is None:  # rebuilt after a change, then reused by every filter
            order = numpy.argsort(self._ids[: self._count], kind="stable")
            self._sorted = (self._ids[: self._count][order], order)
        keys, order = self._sorted
        at = numpy.minimum(numpy.searchsorted(keys, wanted), max(len(keys) - 1, 0))
        found = keys[at] == wanted if len(keys) else numpy.zeros(len(wanted), dtype=bool)
        present = numpy.zeros(self._count, dtype=bool)  # de-duplicates and sorts, in O(n)
        present[order[at[found]]] = True
        return numpy.flatnonzero(present)

    def vectors(self, ids: Iterable[int]) -> numpy.ndarray:
        """The stored rows for these ids, in their order (e.g. for MMR); KeyError if one is
        missing."""
        with self._lock:
            rows = [self._position[int(key)] for key in ids]
            return self._rows[rows].copy()

    def save(self) -> None:
        """Write the index durably and atomically (no-op when nothing changed)."""
        with self._lock:
            if not self._dirty:
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            path = self.directory / FILE_NAME
            temporary = path.with_name(path.name + ".tmp")
            with open(temporary, "wb") as out:
                out.write(_HEADER.pack(MAGIC, self.dim, self._count))
                out.write(self._ids[: self._count].tobytes())
                out.write(self._rows[: self._count].tobytes())
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
            _fsync_directory(self.directory)
            self._dirty = False

    def _load(self, path: Path) -> None:
        with open(path, "rb") as source:
            header = source.read(_HEADER.size)
            if len(header) != _HEADER.size:
                raise CorruptIndexError(f"{path}: too short for a header")
            magic, dim, count = _HEADER.unpack(header)
            if magic != MAGIC:
                raise CorruptIndexError(f"{path}: not a vector index")
            if dim != self.dim:
                raise ValueError(f"{path} holds {dim}-dimensional vectors, expected {self.dim}")
            ids = numpy.fromfile(source, dtype=numpy.int64, count=count)
            rows = numpy.fromfile(source, dtype=numpy.float32, count=count * dim)
            if len(ids) != count or len(rows) != count * dim or source.read(1):
                raise CorruptIndexError(f"{path}: size does not match its header")
        self._ids = ids
        self._rows = rows.reshape(count, dim)
        self._count = count
        self._position = {key: row for row, key in enumerate(ids.tolist())}

    def _reserve(self, needed: int) -> None:
        capacity = len(self._ids)
        if needed <= capacity:
            return
        capacity = max(needed, capacity * 2, 1024)  # amortised appends
        ids = numpy.zeros(capacity, dtype=numpy.int64)
        rows = numpy.zeros((capacity, self.dim), dtype=numpy.float32)
        ids[: self._count] = self._ids[: self._count]
        rows[: self._count] = self._rows[: self._count]
        self._ids, self._rows = ids, rows


def _top_k(scores: numpy.ndarray, k: int) -> numpy.ndarray:
    """Indexes of the k largest scores, largest first (ties: lower index first)."""
    if k < len(scores):
        part = numpy.argpartition(-scores, k - 1)[:k]
    else:
        part = numpy.arange(len(scores))
    return part[numpy.lexsort((part, -scores[part]))]


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); Windows has no directory handles to sync."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def drop_index(directory: Path) -> None:
    """Delete a base's index folder (a missing one is fine)."""
    shutil.rmtree(directory, ignore_errors=True)
