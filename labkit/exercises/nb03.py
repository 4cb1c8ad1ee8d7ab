"""Exercises of 03_regularization: an L2-penalized loss, inverted dropout, an early-stopping rule."""
import numpy as np

from ..check import Exercise, Mismatch, function_exercise, register

SECTION_L2 = "03 · L2 and L1 penalties"
SECTION_DROPOUT = "03 · Dropout"
SECTION_EARLY = "03 · Early stopping"


# ---------------------------------------------------------------- 1. L2 penalty in a hand-written loss
def _cross_entropy(logits, y):
    """Mean softmax cross-entropy from logits, computed stably (the notebook's `cross_entropy`)."""
    logits = np.asarray(logits, dtype=np.float64)
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(len(y)), np.asarray(y)])


def l2_penalized_loss(logits, y, kernels, lam):
    """Reference: cross-entropy + lam · Σ over every kernel of Σ w² (Keras's L2 convention, no ½)."""
    return _cross_entropy(logits, y) + lam * sum(np.sum(np.asarray(k, dtype=np.float64) ** 2) for k in kernels)


def _l2_cases():
    rng = np.random.default_rng(3)
    cases = []
    for n, c, shapes, lam, label in [
        (8, 4, [(5, 6), (6, 4)], 0.01, "(two layers)"),
        (16, 10, [(64, 32), (32, 32), (32, 10)], 1e-3, "(three layers, the notebook's sizes scaled down)"),
        (5, 3, [(4, 3)], 0.5, "(one layer, strong penalty)"),
        (6, 3, [(2, 3), (3, 3)], 0.0, "(λ = 0: only the data loss)"),
    ]:
        logits = rng.normal(0, 3, (n, c))
        y = rng.integers(0, c, n)
        kernels = [rng.normal(0, 1, s) for s in shapes]
        cases.append({"args": (logits, y, kernels, lam), "label": label})
    return cases


function_exercise(
    "03.l2_penalized_loss",
    title="add an L2 penalty to a hand-written loss",
    reference=l2_penalized_loss,
    cases=_l2_cases,
    hints=[
        "The penalty is one number added to the data loss: λ times the sum of the squares of every weight "
        "in every kernel. `cross_entropy(logits, y)` gives the data loss.",
        "Sum over all kernels, not only the first, and use the sum of squares (not the mean, not |w|). "
        "Keras's L2(λ) has no factor ½.",
        "return cross_entropy(logits, y) + lam * sum(np.sum(k ** 2) for k in kernels)",
    ],
    wrong=[
        lambda logits, y, kernels, lam: _cross_entropy(logits, y) + lam * sum(np.mean(k ** 2) for k in kernels),
        lambda logits, y, kernels, lam: _cross_entropy(logits, y) + lam * np.sum(kernels[0] ** 2),
        lambda logits, y, kernels, lam: _cross_entropy(logits, y) + lam * sum(np.sum(np.abs(k)) for k in kernels),
        lambda logits, y, kernels, lam: _cross_entropy(logits, y) + 0.5 * lam * sum(np.sum(k ** 2) for k in kernels),
        lambda logits, y, kernels, lam: _cross_entropy(logits, y) - lam * sum(np.sum(k ** 2) for k in kernels),
    ],
    section=SECTION_L2,
)


# ---------------------------------------------------------------- 2. inverted dropout
def inverted_dropout(x, rate, rng, training=True):
    """Reference: zero each unit with probability `rate`, scale survivors by 1/(1-rate); identity at inference."""
    x = np.asarray(x, dtype=np.float64)
    if not training or rate == 0:
        return x
    keep = rng.random(x.shape) >= rate
    return np.where(keep, x / (1.0 - rate), 0.0)


def _judge_dropout(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    x = np.random.default_rng(11).uniform(0.5, 1.5, (400, 500))
    for rate in (0.3, 0.5):
        out = answer(x.copy(), rate, np.random.default_rng(7), training=False)
        out = np.asarray(out, dtype=np.float64)
        if out.shape != x.shape:
            raise Mismatch(f"training=False, rate={rate}: output has shape {out.shape}, expected {x.shape}")
        if not np.allclose(out, x, rtol=0, atol=1e-12):
            i = tuple(int(v) for v in np.argwhere(~np.isclose(out, x, rtol=0, atol=1e-12))[0])
            raise Mismatch(f"training=False, rate={rate}: output{list(i)} is {out[i]:.4g} but x there is "
                           f"{x[i]:.4g}; at inference inverted dropout must return x unchanged")
    out = np.asarray(answer(x.copy(), 0.0, np.random.default_rng(7), training=True), dtype=np.float64)
    if out.shape != x.shape or not np.allclose(out, x, rtol=0, atol=1e-12):
        raise Mismatch("rate=0, training=True: nothing should be dropped or scaled, the output must equal x")
    for rate in (0.3, 0.6):
        out = np.asarray(answer(x.copy(), rate, np.random.default_rng(7), training=True), dtype=np.float64)
        if out.shape != x.shape:
            raise Mismatch(f"training=True, rate={rate}: output has shape {out.shape}, expected {x.shape}")
        dropped = out == 0
        frac = dropped.mean()
        if abs(frac - rate) > 0.01:
            raise Mismatch(f"training=True, rate={rate}: {frac:.1%} of the units are zero, expected about "
                           f"{rate:.0%} (rate is the probability of DROPPING a unit)")
        kept = ~dropped
        ratio = out[kept] / x[kept]
        if not np.allclose(ratio, 1.0 / (1.0 - rate), rtol=1e-6, atol=0):
            raise Mismatch(f"training=True, rate={rate}: kept units are multiplied by {np.median(ratio):.4g}, "
                           f"expected 1/(1-rate) = {1 / (1 - rate):.4g}, so that the mean stays the same")


register(Exercise(
    id="03.inverted_dropout",
    title="implement inverted dropout",
    judge=_judge_dropout,
    reference=inverted_dropout,
    wrong=[
        # no rescaling: the expected activation shrinks by (1 - rate) during training
        lambda x, rate, rng, training=True: np.where(rng.random(np.shape(x)) >= rate, x, 0.0) if training else x,
        # `rate` used as the probability of KEEPING a unit
        lambda x, rate, rng, training=True: (np.where(rng.random(np.shape(x)) < rate, x / rate, 0.0)
                                             if training and rate > 0 else x),
        # classic (non-inverted) dropout: no scaling in training, multiply by (1 - rate) at inference
        lambda x, rate, rng, training=True: (np.where(rng.random(np.shape(x)) >= rate, x, 0.0) if training
                                             else x * (1 - rate)),
        # dropout also applied at inference
        lambda x, rate, rng, training=True: (np.where(rng.random(np.shape(x)) >= rate, x / (1 - rate), 0.0)
                                             if rate > 0 else x),
    ],
    hints=[
        "Draw a random keep-mask: each unit survives with probability 1 − rate (e.g. rng.random(x.shape) >= rate). "
        "At inference (training=False) return x unchanged.",
        "Inverted dropout rescales the survivors during training by 1/(1 − rate), so the expected value of every "
        "unit is the same in training and at inference.",
        "keep = rng.random(x.shape) >= rate;  return np.where(keep, x / (1 - rate), 0.0) if training else x",
    ],
    section=SECTION_DROPOUT,
))


# ---------------------------------------------------------------- 3. early stopping
def early_stopping(val_losses, patience, min_delta=0.0):
    """Reference: (stop_epoch, best_epoch) with Keras's EarlyStopping rule on a list of validation losses."""
    best, best_epoch, wait = None, 0, 0
    for epoch, loss in enumerate(val_losses):
        wait += 1
        if best is None or loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
            continue
        if wait >= patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def _es_wrong_late(val_losses, patience, min_delta=0.0):
    best, best_epoch, wait = None, 0, 0
    for epoch, loss in enumerate(val_losses):
        if best is None or loss < best - min_delta:
            best, best_epoch, wait = loss, epoch, 0
            continue
        wait += 1
        if wait > patience:  # one epoch too late
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def _es_wrong_previous(val_losses, patience, min_delta=0.0):
    prev, best, best_epoch, wait = None, None, 0, 0
    for epoch, loss in enumerate(val_losses):
        improved = prev is None or loss < prev - min_delta  # compares with the previous epoch, not the best
        prev = loss
        if best is None or loss < best:
            best, best_epoch = loss, epoch
        if improved:
            wait = 0
            continue
        wait += 1
        if wait >= patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def _es_wrong_no_restore(val_losses, patience, min_delta=0.0):
    stop, _ = early_stopping(val_losses, patience, min_delta)
    return stop, stop  # keeps the last weights instead of the best ones


def _es_wrong_no_delta(val_losses, patience, min_delta=0.0):
    return early_stopping(val_losses, patience, 0.0)  # ignores min_delta


def _es_cases():
    rng = np.random.default_rng(5)
    u = np.r_[np.linspace(1.0, 0.4, 12), np.linspace(0.41, 0.7, 20)] + rng.normal(0, 0.01, 32)
    zigzag = [1.0, 0.8, 0.9, 0.85, 0.95, 0.9, 1.0, 0.95, 1.1, 1.05, 1.2, 1.15]
    plateau = [1.0, 0.9, 0.8, 0.795, 0.79, 0.786, 0.783, 0.781, 0.78, 0.779, 0.7785, 0.778]
    return [
        {"args": ([float(v) for v in u], 5), "label": "(U-shaped validation loss)"},
        {"args": (zigzag, 3), "label": "(a zigzag above the best loss)"},
        {"args": (plateau, 3, 0.01), "label": "(tiny improvements below min_delta)"},
        {"args": ([1.0, 0.9, 0.8, 0.7, 0.6], 2), "label": "(never stops)"},
        {"args": ([0.5, 0.6, 0.7, 0.4, 0.45, 0.5, 0.55], 3), "label": "(a late new best)"},
        {"args": ([0.5, 0.6, 0.55, 0.58, 0.7], 1), "label": "(patience 1)"},
    ]


function_exercise(
    "03.early_stopping",
    title="write an early-stopping rule",
    reference=early_stopping,
    cases=_es_cases,
    hints=[
        "Walk through the losses keeping the best loss so far, its epoch, and a counter of epochs since the last "
        "improvement. An improvement means loss < best − min_delta (the first epoch always improves).",
        "Compare with the BEST loss so far, not the previous epoch. Stop at the epoch where the counter "
        "reaches `patience` (>=, not >); if that never happens, training ran to the last epoch (len − 1).",
        "best=None; wait=0; for epoch, loss in enumerate(val_losses): wait += 1; if best is None or loss < best - "
        "min_delta: best, best_epoch, wait = loss, epoch, 0; continue; if wait >= patience: return epoch, best_epoch",
    ],
    wrong=[_es_wrong_late, _es_wrong_previous, _es_wrong_no_restore, _es_wrong_no_delta],
    section=SECTION_EARLY,
)
