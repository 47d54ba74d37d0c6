"""Rank fusion for hybrid search: reciprocal rank fusion and MMR de-duplication."""

from collections.abc import Sequence

import numpy


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[int]], k: int = 60
) -> list[tuple[int, float]]:
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


def mmr(
    candidate_ids: Sequence[int],
    relevance: Sequence[float],
    vectors: numpy.ndarray,
    *,
    top_k: int,
    lambda_: float = 0.7,
) -> list[int]:
    raise NotImplementedError
