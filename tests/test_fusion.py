import numpy as np

from assistant.fusion import min_max, rrf_fusion, weighted_fusion


def test_min_max_scales_to_unit_range_and_flattens_constant_lists():
    assert np.allclose(min_max(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    assert np.allclose(min_max(np.zeros(3)), 0.0)
    assert np.allclose(min_max(np.full(2, 0.7)), 1.0)


def test_weighted_fusion_is_a_convex_combination():
    dense = np.array([0.9, 0.5, 0.1])
    keyword = np.array([0.0, 10.0, 5.0])
    assert np.allclose(weighted_fusion(dense, keyword, 1.0), [1.0, 0.5, 0.0])
    assert np.allclose(weighted_fusion(dense, keyword, 0.0), [0.0, 1.0, 0.5])
    fused = weighted_fusion(dense, keyword, 0.5)
    assert fused.argmax() == 1 and fused.min() >= 0 and fused.max() <= 1


def test_rrf_rewards_agreement_and_scores_first_in_both_as_one():
    dense = np.array([3.0, 2.0, 1.0])
    keyword = np.array([3.0, 1.0, 2.0])
    fused = rrf_fusion(dense, keyword)
    assert fused[0] == 1.0
    assert fused[0] > fused[1] and fused[0] > fused[2]
