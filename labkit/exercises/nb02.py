"""Exercises of 02_losses: Huber, a stable softmax cross-entropy from logits, binary focal loss."""
import numpy as np

from ..check import function_exercise

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
    wrong=[_huber_no_half, _huber_no_offset, _huber_signed, _huber_mean_all],
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
    wrong=[_sce_naive, _sce_global_max, _sce_forgot_max, _sce_mean],
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
    wrong=[_focal_pt_power, _focal_alpha_both, _focal_p_not_pt, _focal_alpha_swapped],
    section=SECTION_FOCAL,
)
