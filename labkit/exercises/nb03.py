"""Exercises of 03_regularization: an L2-penalized loss, AdamW's decoupled weight decay, inverted dropout,
an early-stopping rule."""
import numpy as np

from ..check import Exercise, Mismatch, call_answer, function_exercise, register
from ._compat import fresh_seed, memorised

SECTION_L2 = "03 · L2 and L1 penalties"
SECTION_ADAMW = "03 · Decoupled weight decay (AdamW)"
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


def _l2_naive_ce(logits, y, kernels, lam):
    z = np.asarray(logits, dtype=np.float64)
    with np.errstate(all="ignore"):
        p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        ce = -np.mean(np.log(p[np.arange(len(y)), np.asarray(y)]))
    return ce + lam * sum(np.sum(np.asarray(k) ** 2) for k in kernels)


def _l2_random(rng):
    out = []
    for scale in (1.0, 30.0, float(rng.uniform(750.0, 2000.0))):
        n, c = int(rng.integers(1, 12)), int(rng.integers(2, 8))
        shapes = [(int(rng.integers(1, 6)), int(rng.integers(1, 6))) for _ in range(int(rng.integers(1, 5)))]
        out.append((rng.normal(0, scale, (n, c)) + (1000.0 if scale > 100 else 0.0), rng.integers(0, c, n),
                    [rng.normal(0, float(rng.choice([0.1, 1.0, 3.0])), sh) for sh in shapes],
                    float(rng.choice([0.0, 1e-4, 1e-2, 0.3]))))
    return out


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
    random_cases=_l2_random,
    wrong={
        "normalisation: mean of squares instead of the sum":
            lambda logits, y, kernels, lam: _cross_entropy(logits, y) + lam * sum(np.mean(k ** 2) for k in kernels),
        "off_by_one: only the first kernel":
            lambda logits, y, kernels, lam: _cross_entropy(logits, y) + lam * np.sum(kernels[0] ** 2),
        "other: L1 (|w|) instead of w²":
            lambda logits, y, kernels, lam: _cross_entropy(logits, y) + lam * sum(np.sum(np.abs(k)) for k in kernels),
        "normalisation: an extra factor ½":
            lambda logits, y, kernels, lam: _cross_entropy(logits, y) + 0.5 * lam * sum(np.sum(k ** 2) for k in kernels),
        "sign: subtracts the penalty":
            lambda logits, y, kernels, lam: _cross_entropy(logits, y) - lam * sum(np.sum(k ** 2) for k in kernels),
        "ignored_argument: λ fixed at 1e-3":
            lambda logits, y, kernels, lam: _cross_entropy(logits, y) + 1e-3 * sum(np.sum(k ** 2) for k in kernels),
        "unstable: cross-entropy without subtracting the max": _l2_naive_ce,
        "returns_none: computes but returns nothing": lambda logits, y, kernels, lam: None,
        "fits_visible: right on the notebook's cases only": memorised(l2_penalized_loss, _l2_cases, _l2_naive_ce),
    },
    section=SECTION_L2,
)


# ---------------------------------------------------------------- 2. AdamW: decoupled weight decay
def adamw_step(w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    """Reference: one AdamW step (Loshchilov & Hutter): Adam on g alone, plus w shrunk by lr·weight_decay·w."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * weight_decay * w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adamw_coupled(w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    return adamw_step(w, g + weight_decay * w, m, v, t, lr, 0.0, beta1, beta2, eps)   # Adam + L2: decay through m, v


def _adamw_no_lr(w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    w2, m, v = adamw_step(w, g, m, v, t, lr, 0.0, beta1, beta2, eps)
    return w2 - weight_decay * w, m, v


def _adamw_no_decay(w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    return adamw_step(w, g, m, v, t, lr, 0.0, beta1, beta2, eps)


def _adamw_sign(w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    w2, m, v = adamw_step(w, g, m, v, t, lr, 0.0, beta1, beta2, eps)
    return w2 + lr * weight_decay * w, m, v


def _adamw_no_correction(w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    return w - lr * weight_decay * w - lr * m / (np.sqrt(v) + eps), m, v


def _adamw_t_minus_1(w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    with np.errstate(divide="ignore", invalid="ignore"):
        return adamw_step(w, g, m, v, t - 1, lr, weight_decay, beta1, beta2, eps)


def _adamw_decay_new(w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    w2, m, v = adamw_step(w, g, m, v, t, lr, 0.0, beta1, beta2, eps)
    return w2 - lr * weight_decay * w2, m, v          # shrinks the already-updated weights


def _adamw_decay_scaled(w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - lr * (m_hat + weight_decay * w) / (np.sqrt(v_hat) + eps), m, v   # decay divided by √v̂ too


def _adamw_cases():
    rng = np.random.default_rng(31)
    z = np.zeros(3)
    return [
        {"args": (np.array([1.0, -2.0, 0.5]), np.array([0.3, -1.0, 1e-3]), z, z.copy(), 1, 0.1, 0.5),
         "label": "(first step)"},
        {"args": (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)) * 1e-3, rng.normal(size=(2, 3)) * 1e-4,
                  rng.uniform(1e-8, 1e-6, (2, 3)), 7, 0.05, 0.3), "label": "(t = 7, tiny gradients)"},
        {"args": (np.array([3.0, -3.0]), np.array([10.0, 10.0]), np.array([1.0, 1.0]), np.array([50.0, 80.0]),
                  3, 0.01, 0.1), "kwargs": {"beta1": 0.8, "beta2": 0.99}, "label": "(large gradients)"},
    ]


def _adamw_random(rng):
    out = []
    for _ in range(3):
        shape = tuple(int(k) for k in rng.integers(1, 5, rng.integers(1, 3)))
        s = float(rng.choice([1e-4, 1e-2, 1.0, 20.0]))
        kw = {} if rng.random() < 0.5 else {"beta1": float(rng.uniform(0.5, 0.95)),
                                            "beta2": float(rng.uniform(0.9, 0.9999))}
        out.append({"args": (rng.normal(0, float(rng.choice([0.5, 3.0])), shape), rng.normal(0, s, shape),
                             rng.normal(0, 0.3 * s, shape), rng.uniform(0.1, 1.0, shape) * s * s,
                             int(rng.integers(1, 40)), float(rng.uniform(1e-3, 0.2)), float(rng.uniform(0.01, 2.0))),
                    "kwargs": kw})
    return out


function_exercise(
    "03.adamw_step",
    title="one AdamW step: Adam plus decoupled weight decay",
    reference=adamw_step,
    cases=_adamw_cases,
    random_cases=_adamw_random,
    hints=[
        "Decoupled means the decay never enters the gradient statistics: m and v are updated from g alone, "
        "exactly as in Adam (notebook 01), and the weights are ALSO shrunk by lr·weight_decay·w.",
        "Both terms use the OLD weights: w_new = w − lr·weight_decay·w − lr·m̂ / (√v̂ + eps), with "
        "m̂ = m / (1 − beta1**t), v̂ = v / (1 − beta2**t). Do not divide the decay by √v̂.",
        "m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g**2; m_hat = m/(1-beta1**t); v_hat = v/(1-beta2**t); "
        "return w - lr*weight_decay*w - lr*m_hat/(np.sqrt(v_hat)+eps), m, v",
    ],
    wrong={
        "other: L2 in the gradient (Adam + L2), not decoupled": _adamw_coupled,
        "other: decay divided by √v̂ like the gradient step": _adamw_decay_scaled,
        "ignored_argument: decay without the learning rate": _adamw_no_lr,
        "ignored_argument: no decay at all": _adamw_no_decay,
        "sign: grows the weights instead of shrinking them": _adamw_sign,
        "normalisation: no bias correction": _adamw_no_correction,
        "off_by_one: bias correction with t − 1": _adamw_t_minus_1,
        "boundary: decays the already-updated weights": _adamw_decay_new,
        "returns_none: returns nothing": lambda w, g, m, v, t, lr, weight_decay, beta1=0.9, beta2=0.999, eps=1e-8: None,
        "fits_visible: right on the notebook's cases only": memorised(adamw_step, _adamw_cases, _adamw_coupled),
    },
    section=SECTION_ADAMW,
)


# ---------------------------------------------------------------- 3. inverted dropout
def inverted_dropout(x, rate, rng, training=True):
    """Reference: zero each unit with probability `rate`, scale survivors by 1/(1-rate); identity at inference."""
    x = np.asarray(x, dtype=np.float64)
    if not training or rate == 0:
        return x
    keep = rng.random(x.shape) >= rate
    return np.where(keep, x / (1.0 - rate), 0.0)


def _dropout_call(answer, x, rate, seed, training=True, where=""):
    out = call_answer(answer, x, rate, np.random.default_rng(seed), training=training)
    if out is None:
        raise Mismatch(f"{where}: your function returned None; return the new array")
    out = np.asarray(out, dtype=np.float64)
    if out.shape != x.shape:
        raise Mismatch(f"{where}: output has shape {out.shape}, expected {x.shape}")
    return out


def _judge_dropout(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    seed = fresh_seed()
    rng = np.random.default_rng(seed)
    shapes = [(400, 500), tuple(int(k) for k in rng.integers(20, 60, 3)), (int(rng.integers(120_000, 200_000)),)]
    rates = [0.3, 0.6, float(rng.uniform(0.05, 0.9))]
    tag = f" (random case, seed {seed}; replay with lk.check('03.inverted_dropout', fn, seed={seed}))"
    for k, (shape, rate) in enumerate(zip(shapes, rates)):
        x = rng.uniform(0.5, 1.5, shape) * float(rng.choice([1.0, 1e-3, 50.0]))
        where = f"x of shape {shape}, rate={rate:.3g}" + (tag if k else "")
        out = _dropout_call(answer, x, rate, 7, training=False, where=where + ", training=False")
        if not np.allclose(out, x, rtol=0, atol=0):
            i = tuple(int(v) for v in np.argwhere(out != x)[0])
            raise Mismatch(f"{where}, training=False: output{list(i)} is {out[i]:.6g} but x there is {x[i]:.6g}; "
                           "at inference inverted dropout must return x unchanged")
        if k == 0:
            out = _dropout_call(answer, x, 0.0, 7, where="rate=0, training=True")
            if not np.allclose(out, x, rtol=0, atol=1e-12):
                raise Mismatch("rate=0, training=True: nothing should be dropped or scaled, the output must equal x")
        a = _dropout_call(answer, x, rate, seed + k, where=where)
        b = _dropout_call(answer, x, rate, seed + k, where=where)
        c = _dropout_call(answer, x, rate, seed + k + 1, where=where)
        if not np.array_equal(a == 0, b == 0):
            raise Mismatch(f"{where}: two calls with generators seeded alike dropped different units — draw the mask "
                           "from the `rng` argument, not from np.random or a generator of your own")
        if np.array_equal(a == 0, c == 0):
            raise Mismatch(f"{where}: generators with different seeds gave the same mask — the mask must come "
                           "from the `rng` you are given")
        dropped = a == 0
        frac = dropped.mean()
        if abs(frac - rate) > 0.01:
            raise Mismatch(f"{where}: {frac:.2%} of the units are zero, expected {rate:.2%} ± 1 % "
                           "(rate is the probability of DROPPING a unit)")
        flat = dropped.reshape(len(dropped), -1) if dropped.ndim > 1 else dropped[None]
        for name, both in [("neighbouring units", (dropped.ravel()[1:] & dropped.ravel()[:-1]).mean()),
                           ("units in the same column of the first axis",
                            (flat[1:] & flat[:-1]).mean() if len(flat) > 1 else rate ** 2)]:
            if abs(both - rate ** 2) > 0.02:
                raise Mismatch(f"{where}: {name} are dropped together {both:.1%} of the time, expected "
                               f"rate² = {rate ** 2:.1%}: draw one independent decision per element (mask of "
                               "x.shape), not one per row or column")
        kept = ~dropped
        ratio = a[kept] / x[kept]
        if not np.allclose(ratio, 1.0 / (1.0 - rate), rtol=1e-6, atol=0):
            raise Mismatch(f"{where}: kept units are multiplied by {np.median(ratio):.6g}, expected 1/(1-rate) = "
                           f"{1 / (1 - rate):.6g}, so that the mean stays the same")


def _drop_global(x, rate, rng, training=True):
    if not training or rate == 0:
        return x
    return np.where(np.random.random(np.shape(x)) >= rate, x / (1 - rate), 0.0)


def _drop_own_rng(x, rate, rng, training=True):
    if not training or rate == 0:
        return x
    return np.where(np.random.default_rng(0).random(np.shape(x)) >= rate, x / (1 - rate), 0.0)


def _drop_rows(x, rate, rng, training=True):
    if not training or rate == 0:
        return x
    x = np.asarray(x)
    keep = rng.random(x.shape[:1] + (1,) * (x.ndim - 1)) >= rate
    return np.where(keep, x / (1 - rate), 0.0)


register(Exercise(
    id="03.inverted_dropout",
    title="implement inverted dropout",
    judge=_judge_dropout,
    reference=inverted_dropout,
    wrong={
        "normalisation: survivors not rescaled by 1/(1 − rate)":
            lambda x, rate, rng, training=True: np.where(rng.random(np.shape(x)) >= rate, x, 0.0) if training else x,
        "other: rate used as the probability of KEEPING a unit":
            lambda x, rate, rng, training=True: (np.where(rng.random(np.shape(x)) < rate, x / rate, 0.0)
                                                 if training and rate > 0 else x),
        "other: classic dropout (no scaling in training, × (1 − rate) at inference)":
            lambda x, rate, rng, training=True: (np.where(rng.random(np.shape(x)) >= rate, x, 0.0) if training
                                                 else x * (1 - rate)),
        "ignored_argument: drops at inference too (ignores training)":
            lambda x, rate, rng, training=True: (np.where(rng.random(np.shape(x)) >= rate, x / (1 - rate), 0.0)
                                                 if rate > 0 else x),
        "global_rng: draws the mask from np.random": _drop_global,
        "ignored_argument: a generator of its own, seeded 0": _drop_own_rng,
        "wrong_axis: one decision per row": _drop_rows,
        "returns_none: forgets to return": lambda x, rate, rng, training=True: None,
    },
    hints=[
        "Draw a random keep-mask: each unit survives with probability 1 − rate (e.g. rng.random(x.shape) >= rate). "
        "At inference (training=False) return x unchanged.",
        "Inverted dropout rescales the survivors during training by 1/(1 − rate), so the expected value of every "
        "unit is the same in training and at inference.",
        "keep = rng.random(x.shape) >= rate;  return np.where(keep, x / (1 - rate), 0.0) if training else x",
    ],
    section=SECTION_DROPOUT,
))


# ---------------------------------------------------------------- 4. early stopping
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


def _es_wrong_ties(val_losses, patience, min_delta=0.0):
    best, best_epoch, wait = None, 0, 0
    for epoch, loss in enumerate(val_losses):
        wait += 1
        if best is None or loss <= best - min_delta:     # a tie counts as an improvement
            best, best_epoch, wait = loss, epoch, 0
            continue
        if wait >= patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def _es_wrong_plus_delta(val_losses, patience, min_delta=0.0):
    best, best_epoch, wait = None, 0, 0
    for epoch, loss in enumerate(val_losses):
        wait += 1
        if best is None or loss < best + min_delta:
            best, best_epoch, wait = loss, epoch, 0
            continue
        if wait >= patience:
            return epoch, best_epoch
    return len(val_losses) - 1, best_epoch


def _es_wrong_one_based(val_losses, patience, min_delta=0.0):
    stop, best = early_stopping(val_losses, patience, min_delta)
    return stop + 1, best + 1


def _es_wrong_no_return(val_losses, patience, min_delta=0.0):
    early_stopping(val_losses, patience, min_delta)


def _es_never_stops(val_losses, patience, min_delta=0.0):
    return len(val_losses) - 1, int(np.argmin(val_losses))


def _es_random(rng):
    p = int(rng.integers(1, 6))                     # a U-shaped run that must stop
    u = np.r_[np.linspace(1.0, 0.5, int(rng.integers(2, 8))), np.linspace(0.55, 0.9, p + int(rng.integers(1, 5)))]
    out = [{"args": ([float(v) for v in np.round(u, 3)], p)}]
    for _ in range(4):
        n = int(rng.integers(3, 40))
        walk = 1.0 + np.cumsum(rng.normal(0, 0.05, n)) - np.linspace(0, float(rng.uniform(0, 0.6)), n)
        losses = [float(v) for v in np.round(walk, int(rng.choice([1, 2, 3])))]   # rounding makes ties
        kw = {} if rng.random() < 0.4 else {"min_delta": float(rng.choice([0.0, 0.01, 0.05]))}
        out.append({"args": (losses, int(rng.integers(1, 7))), "kwargs": kw})
    return out


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
        {"args": ([0.9, 0.7, 0.7, 0.7, 0.7, 0.6], 3), "label": "(ties with the best are not improvements)"},
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
    random_cases=_es_random,
    wrong={
        "off_by_one: stops one epoch too late (wait > patience)": _es_wrong_late,
        "other: compares with the previous epoch, not the best": _es_wrong_previous,
        "other: reports the stop epoch as the best one": _es_wrong_no_restore,
        "ignored_argument: ignores min_delta": _es_wrong_no_delta,
        "boundary: a tie (loss == best − min_delta) counts as an improvement": _es_wrong_ties,
        "sign: best + min_delta instead of best − min_delta": _es_wrong_plus_delta,
        "off_by_one: 1-based epochs": _es_wrong_one_based,
        "returns_none: returns nothing": _es_wrong_no_return,
        "fits_visible: right on the notebook's cases only": memorised(early_stopping, _es_cases, _es_never_stops),
    },
    section=SECTION_EARLY,
)
