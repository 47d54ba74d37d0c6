"""The vector graph's int8 rows: quantized by us, over their whole range (knowledge/ann.py)."""

import numpy

from sage_sidecar.knowledge import ann


def clustered(rng: numpy.random.Generator, centres: numpy.ndarray, count: int) -> numpy.ndarray:
    """Unit 384-d rows around shared centres, like embeddings of related passages."""
    rows = centres[rng.integers(0, len(centres), count)]
    rows = rows + rng.standard_normal((count, centres.shape[1]), dtype=numpy.float32)
    return rows / numpy.linalg.norm(rows, axis=1, keepdims=True)


def test_rows_use_the_whole_int8_range_and_keep_their_cosines():
    rng = numpy.random.default_rng(1)
    rows = rng.standard_normal((3, 384), dtype=numpy.float32)
    rows /= numpy.linalg.norm(rows, axis=1, keepdims=True)
    graph = ann.Graph(384)
    graph.add(numpy.arange(3), rows)
    stored = numpy.asarray(graph._index.get(0), dtype=numpy.float32)
    # usearch's own cast stored these unit rows within ±21 of ±127.
    assert numpy.abs(stored).max() == 127
    cosine = stored @ rows[0] / numpy.linalg.norm(stored)
    assert cosine > 0.9999
    assert ann.quantize(numpy.zeros(384)).tolist() == [[0] * 384]


def test_the_graphs_own_ranking_finds_the_true_neighbours():
    """Graph-only recall@10 (no float rescoring) on 20k clustered rows: 0.90 with usearch's cast."""
    rng = numpy.random.default_rng(3)
    centres = rng.standard_normal((400, 384), dtype=numpy.float32)
    rows, queries = clustered(rng, centres, 20_000), clustered(rng, centres, 100)
    truth = numpy.argsort(-(queries @ rows.T), axis=1)[:, :10]
    graph = ann.Graph(384)
    graph.add(numpy.arange(len(rows)), rows)
    found = [set(graph.search(query, 10)[:10].tolist()) for query in queries]
    recall = numpy.mean([len(f & set(t.tolist())) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.97, recall
