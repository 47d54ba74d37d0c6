"""The vector index: search against a brute-force reference, removal, filters, and persistence
that survives a crash mid-save — each on both parts of an index: the exact rows and the int8
HNSW graph they move into past `exact_limit` (here 100 rows, so that small tests reach it)."""

import os
import subprocess
import sys
import textwrap
import threading

import numpy
import pytest

from sage_sidecar.knowledge import vectors as vectors_module
from sage_sidecar.knowledge.vectors import FILE_NAME, CorruptIndexError, VectorIndex, drop_index

from sidecar_process import FROZEN

DIM = 32


def clustered(count: int, seed: int = 0, clusters: int = 20) -> numpy.ndarray:
    """Unit vectors around a few centres: realistic neighbourhoods, unlike uniform noise."""
    rng = numpy.random.default_rng(seed)
    centres = rng.standard_normal((clusters, DIM))
    points = centres[rng.integers(0, clusters, count)] + 0.8 * rng.standard_normal((count, DIM))
    return (points / numpy.linalg.norm(points, axis=1, keepdims=True)).astype(numpy.float32)


def brute_force(ids, vectors, query, k):
    scores = vectors @ query
    order = sorted(range(len(ids)), key=lambda i: (-scores[i], i))[:k]
    return [int(ids[i]) for i in order]


GRAPH_LIMIT = 100
GRAPH_RECALL = 0.9  # HNSW is approximate: on 500 rows with off-cluster queries it misses ~1 in 100


class Neighbours:
    """Compares searches with brute force: equal for exact rows; for the graph, hits are checked
    to be rows sorted by their true score, and their overlap with brute force is collected for a
    mean recall at the end — an exact comparison of an approximate index fails at random
    (usearch's graph build is multi-threaded and not deterministic)."""

    def __init__(self, approximate: bool) -> None:
        self.approximate = approximate
        self.recalls: list[float] = []

    def check(self, hits: list[int], expected: list[int]) -> None:
        if not self.approximate:
            assert hits == expected
            return
        assert len(hits) == len(expected) and len(set(hits)) == len(hits)
        self.recalls.append(len(set(hits) & set(expected)) / len(expected))

    def assert_recall(self) -> None:
        if self.approximate:
            assert self.recalls and numpy.mean(self.recalls) >= GRAPH_RECALL, self.recalls


@pytest.fixture(params=["exact", "graph"])
def filled(tmp_path, request):
    """500 rows, all exact, or saved once so that they sit in the graph."""
    ids = numpy.arange(1000, 1500, dtype=numpy.int64)
    vectors = clustered(500)
    graph = request.param == "graph"
    index = VectorIndex.open(
        tmp_path / "kb", DIM, **({"exact_limit": GRAPH_LIMIT} if graph else {})
    )
    index.add(ids, vectors)
    if graph:
        index.save()
        assert index._graph_count == 500 and len(index._graph or []) == 500
    return index, ids, vectors


def test_search_matches_brute_force_with_cosine_scores(filled):
    index, ids, vectors = filled
    neighbours = Neighbours(approximate=index._graph_count > 0)
    for query in clustered(20, seed=1):
        hits = index.search(query, 10)
        neighbours.check([i for i, _ in hits], brute_force(ids, vectors, query, 10))
        scores = [s for _, s in hits]
        assert scores == sorted(scores, reverse=True)
        for key, score in hits:  # rescored with the float rows, whatever found them
            assert score == pytest.approx(float(vectors[ids.tolist().index(key)] @ query))
    neighbours.assert_recall()
    assert len(index) == 500


def test_k_larger_than_the_index_and_empty_index(tmp_path, filled):
    index, ids, _ = filled
    assert sorted(i for i, _ in index.search(clustered(1)[0], 10_000)) == ids.tolist()
    assert index.search(clustered(1)[0], 0) == []
    assert VectorIndex.open(tmp_path / "empty", DIM).search(clustered(1)[0], 5) == []


def test_remove_drops_rows_and_keeps_the_rest_searchable(filled):
    index, ids, vectors = filled
    gone = set(ids[::3].tolist())
    index.remove([*gone, 999_999])  # an unknown id is ignored
    assert len(index) == 500 - len(gone)
    keep = numpy.array([i not in gone for i in ids.tolist()])
    neighbours = Neighbours(approximate=index._graph_count > 0)
    for query in clustered(10, seed=2):
        hits = [i for i, _ in index.search(query, 10)]
        assert not gone & set(hits)
        neighbours.check(hits, brute_force(ids[keep], vectors[keep], query, 10))
    neighbours.assert_recall()


def test_adding_an_existing_id_replaces_its_vector(filled):
    index, ids, vectors = filled
    target = -vectors[0]  # the opposite of row 0
    index.add(numpy.array([ids[0]]), target[None, :])
    assert len(index) == 500
    assert index.search(target, 1)[0] == (int(ids[0]), pytest.approx(1.0))
    numpy.testing.assert_allclose(index.vectors([ids[0], ids[1]]), [target, vectors[1]])
    with pytest.raises(KeyError):
        index.vectors([123])


@pytest.mark.parametrize("share", [0.02, 0.6])  # both paths: gathered rows and masked scores
def test_allowed_ids_filter(filled, share):
    index, ids, vectors = filled
    rng = numpy.random.default_rng(3)
    allowed = set(rng.choice(ids, int(len(ids) * share), replace=False).tolist())
    mask = numpy.array([i in allowed for i in ids.tolist()])
    for query in clustered(10, seed=4):
        hits = [i for i, _ in index.search(query, 5, allowed_ids=allowed | {424242})]
        assert hits == brute_force(ids[mask], vectors[mask], query, 5)
        as_array = numpy.array(sorted(allowed), dtype=numpy.int64)  # arrays are accepted as is
        assert [i for i, _ in index.search(query, 5, allowed_ids=as_array)] == hits
    assert index.search(clustered(1)[0], 5, allowed_ids=set()) == []


def test_filter_stays_right_after_removes_and_adds(filled):
    """The filter's id lookup is cached between searches; every change must invalidate it."""
    index, ids, vectors = filled
    allowed = set(ids[:50].tolist())
    query = clustered(1, seed=6)[0]
    before = index.search(query, 5, allowed_ids=allowed)
    index.remove([before[0][0]])
    after = [i for i, _ in index.search(query, 5, allowed_ids=allowed)]
    assert before[0][0] not in after and after[:4] == [i for i, _ in before[1:]]
    index.add(numpy.array([77]), query[None, :])  # a new id, not allowed: never returned
    assert 77 not in [i for i, _ in index.search(query, 5, allowed_ids=allowed)]
    assert index.search(query, 1, allowed_ids=allowed | {77})[0][0] == 77


def test_wrong_shapes_are_refused(filled):
    index, *_ = filled
    with pytest.raises(ValueError):
        index.add(numpy.array([1]), numpy.zeros((1, DIM + 1), numpy.float32))
    with pytest.raises(ValueError):
        index.add(numpy.array([7, 7]), numpy.zeros((2, DIM), numpy.float32))
    with pytest.raises(ValueError):
        index.search(numpy.zeros(DIM - 1), 3)


def test_save_and_reopen_round_trip(tmp_path, filled):
    index, ids, vectors = filled
    index.remove(ids[:100].tolist())
    index.save()
    again = VectorIndex.open(tmp_path / "kb", DIM)
    assert len(again) == 400
    query = clustered(1, seed=5)[0]
    assert again.search(query, 10) == index.search(query, 10)
    again.add(numpy.array([1]), vectors[:1])  # a loaded index keeps growing
    assert len(again) == 401
    with pytest.raises(ValueError, match="32-dimensional"):
        VectorIndex.open(tmp_path / "kb", 64)


def test_unsaved_changes_are_not_on_disk_and_drop_removes_everything(tmp_path):
    index = VectorIndex.open(tmp_path / "kb", DIM)
    index.add(numpy.arange(10), clustered(10))
    assert not (tmp_path / "kb").exists()  # nothing written before save()
    index.save()
    assert (tmp_path / "kb" / FILE_NAME).exists()
    drop_index(tmp_path / "kb")
    assert not (tmp_path / "kb").exists()
    drop_index(tmp_path / "kb")  # twice is fine
    assert len(VectorIndex.open(tmp_path / "kb", DIM)) == 0


def test_corrupt_or_truncated_file_is_reported(tmp_path, filled):
    index, *_ = filled
    index.save()
    folder = tmp_path / "kb"
    index.remove(range(1000, 1100))  # tombstones make the manifest longer than its header
    index.save()
    path = folder / FILE_NAME
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    with pytest.raises(CorruptIndexError, match="size"):
        VectorIndex.open(folder, DIM)
    path.write_bytes(data)
    rows = (folder / vectors_module.ROWS).read_bytes()
    (folder / vectors_module.ROWS).write_bytes(rows[:-7])  # rows cut short: refused
    with pytest.raises(CorruptIndexError, match="size"):
        VectorIndex.open(folder, DIM)
    (folder / vectors_module.ROWS).write_bytes(rows)
    assert len(VectorIndex.open(folder, DIM)) == 400
    path.write_bytes(b"not an index at all")
    with pytest.raises(CorruptIndexError):
        VectorIndex.open(folder, DIM)


# A save calls fsync on: 1 the appended rows, 2 the appended ids, 3 the new graph (when the
# exact part outgrew its limit), 4 the manifest. Killed at each, the previous index survives.
@pytest.mark.parametrize("dies_at", [1, 2, 3, 4])
def test_a_crash_in_the_middle_of_save_leaves_the_previous_index(tmp_path, dies_at):
    """A real process killed while it writes: the index on disk is still the last saved one."""
    directory = tmp_path / "kb"
    first = VectorIndex.open(directory, DIM, exact_limit=GRAPH_LIMIT)
    first.add(numpy.arange(300), clustered(300))
    first.save()  # 300 rows in graph-1
    first.add(numpy.arange(300, 350), clustered(50, seed=8))
    first.remove([5])
    first.save()  # and 50 exact rows, one tombstone
    query = clustered(1, seed=9)[0]
    expected = first.search(query, 3)
    script = textwrap.dedent(f"""
        import os, numpy
        from sage_sidecar.knowledge import vectors
        index = vectors.VectorIndex.open(vectors.Path({str(directory)!r}), {DIM}, exact_limit=100)
        index.add(numpy.arange(1000, 1500), numpy.ones((500, {DIM}), numpy.float32))
        index.remove([6])
        real_fsync, calls = os.fsync, []
        def fsync(fd):  # dies once the chosen file is written, before it is durable or renamed
            calls.append(fd)
            if len(calls) == {dies_at}:
                os._exit(9)
            real_fsync(fd)
        vectors.os.fsync = fsync
        index.save()
    """)
    result = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert result.returncode == 9
    leftovers = {p.name for p in directory.iterdir()}
    if dies_at == 1:
        assert (directory / vectors_module.ROWS).stat().st_size > 350 * DIM * 4  # torn append
    if dies_at >= 3:
        assert any(name.endswith(".tmp") for name in leftovers)  # a torn graph or manifest
    reopened = VectorIndex.open(directory, DIM, exact_limit=GRAPH_LIMIT)  # ...all ignored
    assert len(reopened) == 349
    assert reopened.search(query, 3) == expected
    assert reopened.vectors([6]).shape == (1, DIM)
    assert not any(p.name.endswith(".tmp") for p in directory.iterdir())  # cleaned at open
    reopened.add(numpy.array([5000]), clustered(1))
    reopened.save()  # the next save overwrites what a torn append left
    again = VectorIndex.open(directory, DIM)
    assert len(again) == 350
    assert again.search(query, 3) == expected
    assert (directory / vectors_module.ROWS).stat().st_size == 351 * DIM * 4
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [FILE_NAME, vectors_module.ROWS, vectors_module.IDS, "graph-1.usearch"]
    )


def test_concurrent_adds_searches_and_removes(tmp_path):
    index = VectorIndex.open(tmp_path / "kb", DIM)
    errors: list[BaseException] = []

    def writer(offset: int) -> None:
        try:
            for batch in range(20):
                start = offset + batch * 10
                index.add(numpy.arange(start, start + 10), clustered(10, seed=start))
                if batch % 4 == 3:
                    index.remove(range(start, start + 5))
        except BaseException as error:  # noqa: BLE001 - surfaced below
            errors.append(error)

    def reader() -> None:
        try:
            for seed in range(100):
                for hit_id, score in index.search(clustered(1, seed=seed)[0], 5):
                    assert -1.01 <= score <= 1.01 and hit_id >= 0
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(o,)) for o in (0, 10_000)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(index) == 2 * (200 - 5 * 5)
    expected = {i for o in (0, 10_000) for b in range(20) for i in range(o + b * 10, o + b * 10 + 10)
                if not (b % 4 == 3 and i < o + b * 10 + 5)}  # fmt: skip
    assert sorted(i for i, _ in index.search(clustered(1)[0], 10_000)) == sorted(expected)


def test_module_writes_nothing_outside_its_folder(tmp_path, filled):
    index, *_ = filled
    index.save()
    assert os.listdir(tmp_path) == ["kb"]
    graph = ["graph-1.usearch"] if index._graph_count else []
    assert sorted(os.listdir(tmp_path / "kb")) == sorted(
        [FILE_NAME, vectors_module.ROWS, vectors_module.IDS, *graph]
    )


def write_legacy(folder, ids, vectors):
    """A format-1 index as the previous release wrote it: header, int64 ids, float32 rows."""
    folder.mkdir(parents=True)
    header = vectors_module._LEGACY_HEADER.pack(b"SAGEVEC1", DIM, len(ids))
    data = header + ids.astype(numpy.int64).tobytes() + vectors.astype(numpy.float32).tobytes()
    (folder / vectors_module.LEGACY_FILE).write_bytes(data)


@pytest.mark.parametrize("exact_limit", [vectors_module.EXACT_LIMIT, GRAPH_LIMIT])
def test_a_format_1_index_is_converted_at_first_open(tmp_path, exact_limit):
    ids, vectors = numpy.arange(7, 507), clustered(500)
    folder = tmp_path / "kb"
    write_legacy(folder, ids, vectors)
    (folder / vectors_module.ROWS).write_bytes(b"x" * 999)  # a conversion cut short earlier
    index = VectorIndex.open(folder, DIM, exact_limit=exact_limit)
    assert len(index) == 500
    assert not (folder / vectors_module.LEGACY_FILE).exists()
    assert (folder / FILE_NAME).exists()
    assert (index._graph_count == 500) == (exact_limit == GRAPH_LIMIT)
    neighbours = Neighbours(approximate=index._graph_count > 0)
    for query in clustered(5, seed=11):
        hits = [i for i, _ in index.search(query, 10)]
        neighbours.check(hits, brute_force(ids, vectors, query, 10))
    neighbours.assert_recall()
    again = VectorIndex.open(folder, DIM)
    numpy.testing.assert_allclose(again.vectors([7, 506]), vectors[[0, -1]])
    write_legacy(tmp_path / "other", ids, vectors)
    with pytest.raises(ValueError, match="32-dimensional"):
        VectorIndex.open(tmp_path / "other", 64)


def test_graph_search_reaches_the_recall_target_and_grows_incrementally(tmp_path):
    """Thousands of rows in the graph (not a near-exact toy): recall@10 against brute force,
    tombstones skipped, and a second batch added to the same graph, not rebuilt."""
    ids, vectors = numpy.arange(6000), clustered(6000, clusters=60)
    index = VectorIndex.open(tmp_path / "kb", DIM, exact_limit=1000)
    index.add(ids[:4000], vectors[:4000])
    index.save()
    assert index._graph_count == 4000
    index.add(ids[4000:], vectors[4000:])
    index.remove(ids[::10].tolist())
    index.save()
    assert index._graph_gen == 2 and len(index._graph or []) == 6000 - 200  # only live rows added
    keep = ids % 10 != 0
    recalls = []
    for query in clustered(50, seed=12, clusters=60):
        hits = [i for i, _ in index.search(query, 10)]
        assert all(i % 10 for i in hits)
        recalls.append(len(set(hits) & set(brute_force(ids[keep], vectors[keep], query, 10))) / 10)
    assert numpy.mean(recalls) >= 0.95


def test_tombstones_cost_their_share_of_candidates_not_one_each(tmp_path, monkeypatch):
    """A base that removed a tenth of its graph rows asks the graph for about a tenth more
    candidates (before: one more per removed row), and still finds the live neighbours."""
    ids, vectors = numpy.arange(6000), clustered(6000, clusters=60)
    index = VectorIndex.open(tmp_path / "kb", DIM, exact_limit=500)
    index.add(ids, vectors)
    index.save()
    index.remove(ids[::10].tolist())
    assert index._graph is not None
    asked: list[int] = []
    search = index._graph.search
    monkeypatch.setattr(
        index._graph, "search", lambda q, count: asked.append(count) or search(q, count)
    )
    keep = ids % 10 != 0
    for query in clustered(20, seed=14, clusters=60):
        hits = [i for i, _ in index.search(query, 10)]
        exact = brute_force(ids[keep], vectors[keep], query, 10)
        assert len(set(hits) & set(exact)) >= 9 and all(i % 10 for i in hits)
    plain = 4 * vectors_module.ann.MIN_CANDIDATES
    assert asked and max(asked) <= plain * 1.2, asked  # 160 * 6000/5400, not 160 + 600


def test_a_filter_through_the_graph(tmp_path, monkeypatch):
    """Past the gather limit a filter is answered by over-fetching from the graph."""
    monkeypatch.setattr(vectors_module, "_GATHER_LIMIT", 0)
    ids, vectors = numpy.arange(3000), clustered(3000)
    index = VectorIndex.open(tmp_path / "kb", DIM, exact_limit=500)
    index.add(ids, vectors)
    index.save()
    allowed = ids[ids % 3 == 0]
    for query in clustered(10, seed=13):
        hits = [i for i, _ in index.search(query, 5, allowed_ids=allowed)]
        assert all(i % 3 == 0 for i in hits) and len(hits) == 5
        exact = brute_force(allowed, vectors[allowed], query, 5)
        assert len(set(hits) & set(exact)) >= 4


@pytest.mark.parametrize("exact_limit", [vectors_module.EXACT_LIMIT, 150])
def test_random_adds_replacements_and_removes_match_a_plain_model(tmp_path, exact_limit):
    """The id lookup is updated in place by add and remove (not rebuilt): after any sequence,
    lookups, filters and searches agree with a dict of the live rows."""
    rng = numpy.random.default_rng(21)
    index = VectorIndex.open(tmp_path / "kb", DIM, exact_limit=exact_limit)
    model: dict[int, numpy.ndarray] = {}
    for step in range(40):
        ids = rng.choice(600, int(rng.integers(1, 40)), replace=False)
        vectors = clustered(len(ids), seed=100 + step)
        index.add(ids, vectors)
        model.update(zip(ids.tolist(), vectors, strict=True))
        gone = rng.choice(600, int(rng.integers(0, 15)), replace=False).tolist()
        index.remove(gone)
        for key in gone:
            model.pop(key, None)
        if step % 7 == 0:
            index.save()
        assert len(index) == len(model)
        live = sorted(model)
        allowed = set(live[::2])
        query = clustered(1, seed=step)[0]
        stack = numpy.array([model[i] for i in live])
        hits = [i for i, _ in index.search(query, 5, allowed_ids=allowed)]
        mask = numpy.array([i in allowed for i in live])
        assert hits == brute_force(numpy.array(live)[mask], stack[mask], query, 5)
        numpy.testing.assert_allclose(index.vectors(live[:20]), stack[:20])


@pytest.mark.skipif(not FROZEN.exists(), reason="no frozen build: run scripts/build-sidecar.sh")
def test_the_frozen_sidecar_builds_maps_and_searches_a_graph(tmp_path):
    """usearch and its SIMD kernels (numkong, loaded through ctypes) made it into the bundle."""
    script = tmp_path / "graph.py"
    script.write_text(
        textwrap.dedent(f"""
        import json, numpy
        from pathlib import Path
        from sage_sidecar.knowledge.vectors import VectorIndex
        rows = numpy.random.default_rng(0).standard_normal((500, 32)).astype(numpy.float32)
        rows /= numpy.linalg.norm(rows, axis=1, keepdims=True)
        index = VectorIndex.open(Path({str(tmp_path / "kb")!r}), 32, exact_limit=100)
        index.add(numpy.arange(500), rows)
        index.save()
        again = VectorIndex.open(Path({str(tmp_path / "kb")!r}), 32)
        print(json.dumps([again._graph_count, again.search(rows[7], 1)[0][0]]))
        """)
    )
    result = subprocess.run(
        [str(FROZEN), "--run-python", str(script)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[500, 7]"
