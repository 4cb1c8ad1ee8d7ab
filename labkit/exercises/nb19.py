"""Exercises of 19_interview_prep: the coding drills.

Classic: stable softmax, an Adam step, conv output size, MLP backprop. Large-model: attention with
a causal mask, KV-cache size, a top-p filter, training memory per GPU under ZeRO, and the
days a training run takes.
"""
import numpy as np

from ..check import function_exercise, register
from ._compat import memorised

SECTION = "19 · Coding drills"


# ------------------------------------------------------------------ 1. stable softmax
def softmax(z, axis=-1):
    """Reference: subtract the max along the axis, exponentiate, normalize along the same axis."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _softmax_cases():
    rng = np.random.default_rng(16)
    return [
        (np.array([1.0, 2.0, 3.0]),),
        {"args": (rng.normal(size=(4, 5)),), "label": "(a batch of rows)"},
        {"args": (np.array([[1000.0, 1001.0, 999.0], [-5.0, 0.0, 5.0]]),), "label": "(huge logits in one row)"},
        {"args": (rng.normal(size=(3, 4)) * 3,), "kwargs": {"axis": 0}, "label": "(along axis 0)"},
        {"args": (rng.normal(size=(2, 3, 4)),), "label": "(3-D: last axis)"},
        {"args": (np.array([[1000.0, -1000.0, 0.0], [0.5, 0.25, -0.25]]),),
         "label": "(a row spanning ±1000: only the max shift is safe)"},
    ]


def _softmax_random(rng):
    cases = []
    for lo, nd in ((1, int(rng.integers(1, 4))), (2, int(rng.integers(2, 4)))):   # the second is never degenerate
        shape = tuple(int(v) for v in rng.integers(lo, 6, size=nd))
        z = rng.normal(size=shape) * 10 ** rng.uniform(0, 3)
        axis = int(rng.integers(-len(shape), len(shape)))
        cases.append({"args": (z,), "kwargs": {"axis": axis}, "label": f"(random: shape {shape}, axis {axis})"})
    return cases


def _softmax_mean_shift(z, axis=-1):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z - z.mean(axis=axis, keepdims=True))  # any shift is exact in theory, not in floats
        return e / e.sum(axis=axis, keepdims=True)


def _softmax_min_shift(z, axis=-1):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z - z.min(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)


def _softmax_last_axis(z, axis=-1):
    return softmax(z, axis=-1)


def _softmax_inplace(z, axis=-1):
    z -= z.max(axis=axis, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=axis, keepdims=True)
    return z


def _softmax_naive(z, axis=-1):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(z)  # overflows for large logits
        return e / e.sum(axis=axis, keepdims=True)


def _softmax_global_max(z, axis=-1):
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.exp(z - np.max(z))  # one max for the whole array: other rows underflow to 0/0
        return e / e.sum(axis=axis, keepdims=True)


def _softmax_wrong_axis(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum()  # normalizes over everything, not per row


function_exercise(
    "19.stable_softmax",
    title="numerically stable softmax",
    reference=softmax,
    cases=_softmax_cases,
    hints=[
        "exp(1000) overflows to inf. Softmax does not change if you subtract the same number from every logit "
        "of a row — subtract the row's maximum.",
        "Take the max and the sum along `axis` only, with keepdims=True so they broadcast back.",
        "e = np.exp(z - z.max(axis=axis, keepdims=True)); return e / e.sum(axis=axis, keepdims=True)",
    ],
    random_cases=_softmax_random,
    wrong={
        "unstable: no shift, exp overflows": _softmax_naive,
        "wrong_axis: one max for the whole array": _softmax_global_max,
        "normalisation: divides by the sum of everything": _softmax_wrong_axis,
        "unstable: shifts by the mean": _softmax_mean_shift,
        "sign: shifts by the min": _softmax_min_shift,
        "ignored_argument: always the last axis": _softmax_last_axis,
        "mutation: works in the caller's array": _softmax_inplace,
        "returns_none: forgets to return": lambda z, axis=-1: None,
        "fits_visible: right on the fixed cases only": memorised(softmax, _softmax_cases, _softmax_wrong_axis),
    },
    section=SECTION,
)


# ------------------------------------------------------------------ 2. Adam step
def adam_step(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Reference: one Adam update (Kingma & Ba, 2015); t counts steps from 1. Returns (w, m, v)."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_cases():
    rng = np.random.default_rng(1)
    w, g = rng.normal(size=5), rng.normal(size=5)
    return [
        {"args": (w, g, np.zeros(5), np.zeros(5), 1), "label": "(first step)"},
        {"args": (w, g, rng.normal(size=5) * 0.1, rng.random(5) * 0.01, 3), "kwargs": {"lr": 0.01},
         "label": "(third step)"},
        {"args": (w, g * 100, rng.normal(size=5), rng.random(5), 50), "kwargs": {"beta1": 0.8, "beta2": 0.99},
         "label": "(custom betas, step 50)"},
        {"args": (w, np.full(5, 1e-7), np.full(5, 0.1), np.full(5, 1e-14), 100),
         "label": "(tiny second moment: where ε goes matters)"},
    ]


def _adam_random(rng):
    cases = []
    for t_max in (200, 6):                                   # the second is early, where bias correction matters
        n = int(rng.integers(1, 8))
        scale = 10 ** rng.uniform(-6, 2)
        cases.append({"args": (rng.normal(size=n), rng.normal(size=n) * scale, rng.normal(size=n) * scale,
                               rng.random(n) * scale ** 2, int(rng.integers(1, t_max))),
                      "kwargs": {"lr": float(10 ** rng.uniform(-4, -1)), "beta1": float(rng.uniform(0.5, 0.95)),
                                 "beta2": float(rng.uniform(0.9, 0.9999)), "eps": float(10 ** rng.uniform(-9, -6))},
                      "label": f"(random, t < {t_max})"})
    return cases


def _adam_eps_in_sqrt(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - lr * m_hat / np.sqrt(v_hat + eps), m, v


def _adam_ignores_lr(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return adam_step(w, g, m, v, t, 1e-3, beta1, beta2, eps)


def _adam_ascent(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    w2, m2, v2 = adam_step(w, g, m, v, t, lr, beta1, beta2, eps)
    return 2 * w - w2, m2, v2


def _adam_inplace(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    w -= lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps)
    return w, m, v


def _adam_no_bias_correction(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return w - lr * m / (np.sqrt(v) + eps), m, v


def _adam_v_without_square(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * np.abs(g)  # |g| instead of g²
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_bias_t_plus_one(w, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** (t + 1)), v / (1 - beta2 ** (t + 1))  # off by one step
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


function_exercise(
    "19.adam_step",
    title="one Adam update",
    reference=adam_step,
    cases=_adam_cases,
    atol=1e-9, rtol=1e-7,
    hints=[
        "Update the two moving averages first: m with the gradient (beta1), v with the SQUARED gradient (beta2).",
        "Both averages start at 0, so early on they are biased toward 0: divide by (1 - beta1**t) and "
        "(1 - beta2**t), with t = 1 on the first step.",
        "m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g*g; m_hat = m/(1-beta1**t); v_hat = v/(1-beta2**t); "
        "return w - lr*m_hat/(np.sqrt(v_hat)+eps), m, v",
    ],
    random_cases=_adam_random,
    wrong={
        "normalisation: no bias correction": _adam_no_bias_correction,
        "other: |g| instead of g² in the second moment": _adam_v_without_square,
        "off_by_one: bias correction with t + 1": _adam_bias_t_plus_one,
        "unstable: ε inside the square root": _adam_eps_in_sqrt,
        "ignored_argument: lr ignored": _adam_ignores_lr,
        "sign: steps up the gradient": _adam_ascent,
        "mutation: updates the caller's arrays in place": _adam_inplace,
        "returns_none: forgets to return": lambda w, g, m, v, t, **kw: None,
        "fits_visible: right on the fixed cases only": memorised(adam_step, _adam_cases, _adam_no_bias_correction),
    },
    section=SECTION,
)


# ------------------------------------------------------------------ 3. conv output size
def conv_output_size(n, k, stride=1, padding=0, dilation=1):
    """Reference: floor((n + 2·padding − dilation·(k − 1) − 1) / stride) + 1."""
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


_CONV_CASES = [
    (32, 3), (32, 3, 1, 1), (28, 5, 2), (224, 7, 2, 3), (7, 3, 2, 0), (10, 3, 3, 1),
    {"args": (32, 3), "kwargs": {"dilation": 2}, "label": "(dilated)"},
    {"args": (65, 4), "kwargs": {"stride": 4, "padding": 2, "dilation": 3}, "label": "(everything at once)"},
    (1, 1), (9, 9),
]


def _conv_random_one(rng):
    k = int(rng.integers(1, 8))
    dilation = int(rng.integers(1, 4))
    n = int(rng.integers(dilation * (k - 1) + 1, 300))
    return {"args": (n, k), "kwargs": {"stride": int(rng.integers(1, 5)), "padding": int(rng.integers(0, 4)),
                                       "dilation": dilation}, "label": "(random)"}


def _conv_random(rng):
    # several cases per call, and never all with the same output size: an answer that returns one
    # remembered number (right on the visible cases) is rejected on every call
    cases = [_conv_random_one(rng) for _ in range(6)]
    outputs = {conv_output_size(*c["args"], **c["kwargs"]) for c in cases}
    while len(outputs) < 3:
        cases.append(_conv_random_one(rng))
        outputs.add(conv_output_size(*cases[-1]["args"], **cases[-1]["kwargs"]))
    return cases


def _conv_ignores_stride(n, k, stride=1, padding=0, dilation=1):
    return conv_output_size(n, k, 1, padding, dilation)


def _conv_no_plus_one(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride


def _conv_ignores_dilation(n, k, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - k) // stride + 1


def _conv_ceil(n, k, stride=1, padding=0, dilation=1):
    return int(np.ceil((n + 2 * padding - dilation * (k - 1) - 1) / stride)) + 1


def _conv_single_padding(n, k, stride=1, padding=0, dilation=1):
    return (n + padding - dilation * (k - 1) - 1) // stride + 1


def _as_1d(fn):
    # check.compare cannot see a mismatch between two 0-d integer arrays, so compare 1-element arrays
    if not callable(fn):
        return fn
    return lambda *a, **k: np.atleast_1d(np.asarray(fn(*a, **k)))


_conv_ex = function_exercise(
    "19.conv_output_shape",
    title="output size of a convolution",
    reference=_as_1d(conv_output_size),
    cases=_CONV_CASES,
    hints=[
        "A dilated kernel covers dilation·(k − 1) + 1 input positions; padding adds `padding` on BOTH sides.",
        "Count how many start positions fit: the last window must end inside the padded input, and a window "
        "that would run past the end is dropped — round DOWN (floor), then add 1 for the first position.",
        "return (n + 2*padding - dilation*(k - 1) - 1) // stride + 1",
    ],
    random_cases=_conv_random,
    wrong={
        "off_by_one: forgets the + 1": _as_1d(_conv_no_plus_one),
        "ignored_argument: dilation ignored": _as_1d(_conv_ignores_dilation),
        "boundary: rounds up instead of down": _as_1d(_conv_ceil),
        "other: padding counted on one side only": _as_1d(_conv_single_padding),
        "ignored_argument: stride ignored": _as_1d(_conv_ignores_stride),
        "returns_none: forgets to return": lambda n, k, stride=1, padding=0, dilation=1: None,
        "fits_visible: right on the fixed cases only":
            _as_1d(memorised(conv_output_size, _CONV_CASES, _conv_no_plus_one)),
    },
    section=SECTION,
    register_it=False,
)
_conv_judge = _conv_ex.judge
_conv_ex.judge = lambda answer: _conv_judge(_as_1d(answer))
_conv_ex.reference = conv_output_size
register(_conv_ex)


# ------------------------------------------------------------------ 4. backprop of a tiny MLP
def mlp_loss_and_grads(params, X, y):
    """Reference: x → relu(x W1 + b1) → W2 + b2 → mean softmax cross-entropy; returns (loss, grads dict)."""
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    n = X.shape[0]
    a = X @ W1 + b1
    h = np.maximum(a, 0.0)
    z = h @ W2 + b2
    p = softmax(z)
    loss = float(-np.mean(np.log(p[np.arange(n), y])))
    dz = p.copy()
    dz[np.arange(n), y] -= 1.0
    dz /= n
    dh = dz @ W2.T
    da = dh * (a > 0)
    return loss, {"W1": X.T @ da, "b1": da.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}


def _mlp_cases():
    rng = np.random.default_rng(3)
    cases = []
    for n, d, hdim, c in [(4, 3, 5, 2), (16, 6, 8, 4), (1, 2, 3, 3)]:
        params = {"W1": rng.normal(size=(d, hdim)) * 0.7, "b1": rng.normal(size=hdim) * 0.1,
                  "W2": rng.normal(size=(hdim, c)) * 0.7, "b2": rng.normal(size=c) * 0.1}
        cases.append({"args": (params, rng.normal(size=(n, d)), rng.integers(0, c, n)),
                      "label": f"(batch {n}, {d}→{hdim}→{c})"})
    return cases


def _mlp_random(rng):
    n, d, hdim, c = (int(v) for v in rng.integers([1, 1, 1, 2], [20, 8, 10, 6]))
    params = {"W1": rng.normal(size=(d, hdim)), "b1": rng.normal(size=hdim) * 0.3,
              "W2": rng.normal(size=(hdim, c)), "b2": rng.normal(size=c) * 0.3}
    return [{"args": (params, rng.normal(size=(n, d)), rng.integers(0, c, n)), "label": f"(random: {n}, {d}→{hdim}→{c})"}]


def _mlp_ascent(params, X, y):
    loss, g = mlp_loss_and_grads(params, X, y)
    return loss, {k: -v for k, v in g.items()}


def _mlp_bias_wrong_axis(params, X, y):
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    loss, g = mlp_loss_and_grads(params, X, y)
    n = X.shape[0]
    a = X @ W1 + b1
    p = softmax(np.maximum(a, 0) @ W2 + b2)
    dz = p.copy()
    dz[np.arange(n), y] -= 1.0
    dz /= n
    return loss, {**g, "b2": dz.mean(0)}              # mean over the batch: the 1/n is counted twice


def _mlp_inplace(params, X, y):
    loss, g = mlp_loss_and_grads(params, X, y)
    for k in params:
        params[k] -= 0.1 * g[k]
    return loss, g


def _mlp_sum_not_mean(params, X, y):
    loss, g = mlp_loss_and_grads(params, X, y)
    return loss, {k: v * X.shape[0] for k, v in g.items()}  # forgot the 1/batch of the mean


def _mlp_no_relu_mask(params, X, y):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    n = X.shape[0]
    h = np.maximum(X @ W1 + b1, 0.0)
    p = softmax(h @ W2 + b2)
    loss = float(-np.mean(np.log(p[np.arange(n), y])))
    dz = p.copy()
    dz[np.arange(n), y] -= 1.0
    dz /= n
    da = dz @ W2.T  # relu's derivative forgotten
    return loss, {"W1": X.T @ da, "b1": da.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}


def _mlp_no_onehot(params, X, y):
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    n = X.shape[0]
    a = X @ W1 + b1
    h = np.maximum(a, 0.0)
    p = softmax(h @ W2 + b2)
    loss = float(-np.mean(np.log(p[np.arange(n), y])))
    dz = p / n  # dL/dz is p − onehot(y), not p
    da = (dz @ W2.T) * (a > 0)
    return loss, {"W1": X.T @ da, "b1": da.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}


function_exercise(
    "19.mlp_backprop",
    title="backprop through a one-hidden-layer MLP",
    reference=mlp_loss_and_grads,
    cases=_mlp_cases,
    atol=1e-9, rtol=1e-7,
    hints=[
        "Forward: a = X W1 + b1, h = relu(a), z = h W2 + b2, p = softmax(z), loss = mean of −log p[i, y_i]. "
        "Backward starts at dL/dz = (p − onehot(y)) / batch.",
        "Then dW2 = hᵀ dz, db2 = Σ_batch dz, dh = dz W2ᵀ, da = dh · (a > 0) (relu's derivative), dW1 = Xᵀ da, "
        "db1 = Σ_batch da.",
        "dz = p.copy(); dz[np.arange(n), y] -= 1; dz /= n; dh = dz @ W2.T; da = dh * (a > 0); "
        "return loss, {'W1': X.T @ da, 'b1': da.sum(0), 'W2': h.T @ dz, 'b2': dz.sum(0)}",
    ],
    random_cases=_mlp_random,
    wrong={
        "normalisation: sum over the batch, not the mean": _mlp_sum_not_mean,
        "other: relu's derivative forgotten": _mlp_no_relu_mask,
        "other: dL/dz = p, the one-hot forgotten": _mlp_no_onehot,
        "sign: the gradient of −loss": _mlp_ascent,
        "normalisation: db2 averaged over the batch again (1/n twice)": _mlp_bias_wrong_axis,
        "mutation: takes an SGD step on the caller's params": _mlp_inplace,
        "returns_none: forgets to return": lambda params, X, y: None,
        "fits_visible: right on the fixed cases only": memorised(mlp_loss_and_grads, _mlp_cases, _mlp_no_onehot),
    },
    section=SECTION,
)


# ================================================================== large-model drills
SECTION_LLM = "19 · Large-model drills"


# ------------------------------------------------------------------ 5. attention with a causal mask
def causal_attention(Q, K, V):
    """Reference: softmax(Q Kᵀ / √d + causal mask) V over the last two axes; position i sees j ≤ i."""
    Q, K, V = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
    T, d = Q.shape[-2], Q.shape[-1]
    s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(d)
    s = np.where(np.triu(np.ones((T, T), bool), 1), -np.inf, s)
    s = s - s.max(-1, keepdims=True)
    w = np.exp(s)
    return (w / w.sum(-1, keepdims=True)) @ V


def _attn_case(rng, batch, T, d, dv, scale, label):
    return {"args": (rng.normal(size=batch + (T, d)) * scale, rng.normal(size=batch + (T, d)) * scale,
                     rng.normal(size=batch + (T, dv))), "label": label}


def _attn_cases():
    rng = np.random.default_rng(19)
    return [_attn_case(rng, (), 1, 3, 2, 1.0, "(one position: it sees only itself)"),
            _attn_case(rng, (), 4, 3, 3, 1.0, "(4 positions)"),
            _attn_case(rng, (2,), 5, 4, 2, 1.0, "(a batch of 2)"),
            _attn_case(rng, (2, 3), 6, 8, 4, 1.0, "(batch × heads)"),
            _attn_case(rng, (), 5, 4, 3, 30.0, "(huge scores: the softmax must be stable)")]


def _attn_random(rng):
    batch = tuple(int(v) for v in rng.integers(1, 4, size=int(rng.integers(0, 3))))
    return [_attn_case(rng, batch, int(rng.integers(1, 9)), int(rng.integers(1, 9)), int(rng.integers(1, 6)),
                       float(10 ** rng.uniform(-1, 1.5)), f"(random: batch {batch})"),
            _attn_case(rng, batch, int(rng.integers(3, 9)), int(rng.integers(2, 9)), int(rng.integers(1, 6)),
                       float(10 ** rng.uniform(-0.5, 1)), f"(random: batch {batch}, ≥ 3 positions)"),
            # every call: moderate scores (the softmax not saturated) with d ≥ 2, so a missing or wrong
            # 1/√d changes the weights by far more than the tolerance
            _attn_case(rng, batch, int(rng.integers(3, 9)), int(rng.integers(2, 9)), int(rng.integers(1, 6)),
                       float(rng.uniform(0.5, 1.5)), f"(random: batch {batch}, moderate scores)")]


def _attn_generic(Q, K, V, scale=None, mask_k=1, fill=-np.inf, axis=-1, stable=True, after=False):
    Q, K, V = (np.asarray(a, dtype=np.float64) for a in (Q, K, V))
    T, d = Q.shape[-2], Q.shape[-1]
    s = Q @ np.swapaxes(K, -1, -2) / (np.sqrt(d) if scale is None else scale(d))
    mask = np.triu(np.ones((T, T), bool), mask_k) if mask_k is not None else np.tril(np.ones((T, T), bool), -1)
    if not after:
        s = np.where(mask, fill, s)
    with np.errstate(over="ignore", invalid="ignore"):
        if stable:
            s = s - s.max(axis, keepdims=True)
        w = np.exp(s)
        w = w / w.sum(axis, keepdims=True)
    if after:
        w = np.where(mask, 0.0, w)
    return w @ V


function_exercise(
    "19.causal_attention",
    title="scaled dot-product attention with a causal mask",
    reference=causal_attention,
    cases=_attn_cases,
    random_cases=_attn_random,
    atol=1e-9, rtol=1e-7,
    hints=[
        "Scores Q Kᵀ over the last two axes (np.swapaxes(K, -1, -2) works for any batch shape), divided by √d "
        "with d the key width.",
        "Position i may look at positions j ≤ i: set the scores above the diagonal (np.triu(…, k=1)) to −∞ BEFORE "
        "the softmax; subtract the row max, exponentiate, normalise along the last axis, then multiply by V.",
        "s = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1]); T = s.shape[-1]; "
        "s = np.where(np.triu(np.ones((T, T), bool), 1), -np.inf, s); s -= s.max(-1, keepdims=True); "
        "w = np.exp(s); return w / w.sum(-1, keepdims=True) @ V",
    ],
    wrong={
        "normalisation: no 1/√d scaling": lambda Q, K, V: _attn_generic(Q, K, V, scale=lambda d: 1.0),
        "normalisation: divides by d instead of √d": lambda Q, K, V: _attn_generic(Q, K, V, scale=lambda d: d),
        "off_by_one: masks the diagonal too": lambda Q, K, V: _attn_generic(Q, K, V, mask_k=0),
        "sign: attends to the future, not the past": lambda Q, K, V: _attn_generic(Q, K, V, mask_k=None),
        "wrong_axis: softmax over the query axis": lambda Q, K, V: _attn_generic(Q, K, V, axis=-2),
        "unstable: no max subtraction": lambda Q, K, V: _attn_generic(Q, K, V, stable=False),
        "boundary: masked scores set to 0, not −∞": lambda Q, K, V: _attn_generic(Q, K, V, fill=0.0),
        "other: mask applied after the softmax, rows not renormalised": lambda Q, K, V: _attn_generic(Q, K, V, after=True),
        "returns_none: forgets to return": lambda Q, K, V: None,
        "fits_visible: right on the fixed cases only":
            memorised(causal_attention, _attn_cases, lambda Q, K, V: _attn_generic(Q, K, V, scale=lambda d: 1.0)),
    },
    section=SECTION_LLM,
)


# ------------------------------------------------------------------ 6. KV-cache size
def kv_cache_bytes(layers, kv_heads, head_dim, seq, batch, bytes_per_value=2):
    """Reference: K and V for every layer, KV head, position and sequence of the batch."""
    return float(2 * layers * kv_heads * head_dim * seq * batch * bytes_per_value)


_KV_CASES = [
    {"args": (32, 32, 128, 4096, 1), "label": "(a 7B-class model, one 4k sequence, fp16)"},
    {"args": (80, 8, 128, 8192, 16), "label": "(70B-class with GQA: 8 KV heads, batch 16)"},
    {"args": (4, 4, 32, 512, 8), "kwargs": {"bytes_per_value": 1}, "label": "(the course's tiny GPT, int8 cache)"},
    {"args": (1, 1, 1, 1, 1), "label": "(everything 1)"},
]


def _kv_random(rng):
    return [{"args": tuple(int(v) for v in rng.integers(1, [100, 65, 257, 20000, 65])),
             "kwargs": {"bytes_per_value": float(rng.choice([0.5, 1, 2, 4]))}, "label": "(random)"}]


function_exercise(
    "19.kv_cache_bytes",
    title="the size of a KV cache (warm-up)",
    reference=kv_cache_bytes,
    cases=_KV_CASES,
    random_cases=_kv_random,
    atol=0, rtol=1e-12,
    hints=[
        "Every layer stores a key AND a value vector for every KV head, at every position of every sequence.",
        "Multiply: 2 (K and V) · layers · kv_heads · head_dim · seq · batch · bytes_per_value.",
        "return float(2 * layers * kv_heads * head_dim * seq * batch * bytes_per_value)",
    ],
    wrong={
        "other: forgets the factor 2 (K and V)": lambda L, H, hd, S, B, bpv=2: kv_cache_bytes(L, H, hd, S, B, bpv) / 2,
        "normalisation: bits, not bytes": lambda L, H, hd, S, B, bpv=2: kv_cache_bytes(L, H, hd, S, B, bpv) * 8,
        "ignored_argument: batch ignored": lambda L, H, hd, S, B, bpv=2: kv_cache_bytes(L, H, hd, S, 1, bpv),
        "ignored_argument: bytes_per_value ignored": lambda L, H, hd, S, B, bpv=2: kv_cache_bytes(L, H, hd, S, B),
        "ignored_argument: one layer only": lambda L, H, hd, S, B, bpv=2: kv_cache_bytes(1, H, hd, S, B, bpv),
        "off_by_one: seq + 1 positions": lambda L, H, hd, S, B, bpv=2: kv_cache_bytes(L, H, hd, S + 1, B, bpv),
        "returns_none: forgets to return": lambda L, H, hd, S, B, bpv=2: None,
        "fits_visible: right on the fixed cases only":
            memorised(kv_cache_bytes, _KV_CASES, lambda L, H, hd, S, B, bpv=2: kv_cache_bytes(L, H, hd, S, B, bpv) / 2),
    },
    section=SECTION_LLM,
)


# ------------------------------------------------------------------ 7. top-p filter
def top_p_filter(logits, p):
    """Reference: labkit.llm's nucleus filter (keep a token while the mass ranked above it is < p)."""
    from ..llm.sampling import top_p_filter as lib
    return lib(logits, p)


def _topp_cases():
    rng = np.random.default_rng(99)
    return [
        {"args": (np.log(np.array([0.5, 0.3, 0.15, 0.05])), 0.6), "label": "(0.5 < 0.6: the second token crosses p)"},
        {"args": (np.array([2.0, 1.0, 0.5, -1.0, 3.0]), 0.9), "label": "(unsorted logits)"},
        {"args": (rng.normal(size=(3, 6)) * 2, 0.7), "label": "(a batch of rows)"},
        {"args": (np.array([5.0, 0.0, 0.0, 0.0]), 0.1), "label": "(p smaller than the top token: keep only it)"},
        {"args": (rng.normal(size=6), 1.0), "label": "(p = 1 keeps everything)"},
    ]


def _topp_random(rng):
    shape = (int(rng.integers(2, 12)),) if rng.random() < 0.5 else (int(rng.integers(2, 5)), int(rng.integers(2, 12)))
    return [{"args": (rng.normal(size=shape) * rng.uniform(0.5, 4), float(rng.uniform(0.05, 0.99))),
             "label": f"(random: shape {shape})"}]


def _topp_generic(logits, p, keep=lambda before, cum, p: before < p, use_logits=False, ascending=False,
                  axis=-1, fill=-np.inf):
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis, keepdims=True))
    probs = e / e.sum(axis, keepdims=True)
    score = z if use_logits else probs
    order = np.argsort(z if ascending else -z, axis=-1, kind="stable")
    sp = np.take_along_axis(score, order, axis=-1)
    cum = np.cumsum(sp, axis=-1)
    k_sorted = keep(cum - sp, cum, p)
    k = np.zeros_like(k_sorted)
    np.put_along_axis(k, order, k_sorted, axis=-1)
    return np.where(k, z, fill)


def _topp_inplace(logits, p):
    out = top_p_filter(logits, p)
    logits[...] = out
    return logits


function_exercise(
    "19.top_p_filter",
    title="a top-p (nucleus) filter",
    reference=top_p_filter,
    cases=_topp_cases,
    random_cases=_topp_random,
    atol=1e-12, rtol=1e-12,
    hints=[
        "Work on probabilities (a stable softmax of each row), sorted from the most likely token down.",
        "Keep a token while the probability mass ranked ABOVE it is still < p — so the token that crosses p is "
        "kept and the top token always is. Put the kept flags back in the original order; the rest become −inf.",
        "probs = softmax(logits); order = np.argsort(-logits, axis=-1, kind='stable'); sp = np.take_along_axis(probs, "
        "order, -1); keep_sorted = np.cumsum(sp, -1) - sp < p; keep = np.zeros_like(keep_sorted); "
        "np.put_along_axis(keep, order, keep_sorted, -1); return np.where(keep, logits, -np.inf)",
    ],
    wrong={
        "off_by_one: drops the token that crosses p": lambda z, p: _topp_generic(z, p, keep=lambda b, c, p: c < p),
        "other: keeps tokens with probability ≥ p (a threshold, not a nucleus)":
            lambda z, p: _topp_generic(z, p, keep=lambda b, c, p: (c - b) >= p),
        "normalisation: cumulative sum of logits, not probabilities": lambda z, p: _topp_generic(z, p, use_logits=True),
        "sign: sorted from the least likely token": lambda z, p: _topp_generic(z, p, ascending=True),
        "boundary: filtered logits set to 0, not −inf": lambda z, p: _topp_generic(z, p, fill=0.0),
        "wrong_axis: softmax over the batch axis": lambda z, p: _topp_generic(z, p, axis=0),
        "mutation: writes into the caller's logits": _topp_inplace,
        "returns_none: forgets to return": lambda z, p: None,
        "fits_visible: right on the fixed cases only":
            memorised(top_p_filter, _topp_cases, lambda z, p: _topp_generic(z, p, keep=lambda b, c, p: c < p)),
    },
    section=SECTION_LLM,
)


# ------------------------------------------------------------------ 8. memory per GPU
def gpu_memory_gb(n_params, n_gpus, zero_stage):
    """Reference: model-state GB (1e9 bytes) per GPU, mixed precision + Adam, ZeRO stage 0–3 (labkit.memory)."""
    from ..memory import zero_memory
    return zero_memory(n_params, n_gpus, zero_stage, precision="mixed_bfloat16", optimizer="adam")["total"] / 1e9


_MEM_CASES = [
    {"args": (7e9, 1, 0), "label": "(7B on one GPU: 16 bytes per parameter)"},
    {"args": (7e9, 8, 1), "label": "(ZeRO-1 over 8 GPUs)"},
    {"args": (70e9, 64, 2), "label": "(70B, ZeRO-2 over 64)"},
    {"args": (70e9, 64, 3), "label": "(70B, ZeRO-3 over 64)"},
    {"args": (1e9, 8, 0), "label": "(stage 0 shards nothing)"},
]


def _mem_random(rng):
    return [{"args": (float(10 ** rng.uniform(6, 11.5)), int(rng.integers(2, 1025)), int(rng.integers(0, 4))),
             "label": "(random)"}]


def _mem_generic(n, g, stage, w=2, gr=2, opt=12, shard=lambda s: (s >= 3, s >= 2, s >= 1), unit=1e9):
    sw, sg, so = shard(stage)
    return n * (w / (g if sw else 1) + gr / (g if sg else 1) + opt / (g if so else 1)) / unit


function_exercise(
    "19.gpu_memory_gb",
    title="training memory per GPU under ZeRO",
    reference=gpu_memory_gb,
    cases=_MEM_CASES,
    random_cases=_mem_random,
    atol=0, rtol=1e-9,
    hints=[
        "Mixed precision with Adam keeps 16 bytes per parameter: bf16 weights (2) and gradients (2), plus fp32 master "
        "weights (4) and the two fp32 moments (4 + 4) — the optimizer state is 12 bytes.",
        "ZeRO-1 divides the optimizer state by the number of GPUs, ZeRO-2 the gradients too, ZeRO-3 the weights too; "
        "stage 0 divides nothing. GB here is 10⁹ bytes.",
        "s = zero_stage; return n_params * (2 / (n_gpus if s >= 3 else 1) + 2 / (n_gpus if s >= 2 else 1) + "
        "12 / (n_gpus if s >= 1 else 1)) / 1e9",
    ],
    wrong={
        "ignored_argument: every stage shards everything": lambda n, g, s: _mem_generic(n, g, s, shard=lambda s: (True,) * 3),
        "off_by_one: stage k shards what stage k+1 does":
            lambda n, g, s: _mem_generic(n, g, s, shard=lambda s: (s >= 2, s >= 1, s >= 0)),
        "other: forgets the fp32 master weights (8 bytes of optimizer state)": lambda n, g, s: _mem_generic(n, g, s, opt=8),
        "normalisation: GiB (2³⁰), not GB": lambda n, g, s: _mem_generic(n, g, s, unit=2 ** 30),
        "other: forgets the gradients": lambda n, g, s: _mem_generic(n, g, s, gr=0),
        "ignored_argument: stage ignored (always ZeRO-3)": lambda n, g, s: _mem_generic(n, g, 3),
        "returns_none: forgets to return": lambda n, g, s: None,
        "fits_visible: right on the fixed cases only":
            memorised(gpu_memory_gb, _MEM_CASES, lambda n, g, s: _mem_generic(n, g, s, opt=8)),
    },
    section=SECTION_LLM,
)


# ------------------------------------------------------------------ 9. days of a training run
def training_days(n_params, n_tokens, n_gpus, peak_flops, mfu):
    """Reference: 6·N·D FLOPs at n_gpus · peak · MFU FLOP/s, in days."""
    return 6.0 * n_params * n_tokens / (n_gpus * peak_flops * mfu) / 86400.0


_DAYS_CASES = [
    {"args": (7e9, 2e12, 1024, 989e12, 0.4), "label": "(7B on 2T tokens, 1,024 H100-class GPUs at 40 % MFU)"},
    {"args": (70e9, 1.4e12, 2048, 312e12, 0.5), "label": "(Chinchilla-sized, A100-class)"},
    {"args": (1.2e5, 5e5, 1, 1e11, 0.1), "label": "(the course's tiny GPT on a laptop)"},
]


def _days_random(rng):
    return [{"args": (float(10 ** rng.uniform(5, 12)), float(10 ** rng.uniform(6, 13)), int(rng.integers(1, 4097)),
                      float(10 ** rng.uniform(11, 15)), float(rng.uniform(0.05, 0.7))), "label": "(random)"}]


function_exercise(
    "19.training_days",
    title="how many days a training run takes",
    reference=training_days,
    cases=_DAYS_CASES,
    random_cases=_days_random,
    atol=0, rtol=1e-9,
    hints=[
        "Training costs about 6·N·D FLOPs: 2·N·D for the forward pass and 4·N·D for the backward pass.",
        "The cluster delivers n_gpus · peak_flops · mfu FLOP per second; divide, then convert seconds to days (86,400).",
        "return 6 * n_params * n_tokens / (n_gpus * peak_flops * mfu) / 86400",
    ],
    wrong={
        "other: 2·N·D (forward only)": lambda N, D, g, pk, u: training_days(N, D, g, pk, u) / 3,
        "ignored_argument: MFU ignored (assumes 100 %)": lambda N, D, g, pk, u: training_days(N, D, g, pk, 1.0),
        "sign: multiplies by MFU instead of dividing": lambda N, D, g, pk, u: training_days(N, D, g, pk, 1.0) * u,
        "normalisation: hours, not days": lambda N, D, g, pk, u: training_days(N, D, g, pk, u) * 24,
        "ignored_argument: one GPU": lambda N, D, g, pk, u: training_days(N, D, 1, pk, u),
        "other: 8·N·D (recomputation counted as standard)": lambda N, D, g, pk, u: training_days(N, D, g, pk, u) * 4 / 3,
        "returns_none: forgets to return": lambda N, D, g, pk, u: None,
        "fits_visible: right on the fixed cases only":
            memorised(training_days, _DAYS_CASES, lambda N, D, g, pk, u: training_days(N, D, g, pk, u) / 3),
    },
    section=SECTION_LLM,
)


# ------------------------------------------------------------------ 10. parameters of a GPT
def gpt_params(vocab_size, d_model, n_layers, context, tied=True):
    """Reference: GPT-2 layout — biases everywhere, LayerNorm (scale + shift), GELU MLP of width 4d, learned positions."""
    d = d_model
    per_layer = (4 * d * d + 4 * d) + (2 * d * 4 * d + 4 * d + d) + 2 * (2 * d)   # attention + MLP + two norms
    head = 0 if tied else vocab_size * d + vocab_size
    return int(vocab_size * d + context * d + n_layers * per_layer + 2 * d + head)


_GPT_CASES = [
    {"args": (50257, 768, 12, 1024), "label": "(GPT-2 small: 124M)"},
    {"args": (103, 128, 4, 512), "label": "(the course's tiny GPT shape)"},
    {"args": (1000, 64, 2, 128), "kwargs": {"tied": False}, "label": "(an untied output layer)"},
    {"args": (10, 8, 0, 4), "label": "(no layers: embeddings and the final norm only)"},
]


def _gpt_random(rng):
    return [{"args": (int(rng.integers(2, 60000)), int(rng.integers(1, 65)) * 8, int(rng.integers(1, 49)),
                      int(rng.integers(1, 4097))), "kwargs": {"tied": bool(rng.random() < 0.5)}, "label": "(random)"}]


def _gpt_generic(V, d, L, T, tied=True, attn=4, mlp=8, norms=4, layer_bias=True, final=2, pos=True, head_bias=True):
    per = attn * d * d + mlp * d * d + norms * d + ((4 * d + 4 * d + d) if layer_bias else 0)
    head = 0 if tied else V * d + (V if head_bias else 0)
    return int(V * d + (T * d if pos else 0) + L * per + final * d + head)


function_exercise(
    "19.gpt_params",
    title="count the parameters of a GPT",
    reference=gpt_params,
    cases=_GPT_CASES,
    random_cases=_gpt_random,
    atol=0, rtol=0,
    hints=[
        "Per layer: attention has four d×d matrices (q, k, v, out) with a bias each; the MLP maps d → 4d → d "
        "with biases; two LayerNorms each hold a scale and a shift of size d.",
        "Outside the layers: token embeddings V·d, learned positions context·d, a final LayerNorm (2d), and an "
        "output layer that reuses the embedding when tied (else V·d weights + V biases).",
        "per_layer = 4*d*d + 4*d + 8*d*d + 5*d + 4*d  (= 12·d² + 13·d); "
        "return V*d + context*d + n_layers*per_layer + 2*d + (0 if tied else V*d + V)",
    ],
    wrong={
        "other: 12·d² per layer, no biases or norms": lambda V, d, L, T, tied=True: _gpt_generic(V, d, L, T, tied, norms=0, layer_bias=False),
        "other: MLP counted as 4·d² (one matrix)": lambda V, d, L, T, tied=True: _gpt_generic(V, d, L, T, tied, mlp=4),
        "ignored_argument: positions forgotten": lambda V, d, L, T, tied=True: _gpt_generic(V, d, L, T, tied, pos=False),
        "ignored_argument: tied ignored (always tied)": lambda V, d, L, T, tied=True: _gpt_generic(V, d, L, T, True),
        "boundary: forgets the final LayerNorm": lambda V, d, L, T, tied=True: _gpt_generic(V, d, L, T, tied, final=0),
        "normalisation: LayerNorm with a scale only": lambda V, d, L, T, tied=True: _gpt_generic(V, d, L, T, tied, norms=2, final=1),
        "off_by_one: untied head without its bias": lambda V, d, L, T, tied=True: _gpt_generic(V, d, L, T, tied, head_bias=False),
        "returns_none: forgets to return": lambda V, d, L, T, tied=True: None,
        "fits_visible: right on the fixed cases only":
            memorised(gpt_params, _GPT_CASES, lambda V, d, L, T, tied=True: _gpt_generic(V, d, L, T, tied, pos=False)),
    },
    section=SECTION_LLM,
)
