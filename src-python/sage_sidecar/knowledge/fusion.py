"""Fusion for hybrid search, and MMR.

Hybrid search merges the vector and BM25 lists with `score_fusion`: each list's scores are put on
a common 0..1 scale by their own distribution (Distribution-Based Score Fusion: mean ± 3
standard deviations), then added with a weight per list. Unlike reciprocal rank fusion, which
sees only ranks, a list whose scores are flat (a weak lexical match on every candidate) moves
the result little, and a clear winner in either list stays near the top. Measured against RRF
and other fusions on three evaluation sets in docs/knowledge.md ("Fusion"); RRF stays for
comparison (bench/quality) and for callers that have ranks only.
MMR then optionally re-orders the fused list to trade a little relevance for less repetition
(near-duplicate chunks of the same passage).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = 60
) -> list[tuple[int, float]]:
    """Each list gives an item 1 / (k + rank) (rank from 1); items are ordered by the sum, ties
    by id. k = 60 is the constant of Cormack et al. (2009): it damps the head of each list so one
    retriever's first hit does not drown agreement between the two."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        seen: set[int] = set()
        for rank, item in enumerate(ranking, start=1):
            if item in seen:  # a repeated item counts once, at its best rank
                continue
            seen.add(item)
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def _distribution_normalised(scored: Sequence[tuple[int, float]]) -> dict[int, float]:
    """Scores mapped by the list's own spread: mean - 3σ -> 0, mean + 3σ -> 1. Not clipped: a
    clear winner beyond 3σ keeps its lead (clipping made it tie with the next). A list that
    cannot tell its items apart (one item, or equal scores) gives 1."""
    if not scored:
        return {}
    values = [score for _, score in scored]
    mean = sum(values) / len(values)
    spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    if spread == 0.0:
        return {item: 1.0 for item, _ in scored}
    low = mean - 3 * spread
    return {item: (score - low) / (6 * spread) for item, score in scored}


def score_fusion(
    lists: Sequence[tuple[float, Sequence[tuple[int, float]]]],
) -> list[tuple[int, float]]:
    """(weight, [(item, score) best first]) per retriever -> (item, fused score) best first,
    ties by id. An item a list did not return gets 0 from it; a repeated item counts once, at
    its first (best) score."""
    fused: dict[int, float] = {}
    for weight, scored in lists:
        first: dict[int, float] = {}
        for item, score in scored:
            first.setdefault(item, score)
        for item, value in _distribution_normalised(list(first.items())).items():
            fused[item] = fused.get(item, 0.0) + weight * value
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def mmr(
    candidate_ids: Sequence[int],
    relevance: Sequence[float],
    vectors: numpy.ndarray,
    *,
    top_k: int,
    lambda_: float = 0.7,
) -> list[int]:
    """Maximal marginal relevance (Carbonell & Goldstein, 1998): pick, one at a time, the
    candidate maximising `lambda_ * relevance - (1 - lambda_) * max cosine to those picked`.

    `relevance` is on the scale the caller chooses (e.g. fused scores divided by the best);
    `vectors` are the candidates' unit vectors, row i for candidate i. lambda_ = 1 keeps the
    relevance order; lower values push near-duplicates down.
    """
    import numpy

    count = len(candidate_ids)
    if len(relevance) != count or len(vectors) != count:
        raise ValueError("candidate_ids, relevance and vectors must have the same length")
    if not 0.0 <= lambda_ <= 1.0:
        raise ValueError("lambda_ must be between 0 and 1")
    if count == 0 or top_k <= 0:
        return []
    rel = numpy.asarray(relevance, dtype=numpy.float64)
    matrix = numpy.asarray(vectors, dtype=numpy.float32)
    similarity = (matrix @ matrix.T).astype(numpy.float64)
    closest = numpy.full(count, -numpy.inf)  # max similarity to anything picked so far
    available = numpy.ones(count, dtype=bool)
    picked: list[int] = []
    for _ in range(min(top_k, count)):
        redundancy = numpy.where(numpy.isfinite(closest), closest, 0.0)
        score = numpy.where(available, lambda_ * rel - (1 - lambda_) * redundancy, -numpy.inf)
        best = int(numpy.argmax(score))  # ties: the earlier (better-ranked) candidate
        picked.append(best)
        available[best] = False
        closest = numpy.maximum(closest, similarity[best])
    return [candidate_ids[i] for i in picked]
