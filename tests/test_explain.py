"""labkit.explain: integrated gradients, LIME's surrogate, segment maps and attribution scores."""
import numpy as np
import pytest

from labkit import explain


def test_integrated_gradients_is_exact_for_a_quadratic_and_complete():
    rng = np.random.default_rng(0)
    x, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    ig = explain.integrated_gradients(lambda B: 2 * B, x, b, steps=8)  # midpoints are exact for linear grads
    np.testing.assert_allclose(ig, x ** 2 - b ** 2, atol=1e-6)
    np.testing.assert_allclose(ig.sum(), (x ** 2).sum() - (b ** 2).sum(), atol=1e-6)


def test_integrated_gradients_default_baseline_is_zero():
    w = np.array([1.0, -2.0, 3.0])
    x = np.array([0.5, 0.5, 2.0])
    ig = explain.integrated_gradients(lambda B: np.broadcast_to(w, B.shape), x)
    np.testing.assert_allclose(ig, w * x, atol=1e-6)


@pytest.mark.parametrize("kw, err", [({"baseline": np.zeros(2)}, ValueError), ({"steps": 0}, ValueError),
                                     ({"steps": 2.5}, ValueError)])
def test_integrated_gradients_bad_input(kw, err):
    with pytest.raises(err):
        explain.integrated_gradients(lambda B: B, np.ones(3), **kw)


def test_integrated_gradients_rejects_bad_grad_fn():
    with pytest.raises(TypeError):
        explain.integrated_gradients("grads", np.ones(3))
    with pytest.raises(ValueError, match="one gradient per path point"):
        explain.integrated_gradients(lambda B: B[0], np.ones(3))


def test_local_surrogate_matches_sklearn_ridge():
    from sklearn.linear_model import Ridge
    rng = np.random.default_rng(1)
    Z = rng.integers(0, 2, (150, 6)).astype(float)
    y = Z @ rng.normal(size=6) + 0.3 + 0.05 * rng.normal(size=150)
    w = explain.lime_kernel(rng.uniform(0, 1, 150))
    coef, b = explain.local_surrogate(Z, y, w, alpha=0.7)
    ref = Ridge(alpha=0.7).fit(Z, y, sample_weight=w)
    np.testing.assert_allclose(coef, ref.coef_, atol=1e-8)
    assert abs(b - ref.intercept_) < 1e-8


def test_local_surrogate_bad_input():
    Z, y = np.ones((5, 2)), np.ones(5)
    with pytest.raises(ValueError, match="2-D"):
        explain.local_surrogate(np.ones(5), y, y)
    with pytest.raises(ValueError, match="shape"):
        explain.local_surrogate(Z, np.ones(4), y)
    with pytest.raises(ValueError, match="weights"):
        explain.local_surrogate(Z, y, -y)
    with pytest.raises(ValueError, match="kernel_width"):
        explain.lime_kernel(np.ones(3), 0.0)


def test_grid_segments_and_segment_map():
    seg = explain.grid_segments((6, 8, 1), 4)
    assert seg.shape == (6, 8) and seg.max() == 3 and seg[5, 7] == 3 and seg[0, 4] == 1
    pix = explain.segment_map(seg, {0: 1.0, 3: -2.0})
    assert pix[0, 0] == 1.0 and pix[5, 7] == -2.0 and pix[0, 5] == 0.0
    np.testing.assert_array_equal(explain.segment_map(seg, [1, 2, 3, 4]), seg + 1)
    with pytest.raises(ValueError):
        explain.grid_segments((6, 8), 0)
    with pytest.raises(TypeError):
        explain.segment_map(seg.astype(float), [1.0])


def test_scores():
    mask = np.zeros((4, 4), bool)
    mask[1:3, 1:3] = True
    attr = np.where(mask, 3.0, -1.0)
    attr[0, 0] = 1.0
    assert explain.mask_overlap(attr, mask) == pytest.approx(12 / 13)
    assert explain.pointing_game(attr, mask)
    assert explain.mask_overlap(-np.ones((4, 4)), mask) == 0.0
    s = explain.score_maps(np.stack([attr, -attr]), np.stack([mask, mask]))
    assert s["pointing game"] == 0.5
    with pytest.raises(ValueError, match="channel"):
        explain.mask_overlap(np.ones((4, 4, 1)), mask)
    with pytest.raises(ValueError, match="NaN"):
        explain.mask_overlap(np.full((4, 4), np.nan), mask)
    with pytest.raises(ValueError):
        explain.score_maps(attr, mask)


def test_rank_correlation():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(8, 8))
    assert explain.rank_correlation(a, -2 * a) == pytest.approx(1.0)
    assert abs(explain.rank_correlation(a, rng.normal(size=(8, 8)))) < 0.4
    assert explain.rank_correlation(a, np.zeros((8, 8))) == 0.0
    with pytest.raises(ValueError):
        explain.rank_correlation(a, np.ones(3))
