"""Exercises of 16_explainability: integrated gradients, a mask-overlap score, a LIME-style surrogate."""
import numpy as np

from ..check import function_exercise
from ..explain import local_surrogate, mask_overlap
from ._compat import memorised


# ---------------------------------------------------------------- 16.integrated_gradients
def _softplus(z):
    return np.logaddexp(0.0, z)


def _ig_cases():
    """(label, grad_fn, x, baseline, exact IG) with closed-form answers."""
    rng = np.random.default_rng(13)
    cases = []
    w = rng.normal(size=6)
    x, b = rng.normal(size=6), np.zeros(6)
    cases.append(("linear f(x) = w·x, zero baseline", lambda B, w=w: np.broadcast_to(w, B.shape).copy(),
                  x, b, w * (x - b)))
    x, b = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    cases.append(("f(x) = Σ x², non-zero baseline", lambda B: 2 * B, x, b, x ** 2 - b ** 2))
    x, b = rng.normal(size=5) * 2, np.full(5, 0.5)
    cases.append(("f(x) = Σ tanh(x), baseline 0.5", lambda B: 1 - np.tanh(B) ** 2, x, b, np.tanh(x) - np.tanh(b)))
    w = rng.normal(size=8)
    x, b = rng.normal(size=8) * 1.5, rng.normal(size=8) * 0.3
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    grad = lambda B, w=w: sig(B @ w)[:, None] * w[None, :]  # noqa: E731
    exact = w * (x - b) * (_softplus(w @ x) - _softplus(w @ b)) / (w @ (x - b))
    cases.append(("f(x) = softplus(w·x), not separable", grad, x, b, exact))
    return cases


def ig_midpoints(grad_fn, x, baseline, steps=64):
    """Reference: (x − baseline) · mean gradient at the midpoints α = (k + ½)/steps of the straight path."""
    x, b = np.asarray(x, dtype=np.float64), np.asarray(baseline, dtype=np.float64)
    alphas = (np.arange(steps) + 0.5) / steps
    path = b[None] + alphas.reshape((-1,) + (1,) * x.ndim) * (x - b)[None]
    return (x - b) * np.asarray(grad_fn(path), dtype=np.float64).mean(axis=0)


def _ig_fixed():
    out = []
    for label, grad_fn, x, b, _exact in _ig_cases():
        out.append({"args": (grad_fn, x, b), "kwargs": {"steps": 256}, "label": f"({label})"})
    label, grad_fn, x, b, _ = _ig_cases()[3]
    out.append({"args": (grad_fn, x, b), "kwargs": {"steps": 3}, "label": "(3 steps: the midpoints matter)"})
    return out


def _ig_random(rng):
    shape = tuple(int(v) for v in rng.integers(1, 5, size=int(rng.integers(1, 3))))
    w = rng.normal(size=shape)
    x, b = rng.normal(size=shape) * 2, rng.normal(size=shape) * 0.5
    grad = lambda B, w=w: np.tanh(B * w) * w + 0.5 * B      # noqa: E731  a non-linear, separable f
    return [{"args": (grad, x, b), "kwargs": {"steps": int(rng.integers(2, 12))}, "label": f"(random: shape {shape})"}]


def _ig_path(x, b, steps, alphas=None):
    alphas = (np.arange(steps) + 0.5) / steps if alphas is None else alphas
    return b[None] + alphas.reshape((-1,) + (1,) * x.ndim) * (x - b)[None]


def _ig_left(grad_fn, x, baseline, steps=64):
    return (x - baseline) * grad_fn(_ig_path(x, baseline, steps, np.arange(steps) / steps)).mean(0)


def _ig_inplace(grad_fn, x, baseline, steps=64):
    out = ig_midpoints(grad_fn, x, baseline, steps)
    x -= baseline
    return out


_IG_WRONG = {
    "other: gradient × input at x only": lambda grad_fn, x, baseline, steps=64: grad_fn(x[None])[0] * (x - baseline),
    "other: forgets × (x − baseline)": lambda grad_fn, x, baseline, steps=64: grad_fn(_ig_path(x, baseline, steps)).mean(0),
    "ignored_argument: baseline ignored (path from 0)":
        lambda grad_fn, x, baseline, steps=64: x * grad_fn(_ig_path(x, np.zeros_like(x), steps)).mean(0),
    "normalisation: sum over the path, not the mean":
        lambda grad_fn, x, baseline, steps=64: (x - baseline) * grad_fn(_ig_path(x, baseline, steps)).sum(0),
    "off_by_one: left Riemann sum α = k/steps": _ig_left,
    "ignored_argument: steps ignored (always 64)":
        lambda grad_fn, x, baseline, steps=64: ig_midpoints(grad_fn, x, baseline, 64),
    "sign: (baseline − x)": lambda grad_fn, x, baseline, steps=64: -ig_midpoints(grad_fn, x, baseline, steps),
    "mutation: changes the caller's x": _ig_inplace,
    "returns_none: forgets to return": lambda grad_fn, x, baseline, steps=64: None,
}


function_exercise(
    "16.integrated_gradients",
    title="integrated gradients along the straight path",
    reference=ig_midpoints,
    cases=_ig_fixed,
    random_cases=_ig_random,
    atol=1e-5, rtol=1e-5,
    wrong=_IG_WRONG,
    hints=[
        "Build `steps` points on the straight line from the baseline to x: baseline + α·(x − baseline) with "
        "α between 0 and 1, stacked into one batch of shape (steps, *x.shape), and call grad_fn once on it.",
        "Use the midpoints α = (k + ½)/steps, average the gradients over the path (axis 0), then multiply "
        "element-wise by (x − baseline). The attributions should then sum to f(x) − f(baseline).",
        "alphas = (np.arange(steps) + 0.5) / steps; path = baseline + alphas.reshape((-1,) + (1,) * x.ndim) * "
        "(x - baseline); return (x - baseline) * grad_fn(path).mean(axis=0)",
    ],
    section="16 · Integrated gradients",
)


# ---------------------------------------------------------------- 16.mask_overlap
def _overlap_cases():
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:12, 0:12]
    disc = (yy - 5) ** 2 + (xx - 6) ** 2 <= 9
    square = (abs(yy - 8) <= 2) & (abs(xx - 3) <= 2)
    signed = rng.normal(size=(12, 12)) + 2.0 * disc
    return [
        {"args": (np.where(disc, 1.0, 0.25), disc), "label": "(positive map)"},
        {"args": (signed, disc), "label": "(signed attribution: negatives are evidence *against*)"},
        {"args": (rng.normal(size=(12, 12)) + 1.5 * square, square), "label": "(small object)"},
        {"args": (np.abs(rng.normal(size=(10, 14))), rng.random((10, 14)) < 0.5), "label": "(non-square)"},
        {"args": (-np.abs(rng.normal(size=(6, 6))), np.eye(6, dtype=bool)), "label": "(nothing positive)"},
    ]


def _overlap_random(rng):
    h, w = (int(v) for v in rng.integers(3, 16, size=2))
    mask = rng.random((h, w)) < rng.uniform(0.1, 0.6)
    attr = rng.normal(size=(h, w)) * rng.uniform(0.1, 10) + rng.uniform(0, 2) * mask
    cases = [{"args": (attr, mask), "label": f"(random: {h}×{w})"}]
    # every call: positive attribution both on and off the object, so the answer is strictly between 0 and 1
    # and no shortcut (a share of pixels, a fixed 0 or 1) matches it by luck
    h, w = (int(v) for v in rng.integers(4, 16, size=2))
    mask = rng.random((h, w)) < rng.uniform(0.2, 0.6)
    mask[0, 0], mask[-1, -1] = True, False
    attr = rng.normal(size=(h, w)) * rng.uniform(0.1, 10) + rng.uniform(0, 2) * mask
    attr[0, 0], attr[-1, -1] = abs(attr[0, 0]) + 0.1, abs(attr[-1, -1]) + 0.1
    cases.append({"args": (attr, mask), "label": f"(random: {h}×{w}, positive on and off the object)"})
    return cases


def _overlap_inplace(attr, mask):
    np.maximum(attr, 0, out=attr)
    return mask_overlap(attr, mask)


def _overlap_nan(attr, mask):
    pos = np.maximum(attr, 0)
    with np.errstate(invalid="ignore"):
        return float(pos[mask].sum() / pos.sum())


function_exercise(
    "16.mask_overlap",
    title="share of the positive attribution on the object",
    reference=mask_overlap,
    cases=_overlap_cases,
    atol=1e-9, rtol=1e-7,
    hints=[
        "Only positive attribution counts as evidence *for* the class: clip negatives to 0 first (np.maximum).",
        "Divide the positive attribution inside the mask by the total positive attribution — not by the mask's "
        "area — and return 0.0 when nothing is positive.",
        "pos = np.maximum(attr, 0); total = pos.sum(); return float(pos[mask].sum() / total) if total > 0 else 0.0",
    ],
    random_cases=_overlap_random,
    wrong={
        "other: |attr| instead of its positive part":
            lambda attr, mask: float(np.abs(attr)[mask].sum() / np.abs(attr).sum()),
        "sign: no clipping, negatives cancel positives":
            lambda attr, mask: float(attr[mask].sum() / attr.sum()) if attr.sum() else 0.0,
        "normalisation: ratio of means (divides by the mask's area)":
            lambda attr, mask: float(np.maximum(attr, 0)[mask].mean() / np.maximum(attr, 0).mean())
            if np.maximum(attr, 0).sum() > 0 else 0.0,
        "other: share of mask pixels that are positive": lambda attr, mask: float((attr[mask] > 0).mean()),
        "boundary: 0/0 = nan when nothing is positive": _overlap_nan,
        "wrong_axis: the mask's complement": lambda attr, mask: mask_overlap(attr, ~np.asarray(mask)),
        "mutation: clips the caller's attribution in place": _overlap_inplace,
        "returns_none: forgets to return": lambda attr, mask: None,
        "fits_visible: right on the fixed cases only":
            memorised(mask_overlap, _overlap_cases, lambda attr, mask: float((attr[mask] > 0).mean())),
    },
    section="16 · Scoring explanations",
)


# ---------------------------------------------------------------- 16.local_surrogate
def _surrogate_cases():
    rng = np.random.default_rng(3)
    out = []
    for n, d, alpha in [(200, 8, 1.0), (120, 5, 0.3), (300, 12, 2.0)]:
        Z = rng.integers(0, 2, (n, d)).astype(float)
        Z[0] = 1.0  # the instance itself: every segment on
        true = rng.normal(size=d)
        y = 0.4 + Z @ true + 0.1 * rng.normal(size=n)
        dist = 1 - Z.mean(1)
        w = np.sqrt(np.exp(-dist ** 2 / 0.25 ** 2))
        out.append({"args": (Z, y, w), "kwargs": {"alpha": alpha}, "label": f"(n={n}, d={d}, alpha={alpha})"})
    return out


def _unweighted(Z, y, weights, alpha=1.0):
    return local_surrogate(Z, y, np.ones(len(Z)), alpha)


def _penalised_intercept(Z, y, weights, alpha=1.0):
    A = np.c_[np.ones(len(Z)), Z]
    w = weights
    coef = np.linalg.solve(A.T @ (w[:, None] * A) + alpha * np.eye(A.shape[1]), A.T @ (w * y))
    return coef[1:], float(coef[0])


def _no_intercept(Z, y, weights, alpha=1.0):
    w = weights
    coef = np.linalg.solve(Z.T @ (w[:, None] * Z) + alpha * np.eye(Z.shape[1]), Z.T @ (w * y))
    return coef, 0.0


def _surrogate_random(rng):
    n, d = int(rng.integers(20, 200)), int(rng.integers(2, 10))
    Z = rng.integers(0, 2, (n, d)).astype(float)
    Z[0] = 1.0
    y = rng.normal() + Z @ rng.normal(size=d) * rng.uniform(0.2, 3) + 0.2 * rng.normal(size=n)
    w = rng.uniform(0.05, 1.0, n)
    return [{"args": (Z, y, w), "kwargs": {"alpha": float(rng.uniform(0.1, 5))}, "label": f"(random: n={n}, d={d})"}]


def _squared_weights(Z, y, weights, alpha=1.0):
    return local_surrogate(Z, y, np.asarray(weights) ** 2, alpha)


def _unweighted_centring(Z, y, weights, alpha=1.0):
    w = np.asarray(weights, float)
    zm, ym = Z.mean(0), y.mean()
    Zc, yc = Z - zm, y - ym
    c = np.linalg.solve(Zc.T @ (w[:, None] * Zc) + alpha * np.eye(Z.shape[1]), Zc.T @ (w * yc))
    return c, float(ym - zm @ c)


def _surrogate_inplace(Z, y, weights, alpha=1.0):
    c, b = local_surrogate(Z, y, weights, alpha)
    Z -= Z.mean(0)
    return c, b


function_exercise(
    "16.local_surrogate",
    title="LIME's local linear surrogate (weighted ridge)",
    reference=local_surrogate,
    cases=_surrogate_cases,
    atol=1e-6, rtol=1e-6,
    hints=[
        "It is ridge regression where each perturbed sample counts with its weight: minimise "
        "Σ wᵢ (yᵢ − b − zᵢ·c)² + alpha·‖c‖². The intercept b is not penalised.",
        "Centre Z and y with their *weighted* means, solve (Zcᵀ W Zc + alpha·I) c = Zcᵀ W yc, then "
        "b = ȳ − z̄·c.",
        "zm = w @ Z / w.sum(); ym = w @ y / w.sum(); Zc, yc = Z - zm, y - ym; "
        "c = np.linalg.solve(Zc.T @ (w[:, None] * Zc) + alpha * np.eye(Z.shape[1]), Zc.T @ (w * yc)); "
        "return c, ym - zm @ c",
    ],
    random_cases=_surrogate_random,
    wrong={
        "ignored_argument: proximity weights ignored": _unweighted,
        "other: the ridge penalty shrinks the intercept too": _penalised_intercept,
        "boundary: no intercept at all": _no_intercept,
        "ignored_argument: alpha ignored (no ridge penalty)": lambda Z, y, weights, alpha=1.0: local_surrogate(Z, y, weights, 0.0),
        "normalisation: weights squared": _squared_weights,
        "other: centred with unweighted means": _unweighted_centring,
        "mutation: centres the caller's Z in place": _surrogate_inplace,
        "returns_none: forgets to return": lambda Z, y, weights, alpha=1.0: None,
        "fits_visible: right on the fixed cases only": memorised(local_surrogate, _surrogate_cases, _unweighted),
    },
    section="16 · LIME",
)
