"""Score fusion, reciprocal rank fusion and MMR: the orders they produce, and MMR pushing
near-duplicates down."""

import numpy
import pytest

from sage_sidecar.knowledge.fusion import mmr, reciprocal_rank_fusion, score_fusion


def test_rrf_rewards_agreement_between_rankings():
    bm25 = [1, 2, 3, 4]
    vector = [5, 3, 6, 1]
    fused = reciprocal_rank_fusion([bm25, vector])
    ids = [i for i, _ in fused]
    # 1 (ranks 1 and 4) and 3 (ranks 3 and 2), found by both, beat 5, first in one list only.
    assert ids[:3] == [1, 3, 5]
    assert set(ids) == {1, 2, 3, 4, 5, 6}
    scores = dict(fused)
    assert scores[1] == pytest.approx(1 / 61 + 1 / 64)
    assert scores[5] == pytest.approx(1 / 61)


def test_rrf_single_list_keeps_its_order_and_ties_break_by_id():
    assert [i for i, _ in reciprocal_rank_fusion([[9, 4, 7]])] == [9, 4, 7]
    fused = reciprocal_rank_fusion([[8, 2], [2, 8]])  # symmetric: equal scores
    assert [i for i, _ in fused] == [2, 8]
    assert fused[0][1] == pytest.approx(fused[1][1])


def test_rrf_constant_controls_how_much_the_head_dominates():
    # 10 and 3 each head one list; 20 is fourth in both.
    rankings = [[10, 1, 2, 20], [3, 4, 5, 20]]
    small_k = [i for i, _ in reciprocal_rank_fusion(rankings, k=1)]
    assert small_k[:3] == [3, 10, 20]  # small k: the heads win
    assert reciprocal_rank_fusion(rankings, k=60)[0][0] == 20  # large k: agreement wins


def test_rrf_counts_a_repeated_item_once_and_handles_empty_input():
    assert dict(reciprocal_rank_fusion([[1, 1, 2]]))[1] == pytest.approx(1 / 61)
    assert reciprocal_rank_fusion([]) == []
    assert reciprocal_rank_fusion([[], []]) == []


def test_score_fusion_keeps_a_clear_winner_that_a_flat_list_disagrees_with():
    # The vector list is sure of 1; BM25 ranks 1 last but its scores barely differ (a weak
    # lexical match everywhere). Rank fusion follows BM25's order; score fusion does not.
    vector = [(1, 0.80), (2, 0.52), (3, 0.51), (4, 0.50), (5, 0.50), (6, 0.49)]
    bm25 = [(3, 5.02), (2, 5.01), (4, 5.00), (5, 4.99), (6, 4.99), (1, 4.98)]
    assert reciprocal_rank_fusion([[i for i, _ in vector], [i for i, _ in bm25]])[0][0] != 1
    assert score_fusion([(0.65, vector), (0.35, bm25)])[0][0] == 1
    # ... and a list that does separate its items still moves the result
    sharp = [(3, 20.0), (2, 5.0), (4, 4.9), (5, 4.8), (6, 4.7), (1, 4.6)]
    assert [i for i, _ in score_fusion([(0.5, vector), (0.5, sharp)])][:2] == [3, 1]


def test_score_fusion_weights_missing_items_repeats_and_empty_lists():
    one = [(1, 3.0), (2, 2.0), (3, 1.0)]
    two = [(4, 0.9), (3, 0.8)]
    fused = dict(score_fusion([(1.0, one), (0.0, two)]))
    assert fused[4] == pytest.approx(0.0) and fused[1] > fused[2] > fused[3]
    assert [i for i, _ in score_fusion([(0.0, one), (1.0, two)])][:2] == [4, 3]
    # an item repeated in a list counts once, at its first score; ties break by id
    assert dict(score_fusion([(1.0, [(1, 2.0), (1, 9.0), (2, 1.0)])]))[1] > 0.5
    assert score_fusion([(1.0, [(7, 1.0), (5, 1.0)])]) == [(5, 1.0), (7, 1.0)]
    assert score_fusion([]) == [] and score_fusion([(0.5, []), (0.5, [])]) == []


def unit(*rows):
    matrix = numpy.array(rows, dtype=numpy.float32)
    return matrix / numpy.linalg.norm(matrix, axis=1, keepdims=True)


def test_mmr_pushes_near_duplicates_down():
    # 1 and 2 are the same passage twice; 3 is different and a little less relevant.
    vectors = unit([1, 0, 0], [1, 0.01, 0], [0, 1, 0], [0.7, 0.7, 0])
    ids, relevance = [1, 2, 3, 4], [1.0, 0.99, 0.9, 0.5]
    assert mmr(ids, relevance, vectors, top_k=3, lambda_=0.7)[:2] == [1, 3]
    assert mmr(ids, relevance, vectors, top_k=3, lambda_=1.0) == [1, 2, 3]  # pure relevance


def test_mmr_low_lambda_prefers_coverage():
    vectors = unit([1, 0], [0.99, 0.1], [0.98, 0.2], [0, 1])
    picked = mmr([10, 11, 12, 13], [1.0, 0.95, 0.9, 0.3], vectors, top_k=2, lambda_=0.3)
    assert picked == [10, 13]


def test_mmr_bounds_and_validation():
    vectors = unit([1, 0], [0, 1])
    assert mmr([5, 6], [0.5, 0.9], vectors, top_k=10) == [6, 5]  # top_k beyond the pool
    assert mmr([], [], numpy.zeros((0, 2)), top_k=3) == []
    assert mmr([5, 6], [0.5, 0.9], vectors, top_k=0) == []
    with pytest.raises(ValueError):
        mmr([5, 6], [0.5], vectors, top_k=1)
    with pytest.raises(ValueError):
        mmr([5, 6], [0.5, 0.9], vectors, top_k=1, lambda_=1.5)


def test_mmr_with_real_embeddings_drops_a_repeated_passage():
    """The offline model's vectors: a reworded copy of the top passage is not the second pick."""
    from sage_sidecar.knowledge.embed_local import LocalMiniLM

    model = LocalMiniLM()
    passages = [
        "To reset your password, open Settings, choose Account and click Reset password.",
        "Open Settings, choose Account, then click Reset password to reset your password.",
        "If you forgot your password and cannot sign in, use the link on the sign-in page.",
        "Invoices are sent on the first day of every month.",
    ]
    vectors = model.embed_sync(passages)
    query = model.embed_sync(["how do I reset my password"])[0]
    relevance = (vectors @ query).tolist()
    plain = sorted(range(4), key=lambda i: -relevance[i])
    assert set(plain[:2]) == {0, 1}  # by relevance alone both copies come first
    # MMR keeps the best copy, then prefers the distinct relevant passage over the other copy
    # (and not the unrelated one).
    assert mmr(list(range(4)), relevance, vectors, top_k=3, lambda_=0.6) == [0, 2, 1]
