import pytest

from retriever.fusion import convex_combination, reciprocal_rank_fusion


def test_rrf_rewards_agreement_between_rankings():
    fused = reciprocal_rank_fusion([["a", "b", "c"], ["c", "a", "d"]], k=60)
    ids = [doc_id for doc_id, _ in fused]
    assert ids[0] == "a"  # ranks 1 and 2
    assert ids[1] == "c"  # ranks 3 and 1
    assert set(ids) == {"a", "b", "c", "d"}
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


def test_weights_scale_each_ranking_and_zero_drops_it():
    assert [i for i, _ in reciprocal_rank_fusion([["a"], ["b"]], [1.0, 2.0])] == ["b", "a"]
    assert reciprocal_rank_fusion([["a"], ["b"]], [0.0, 1.0]) == [("b", pytest.approx(1 / 61))]


def test_ties_keep_first_appearance_order():
    assert [i for i, _ in reciprocal_rank_fusion([["x", "y"], ["y", "x"]])] == ["x", "y"]


def test_mismatched_weights_are_an_error():
    with pytest.raises(ValueError):
        reciprocal_rank_fusion([["a"]], [1.0, 1.0])


def z(values):
    mean = sum(values) / len(values)
    sd = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
    return [(v - mean) / sd for v in values]


def test_convex_combination_sums_weighted_z_scores_over_all_candidates():
    dense = [("a", 0.9), ("b", 0.5), ("c", 0.1)]
    bm25 = [("c", 30.0), ("d", 10.0)]
    fused = dict(convex_combination([dense, bm25]))
    # candidates a, b, c, d; a missing candidate takes the list's lowest score
    zd = z([0.9, 0.5, 0.1, 0.1])
    zb = z([10.0, 10.0, 30.0, 10.0])
    for i, doc in enumerate("abcd"):
        assert fused[doc] == pytest.approx((zd[i] + zb[i]) / 2)


def test_a_floor_gives_a_lone_keyword_match_its_due():
    dense = [(doc, 1.0 - i / 10) for i, doc in enumerate("abcdefghij")]
    bm25 = [("c", 12.0)]  # the only chunk with the query's rare code
    assert convex_combination([dense, bm25])[0][0] == "a", "no floor: a lone score carries nothing"
    assert convex_combination([dense, bm25], floors=[None, 0.0])[0][0] == "c"


def test_convex_weights_shift_the_balance_and_must_be_positive():
    dense, bm25 = [("a", 1.0), ("b", 0.0)], [("b", 5.0), ("a", 1.0)]
    assert convex_combination([dense, bm25], [3.0, 1.0])[0][0] == "a"
    assert convex_combination([dense, bm25], [1.0, 3.0])[0][0] == "b"
    with pytest.raises(ValueError):
        convex_combination([dense, bm25], [0.0, 0.0])


def test_convex_handles_empty_and_constant_lists():
    assert convex_combination([[], [("x", 2.0)]]) == [("x", 0.0)]
    assert [i for i, _ in convex_combination([[("a", 1.0), ("b", 1.0)], []])] == ["a", "b"]
