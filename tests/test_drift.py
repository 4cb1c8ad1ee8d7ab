"""labkit.drift: PSI, the per-feature report, the alert rule, the simulator, replay and versioning."""
import numpy as np
import pytest
from scipy import stats

import labkit as lk

D = lk.drift


def test_psi_zero_for_identical_and_symmetric_kl():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=1000), rng.normal(0.5, 1.0, 700)
    assert D.psi(a, a) == pytest.approx(0.0, abs=1e-12)
    # PSI on the reference's bins equals KL(a‖e) + KL(e‖a) of the binned proportions
    inner = np.quantile(a, np.linspace(0, 1, 11))[1:-1]
    pe = np.bincount(np.searchsorted(inner, a, side="right"), minlength=10) / a.size
    pa = np.bincount(np.searchsorted(inner, b, side="right"), minlength=10) / b.size
    assert D.psi(a, b) == pytest.approx(stats.entropy(pa, pe) + stats.entropy(pe, pa), rel=1e-9)


def test_psi_grows_with_shift_and_is_finite_for_disjoint_samples():
    rng = np.random.default_rng(1)
    ref = rng.normal(size=2000)
    vals = [D.psi(ref, rng.normal(m, 1, 2000)) for m in (0.0, 0.5, 1.0, 2.0)]
    assert vals == sorted(vals) and vals[0] < 0.02 < vals[1]
    assert np.isfinite(D.psi(ref, ref + 100))


@pytest.mark.parametrize("bad, err", [
    (dict(expected=np.zeros((3, 2)), actual=np.zeros(3)), ValueError),
    (dict(expected=np.array([]), actual=np.zeros(3)), ValueError),
    (dict(expected=np.array([1.0, np.nan]), actual=np.zeros(3)), ValueError),
    (dict(expected=np.zeros(3), actual=np.zeros(3), bins=1), ValueError),
    (dict(expected=np.zeros(3), actual=np.zeros(3), bins=2.5), TypeError),
    (dict(expected=np.zeros(3), actual=np.zeros(3), eps=0.0), ValueError),
])
def test_psi_bad_inputs(bad, err):
    with pytest.raises(err):
        D.psi(**bad)


def test_report_flags_only_the_shifted_feature():
    Xr, _ = D.simulate("none", 3000, seed=0)
    Xc, _ = D.simulate("covariate", 3000, magnitude=1.0, seed=1)
    rows = D.report(Xr, Xc, names=["a", "b", "c", "d"])
    assert [r["drift"] for r in rows] == [True, False, False, False]
    assert rows[0]["p_value"] < 1e-10 and rows[0]["psi"] > 0.5
    with pytest.raises(ValueError, match="same number of features"):
        D.report(Xr, Xc[:, :2])
    with pytest.raises(ValueError, match="one name per column"):
        D.report(Xr, Xc, names=["a"])


def test_alert_patience():
    s = [0.3, 0.1, 0.3, 0.3, 0.3, 0.2]
    assert D.alert(s, 0.2, 1).tolist() == [True, False, True, True, True, False]
    assert D.alert(s, 0.2, 3).tolist() == [False, False, False, False, True, False]
    with pytest.raises(ValueError):
        D.alert(s, 0.2, 0)
    with pytest.raises(ValueError):
        D.alert(np.zeros((2, 2)), 0.2)


def test_simulate_kinds():
    X0, y0 = D.simulate("none", 4000, seed=0)
    assert X0.shape == (4000, 4) and set(np.unique(y0)) == {0, 1}
    Xl, yl = D.simulate("label", 4000, magnitude=1.0, seed=0)
    assert yl.mean() == pytest.approx(1 / (1 + np.exp(-1.5)), abs=0.01)
    Xc, _ = D.simulate("covariate", 4000, magnitude=2.0, seed=0)
    assert Xc[:, 0].mean() == pytest.approx(2.0, abs=0.1)
    Xk, yk = D.simulate("concept", 4000, magnitude=2.0, seed=0)
    assert np.allclose(Xk, X0)  # same P(x) and seed: only the labels change
    with pytest.raises(ValueError, match="kind must be one of"):
        D.simulate("sideways")
    with pytest.raises(ValueError):
        D.simulate("none", magnitude=-1)


def test_replay_buffer_is_uniform_and_bounded():
    kept = []
    for seed in range(5):
        buf = D.ReplayBuffer(100, seed=seed)
        for i in range(3000):
            buf.add(np.array([i]), i)
        assert len(buf) == 100 and buf.seen == 3000
        kept.extend(buf.sample(100)[1].tolist())
    assert 0.4 < np.mean(np.array(kept) < 1500) < 0.6
    X, y = buf.sample(10)
    assert X.shape == (10, 1) and np.array_equal(X[:, 0], y)
    with pytest.raises(ValueError, match="empty"):
        D.ReplayBuffer(3).sample(1)
    with pytest.raises(ValueError):
        D.ReplayBuffer(0)


def test_dataset_hash_and_registry(tmp_path):
    X = np.arange(12, dtype=np.float32).reshape(3, 4)
    h = D.dataset_hash(X)
    assert h == D.dataset_hash(X.copy()) and len(h) == 64
    assert h != D.dataset_hash(X.astype(np.float64)) and h != D.dataset_hash(X.reshape(4, 3))
    with pytest.raises(ValueError):
        D.dataset_hash()
    reg = D.ModelRegistry(tmp_path / "reg.json")
    v1 = reg.register("m", h, "ab" * 8, metrics={"acc": 0.9})
    v2 = reg.register("m", D.dataset_hash(X + 1), "cd" * 8, parent=v1["version"])
    assert v2["version"] == "m-v2" and reg.lineage("m-v2") == ["m-v2", "m-v1"]
    again = D.ModelRegistry(tmp_path / "reg.json")  # persisted
    assert [r["version"] for r in again.by_data(h)] == ["m-v1"]
    with pytest.raises(ValueError, match="not registered"):
        reg.register("m", h, "ef" * 8, parent="m-v9")
    with pytest.raises(ValueError, match="hex digest"):
        reg.register("m", "x", "ef" * 8)
    with pytest.raises(ValueError, match="No version"):
        reg.get("nope")


def test_max_psi_is_the_worst_feature():
    import numpy as np
    from labkit import drift
    rng = np.random.default_rng(0)
    R = rng.normal(size=(500, 3))
    C = rng.normal(size=(400, 3))
    C[:, 1] += 1.0
    assert drift.max_psi(R, C) == max(drift.psi(R[:, j], C[:, j]) for j in range(3))
    assert drift.max_psi(R, C) == drift.psi(R[:, 1], C[:, 1])
    import pytest
    with pytest.raises(ValueError, match="same number of features"):
        drift.max_psi(R, C[:, :2])
