"""Exercises of 17_privacy_security: per-example clipping, FedAvg aggregation, FGSM."""
import numpy as np

from ..check import function_exercise
from ..privacy import clip_per_example, fedavg, fgsm


# ---------------------------------------------------------------- 14.clip_per_example
def _clip_cases():
    rng = np.random.default_rng(14)
    big = [rng.normal(size=(6, 3, 4)) * np.array([0.05, 3, 0.2, 1, 10, 0.5]).reshape(6, 1, 1),
           rng.normal(size=(6, 4)) * np.array([0.05, 3, 0.2, 1, 10, 0.5]).reshape(6, 1)]
    return [
        {"args": (big, 1.0), "label": "(two tensors, some examples above the clip, some below)"},
        {"args": ([rng.normal(size=(4, 5)) * 0.1], 2.0), "label": "(every example already small: nothing changes)"},
        {"args": ([rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 1)) * 5, rng.normal(size=(3,))], 0.5),
         "label": "(three tensors, one of them a bias vector)"},
    ]


def _per_tensor(grads, l2_norm_clip):
    return [clip_per_example([g], l2_norm_clip)[0] for g in grads]


def _whole_batch(grads, l2_norm_clip):
    total = np.sqrt(sum((np.asarray(g) ** 2).sum() for g in grads))
    return [np.asarray(g) * min(1.0, l2_norm_clip / total) for g in grads]


def _normalise(grads, l2_norm_clip):
    b = grads[0].shape[0]
    norm = np.sqrt(sum((np.asarray(g).reshape(b, -1) ** 2).sum(1) for g in grads))
    return [np.asarray(g) * (l2_norm_clip / norm).reshape((b,) + (1,) * (np.ndim(g) - 1)) for g in grads]


function_exercise(
    "17.clip_per_example",
    title="clip each example's gradient to an L2 norm",
    reference=clip_per_example,
    cases=_clip_cases,
    atol=1e-9, rtol=1e-7,
    hints=[
        "One norm per *example*, computed over all of that example's gradient tensors together (the layers' "
        "weights and biases as one long vector) — not one norm per tensor, and not one for the whole batch.",
        "Scale factor per example: min(1, C / norm). Examples already inside the ball are left unchanged; "
        "reshape the factor to (batch, 1, 1, …) to broadcast it onto each tensor.",
        "b = grads[0].shape[0]; norm = np.sqrt(sum((g.reshape(b, -1) ** 2).sum(1) for g in grads)); "
        "s = np.minimum(1, l2_norm_clip / norm); return [g * s.reshape((b,) + (1,) * (g.ndim - 1)) for g in grads]",
    ],
    wrong=[
        _per_tensor,     # each layer clipped on its own: the total norm can reach C·√(number of tensors)
        _whole_batch,    # clips the batch's gradient: one example can still dominate
        _normalise,      # rescales every example to norm C, inflating small gradients
    ],
    section="17 · DP-SGD",
)


# ---------------------------------------------------------------- 14.fedavg
def _fedavg_cases():
    rng = np.random.default_rng(4)
    shapes = [(3, 2), (2,), (2, 1)]
    clients = [[rng.normal(size=s) for s in shapes] for _ in range(4)]
    return [
        {"args": (clients, [10, 10, 10, 10]), "label": "(equal sizes)"},
        {"args": (clients, [100, 5, 20, 1]), "label": "(unequal sizes)"},
        {"args": (clients[:2], [3, 0]), "label": "(a client with no data)"},
    ]


function_exercise(
    "17.fedavg",
    title="FedAvg: the server's weighted average",
    reference=fedavg,
    cases=_fedavg_cases,
    atol=1e-9, rtol=1e-7,
    hints=[
        "The new global model is an average of the clients' models, layer by layer (same position in each list).",
        "Weight client k by n_k / Σ n: a client with more examples counts more, and the weights must sum to 1.",
        "p = np.asarray(client_sizes, float) / np.sum(client_sizes); "
        "return [sum(pk * w[i] for pk, w in zip(p, client_weights)) for i in range(len(client_weights[0]))]",
    ],
    wrong=[
        lambda cw, sizes: [np.mean([w[i] for w in cw], axis=0) for i in range(len(cw[0]))],           # unweighted
        lambda cw, sizes: [sum(n * w[i] for n, w in zip(sizes, cw)) for i in range(len(cw[0]))],       # not normalised
        lambda cw, sizes: [sum(w[i] for w in cw) / np.sum(sizes) for i in range(len(cw[0]))],          # divided only
    ],
    section="17 · Federated learning",
)


# ---------------------------------------------------------------- 14.fgsm
def _softmax_reg_grad(W, b):
    def grad_fn(x, y):
        z = x @ W + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(y)), y] -= 1.0
        return p @ W.T                                    # ∂ cross-entropy / ∂ x, per example
    return grad_fn


def _fgsm_cases():
    rng = np.random.default_rng(8)
    W, b = rng.normal(size=(6, 3)), rng.normal(size=3)
    x = rng.uniform(0, 1, (5, 6))
    x[0, :3] = [0.0, 1.0, 0.98]                           # pixels at the edge of the valid range
    y = rng.integers(0, 3, 5)
    return [
        {"args": (_softmax_reg_grad(W, b), x, y, 0.1), "label": "(ε = 0.1)"},
        {"args": (_softmax_reg_grad(W, b), x, y, 0.3), "label": "(ε = 0.3: many pixels hit 0 or 1)"},
        {"args": (_softmax_reg_grad(W * 3, b), rng.uniform(0, 1, (4, 6)), rng.integers(0, 3, 4), 0.05),
         "label": "(another model)"},
    ]


function_exercise(
    "17.fgsm",
    title="the fast gradient sign method",
    reference=lambda grad_fn, x, y, eps: fgsm(grad_fn, x, y, eps),
    cases=_fgsm_cases,
    atol=1e-9, rtol=1e-7,
    hints=[
        "The attacker wants the loss to go *up*: step along the gradient of the loss with respect to the input.",
        "FGSM takes the sign of the gradient (an L∞ step of size ε), then clips back to the valid pixel range [0, 1].",
        "return np.clip(x + eps * np.sign(grad_fn(x, y)), 0.0, 1.0)",
    ],
    wrong=[
        lambda grad_fn, x, y, eps: np.clip(x - eps * np.sign(grad_fn(x, y)), 0, 1),   # descends the loss
        lambda grad_fn, x, y, eps: x + eps * np.sign(grad_fn(x, y)),                  # leaves the pixel range
        lambda grad_fn, x, y, eps: np.clip(x + eps * grad_fn(x, y), 0, 1),            # raw gradient, not its sign
    ],
    section="17 · Adversarial examples",
)
