"""Exercises of 02_losses: Huber, a stable softmax cross-entropy from logits, binary focal loss."""
import numpy as np

from ..check import function_exercise
from ._compat import memorised

SECTION_REG = "02 · Regression losses"
SECTION_STABLE = "02 · Numerical stability"
SECTION_FOCAL = "02 · Label smoothing and focal loss"


# ------------------------------------------------------------------ 02.huber
def huber(y_true, y_pred, delta=1.0):
    """Reference: Huber loss, averaged over the last axis (as keras.losses.Huber does per sample)."""
    r = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    a = np.abs(r)
    return np.mean(np.where(a <= delta, 0.5 * r ** 2, delta * a - 0.5 * delta ** 2), axis=-1)


def _huber_no_half(y_true, y_pred, delta=1.0):
    r = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    a = np.abs(r)
    return np.mean(np.where(a <= delta, r ** 2, delta * a - 0.5 * delta ** 2), axis=-1)


def _huber_no_offset(y_true, y_pred, delta=1.0):
    r = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    a = np.abs(r)
    return np.mean(np.where(a <= delta, 0.5 * r ** 2, delta * a), axis=-1)


def _huber_signed(y_true, y_pred, delta=1.0):
    r = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    return np.mean(np.where(r <= delta, 0.5 * r ** 2, delta * np.abs(r) - 0.5 * delta ** 2), axis=-1)


def _huber_mean_all(y_true, y_pred, delta=1.0):
    r = np.asarray(y_pred, dtype=np.float64) - np.asarray(y_true, dtype=np.float64)
    a = np.abs(r)
    return np.mean(np.where(a <= delta, 0.5 * r ** 2, delta * a - 0.5 * delta ** 2))


def _huber_fixed_delta(y_true, y_pred, delta=1.0):
    return huber(y_true, y_pred, 1.0)


def _huber_no_return(y_true, y_pred, delta=1.0):
    huber(y_true, y_pred, delta)


def _huber_random(rng):
    out = []
    for _ in range(3):
        shape = (int(rng.integers(1, 9)),) if rng.random() < 0.5 else (int(rng.integers(1, 5)), int(rng.integers(1, 7)))
        s, delta = float(rng.choice([0.3, 1.0, 5.0])), float(rng.uniform(0.1, 3.0))
        y_true, y_pred = rng.normal(0, s, shape), rng.normal(0, s, shape)
        y_pred.flat[0] = y_true.flat[0] + rng.choice([-1, 1]) * (delta + rng.uniform(0.2, 3.0))   # one |r| > delta
        if y_pred.size > 1:
            y_pred.flat[-1] = y_true.flat[-1] + rng.uniform(-0.9, 0.9) * delta                    # one |r| < delta
        out.append({"args": (y_true, y_pred), "kwargs": {"delta": delta}})
    return out


def _huber_cases():
    rng = np.random.default_rng(0)
    return [
        {"args": (np.array([0.0, 1.0, 2.0, 3.0, -1.0]), np.array([0.5, 3.0, -2.0, 3.2, -4.0])),
         "label": "(1-D, residuals on both sides of delta, some negative)"},
        {"args": (rng.normal(size=(4, 6)), 2 * rng.normal(size=(4, 6))), "kwargs": {"delta": 0.5},
         "label": "(2-D: one loss per row)"},
        {"args": (np.zeros(4), np.array([-3.0, -1.5, 1.5, 3.0])), "kwargs": {"delta": 2.0}, "label": "(delta = 2)"},
    ]


function_exercise(
    "02.huber",
    title="the Huber loss",
    reference=huber,
    cases=_huber_cases,
    hints=[
        "Work with the residual r = y_pred − y_true. Small residuals (|r| ≤ delta) are squared, large ones "
        "count linearly; average over the LAST axis (one value per sample, like Keras).",
        "Quadratic part ½·r²; linear part delta·|r| − ½·delta² (the offset makes the two pieces meet at |r| = delta). "
        "Choose between them with np.where on |r|, not on r.",
        "r = y_pred - y_true; a = np.abs(r); return np.mean(np.where(a <= delta, 0.5 * r**2, "
        "delta * a - 0.5 * delta**2), axis=-1)",
    ],
    random_cases=_huber_random,
    wrong={
        "normalisation: r² instead of ½·r²": _huber_no_half,
        "other: linear part without the −½·delta² offset": _huber_no_offset,
        "sign: chooses the piece on r instead of |r|": _huber_signed,
        "wrong_axis: one mean over the whole array": _huber_mean_all,
        "ignored_argument: always delta = 1": _huber_fixed_delta,
        "returns_none: returns nothing": _huber_no_return,
        "fits_visible: right on the notebook's cases only": memorised(huber, _huber_cases, _huber_no_offset),
    },
    section=SECTION_REG,
)


# ------------------------------------------------------------------ 02.softmax_cross_entropy
def softmax_cross_entropy(logits, labels):
    """Reference: −log softmax(logits)[label] per row, via a row-wise log-sum-exp."""
    z = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    m = z.max(axis=-1, keepdims=True)
    lse = m[..., 0] + np.log(np.sum(np.exp(z - m), axis=-1))
    return lse - np.take_along_axis(z, labels[..., None], axis=-1)[..., 0]


def _sce_naive(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        p = np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True)
        return -np.log(p[np.arange(len(z)), labels])


def _sce_global_max(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    m = z.max()
    with np.errstate(divide="ignore"):
        lse = m + np.log(np.sum(np.exp(z - m), axis=-1))
    return lse - z[np.arange(len(z)), labels]


def _sce_forgot_max(logits, labels):
    z = np.asarray(logits, dtype=np.float64)
    m = z.max(axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(z - m), axis=-1))
    return lse - z[np.arange(len(z)), labels]


def _sce_mean(logits, labels):
    return float(np.mean(softmax_cross_entropy(logits, labels)))


def _sce_sign(logits, labels):
    return -softmax_cross_entropy(logits, labels)


def _sce_label0(logits, labels):
    return softmax_cross_entropy(logits, np.zeros(len(np.asarray(logits)), int))


def _sce_no_return(logits, labels):
    softmax_cross_entropy(logits, labels)


def _sce_random(rng):
    out = []
    for scale in (1.0, float(rng.choice([20.0, 300.0])), 1000.0):
        n, k = int(rng.integers(1, 7)), int(rng.integers(2, 9))
        z = rng.normal(0, scale, (n, k)) + rng.normal(0, 50 * scale, (n, 1))   # rows far apart
        out.append((z, rng.integers(0, k, n)))
    return out


def _sce_cases():
    rng = np.random.default_rng(4)
    return [
        {"args": (rng.normal(size=(5, 4)), np.array([0, 3, 1, 2, 3])), "label": "(ordinary logits)"},
        {"args": (np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 999.0]]), np.array([1, 2])),
         "label": "(huge logits: exp overflows)"},
        {"args": (np.array([[800.0, 799.0, 798.0], [-800.0, -801.0, -850.0]]), np.array([0, 1])),
         "label": "(one row far below another)"},
        {"args": (rng.normal(size=(3, 7)) * 30, np.array([6, 0, 2])), "label": "(3 rows, 7 classes)"},
    ]


function_exercise(
    "02.softmax_cross_entropy",
    title="a numerically stable softmax cross-entropy from logits",
    reference=softmax_cross_entropy,
    cases=_sce_cases,
    hints=[
        "Never form exp(logits) directly: the loss is log Σⱼ exp(zⱼ) − z_label, and log Σ exp can be computed "
        "without overflow. Return one loss per row (shape (n,)).",
        "Log-sum-exp trick, row by row: m = z.max(axis=-1, keepdims=True); log Σ exp(z) = m + log Σ exp(z − m). "
        "Subtract the max of EACH row (not of the whole array) and add it back.",
        "m = z.max(axis=-1, keepdims=True); lse = m[:, 0] + np.log(np.exp(z - m).sum(axis=-1)); "
        "return lse - z[np.arange(len(z)), labels]",
    ],
    random_cases=_sce_random,
    wrong={
        "unstable: exp, divide, log": _sce_naive,
        "wrong_axis: subtracts the max of the whole array": _sce_global_max,
        "other: forgets to add the max back": _sce_forgot_max,
        "other: returns the batch mean": _sce_mean,
        "sign: z_label − logsumexp": _sce_sign,
        "ignored_argument: always the loss of class 0": _sce_label0,
        "returns_none: returns nothing": _sce_no_return,
        "fits_visible: right on the notebook's cases only": memorised(softmax_cross_entropy, _sce_cases, _sce_naive),
    },
    section=SECTION_STABLE,
)


# ------------------------------------------------------------------ 02.binary_focal_loss
def binary_focal_loss(y_true, p, gamma=2.0, alpha=0.25):
    """Reference: −α_t·(1 − p_t)^γ·log p_t, element-wise, from probabilities p of the positive class."""
    y = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    p_t = y * p + (1 - y) * (1 - p)
    alpha_t = y * alpha + (1 - y) * (1 - alpha)
    return -alpha_t * (1 - p_t) ** gamma * np.log(p_t)


def _focal_pt_power(y_true, p, gamma=2.0, alpha=0.25):
    y, p = np.asarray(y_true, float), np.asarray(p, float)
    p_t = y * p + (1 - y) * (1 - p)
    alpha_t = y * alpha + (1 - y) * (1 - alpha)
    return -alpha_t * p_t ** gamma * np.log(p_t)


def _focal_alpha_both(y_true, p, gamma=2.0, alpha=0.25):
    y, p = np.asarray(y_true, float), np.asarray(p, float)
    p_t = y * p + (1 - y) * (1 - p)
    return -alpha * (1 - p_t) ** gamma * np.log(p_t)


def _focal_p_not_pt(y_true, p, gamma=2.0, alpha=0.25):
    y, p = np.asarray(y_true, float), np.asarray(p, float)
    p_t = y * p + (1 - y) * (1 - p)
    alpha_t = y * alpha + (1 - y) * (1 - alpha)
    return -alpha_t * (1 - p) ** gamma * np.log(p_t)


def _focal_alpha_swapped(y_true, p, gamma=2.0, alpha=0.25):
    y, p = np.asarray(y_true, float), np.asarray(p, float)
    p_t = y * p + (1 - y) * (1 - p)
    alpha_t = y * (1 - alpha) + (1 - y) * alpha
    return -alpha_t * (1 - p_t) ** gamma * np.log(p_t)


def _focal_fixed_gamma(y_true, p, gamma=2.0, alpha=0.25):
    return binary_focal_loss(y_true, p, 2.0, alpha)


def _focal_row_mean(y_true, p, gamma=2.0, alpha=0.25):
    return np.mean(binary_focal_loss(y_true, p, gamma, alpha), axis=-1)


def _focal_no_return(y_true, p, gamma=2.0, alpha=0.25):
    binary_focal_loss(y_true, p, gamma, alpha)


def _focal_random(rng):
    out = []
    for _ in range(3):
        shape = (int(rng.integers(1, 9)),) if rng.random() < 0.5 else (int(rng.integers(2, 5)), int(rng.integers(2, 6)))
        y = rng.integers(0, 2, shape)
        y.flat[0], y.flat[-1] = 0, 1                      # both classes present
        out.append({"args": (y, rng.uniform(1e-4, 1 - 1e-4, shape)),
                    "kwargs": {"gamma": float(rng.choice([0.5, 1.0, 3.0, 4.5])), "alpha": float(rng.uniform(0.05, 0.95))}})
    return out


def _focal_cases():
    rng = np.random.default_rng(5)
    return [
        {"args": (np.array([1, 1, 0, 0, 1, 0]), np.array([0.9, 0.2, 0.1, 0.7, 0.5, 0.5])), "label": "(defaults)"},
        {"args": (rng.integers(0, 2, (4, 3)), rng.uniform(0.01, 0.99, (4, 3))), "kwargs": {"gamma": 1.0, "alpha": 0.6},
         "label": "(2-D, gamma = 1, alpha = 0.6)"},
        {"args": (np.array([0, 1, 1]), np.array([0.999, 0.001, 0.97])), "kwargs": {"gamma": 5.0, "alpha": 0.9},
         "label": "(very wrong and very right, gamma = 5)"},
    ]


function_exercise(
    "02.binary_focal_loss",
    title="the binary focal loss (α-balanced)",
    reference=binary_focal_loss,
    cases=_focal_cases,
    hints=[
        "Define p_t, the probability the model gives to the TRUE class: p where y = 1, 1 − p where y = 0. "
        "Cross-entropy is −log p_t; focal loss multiplies it by (1 − p_t)^gamma and by a class weight.",
        "The class weight is alpha for positives and 1 − alpha for negatives: alpha_t = y·alpha + (1 − y)·(1 − alpha). "
        "Return one value per element (no mean).",
        "p_t = y*p + (1-y)*(1-p); alpha_t = y*alpha + (1-y)*(1-alpha); "
        "return -alpha_t * (1 - p_t)**gamma * np.log(p_t)",
    ],
    random_cases=_focal_random,
    wrong={
        "other: p_t^γ instead of (1 − p_t)^γ": _focal_pt_power,
        "ignored_argument: α for both classes": _focal_alpha_both,
        "other: (1 − p)^γ instead of (1 − p_t)^γ": _focal_p_not_pt,
        "sign: α for negatives, 1 − α for positives": _focal_alpha_swapped,
        "ignored_argument: always γ = 2": _focal_fixed_gamma,
        "wrong_axis: averages over the last axis": _focal_row_mean,
        "returns_none: returns nothing": _focal_no_return,
        "fits_visible: right on the notebook's cases only": memorised(binary_focal_loss, _focal_cases, _focal_alpha_both),
    },
    section=SECTION_FOCAL,
)
