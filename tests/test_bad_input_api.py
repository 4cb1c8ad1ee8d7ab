"""Every public numeric function of compress, explain, drift and privacy: bad input gives a clear
ValueError/TypeError — never a raw traceback (IndexError, ZeroDivisionError, …), never a silent
NaN result from NaN input, never a hang. Plus the silent wrong results the bad-input sweep found."""
import math
import signal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labkit import compress, data, drift, explain, plots, privacy

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
R = np.random.default_rng(0)
A = R.normal(size=50)
B = R.normal(size=50) + 0.5
IMG = R.random((4, 4))
MASK = np.zeros((4, 4), bool)
MASK[:2] = True
GRADS = [R.normal(size=(5, 3))]

#: (function, valid keyword arguments): each argument is replaced by junk in turn
CASES = [
    (compress.quant_params, {"xmin": -1.0, "xmax": 2.0}),
    (compress.quantize, {"x": A, "scale": 0.1, "zero_point": 10}),
    (compress.fake_quant, {"x": A}),
    (compress.magnitude_mask, {"w": A, "sparsity": 0.5}),
    (compress.polynomial_sparsity, {"step": 5, "begin_step": 0, "end_step": 10}),
    (compress.accuracy, {"logits": R.normal(size=(6, 3)), "y": np.array([0, 1, 2, 0, 1, 2])}),
    (explain.lime_kernel, {"distances": np.abs(A)}),
    (explain.local_surrogate, {"Z": R.random((20, 3)), "y": R.random(20), "weights": R.random(20) + 0.1}),
    (explain.mask_overlap, {"attr": IMG, "mask": MASK}),
    (explain.pointing_game, {"attr": IMG, "mask": MASK}),
    (explain.rank_correlation, {"a": A, "b": B}),
    (explain.grid_segments, {"shape": (8, 8), "cell": 4}),
    (explain.segment_map, {"segments": explain.grid_segments((8, 8), 4), "weights": [0.1, 0.2, 0.3, 0.4]}),
    (explain.integrated_gradients, {"grad_fn": lambda b: np.ones_like(b), "x": IMG, "steps": 8}),
    (drift.psi, {"expected": A, "actual": B}),
    (drift.max_psi, {"reference": R.normal(size=(50, 2)), "current": R.normal(size=(50, 2))}),
    (drift.alert, {"scores": np.abs(A), "threshold": 0.5}),
    (drift.simulate, {"kind": "covariate", "n": 50}),
    (privacy.clip_per_example, {"grads": GRADS, "l2_norm_clip": 1.0}),
    (privacy.dp_epsilon, {"noise_multiplier": 1.1, "sample_rate": 0.01, "steps": 100}),
    (privacy.membership_auc, {"member_scores": A, "nonmember_scores": B}),
    (privacy.tpr_at_fpr, {"member_scores": A, "nonmember_scores": B}),
    (privacy.split_clients, {"y": np.arange(40) % 4, "n_clients": 4}),
    (privacy.fgsm, {"grad_fn": lambda x, y: np.ones_like(x), "x": IMG, "y": np.array([1]), "eps": 0.1}),
]

JUNK = [None, "x", True, -1, 0, 10 ** 12, float("nan"), float("inf"), -float("inf"), 1e308,
        np.array([]), np.array([np.nan, 1.0, 2.0]), np.array([[np.inf, 1.0], [2.0, 3.0]]),
        np.array([-1, 2, 3]), [1, "a"], {"a": 1}, np.zeros((2, 2, 2, 2))]


def _has_nan(v):
    if v is None or isinstance(v, (str, dict, bool)):
        return False
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return False
    return bool(np.isnan(a).any())


class _Hang(Exception):
    pass


def _alarm(*_):
    raise _Hang()


@FAST
@given(case=st.sampled_from(CASES), data_=st.data())
def test_bad_arguments_give_clear_errors(case, data_):
    fn, valid = case
    name = data_.draw(st.sampled_from(sorted(valid)))
    junk = data_.draw(st.sampled_from(JUNK))
    kwargs = {**valid, name: junk}
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(20)
    try:
        out = fn(**kwargs)
    except (ValueError, TypeError) as exc:
        assert str(exc), f"{fn.__name__}({name}={junk!r}) raised an empty {type(exc).__name__}"
        return
    except _Hang:
        pytest.fail(f"{fn.__name__}({name}={junk!r}) did not return within 20 s")
    except Exception as exc:  # a raw traceback: the learner gets no fix
        pytest.fail(f"{fn.__name__}({name}={junk!r}) raised {type(exc).__name__}: {exc}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    # it returned: NaN in must never quietly come out as a number
    if _has_nan(junk):
        pytest.fail(f"{fn.__name__}({name}={junk!r}) returned {out!r} for NaN input instead of an error")


# ------------------------------------------------------------------ the silent wrong results found by the sweep
def test_accuracy_rejects_nan_logits_and_bad_labels():
    with pytest.raises(ValueError, match="finite"):
        compress.accuracy(np.full((3, 2), np.nan), np.array([0, 0, 0]))  # was 1.0
    with pytest.raises(ValueError, match="labels"):
        compress.accuracy(np.eye(3), np.array([0, 1, -1]))
    with pytest.raises(ValueError, match="labels"):
        compress.accuracy(np.eye(3), np.array([0, 1, 3]))
    assert compress.accuracy(np.eye(3), np.array([0, 1, 2])) == 1.0


def test_negative_labels_do_not_wrap_around():
    with pytest.raises(ValueError, match="negative"):
        plots.confusion_matrix([0, 1, -1], [0, 1, 1])
    with pytest.raises(ValueError, match=">= 0"):
        explain.segment_map(np.array([[0, -1]]), [0.5, 0.7])


def test_quantizing_nan_and_extreme_ranges():
    with pytest.raises(ValueError, match="NaN"):
        compress.quantize(np.array([np.nan, 1.0]), 0.1, 0)  # was -9.2e18
    with pytest.raises(ValueError, match="finite"):
        compress.fake_quant(np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="too wide"):
        compress.fake_quant(np.array([-1e308, 1e308]))  # overflowed
    with pytest.raises(ValueError, match="too narrow"):
        compress.fake_quant(np.array([0.0, 1e-320]))  # divided by zero
    q = compress.quantize(np.array([-np.inf, np.inf]), 0.1, 0)
    assert q.tolist() == [0, 255]  # infinities saturate
    x = np.linspace(-1, 1, 11)
    assert np.abs(compress.fake_quant(x) - x).max() < 0.01


def test_generated_data_sizes_and_options():
    assert len(data.load("spirals", n=601).y) == 601  # was 600
    assert np.bincount(data.load("spirals", n=601).y).tolist() == [201, 200, 200]
    with pytest.raises(ValueError, match="turns"):
        data.load("spirals", turns=math.nan)  # was NaN data


def test_integrated_gradients_steps_are_bounded():
    with pytest.raises(ValueError, match="steps"):
        explain.integrated_gradients(lambda b: np.ones_like(b), np.ones(4), steps=10 ** 9)  # hung
    with pytest.raises(ValueError, match="NaN"):
        explain.integrated_gradients(lambda b: np.ones_like(b), np.array([np.nan, 1.0]))


def test_fit_without_a_loss_names_the_fix():
    import keras
    from labkit import train
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError) as e:
        train.fit(model, (np.zeros((4, 2), "float32"), np.zeros(4, "float32")), loss=None)
    msg = str(e.value)
    assert "needs a loss" in msg and "keras.losses." in msg and "losse:" not in msg and "losses.Adam" not in msg


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].__module__.split('.')[-1]}.{c[0].__name__}")
def test_every_argument_with_every_junk_value(case):
    """The exhaustive sweep behind the Hypothesis test: every argument × every junk value."""
    fn, valid = case
    problems = []
    for name in valid:
        for junk in JUNK:
            try:
                out = fn(**{**valid, name: junk})
            except (ValueError, TypeError):
                continue
            except Exception as exc:
                problems.append(f"{name}={junk!r:.40}: raw {type(exc).__name__}: {str(exc)[:80]}")
                continue
            if _has_nan(junk):
                problems.append(f"{name}={junk!r:.40}: returned {str(out)[:40]} for NaN input")
    assert not problems, f"{fn.__name__}: " + "; ".join(problems)
