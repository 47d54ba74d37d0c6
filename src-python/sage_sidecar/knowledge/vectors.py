"""One knowledge base's vectors, under `<data_dir>/vectors/<kb_id>/`: exact numpy search for the
newest rows, an int8 HNSW graph (usearch, memory-mapped) for the rest.

Chosen by measurement (bench/retrieval, docs/knowledge.md "The vector index"). A base of up to
`EXACT_LIMIT` rows is searched exactly, as before: a numpy product over 50k × 384 answers in a few
milliseconds with recall 1. Past that, the older rows move into a usearch HNSW graph that stores
int8 vectors (a quarter of float32) and is opened with `view=True`, so it is mapped, not read:
only the pages a search touches become resident. The graph's candidates are rescored with the
exact float32 rows, so scores stay true cosines.

On disk, all in the base's folder:
- `rows.f32` / `ids.i64`: every row ever added, appended in slot order (slot = position);
- `graph-<n>.usearch`: the HNSW over slots [0, graph_count), keyed by slot;
- `manifest.sagevec`: dim, the committed slot count, graph_count and generation, and the dead
  (removed or replaced) slots. It is the commit point: written to a temporary file, fsynced and
  renamed, after the rows and the graph it names are durable. A crash at any moment leaves the
  last manifest, whose rows and graph are intact; bytes past its count and graphs it does not
  name are leftovers, ignored and then cleaned.

Adding appends to the exact part (in memory until `save()`); when that part outgrows
`EXACT_LIMIT`, its rows are added to the graph (incrementally, not a rebuild) and the graph is
written as a new generation: by `save()` itself, or — `save(background=True)`, as ingest saves —
by a background thread whose graph the next save installs, so that a save never waits for a
growth (a minute and more at 1M rows) unless the exact part reached `HARD_LIMIT_FACTOR` times its
limit (then it waits, so memory stays bounded when the builder cannot keep up). Removing marks slots dead (tombstones) — a mapped graph cannot be
edited — and searches skip them. An older `index.sagevec` (format 1) is converted at first open.

Methods are synchronous and thread-safe; async callers use `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import struct
import threading
import zlib
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Any

import numpy

from sage_sidecar.knowledge import ann

log = logging.getLogger(__name__)

MANIFEST = "manifest.sagevec"
ROWS = "rows.f32"
IDS = "ids.i64"
LEGACY_FILE = "index.sagevec"  # format 1: header, ids, float32 rows; converted at open
FILE_NAME = MANIFEST
MAGIC = b"SAGEVEC2"
LEGACY_MAGIC = b"SAGEVEC1"
_MANIFEST = struct.Struct("<8sIQQQQ")  # magic, dim, count, graph_count, graph_gen, dead count
_LEGACY_HEADER = struct.Struct("<8sIQ")  # magic, dim, count
# Rows searched exactly before they move into the graph: 50k × 384 float32 is 75 MB and ~4 ms a
# query on 2 cores (bench/retrieval), and a graph is not worth its build below that.
EXACT_LIMIT = 50_000
# A background save lets the exact part grow while a graph growth is built (rows keep arriving
# meanwhile); at this many times the limit it waits for that growth instead, falling back to
# growing in the save when none could be built: memory stays bounded (150k × 384 float32 is
# 230 MB) if the builder cannot keep up with the adds.
HARD_LIMIT_FACTOR = 3
# A filter allowing at most this many graph rows is answered exactly from the rows file (a
# gather of up to 30 MB, ~10 ms), past it by the graph, over-fetching by 4× the share hidden
# (at 2× a 10% filter measured recall@10 0.946, at 4× 0.975).
_GATHER_LIMIT = 20_000


class CorruptIndexError(Exception):
    """The index files are not ones this module wrote, or they were cut short."""


class VectorIndex:
    def __init__(self, directory: Path, dim: int, exact_limit: int = EXACT_LIMIT) -> None:
        if dim <= 0:
            raise ValueError(f"dimension must be positive, got {dim}")
        self.directory = directory
        self.dim = dim
        self.exact_limit = exact_limit
        self._lock = threading.RLock()
        self._ids = numpy.zeros(0, dtype=numpy.int64)  # slot → id (capacity ≥ count)
        self._alive = numpy.zeros(0, dtype=bool)  # slot → not removed or replaced
        self._count = 0  # slots, dead ones included
        self._live = 0
        self._saved = 0  # slots durable in rows.f32 / ids.i64
        self._graph: ann.Graph | None = None
        self._graph_count = 0  # slots [0, graph_count) are in the graph
        self._graph_gen = 0
        self._exact = numpy.zeros((0, dim), dtype=numpy.float32)  # rows of slots ≥ graph_count
        self._sorted: tuple[numpy.ndarray, numpy.ndarray] | None = None  # live ids sorted, slots
        self._growth: _Growth | None = None  # the background growth being built
        self._prepared: tuple[int, int, Path] | None = None  # (from generation, up to slot, file)
        self._closed = False  # dropped: a growth still running must not write its folder
        self.on_grown: Callable[[], None] | None = None  # called once a growth is ready to save
        self._dirty = False

    @classmethod
    def open(cls, directory: Path, dim: int, exact_limit: int = EXACT_LIMIT) -> VectorIndex:
        """The index saved in `directory`, or a new empty one (nothing is written until save)."""
        index = cls(directory, dim, exact_limit)
        if (directory / MANIFEST).exists():
            index._load()
        elif (directory / LEGACY_FILE).exists():
            index._convert_legacy(directory / LEGACY_FILE)
        return index

    def __len__(self) -> int:
        return self._live

    # -- changes --------------------------------------------------------------------------

    def add(self, ids: numpy.ndarray, vectors: numpy.ndarray) -> None:
        """Insert rows; an id already present gets its vector replaced."""
        ids = numpy.asarray(ids, dtype=numpy.int64).reshape(-1)
        vectors = numpy.asarray(vectors, dtype=numpy.float32)
        if vectors.ndim != 2 or vectors.shape != (len(ids), self.dim):
            raise ValueError(f"expected {len(ids)} vectors of {self.dim}, got {vectors.shape}")
        if len(numpy.unique(ids)) != len(ids):
            raise ValueError("duplicate ids in one add")
        if not len(ids):
            return
        with self._lock:
            self._kill(self._slots_of(ids))  # a replaced row's old slot dies
            start, end = self._count, self._count + len(ids)
            self._reserve(end)
            self._ids[start:end] = ids
            self._alive[start:end] = True
            self._exact[start - self._graph_count : end - self._graph_count] = vectors
            self._count = end
            self._live += len(ids)
            if self._sorted is not None:  # kept up to date: a full argsort per add is slow at 1M
                keys, order = self._sorted
                new = numpy.argsort(ids, kind="stable")
                at = numpy.searchsorted(keys, ids[new])
                slots = numpy.arange(start, end, dtype=numpy.int64)[new]
                self._sorted = (numpy.insert(keys, at, ids[new]), numpy.insert(order, at, slots))
            self._dirty = True

    def remove(self, ids: Iterable[int]) -> None:
        """Drop rows by id; unknown ids are ignored."""
        wanted = numpy.fromiter((int(key) for key in ids), dtype=numpy.int64)
        with self._lock:
            self._kill(self._slots_of(wanted))

    def _kill(self, slots: numpy.ndarray) -> None:
        if len(slots):
            self._alive[slots] = False
            self._live -= len(slots)
            if self._sorted is not None:
                keys, order = self._sorted
                at = numpy.searchsorted(keys, self._ids[slots])  # live ids are unique
                self._sorted = (numpy.delete(keys, at), numpy.delete(order, at))
            self._dirty = True

    # -- reads ----------------------------------------------------------------------------

    def search(
        self, query: numpy.ndarray, k: int, allowed_ids: Collection[int] | None = None
    ) -> list[tuple[int, float]]:
        """The k nearest rows as (id, cosine), best first; with `allowed_ids`, only among those."""
        query = numpy.asarray(query, dtype=numpy.float32).reshape(-1)
        if query.shape != (self.dim,):
            raise ValueError(f"query has {query.shape[0]} dimensions, the index {self.dim}")
        with self._lock:
            if k <= 0 or self._live == 0:
                return []
            allowed = None if allowed_ids is None else self._slots_of(_as_ids(allowed_ids))
            if allowed is not None and len(allowed) == 0:
                return []
            slots, scores = self._search_exact_part(query, k, allowed)
            if self._graph_count:
                more_slots, more_scores = self._search_graph(query, k, allowed)
                slots = numpy.concatenate([slots, more_slots])
                scores = numpy.concatenate([scores, more_scores])
            top = _top_k(scores, k, self._ids[slots])
            return list(zip(self._ids[slots[top]].tolist(), scores[top].tolist(), strict=True))

    def _search_exact_part(
        self, query: numpy.ndarray, k: int, allowed: numpy.ndarray | None
    ) -> tuple[numpy.ndarray, numpy.ndarray]:
        base = self._graph_count
        if allowed is None:
            slots = base + numpy.flatnonzero(self._alive[base : self._count])
        else:
            slots = allowed[allowed >= base]
        if len(slots) == self._count - base:
            scores = self._exact[: len(slots)] @ query
        else:
            scores = self._exact[slots - base] @ query
        top = _top_k(scores, k, slots)
        return slots[top], scores[top]

    def _search_graph(
        self, query: numpy.ndarray, k: int, allowed: numpy.ndarray | None
    ) -> tuple[numpy.ndarray, numpy.ndarray]:
        assert self._graph is not None
        graph_live = int(self._alive[: self._graph_count].sum())
        pool = graph_live if allowed is None else int((allowed < self._graph_count).sum())
        if pool == 0:
            return _empty()
        # The graph answers with its own int8 distances; fetch more than k, then rescore. A filter
        # and tombstones hide their shares of what it returns (the graph holds `_graph_count`
        # rows, `pool` of them may answer): scaled by them, not one more candidate per tombstone
        # (1% removed at 1M rows meant 10k candidates to rescore a query).
        share = self._graph_count / pool
        fetch = int(max(k, ann.MIN_CANDIDATES) * share * 4)
        if (allowed is not None and pool <= _GATHER_LIMIT) or fetch >= self._graph_count:
            slots = (
                numpy.flatnonzero(self._alive[: self._graph_count])
                if allowed is None
                else allowed[allowed < self._graph_count]
            )
            return self._rescore(query, slots, k)
        while True:
            found = self._graph.search(query, fetch)
            keep = self._alive[found]
            if allowed is not None:
                keep &= _member(found, allowed)
            slots = found[keep]
            if len(slots) >= k or fetch >= self._graph_count:
                return self._rescore(query, slots, k)
            fetch *= 4

    def _rescore(
        self, query: numpy.ndarray, slots: numpy.ndarray, k: int
    ) -> tuple[numpy.ndarray, numpy.ndarray]:
        if not len(slots):
            return _empty()
        scores = self._graph_rows(slots) @ query
        top = _top_k(scores, k, slots)
        return slots[top], scores[top]

    def _graph_rows(self, slots: numpy.ndarray) -> numpy.ndarray:
        """Float rows of graph slots, read through a mapping dropped right after: pages stay in
        the OS cache, not in the sidecar's resident memory."""
        rows = numpy.memmap(
            self.directory / ROWS, dtype=numpy.float32, mode="r", shape=(self._saved, self.dim)
        )
        gathered = numpy.asarray(rows[numpy.asarray(slots)])  # fancy indexing copies
        del rows  # unmaps
        return gathered

    def vectors(self, ids: Iterable[int]) -> numpy.ndarray:
        """The stored rows for these ids, in their order (e.g. for MMR); KeyError if one is
        missing."""
        wanted = numpy.fromiter((int(key) for key in ids), dtype=numpy.int64)
        with self._lock:
            keys, order = self._lookup()
            at = numpy.minimum(numpy.searchsorted(keys, wanted), max(len(keys) - 1, 0))
            if not len(keys) or not numpy.array_equal(keys[at], wanted):
                missing = wanted if not len(keys) else wanted[keys[at] != wanted]
                raise KeyError(int(missing[0]))
            slots = order[at]
            result = numpy.zeros((len(slots), self.dim), dtype=numpy.float32)
            in_graph = slots < self._graph_count
            if in_graph.any():
                result[in_graph] = self._graph_rows(slots[in_graph])
            result[~in_graph] = self._exact[slots[~in_graph] - self._graph_count]
            return result

    def _slots_of(self, ids: numpy.ndarray) -> numpy.ndarray:
        """Live slots of the ids present, sorted, vectorised: a filter can hold tens of
        thousands of ids, and a Python loop over them costs more than the search itself."""
        keys, order = self._lookup()
        if not len(keys) or not len(ids):
            return numpy.zeros(0, dtype=numpy.int64)
        at = numpy.minimum(numpy.searchsorted(keys, ids), len(keys) - 1)
        found = keys[at] == ids
        return numpy.unique(order[at[found]])

    def _lookup(self) -> tuple[numpy.ndarray, numpy.ndarray]:
        if self._sorted is None:  # built once, then kept in step by add and remove
            slots = numpy.flatnonzero(self._alive[: self._count])
            order = numpy.argsort(self._ids[slots], kind="stable")
            self._sorted = (self._ids[slots][order], slots[order])
        return self._sorted

    # -- disk -----------------------------------------------------------------------------

    @property
    def hard_limit(self) -> int:
        return self.exact_limit * HARD_LIMIT_FACTOR

    def close(self) -> None:
        """The index was dropped: a growth still running throws its graph away."""
        self._closed = True

    def settle(self) -> None:
        """Wait for the background growth when the exact part reached the hard limit; call it
        outside any lock the growth's callback may take. A no-op below that limit."""
        growth = self._growth
        if growth is not None and self._count - self._graph_count > self.hard_limit:
            growth.wait()

    def save(self, *, background: bool = False) -> None:
        """Write the index durably and atomically (no-op when nothing changed). The exact part's
        growth past its limit goes into the graph here, or with `background`, in a thread whose
        graph the next save installs (`settle()` first, outside the caller's locks)."""
        growth = self._growth
        if (
            growth is not None
            and not background
            and growth.thread is not threading.current_thread()
        ):
            growth.wait()  # a plain save grows the graph itself: let a running growth land
        elif background:
            self.settle()
        with self._lock:
            prepared, self._prepared = self._prepared, None
            if prepared is not None and prepared[0] != self._graph_gen:
                _unlink_quietly(prepared[2])
                prepared = None
            if self._dirty or prepared is not None:
                self._save_locked(prepared, background)
            if background:
                self._start_growth()

    def _save_locked(self, prepared: tuple[int, int, Path] | None, background: bool) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._append_rows()
        graph, graph_count, graph_gen = self._graph, self._graph_count, self._graph_gen
        if prepared is not None:  # a background growth: rename it into place
            graph_count, graph_gen = prepared[1], graph_gen + 1
            os.replace(prepared[2], self.directory / _graph_name(graph_gen))
        exact = self._count - graph_count
        if exact > (self.hard_limit if background else self.exact_limit) and (
            not background or self._growth is None
        ):
            fresh = graph_count + numpy.flatnonzero(self._alive[graph_count : self._count])
            rows = self._exact[fresh - self._graph_count]
            temporary = self.directory / _temporary_graph(graph_gen + 1)
            self._build_graph(temporary, graph_count, graph_gen, fresh, rows)
            graph_count, graph_gen = self._count, graph_gen + 1
            os.replace(temporary, self.directory / _graph_name(graph_gen))
        if graph_gen != self._graph_gen:  # mapped before the manifest commits it
            graph = ann.Graph.view(self.directory / _graph_name(graph_gen), self.dim)
        self._write_manifest(graph_count, graph_gen)
        if graph_count != self._graph_count:
            self._exact = self._exact[graph_count - self._graph_count :].copy()
            old = self._graph_gen
            self._graph, self._graph_count, self._graph_gen = graph, graph_count, graph_gen
            for generation in range(old, graph_gen):  # the previous one, and any in between
                _unlink_quietly(self.directory / _graph_name(generation))
        self._dirty = False

    def _start_growth(self) -> None:
        """Build the next generation from a snapshot of the exact part in a daemon thread, when
        it outgrew its limit and no growth is running or waiting (called with the lock held).
        Only where the folder exists: a dropped index must not bring its folder back. A daemon:
        quitting does not wait for it; its temporary graph is cleaned at the next open, and the
        rows it was moving are durable in the exact part."""
        base, gen, upto = self._graph_count, self._graph_gen, self._count
        if (
            self._growth is not None
            or self._prepared is not None
            or self._closed
            or upto - base <= self.exact_limit
            or not self.directory.is_dir()
        ):
            return
        fresh = base + numpy.flatnonzero(self._alive[base:upto])
        rows = self._exact[fresh - base]  # fancy indexing copies: adds may go on meanwhile
        temporary = self.directory / _temporary_graph(gen + 1)
        growth = _Growth(self._grow, (base, gen, upto, temporary), [(fresh, rows)])
        self._growth = growth
        growth.thread.start()

    def _grow(self, base: int, gen: int, upto: int, path: Path) -> None:
        """The background growth's thread: build, then hand the graph to the next save."""
        growth = self._growth
        assert growth is not None
        try:
            slots, rows = growth.snapshot.pop()  # not kept past the build (75 MB at the limit)
            if self._closed:
                return
            self._build_graph(path, base, gen, slots, rows, ann.BACKGROUND_THREADS)
            del slots, rows
        except Exception:  # e.g. the folder dropped meanwhile, a full disk; the next save retries
            _unlink_quietly(path)
            if not self._closed:
                log.exception("growing the vector graph in %s failed", self.directory)
            return
        finally:
            with self._lock:
                self._growth = None
                if path.exists():
                    if self._graph_gen == gen and not self._closed:
                        self._prepared = (gen, upto, path)
                    else:
                        _unlink_quietly(path)
                if self._closed:
                    _rmdir_quietly(self.directory)  # in case the drop raced the graph's file
            growth.done.set()
        callback = self.on_grown
        if callback is not None and self._prepared is not None:
            try:
                callback()
            except Exception:
                log.exception("saving the grown vector graph in %s failed", self.directory)

    def _append_rows(self) -> None:
        """Append the unsaved slots to rows.f32 and ids.i64 (past the committed count, which
        also overwrites a torn append a crash left) and make them durable."""
        if self._count == self._saved:
            return
        start = self._saved - self._graph_count
        rows = self._exact[start : self._count - self._graph_count]
        for name, data, width in (
            (ROWS, rows, self.dim * 4),
            (IDS, self._ids[self._saved : self._count], 8),
        ):
            with open(self.directory / name, "ab") as _:
                pass  # create it
            with open(self.directory / name, "r+b") as out:
                out.seek(self._saved * width)
                out.write(numpy.ascontiguousarray(data).tobytes())
                out.truncate()
                out.flush()
                os.fsync(out.fileno())
        self._saved = self._count

    def _build_graph(
        self,
        path: Path,
        base: int,
        gen: int,
        slots: numpy.ndarray,
        rows: numpy.ndarray,
        threads: int = ann.THREADS,
    ) -> None:
        """The graph of generation `gen` (slots below `base`) plus these rows, added
        incrementally, not rebuilt, written durably to `path` (the mapped graph cannot change,
        so each growth is a new generation)."""
        current = self.directory / _graph_name(gen)
        graph = ann.Graph.load(current, self.dim) if base else ann.Graph(self.dim)
        graph.add(slots, rows, threads)
        graph.save(path)
        _fsync_file(path)

    def _write_manifest(self, graph_count: int, graph_gen: int) -> None:
        dead = numpy.flatnonzero(~self._alive[: self._count]).astype(numpy.int64)
        body = _MANIFEST.pack(MAGIC, self.dim, self._count, graph_count, graph_gen, len(dead))
        body += dead.tobytes()
        path = self.directory / MANIFEST
        temporary = path.with_name(path.name + ".tmp")
        with open(temporary, "wb") as out:
            out.write(body + struct.pack("<I", zlib.crc32(body)))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
        _fsync_directory(self.directory)

    def _load(self) -> None:
        path = self.directory / MANIFEST
        data = path.read_bytes()
        if len(data) < _MANIFEST.size + 4 or not data.startswith(MAGIC):
            raise CorruptIndexError(f"{path}: not a vector index")
        body, (crc,) = data[:-4], struct.unpack("<I", data[-4:])
        if zlib.crc32(body) != crc:
            raise CorruptIndexError(f"{path}: size or checksum does not match")
        _, dim, count, graph_count, graph_gen, dead_count = _MANIFEST.unpack_from(body)
        if dim != self.dim:
            raise ValueError(f"{path} holds {dim}-dimensional vectors, expected {self.dim}")
        if len(body) != _MANIFEST.size + 8 * dead_count or graph_count > count:
            raise CorruptIndexError(f"{path}: size does not match its header")
        dead = numpy.frombuffer(body, dtype=numpy.int64, offset=_MANIFEST.size)
        ids = _read(self.directory / IDS, numpy.int64, 0, count)
        rows_path = self.directory / ROWS  # the graph's rows are read later, by rescoring
        if count and (not rows_path.exists() or rows_path.stat().st_size < count * dim * 4):
            raise CorruptIndexError(f"{rows_path}: size does not match its manifest")
        exact = _read(
            self.directory / ROWS, numpy.float32, graph_count * dim, (count - graph_count) * dim
        )
        alive = numpy.ones(count, dtype=bool)
        alive[dead] = False
        self._ids, self._alive, self._exact = ids, alive, exact.reshape(-1, dim)
        self._count = self._saved = count
        self._live = int(alive.sum())
        self._graph_count, self._graph_gen = graph_count, graph_gen
        if graph_count:
            self._graph = ann.Graph.view(self.directory / _graph_name(graph_gen), dim)
        self._clean_leftovers()

    def _clean_leftovers(self) -> None:
        """Graphs no manifest names and temporary files: what a crash mid-save left."""
        keep = _graph_name(self._graph_gen) if self._graph_count else None
        for entry in self.directory.iterdir():
            stale_graph = entry.name.startswith("graph-") and entry.name != keep
            if stale_graph or entry.name.endswith(".tmp"):
                _unlink_quietly(entry)

    def _convert_legacy(self, path: Path) -> None:
        """Format 1 (one file, all rows in memory) becomes this format: saved anew, then the old
        file goes. A crash before the new manifest is renamed leaves the old file to convert."""
        with open(path, "rb") as source:
            header = source.read(_LEGACY_HEADER.size)
            if len(header) != _LEGACY_HEADER.size:
                raise CorruptIndexError(f"{path}: too short for a header")
            magic, dim, count = _LEGACY_HEADER.unpack(header)
            if magic != LEGACY_MAGIC:
                raise CorruptIndexError(f"{path}: not a vector index")
            if dim != self.dim:
                raise ValueError(f"{path} holds {dim}-dimensional vectors, expected {self.dim}")
            ids = numpy.fromfile(source, dtype=numpy.int64, count=count)
            rows = numpy.fromfile(source, dtype=numpy.float32, count=count * dim)
            if len(ids) != count or len(rows) != count * dim or source.read(1):
                raise CorruptIndexError(f"{path}: size does not match its header")
        for name in (ROWS, IDS):  # a conversion cut short may have left these
            _unlink_quietly(self.directory / name)
        self.add(ids, rows.reshape(count, dim))
        self._dirty = True
        self.save()
        path.unlink()
        _fsync_directory(self.directory)

    def _reserve(self, needed: int) -> None:
        capacity = len(self._ids)
        if needed > capacity:
            capacity = max(needed, capacity * 2, 1024)  # amortised appends
            self._ids = _grown(self._ids, capacity)
            self._alive = _grown(self._alive, capacity)
        exact_needed = needed - self._graph_count
        if exact_needed > len(self._exact):
            exact_capacity = max(exact_needed, len(self._exact) * 2, 1024)
            self._exact = _grown(self._exact, exact_capacity)


def _grown(array: numpy.ndarray, capacity: int) -> numpy.ndarray:
    grown = numpy.zeros((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[: len(array)] = array
    return grown


def _read(path: Path, dtype: Any, offset_items: int, count: int) -> numpy.ndarray:
    """`count` items from `offset_items` on; bytes past them (a torn append) are ignored."""
    width = numpy.dtype(dtype).itemsize
    try:
        data = numpy.fromfile(path, dtype=dtype, count=count, offset=offset_items * width)
    except FileNotFoundError:
        data = numpy.zeros(0, dtype=dtype)
    if len(data) != count:
        raise CorruptIndexError(f"{path}: size does not match its manifest")
    return data


def _as_ids(ids: Collection[int]) -> numpy.ndarray:
    if isinstance(ids, numpy.ndarray):
        return ids.astype(numpy.int64, copy=False).reshape(-1)
    return numpy.fromiter(ids, dtype=numpy.int64, count=len(ids))


def _member(values: numpy.ndarray, sorted_set: numpy.ndarray) -> numpy.ndarray:
    at = numpy.minimum(numpy.searchsorted(sorted_set, values), len(sorted_set) - 1)
    return numpy.asarray(sorted_set[at] == values)


def _empty() -> tuple[numpy.ndarray, numpy.ndarray]:
    return numpy.zeros(0, dtype=numpy.int64), numpy.zeros(0, dtype=numpy.float32)


def _top_k(scores: numpy.ndarray, k: int, ids: numpy.ndarray) -> numpy.ndarray:
    """Indexes of the k largest scores, largest first (ties: lower id first)."""
    if k < len(scores):
        part = numpy.argpartition(-scores, k - 1)[:k]
    else:
        part = numpy.arange(len(scores))
    return part[numpy.lexsort((ids[part], -scores[part]))]


def _graph_name(generation: int) -> str:
    return f"graph-{generation}.usearch"


def _temporary_graph(generation: int) -> str:
    """Unique: a growth still running for a dropped index must not share its file with the
    index that replaced it in the same folder."""
    return f"{_graph_name(generation)}.{secrets.token_hex(4)}.tmp"


class _Growth:
    """A background growth: its daemon thread, the rows it adds, and `done` once its graph is
    ready or gone."""

    def __init__(
        self,
        target: Callable[..., None],
        args: tuple[Any, ...],
        snapshot: list[tuple[numpy.ndarray, numpy.ndarray]],
    ) -> None:
        self.done = threading.Event()
        self.snapshot = snapshot  # (slots, rows) to add, taken by the thread
        self.thread = threading.Thread(target=target, args=args, name="vector-graph", daemon=True)

    def wait(self) -> None:
        self.done.wait()


def _unlink_quietly(path: Path) -> None:
    """Best effort: on Windows a file still mapped cannot go; the next open cleans it."""
    try:
        path.unlink()
    except OSError:
        pass


def _rmdir_quietly(path: Path) -> None:
    try:
        path.rmdir()  # only when empty
    except OSError:
        pass


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


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
