"""Exercises of 19_interview_prep: the coding drills (stable softmax, Adam step, conv output size, MLP backprop)."""
import numpy as np

from ..check import function_exercise, register

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
    ]


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
    wrong=[_softmax_naive, _softmax_global_max, _softmax_wrong_axis],
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
    ]


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
    wrong=[_adam_no_bias_correction, _adam_v_without_square, _adam_bias_t_plus_one],
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
    wrong=[_conv_no_plus_one, _conv_ignores_dilation, _conv_ceil, _conv_single_padding],
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
    wrong=[_mlp_sum_not_mean, _mlp_no_relu_mask, _mlp_no_onehot],
    section=SECTION,
)
