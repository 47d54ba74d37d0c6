"""The vector graph's growth in the background (issue #18 §2): a write that pushes the exact part
past its limit returns at once; the graph is grown from a snapshot in a daemon thread (here made
slow by a gated `ann.Graph.add`) while searches stay exact over the larger exact part; the grown
generation is installed by a later save; a crash or a drop meanwhile leaves no torn index and no
folder brought back. Limits are small (200 rows) so that tests reach them quickly."""

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy
import pytest

from sage_sidecar.knowledge import ann
from sage_sidecar.knowledge import vectors as vectors_module
from sage_sidecar.knowledge.indexes import IndexCache
from sage_sidecar.knowledge.vectors import VectorIndex

DIM = 32
LIMIT = 200  # exact rows; the hard limit is 3× this
WAIT = 30  # seconds: every wait below is bounded


def clustered(count: int, seed: int = 0) -> numpy.ndarray:
    rng = numpy.random.default_rng(seed)
    centres = rng.standard_normal((20, DIM))
    points = centres[rng.integers(0, 20, count)] + 0.8 * rng.standard_normal((count, DIM))
    return (points / numpy.linalg.norm(points, axis=1, keepdims=True)).astype(numpy.float32)


def brute_force(ids: numpy.ndarray, rows: numpy.ndarray, query: numpy.ndarray, k: int) -> list[int]:
    scores = rows @ query
    return [int(ids[i]) for i in sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))[:k]]


def committed(directory: Path) -> tuple[int, int, int]:
    """(slot count, graph rows, graph generation) as the manifest on disk says."""
    data = (directory / vectors_module.MANIFEST).read_bytes()
    _, _, count, graph_count, graph_gen, _ = vectors_module._MANIFEST.unpack_from(data)
    return count, graph_count, graph_gen


class Gate:
    """`ann.Graph.add`, once armed, held until opened: a growth as slow as the test wants."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.armed, self.entered, self.opened = False, threading.Event(), threading.Event()
        real_add = ann.Graph.add

        def gated_add(graph: ann.Graph, *args: Any) -> None:
            if self.armed:
                self.entered.set()
                assert self.opened.wait(WAIT)
            real_add(graph, *args)

        monkeypatch.setattr(ann.Graph, "add", gated_add)


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    gate = Gate(monkeypatch)
    yield gate
    gate.opened.set()  # a failing test must not leave a growth thread blocked


def finish(index: VectorIndex) -> None:
    """Wait for every growth thread, their installing saves (which may start another) included."""
    deadline = time.monotonic() + WAIT
    while growing := [t for t in threading.enumerate() if t.name == "vector-graph"]:
        growing[0].join(max(0.0, deadline - time.monotonic()))
        assert time.monotonic() < deadline, "a growth did not finish"


def in_thread(call: object, *args: object) -> threading.Thread:
    thread = threading.Thread(target=call, args=args, daemon=True)  # type: ignore[arg-type]
    thread.start()
    return thread


def base_with_a_graph(cache: IndexCache, rows: numpy.ndarray) -> VectorIndex:
    """300 rows saved into graph-1 (a plain save grows the graph itself)."""
    index = cache.get("kb", DIM)
    index.exact_limit = LIMIT
    index.add(numpy.arange(300), rows[:300])
    index.save()
    assert committed(index.directory) == (300, 300, 1)
    return index


def test_a_write_past_the_limit_returns_while_the_graph_grows_then_it_is_installed(tmp_path, gate):
    cache = IndexCache(tmp_path)
    rows = clustered(700)
    index = base_with_a_graph(cache, rows)
    directory = index.directory
    gate.armed = True

    def add(start: int, end: int) -> None:
        assert cache.write("kb", index, lambda i: i.add(numpy.arange(start, end), rows[start:end]))

    writer = in_thread(add, 300, 550)  # the exact part: 250 rows > 200
    writer.join(10)
    assert not writer.is_alive(), "the write waited for the graph's growth"
    assert gate.entered.wait(WAIT)  # ...which is being built meanwhile
    assert committed(directory) == (550, 300, 1)  # the rows are durable, exact for now
    more = in_thread(add, 550, 600)  # another write while it is built: no wait either
    more.join(10)
    assert not more.is_alive()
    for seed in range(10):  # the exact part is larger meanwhile, still exact: recall 1
        query = clustered(1, seed=100 + seed)[0]
        exact_part = numpy.arange(300, 600)
        hits = index.search(query, 5, allowed_ids=exact_part)
        assert [i for i, _ in hits] == brute_force(exact_part, rows[300:600], query, 5)
        assert len(index.search(query, 10)) == 10
    gate.opened.set()
    finish(index)
    # The growth covered the 250 rows of its snapshot; the 50 added meanwhile stay exact.
    assert committed(directory) == (600, 550, 2)
    assert index._graph_count == 550 and len(index._graph or []) == 550
    names = sorted(p.name for p in directory.iterdir())
    assert names == sorted([vectors_module.MANIFEST, vectors_module.ROWS, vectors_module.IDS,
                            "graph-2.usearch"])  # fmt: skip
    reopened = VectorIndex.open(directory, DIM, exact_limit=LIMIT)
    query = rows[555]
    assert reopened.search(query, 1)[0] == (555, pytest.approx(1.0))


def test_without_a_callback_the_next_save_installs_the_grown_graph(tmp_path, gate):
    index = VectorIndex.open(tmp_path / "kb", DIM, exact_limit=LIMIT)
    rows = clustered(260)
    index.add(numpy.arange(10), rows[:10])
    index.save()  # the folder exists: a growth never creates it
    index.add(numpy.arange(10, 260), rows[10:])
    gate.armed = True
    started = time.monotonic()
    index.save(background=True)
    assert time.monotonic() - started < 10 and gate.entered.wait(WAIT)
    gate.opened.set()
    finish(index)
    assert index._prepared is not None and committed(index.directory) == (260, 0, 0)
    index.save(background=True)  # nothing changed, but a grown graph waits: installed
    assert committed(index.directory) == (260, 260, 1) and index._graph_count == 260
    assert index._prepared is None and index._growth is None
    assert index.search(rows[7], 1)[0] == (7, pytest.approx(1.0))


def test_at_the_hard_limit_a_write_waits_for_the_growth(tmp_path, gate):
    """Memory stays bounded when the builder cannot keep up: past 3 × the limit, a write waits."""
    cache = IndexCache(tmp_path)
    rows = clustered(1000)
    index = base_with_a_graph(cache, rows)
    gate.armed = True

    def add(start: int, end: int) -> None:
        assert cache.write("kb", index, lambda i: i.add(numpy.arange(start, end), rows[start:end]))

    add(300, 550)
    assert gate.entered.wait(WAIT)
    add(550, 860)  # 560 exact rows: under 600, no wait
    over = in_thread(add, 860, 1000)  # 700 exact rows after it: the next write waits
    over.join(1)
    waited = in_thread(add, 1000, 1000)  # an empty change still saves: it waits too
    waited.join(1)
    assert waited.is_alive(), "a write past the hard limit did not wait for the growth"
    gate.opened.set()
    for thread in (over, waited):
        thread.join(WAIT)
        assert not thread.is_alive()
    finish(index)
    count, graph_count, _ = committed(index.directory)
    assert count == 1000 and count - graph_count <= 3 * LIMIT
    assert [i for i, _ in index.search(rows[999], 1)] == [999]


def test_a_failed_growth_is_logged_and_the_next_save_retries(tmp_path, monkeypatch, caplog):
    index = VectorIndex.open(tmp_path / "kb", DIM, exact_limit=LIMIT)
    rows = clustered(300)
    index.add(numpy.arange(10), rows[:10])
    index.save()
    real_add, calls = ann.Graph.add, []

    def failing_once(graph: ann.Graph, slots: numpy.ndarray, *args: Any) -> None:
        calls.append(len(slots))
        if len(calls) == 1:
            raise RuntimeError("out of memory (a test)")
        real_add(graph, slots, *args)

    monkeypatch.setattr(ann.Graph, "add", failing_once)
    index.add(numpy.arange(10, 300), rows[10:])
    with caplog.at_level(logging.ERROR, logger="sage_sidecar.knowledge.vectors"):
        index.save(background=True)
        finish(index)
    assert "growing the vector graph" in caplog.text and "out of memory" in caplog.text
    assert index._prepared is None and not list(index.directory.glob("*.tmp"))
    index.save(background=True)  # retries
    finish(index)
    index.save(background=True)  # installs
    assert committed(index.directory) == (300, 300, 1) and calls == [300, 300]


def test_a_dropped_index_does_not_get_its_folder_back(tmp_path, gate, caplog):
    cache = IndexCache(tmp_path)
    rows = clustered(500)
    index = base_with_a_graph(cache, rows)
    gate.armed = True
    assert cache.write("kb", index, lambda i: i.add(numpy.arange(300, 500), rows[300:500]))
    assert cache.write("kb", index, lambda i: i.add(numpy.array([500]), rows[:1]))
    assert gate.entered.wait(WAIT)
    cache.drop("kb")  # the base deleted while its graph grows
    with caplog.at_level(logging.WARNING, logger="sage_sidecar.knowledge.vectors"):
        gate.opened.set()
        finish(index)
    assert not index.directory.exists()
    assert not caplog.text  # a drop is not a failure worth a log line
    assert not cache.write("kb", index, lambda _i: None)


CRASHING_CHILD = """
import sys, time, numpy
from pathlib import Path
from sage_sidecar.knowledge import ann, vectors
index = vectors.VectorIndex.open(Path(sys.argv[1]), {dim}, exact_limit={limit})
index.add(numpy.arange(300, 550), numpy.random.default_rng(3).standard_normal((250, {dim})))
real_save = ann.Graph.save
def save_then_hang(graph, path):  # the grown graph is on disk, not yet installed: killed here
    real_save(graph, path)
    print("written", flush=True)
    time.sleep(60)
ann.Graph.save = save_then_hang
index.save(background=True)
print("saved", flush=True)
time.sleep(60)
"""


def test_a_crash_during_the_background_growth_leaves_the_committed_index(tmp_path):
    directory = tmp_path / "kb"
    index = VectorIndex.open(directory, DIM, exact_limit=LIMIT)
    rows = clustered(300)
    index.add(numpy.arange(300), rows)
    index.save()
    query = clustered(1, seed=5)[0]
    before = index.search(query, 5)
    child = subprocess.Popen(
        [sys.executable, "-c", CRASHING_CHILD.format(dim=DIM, limit=LIMIT), str(directory)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline().strip() for _ in range(2)]
        assert sorted(lines) == ["saved", "written"]  # the save returned; the growth went on
        assert any(p.name.endswith(".tmp") for p in directory.iterdir())
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(WAIT)
    assert committed(directory) == (550, 300, 1)  # the background save's commit, no more
    reopened = VectorIndex.open(directory, DIM, exact_limit=LIMIT)
    assert len(reopened) == 550 and reopened._graph_count == 300
    assert reopened.search(query, 5, allowed_ids=range(300)) == before
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [vectors_module.MANIFEST, vectors_module.ROWS, vectors_module.IDS, "graph-1.usearch"]
    )  # the torn growth cleaned at open
    reopened.save(background=True)  # and grown again by the next save
    finish(reopened)
    reopened.save(background=True)
    assert committed(directory) == (550, 550, 2)
