import pytest

from retriever.fusion import reciprocal_rank_fusion


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
