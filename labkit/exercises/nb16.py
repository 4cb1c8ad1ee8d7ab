"""Exercises of 16_explainability: integrated gradients, a mask-overlap score, a LIME-style surrogate."""
import numpy as np

from ..check import Exercise, Mismatch, compare, function_exercise, register
from ..explain import integrated_gradients, local_surrogate, mask_overlap


# ---------------------------------------------------------------- 13.integrated_gradients
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


def _judge_ig(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    for i, (label, grad_fn, x, b, exact) in enumerate(_ig_cases(), 1):
        got = answer(grad_fn, x.copy(), b.copy(), steps=256)
        try:
            compare(got, exact, atol=2e-2, rtol=1e-2, path="attributions")
        except Mismatch as exc:
            raise Mismatch(f"case {i} ({label}, x of shape {x.shape}): {exc}") from None


register(Exercise(
    id="16.integrated_gradients",
    title="integrated gradients along the straight path",
    judge=_judge_ig,
    reference=integrated_gradients,
    wrong=[
        lambda grad_fn, x, baseline, steps=64: grad_fn(x[None])[0] * (x - baseline),      # gradient × input only
        lambda grad_fn, x, baseline, steps=64: grad_fn(                                     # forgot × (x − baseline)
            baseline[None] + ((np.arange(steps) + 0.5) / steps).reshape((-1,) + (1,) * x.ndim) * (x - baseline)[None]
        ).mean(0),
        lambda grad_fn, x, baseline, steps=64: x * grad_fn(                                 # path starts at 0
            ((np.arange(steps) + 0.5) / steps).reshape((-1,) + (1,) * x.ndim) * x[None]).mean(0),
        lambda grad_fn, x, baseline, steps=64: (x - baseline) * grad_fn(                    # sum, not mean
            baseline[None] + ((np.arange(steps) + 0.5) / steps).reshape((-1,) + (1,) * x.ndim) * (x - baseline)[None]
        ).sum(0),
    ],
    hints=[
        "Build `steps` points on the straight line from the baseline to x: baseline + α·(x − baseline) with "
        "α between 0 and 1, stacked into one batch of shape (steps, *x.shape), and call grad_fn once on it.",
        "Average the gradients over the path (axis 0), then multiply element-wise by (x − baseline). The "
        "attributions should then sum to f(x) − f(baseline).",
        "alphas = (np.arange(steps) + 0.5) / steps; path = baseline + alphas.reshape((-1,) + (1,) * x.ndim) * "
        "(x - baseline); return (x - baseline) * grad_fn(path).mean(axis=0)",
    ],
    section="16 · Integrated gradients",
))


# ---------------------------------------------------------------- 13.mask_overlap
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
    wrong=[
        lambda attr, mask: float(np.abs(attr)[mask].sum() / np.abs(attr).sum()),            # |attr| not positive part
        lambda attr, mask: float(attr[mask].sum() / attr.sum()) if attr.sum() else 0.0,     # no clipping
        lambda attr, mask: float(np.maximum(attr, 0)[mask].mean() / np.maximum(attr, 0).mean())
        if np.maximum(attr, 0).sum() > 0 else 0.0,                                          # ratio of means
        lambda attr, mask: float((attr[mask] > 0).mean()),                                  # share of mask pixels > 0
    ],
    section="16 · Scoring explanations",
)


# ---------------------------------------------------------------- 13.local_surrogate
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
    wrong=[
        _unweighted,                                                                 # ignores proximity weights
        _penalised_intercept,                                                        # ridge shrinks the intercept
        _no_intercept,                                                               # no intercept at all
        lambda Z, y, weights, alpha=1.0: local_surrogate(Z, y, weights, 0.0),       # forgot the ridge penalty
    ],
    section="16 · LIME",
)
