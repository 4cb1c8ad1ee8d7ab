"""Exercises of 17_privacy_security: per-example clipping, FedAvg (plain, then with stragglers), FGSM, PGD."""
import numpy as np

from ..check import function_exercise
from ..privacy import clip_per_example, fedavg, fedavg_round, fgsm, pgd
from ._compat import memorised

SECTION_DP = "17 · DP-SGD"
SECTION_FED = "17 · Federated learning"
SECTION_ADV = "17 · Adversarial examples"


# ---------------------------------------------------------------- 17.clip_per_example
def _clip_cases():
    rng = np.random.default_rng(14)
    big = [rng.normal(size=(6, 3, 4)) * np.array([0.05, 3, 0.2, 1, 10, 0.5]).reshape(6, 1, 1),
           rng.normal(size=(6, 4)) * np.array([0.05, 3, 0.2, 1, 10, 0.5]).reshape(6, 1)]
    zero = [rng.normal(size=(3, 2)), rng.normal(size=(3,))]
    zero[0][1], zero[1][1] = 0.0, 0.0                       # an example whose gradient is exactly zero
    return [
        {"args": (big, 1.0), "label": "(two tensors, some examples above the clip, some below)"},
        {"args": ([rng.normal(size=(4, 5)) * 0.1], 2.0), "label": "(every example already small: nothing changes)"},
        {"args": ([rng.normal(size=(3, 2, 2)), rng.normal(size=(3, 1)) * 5, rng.normal(size=(3,))], 0.5),
         "label": "(three tensors, one of them a bias vector)"},
        {"args": (zero, 1.0), "label": "(one example's gradient is all zeros)"},
    ]


def _clip_random(rng):
    cases = []
    for _ in range(3):
        b = int(rng.integers(2, 7))
        shapes = [(b,) + tuple(rng.integers(1, 4, size=int(rng.integers(0, 3)))) for _ in range(int(rng.integers(1, 4)))]
        scale = 10.0 ** rng.uniform(-2, 1.5, size=b)
        grads = [rng.normal(size=s) * scale.reshape((b,) + (1,) * (len(s) - 1)) for s in shapes]
        cases.append({"args": (grads, float(rng.uniform(0.1, 3.0))), "label": f"(random: batch {b})"})
    # every call: 2-3 tensors, every example's gradient non-zero in each, examples placed on both sides of
    # the clip (at least one above it): a per-tensor, whole-batch or scale-up clip cannot match by luck
    b = int(rng.integers(3, 7))
    shapes = [(b,) + tuple(int(d) for d in rng.integers(1, 4, size=int(rng.integers(0, 3))))
              for _ in range(int(rng.integers(2, 4)))]
    grads = [rng.normal(size=s) + 0.1 * rng.choice([-1.0, 1.0], size=s) for s in shapes]
    clip = float(rng.uniform(0.1, 3.0))
    norm = np.sqrt(sum((g.reshape(b, -1) ** 2).sum(1) for g in grads))
    above = rng.random(b) < 0.5
    above[int(rng.integers(b))] = True
    target = clip * np.where(above, rng.uniform(1.5, 20.0, b), rng.uniform(0.1, 0.9, b))
    grads = [g * (target / norm).reshape((b,) + (1,) * (g.ndim - 1)) for g in grads]
    cases.append({"args": (grads, clip), "label": f"(random: batch {b}, {int(above.sum())} above the clip)"})
    return cases


def _per_tensor(grads, l2_norm_clip):
    return [clip_per_example([g], l2_norm_clip)[0] for g in grads]


def _whole_batch(grads, l2_norm_clip):
    total = np.sqrt(sum((np.asarray(g) ** 2).sum() for g in grads))
    return [np.asarray(g) * min(1.0, l2_norm_clip / total) for g in grads]


def _normalise(grads, l2_norm_clip):
    b = grads[0].shape[0]
    norm = np.sqrt(sum((np.asarray(g).reshape(b, -1) ** 2).sum(1) for g in grads)) + 1e-12
    return [np.asarray(g) * (l2_norm_clip / norm).reshape((b,) + (1,) * (np.ndim(g) - 1)) for g in grads]


def _unguarded(grads, l2_norm_clip):
    b = grads[0].shape[0]
    norm = np.sqrt(sum((np.asarray(g).reshape(b, -1) ** 2).sum(1) for g in grads))
    unit = [np.asarray(g) / norm.reshape((b,) + (1,) * (np.ndim(g) - 1)) for g in grads]   # 0/0 = NaN
    kept = np.minimum(norm, l2_norm_clip)
    return [u * kept.reshape((b,) + (1,) * (np.ndim(u) - 1)) for u in unit]


def _clip_fixed_c(grads, l2_norm_clip):
    return clip_per_example(grads, 1.0)


def _clip_squared(grads, l2_norm_clip):
    b = grads[0].shape[0]
    sq = sum((np.asarray(g).reshape(b, -1) ** 2).sum(1) for g in grads)
    s = np.minimum(1.0, l2_norm_clip / np.maximum(sq, 1e-12))   # forgot the square root
    return [np.asarray(g) * s.reshape((b,) + (1,) * (np.ndim(g) - 1)) for g in grads]


def _clip_inplace(grads, l2_norm_clip):
    out = clip_per_example(grads, l2_norm_clip)
    for g, o in zip(grads, out):
        g[...] = o
    return grads


function_exercise(
    "17.clip_per_example",
    title="clip each example's gradient to an L2 norm",
    reference=clip_per_example,
    cases=_clip_cases,
    random_cases=_clip_random,
    atol=1e-9, rtol=1e-7,
    hints=[
        "One norm per *example*, computed over all of that example's gradient tensors together (the layers' "
        "weights and biases as one long vector) — not one norm per tensor, and not one for the whole batch.",
        "Scale factor per example: min(1, C / norm). Examples already inside the ball are left unchanged; an "
        "all-zero gradient must stay zero (guard the division). Reshape the factor to (batch, 1, 1, …).",
        "b = grads[0].shape[0]; norm = np.sqrt(sum((g.reshape(b, -1) ** 2).sum(1) for g in grads)); "
        "s = np.minimum(1, l2_norm_clip / np.maximum(norm, 1e-12)); "
        "return [g * s.reshape((b,) + (1,) * (g.ndim - 1)) for g in grads]",
    ],
    wrong={
        "other: each tensor clipped on its own": _per_tensor,
        "wrong_axis: one norm for the whole batch": _whole_batch,
        "boundary: small gradients scaled UP to norm C": _normalise,
        "unstable: 0/0 for an all-zero gradient": _unguarded,
        "ignored_argument: clips to 1.0 whatever l2_norm_clip is": _clip_fixed_c,
        "normalisation: squared norm, no square root": _clip_squared,
        "mutation: scales the caller's arrays in place": _clip_inplace,
        "returns_none: forgets to return": lambda grads, l2_norm_clip: None,
        "fits_visible: right on the fixed cases only": memorised(clip_per_example, _clip_cases, _per_tensor),
    },
    section=SECTION_DP,
)


# ---------------------------------------------------------------- 17.fedavg (warm-up)
def _fedavg_cases():
    rng = np.random.default_rng(4)
    shapes = [(3, 2), (2,), (2, 1)]
    clients = [[rng.normal(size=s) for s in shapes] for _ in range(4)]
    return [
        {"args": (clients, [10, 10, 10, 10]), "label": "(equal sizes)"},
        {"args": (clients, [100, 5, 20, 1]), "label": "(unequal sizes)"},
        {"args": (clients[:2], [3, 0]), "label": "(a client with no data)"},
    ]


def _fedavg_random(rng):
    k = int(rng.integers(2, 6))
    shapes = [tuple(rng.integers(1, 4, size=int(rng.integers(1, 3)))) for _ in range(int(rng.integers(1, 4)))]
    clients = [[rng.normal(size=s) * 3 for s in shapes] for _ in range(k)]
    sizes = [int(n) for n in rng.integers(1, 500, size=k)]
    return [{"args": (clients, sizes), "label": f"(random: {k} clients)"}]


def _fedavg_first_layer_only(cw, sizes):
    out = fedavg(cw, sizes)
    return out[:1] + [np.asarray(w) for w in cw[0][1:]]


function_exercise(
    "17.fedavg",
    title="FedAvg: the server's weighted average (warm-up)",
    reference=fedavg,
    cases=_fedavg_cases,
    random_cases=_fedavg_random,
    atol=1e-9, rtol=1e-7,
    hints=[
        "The new global model is an average of the clients' models, layer by layer (same position in each list).",
        "Weight client k by n_k / Σ n: a client with more examples counts more, and the weights must sum to 1.",
        "p = np.asarray(client_sizes, float) / np.sum(client_sizes); "
        "return [sum(pk * w[i] for pk, w in zip(p, client_weights)) for i in range(len(client_weights[0]))]",
    ],
    wrong={
        "ignored_argument: unweighted mean (ignores client_sizes)":
            lambda cw, sizes: [np.mean([w[i] for w in cw], axis=0) for i in range(len(cw[0]))],
        "normalisation: weighted sum, not divided by Σ n":
            lambda cw, sizes: [sum(n * w[i] for n, w in zip(sizes, cw)) for i in range(len(cw[0]))],
        "other: unweighted sum divided by Σ n":
            lambda cw, sizes: [sum(w[i] for w in cw) / np.sum(sizes) for i in range(len(cw[0]))],
        "normalisation: weights n_k / max n instead of n_k / Σ n":
            lambda cw, sizes: [sum(n / np.max(sizes) * np.asarray(w[i]) for n, w in zip(sizes, cw))
                               for i in range(len(cw[0]))],
        "off_by_one: drops the last client":
            lambda cw, sizes: fedavg(cw[:-1], sizes[:-1]) if np.sum(sizes[:-1]) > 0 else fedavg(cw, sizes)[::-1],
        "other: averages only the first layer": _fedavg_first_layer_only,
        "returns_none: forgets to return": lambda cw, sizes: None,
        "fits_visible: right on the fixed cases only": memorised(fedavg, _fedavg_cases,
                                                                 lambda cw, sizes: [np.asarray(w) for w in cw[0]]),
    },
    section=SECTION_FED,
)


# ---------------------------------------------------------------- 17.fedavg_round (stragglers, server lr)
def _round_case(rng, k, arrived, sizes=None, lr=1.0, label=""):
    shapes = [(3, 2), (2,)]
    glob = [rng.normal(size=s) for s in shapes]
    clients = [[g + rng.normal(size=g.shape) * 0.5 for g in glob] for _ in range(k)]
    sizes = sizes if sizes is not None else [int(n) for n in rng.integers(5, 200, size=k)]
    return {"args": (glob, clients, sizes, list(arrived)), "kwargs": {"server_lr": lr}, "label": label}


def _round_cases():
    rng = np.random.default_rng(17)
    return [
        _round_case(rng, 3, [True, True, True], sizes=[10, 10, 10], label="(everyone arrived, equal sizes)"),
        _round_case(rng, 4, [True, False, True, True], sizes=[100, 400, 20, 5], label="(the biggest client straggles)"),
        _round_case(rng, 3, [True, True, False], lr=0.5, label="(server learning rate 0.5)"),
        _round_case(rng, 3, [False, False, False], label="(nobody arrived: keep the global model)"),
        _round_case(rng, 3, [True, True, True], sizes=[0, 50, 25], label="(a client with no data)"),
    ]


def _round_random(rng):
    cases = []
    for _ in range(2):
        k = int(rng.integers(2, 7))
        arrived = rng.random(k) < 0.6
        arrived[int(rng.integers(k))] = True
        cases.append(_round_case(rng, k, arrived.tolist(), lr=float(rng.choice([1.0, rng.uniform(0.2, 1.5)])),
                                 label=f"(random: {k} clients, {int(arrived.sum())} arrived)"))
    # every call: at least one client arrived and at least one (with data) straggled, so counting the
    # stragglers (or normalising over everyone) cannot match by luck
    k = int(rng.integers(3, 7))
    arrived = rng.random(k) < 0.6
    first, second = rng.permutation(k)[:2]
    arrived[first], arrived[second] = True, False
    cases.append(_round_case(rng, k, arrived.tolist(), lr=float(rng.uniform(0.2, 1.5)),
                             label=f"(random: {k} clients, {int(arrived.sum())} arrived, a straggler)"))
    return cases


def _round_ignore_arrived(glob, clients, sizes, arrived, server_lr=1.0):
    return fedavg_round(glob, clients, sizes, [True] * len(clients), server_lr)


def _round_norm_over_all(glob, clients, sizes, arrived, server_lr=1.0):
    total = float(np.sum(sizes))
    return [np.asarray(g, float) + server_lr * sum(n / total * (np.asarray(c[v]) - g)
                                                   for n, c, a in zip(sizes, clients, arrived) if a)
            for v, g in enumerate(glob)]


def _round_ignore_lr(glob, clients, sizes, arrived, server_lr=1.0):
    return fedavg_round(glob, clients, sizes, arrived, 1.0)


def _round_average_models(glob, clients, sizes, arrived, server_lr=1.0):
    use = [i for i, a in enumerate(arrived) if a and sizes[i] > 0]
    if not use:
        return [np.asarray(g, float).copy() for g in glob]
    p = np.asarray([sizes[i] for i in use], float)
    p /= p.sum()
    return [server_lr * sum(pk * np.asarray(clients[i][v]) for pk, i in zip(p, use)) for v in range(len(glob))]


def _round_nobody_zero(glob, clients, sizes, arrived, server_lr=1.0):
    if not any(arrived):
        return [np.zeros_like(np.asarray(g, float)) for g in glob]
    return fedavg_round(glob, clients, sizes, arrived, server_lr)


def _round_unweighted(glob, clients, sizes, arrived, server_lr=1.0):
    return fedavg_round(glob, clients, [1 if s > 0 else 0 for s in sizes], arrived, server_lr)


def _round_sign(glob, clients, sizes, arrived, server_lr=1.0):
    new = fedavg_round(glob, clients, sizes, arrived, server_lr)
    return [2 * np.asarray(g, float) - n for g, n in zip(glob, new)]


def _round_mutates(glob, clients, sizes, arrived, server_lr=1.0):
    new = fedavg_round(glob, clients, sizes, arrived, server_lr)
    for g, n in zip(glob, new):
        g[...] = n
    return glob


function_exercise(
    "17.fedavg_round",
    title="a FedAvg server round with stragglers and a server learning rate",
    reference=fedavg_round,
    cases=_round_cases,
    random_cases=_round_random,
    atol=1e-9, rtol=1e-7,
    hints=[
        "Only the clients whose `arrived` flag is True count this round, and among them only those with data. "
        "Each sends a model w_k; its update is Δw_k = w_k − w (w: the global model you were given).",
        "Weights p_k = n_k / Σ n over the ARRIVED clients only (so they sum to 1); new w = w + server_lr · Σ p_k Δw_k. "
        "If nobody arrived, return copies of the global weights.",
        "use = [k for k in range(len(client_weights)) if arrived[k] and client_sizes[k] > 0]; if not use: return "
        "[np.array(g, float) for g in global_weights]; p = np.array([client_sizes[k] for k in use], float); p /= p.sum(); "
        "return [g + server_lr * sum(pk * (client_weights[k][v] - g) for pk, k in zip(p, use)) "
        "for v, g in enumerate(global_weights)]",
    ],
    wrong={
        "ignored_argument: stragglers' stale updates counted too": _round_ignore_arrived,
        "normalisation: divides by Σ n over ALL clients, not the arrived ones": _round_norm_over_all,
        "ignored_argument: server_lr ignored": _round_ignore_lr,
        "other: averages the models and scales them by server_lr (not w + η·Δ)": _round_average_models,
        "boundary: nobody arrived → returns zeros": _round_nobody_zero,
        "other: unweighted average of the arrived clients": _round_unweighted,
        "sign: moves away from the clients' average": _round_sign,
        "mutation: overwrites the global weights in place": _round_mutates,
        "returns_none: forgets to return": lambda glob, clients, sizes, arrived, server_lr=1.0: None,
        "fits_visible: right on the fixed cases only": memorised(fedavg_round, _round_cases, _round_ignore_arrived),
    },
    section=SECTION_FED,
)


# ---------------------------------------------------------------- 17.fgsm (warm-up)
def _softmax_reg_grad(W, b):
    def grad_fn(x, y):
        z = np.asarray(x) @ W + b
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


def _fgsm_random(rng):
    d, c, n = int(rng.integers(3, 9)), int(rng.integers(2, 5)), int(rng.integers(2, 7))
    W, b = rng.normal(size=(d, c)) * rng.uniform(0.5, 3), rng.normal(size=c)
    x = rng.uniform(0, 1, (n, d))
    x[0, 0], x[-1, -1] = 0.0, 1.0
    return [{"args": (_softmax_reg_grad(W, b), x, rng.integers(0, c, n), float(rng.uniform(0.01, 0.4))),
             "label": f"(random: {n} inputs of {d} features)"}]


def _fgsm_ref(grad_fn, x, y, eps):
    return fgsm(grad_fn, x, y, eps)


def _fgsm_inplace(grad_fn, x, y, eps):
    x += eps * np.sign(grad_fn(x, y))
    np.clip(x, 0, 1, out=x)
    return x


function_exercise(
    "17.fgsm",
    title="the fast gradient sign method (warm-up)",
    reference=_fgsm_ref,
    cases=_fgsm_cases,
    random_cases=_fgsm_random,
    atol=1e-9, rtol=1e-7,
    hints=[
        "The attacker wants the loss to go *up*: step along the gradient of the loss with respect to the input.",
        "FGSM takes the sign of the gradient (an L∞ step of size ε), then clips back to the valid pixel range [0, 1].",
        "return np.clip(x + eps * np.sign(grad_fn(x, y)), 0.0, 1.0)",
    ],
    wrong={
        "sign: descends the loss": lambda grad_fn, x, y, eps: np.clip(x - eps * np.sign(grad_fn(x, y)), 0, 1),
        "boundary: leaves the pixel range": lambda grad_fn, x, y, eps: x + eps * np.sign(grad_fn(x, y)),
        "other: raw gradient, not its sign": lambda grad_fn, x, y, eps: np.clip(x + eps * grad_fn(x, y), 0, 1),
        "ignored_argument: ε fixed at 0.1": lambda grad_fn, x, y, eps: np.clip(x + 0.1 * np.sign(grad_fn(x, y)), 0, 1),
        "normalisation: L2-normalised gradient instead of the sign":
            lambda grad_fn, x, y, eps: np.clip(x + eps * grad_fn(x, y) /
                                               (np.linalg.norm(grad_fn(x, y), axis=1, keepdims=True) + 1e-12), 0, 1),
        "mutation: perturbs the caller's x in place": _fgsm_inplace,
        "returns_none: forgets to return": lambda grad_fn, x, y, eps: None,
        "fits_visible: right on the fixed cases only":
            memorised(_fgsm_ref, _fgsm_cases, lambda grad_fn, x, y, eps: np.clip(x, 0, 1)),
    },
    section=SECTION_ADV,
)


# ---------------------------------------------------------------- 17.pgd (projection)
def _pgd_case(rng, n, d, c, eps, alpha, steps, label, edge=True):
    W, b = rng.normal(size=(d, c)) * rng.uniform(1, 3), rng.normal(size=c)
    x = rng.uniform(0, 1, (n, d))
    if edge:
        x[0, :2] = [0.0, 1.0]
    return {"args": (_softmax_reg_grad(W, b), x, rng.integers(0, c, n), eps, alpha, steps,
                     np.random.default_rng(int(rng.integers(2 ** 31)))), "label": label}


def _pgd_cases():
    rng = np.random.default_rng(1717)
    return [
        _pgd_case(rng, 5, 6, 3, 0.1, 0.025, 10, "(ε = 0.1, α = ε/4, 10 steps)"),
        _pgd_case(rng, 4, 5, 3, 0.2, 0.1, 5, "(big steps: the projection matters)"),
        _pgd_case(rng, 3, 4, 2, 0.05, 0.05, 1, "(one step)"),
    ]


def _pgd_random(rng):
    eps = float(rng.uniform(0.02, 0.3))
    return [_pgd_case(rng, int(rng.integers(2, 6)), int(rng.integers(3, 8)), int(rng.integers(2, 4)), eps,
                      float(eps * rng.uniform(0.2, 1.0)), int(rng.integers(2, 8)), "(random)"),
            # every call: steps · α ≥ 3ε, so the iterate must be projected back onto the ε-ball
            _pgd_case(rng, int(rng.integers(3, 6)), int(rng.integers(4, 8)), int(rng.integers(2, 4)), eps / 2,
                      float(eps / 2 * rng.uniform(0.5, 1.0)), int(rng.integers(6, 11)), "(random: many steps)")]


def _pgd_no_ball(grad_fn, x, y, eps, alpha, steps, rng):
    x_adv = np.clip(x + rng.uniform(-eps, eps, x.shape), 0, 1)
    for _ in range(steps):
        x_adv = np.clip(x_adv + alpha * np.sign(grad_fn(x_adv, y)), 0, 1)         # never projected onto the ε-ball
    return x_adv


def _pgd_ball_around_iterate(grad_fn, x, y, eps, alpha, steps, rng):
    x_adv = np.clip(x + rng.uniform(-eps, eps, x.shape), 0, 1)
    for _ in range(steps):
        prev = x_adv
        x_adv = np.clip(np.clip(x_adv + alpha * np.sign(grad_fn(x_adv, y)), prev - eps, prev + eps), 0, 1)
    return x_adv


def _pgd_global_rng(grad_fn, x, y, eps, alpha, steps, rng):
    return pgd(grad_fn, x, y, eps, alpha, steps, np.random.default_rng())


def _pgd_no_start(grad_fn, x, y, eps, alpha, steps, rng):
    x_adv = np.asarray(x, float)
    for _ in range(steps):
        x_adv = np.clip(np.clip(x_adv + alpha * np.sign(grad_fn(x_adv, y)), x - eps, x + eps), 0, 1)
    return x_adv


def _pgd_fgsm(grad_fn, x, y, eps, alpha, steps, rng):
    return fgsm(grad_fn, x, y, eps)


def _pgd_one_less(grad_fn, x, y, eps, alpha, steps, rng):
    return pgd(grad_fn, x, y, eps, alpha, max(steps - 1, 1), rng) if steps > 1 else \
        np.clip(x + rng.uniform(-eps, eps, x.shape), 0, 1)


def _pgd_descends(grad_fn, x, y, eps, alpha, steps, rng):
    return pgd(lambda xa, ya: -np.asarray(grad_fn(xa, ya)), x, y, eps, alpha, steps, rng)


def _pgd_eps_step(grad_fn, x, y, eps, alpha, steps, rng):
    return pgd(grad_fn, x, y, eps, eps, steps, rng)                                # α ignored: steps of ε


function_exercise(
    "17.pgd",
    title="projected gradient descent (L∞) from a random start",
    reference=pgd,
    cases=_pgd_cases,
    random_cases=_pgd_random,
    atol=1e-9, rtol=1e-7,
    hints=[
        "Start from a random point of the ε-ball: x_adv = clip(x + rng.uniform(−ε, ε, x.shape), 0, 1) — draw it from "
        "the `rng` you are given, so the attack is reproducible.",
        "Each of the `steps` iterations: x_adv += α·sign(grad_fn(x_adv, y)); then PROJECT: clip into [x − ε, x + ε] "
        "around the ORIGINAL x (not around the previous iterate), then into [0, 1].",
        "x_adv = np.clip(x + rng.uniform(-eps, eps, x.shape), 0, 1); for _ in range(steps): x_adv = np.clip(np.clip("
        "x_adv + alpha * np.sign(grad_fn(x_adv, y)), x - eps, x + eps), 0, 1); return x_adv",
    ],
    wrong={
        "boundary: never projected onto the ε-ball": _pgd_no_ball,
        "other: ε-ball around the previous iterate, not the original x": _pgd_ball_around_iterate,
        "global_rng: random start from a fresh generator, not the given rng": _pgd_global_rng,
        "ignored_argument: no random start": _pgd_no_start,
        "ignored_argument: one FGSM step (steps and α ignored)": _pgd_fgsm,
        "off_by_one: one step too few": _pgd_one_less,
        "sign: descends the loss": _pgd_descends,
        "ignored_argument: steps of size ε instead of α": _pgd_eps_step,
        "returns_none: forgets to return": lambda grad_fn, x, y, eps, alpha, steps, rng: None,
        "fits_visible: right on the fixed cases only": memorised(pgd, _pgd_cases, _pgd_no_ball),
    },
    section=SECTION_ADV,
)
