"""Exercises of 12_training_large_models."""
from __future__ import annotations

import numpy as np

from ..memory import bytes_per_param, zero_memory
from ..check import function_exercise

# ------------------------------------------------------------------ 1. ZeRO-k memory per device
_ZERO_CASES = [
    {"args": (7e9, 8, 0, "mixed_bfloat16", "adam"), "label": "(7B, plain data parallel)"},
    {"args": (7e9, 8, 1, "mixed_bfloat16", "adam"), "label": "(7B, ZeRO-1)"},
    {"args": (7e9, 8, 2, "mixed_float16", "adam"), "label": "(7B, ZeRO-2)"},
    {"args": (70e9, 64, 3, "mixed_bfloat16", "adamw"), "label": "(70B, ZeRO-3 over 64)"},
    {"args": (1e9, 4, 3, "float32", "sgd"), "label": "(float32 SGD: no optimizer state)"},
    {"args": (1e9, 1, 3, "mixed_bfloat16", "momentum"), "label": "(one device: nothing to shard)"},
]


def _zero_random(rng: np.random.Generator) -> list:
    out = []
    for _ in range(6):
        out.append((float(rng.integers(1, 2000)) * 10 ** int(rng.integers(5, 9)), int(rng.choice([1, 2, 3, 8, 64, 1024])),
                    int(rng.integers(0, 4)), str(rng.choice(["float32", "mixed_float16", "mixed_bfloat16"])),
                    str(rng.choice(["sgd", "momentum", "adam", "adamw"]))))
    return out


def _zero(per_fn, shard_fn):
    def f(n_params, n_devices, stage, precision="mixed_bfloat16", optimizer="adam"):
        per = per_fn(precision, optimizer)
        out = {k: n_params * per[k] / (n_devices if shard_fn(k, stage) else 1)
               for k in ("weights", "gradients", "optimizer")}
        out["total"] = sum(out.values())
        return out
    return f


def _std_shard(k, stage):
    return {"optimizer": stage >= 1, "gradients": stage >= 2, "weights": stage >= 3}[k]


def _master_under_weights(precision, optimizer):
    half = precision != "float32"
    slots = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}[optimizer]
    return {"weights": 6 if half else 4, "gradients": 2 if half else 4, "optimizer": 4 * slots}


def _no_master(precision, optimizer):
    per = dict(bytes_per_param(precision, optimizer))
    per["optimizer"] -= 4 if precision != "float32" else 0
    return per


def _ignores_optimizer(precision, optimizer):
    return bytes_per_param(precision, "adam")


def _half_moments(precision, optimizer):
    per = dict(bytes_per_param(precision, optimizer))
    slots = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}[optimizer]
    if precision != "float32":
        per["optimizer"] = 4 + 2 * slots
    return per


def _zero_fits_visible(n_params, n_devices, stage, precision="mixed_bfloat16", optimizer="adam"):
    per = {"weights": 2, "gradients": 2, "optimizer": 12}        # hard-codes mixed + Adam
    out = {k: n_params * per[k] / (n_devices if _std_shard(k, stage) else 1) for k in per}
    out["total"] = sum(out.values())
    return out


function_exercise(
    "12.zero_memory",
    title="model-state memory per device under ZeRO-k",
    reference=zero_memory,
    cases=_ZERO_CASES,
    random_cases=_zero_random,
    rtol=1e-9, atol=1e-6,
    hints=[
        "First bytes per parameter for each part (weights, gradients, optimizer state), then divide the "
        "parts that the stage shards by n_devices. Return a dict with those three keys and 'total'.",
        "Course accounting: float32 → 4, 4, 4·slots; mixed → 2, 2, 4 (fp32 master weights) + 4·slots. Slots: "
        "sgd 0, momentum 1, adam/adamw 2. Stage 1 shards the optimizer state, stage 2 also gradients, stage "
        "3 also weights; stage 0 shards nothing.",
        "per = lk.memory.bytes_per_param(precision, optimizer); sharded = {'optimizer': stage >= 1, "
        "'gradients': stage >= 2, 'weights': stage >= 3}; out[k] = n_params * per[k] / (n_devices if "
        "sharded[k] else 1); out['total'] = sum(...)",
    ],
    wrong={
        "other: fp32 master weights counted under weights (6/2/8), so ZeRO-1 leaves them unsharded":
            _zero(_master_under_weights, _std_shard),
        "normalisation: forgets the fp32 master weights in mixed precision": _zero(_no_master, _std_shard),
        "off_by_one: stage k shards one part too many (ZeRO-1 also shards gradients)":
            _zero(bytes_per_param, lambda k, s: {"optimizer": s >= 1, "gradients": s >= 1, "weights": s >= 2}[k]),
        "off_by_one: stage k shards one part too few (ZeRO-3 keeps full weights)":
            _zero(bytes_per_param, lambda k, s: {"optimizer": s >= 2, "gradients": s >= 3, "weights": False}[k]),
        "boundary: stage 0 already shards the optimizer state":
            _zero(bytes_per_param, lambda k, s: {"optimizer": True, "gradients": s >= 2, "weights": s >= 3}[k]),
        "ignored_argument: always Adam, whatever the optimizer": _zero(_ignores_optimizer, _std_shard),
        "other: 16-bit Adam moments in mixed precision": _zero(_half_moments, _std_shard),
        "fits_visible: hard-codes mixed precision with Adam (16 bytes/param)": _zero_fits_visible,
    },
    section="12 · ZeRO",
)

# ------------------------------------------------------------------ 2. GPipe timeline and bubble
def gpipe_timeline(p, m, t_fwd, t_bwd):
    """Reference: start times of every forward and backward in a GPipe step, and its bubble fraction."""
    s = np.arange(p)[:, None]
    i = np.arange(m)[None, :]
    fwd = (s + i) * t_fwd
    bwd = (m + p - 1) * t_fwd + (p - 1 - s + i) * t_bwd
    makespan = (m + p - 1) * (t_fwd + t_bwd)
    bubble = 1 - m * (t_fwd + t_bwd) / makespan
    return fwd.astype(float), bwd.astype(float), float(bubble)


_PIPE_CASES = [(4, 8, 1.0, 2.0), (1, 5, 1.0, 2.0), (3, 1, 1.0, 1.0), (2, 6, 0.5, 1.5), (8, 3, 2.0, 3.0)]


def _pipe_random(rng: np.random.Generator) -> list:
    return [(int(rng.integers(1, 10)), int(rng.integers(1, 17)), float(rng.uniform(0.2, 3)),
             float(rng.uniform(0.2, 5))) for _ in range(5)]


def _pipe_bwd_first_stage_first(p, m, t_fwd, t_bwd):
    fwd, _, bub = gpipe_timeline(p, m, t_fwd, t_bwd)
    s, i = np.arange(p)[:, None], np.arange(m)[None, :]
    return fwd, (m + p - 1) * t_fwd + (s + i) * t_bwd, bub          # backward flows 0 → p−1


def _pipe_off_by_one(p, m, t_fwd, t_bwd):
    fwd, _, _ = gpipe_timeline(p, m, t_fwd, t_bwd)
    s, i = np.arange(p)[:, None], np.arange(m)[None, :]
    bwd = (m + p) * t_fwd + (p - 1 - s + i) * t_bwd                   # waits one slot too long
    return fwd, bwd, 1 - m * (t_fwd + t_bwd) / ((m + p) * t_fwd + (m + p - 1) * t_bwd)


def _pipe_transposed(p, m, t_fwd, t_bwd):
    fwd, bwd, bub = gpipe_timeline(m, p, t_fwd, t_bwd)               # stages and micro-batches swapped
    return fwd.T, bwd.T, bub


def _pipe_no_overlap(p, m, t_fwd, t_bwd):
    s, i = np.arange(p)[:, None], np.arange(m)[None, :]
    fwd = (s * m + i) * t_fwd                                         # stage s waits for all of s−1
    bwd = p * m * t_fwd + ((p - 1 - s) * m + i) * t_bwd
    return fwd.astype(float), bwd.astype(float), float(1 - 1 / p)


def _pipe_ignores_bwd(p, m, t_fwd, t_bwd):
    fwd, bwd, _ = gpipe_timeline(p, m, t_fwd, t_fwd)
    return fwd, bwd + 0 * t_bwd, (p - 1) / (m + p - 1)                # backward takes as long as forward


def _pipe_bubble_over_m(p, m, t_fwd, t_bwd):
    fwd, bwd, _ = gpipe_timeline(p, m, t_fwd, t_bwd)
    return fwd, bwd, (p - 1) / m                                       # idle / busy, not idle / total


def _pipe_fits_visible(p, m, t_fwd, t_bwd):
    s, i = np.arange(p)[:, None], np.arange(m)[None, :]               # assumes t_bwd = 2·t_fwd
    return (s + i) * t_fwd * 1.0, (m + p - 1) * t_fwd + (p - 1 - s + i) * 2 * t_fwd * 1.0, (p - 1) / (m + p - 1)


function_exercise(
    "12.gpipe_timeline",
    title="GPipe: when does each micro-batch run, and how much is bubble?",
    reference=gpipe_timeline,
    cases=_PIPE_CASES,
    random_cases=_pipe_random,
    rtol=1e-9, atol=1e-9,
    hints=[
        "Return (fwd, bwd, bubble): fwd[s, i] and bwd[s, i] are the start times of micro-batch i's forward "
        "and backward on stage s (arrays of shape (p, m)); bubble is the idle fraction of p × makespan.",
        "Forward: stage s can start micro-batch i once stage s−1 finished it and s finished i−1 → (s + i)·t_fwd. "
        "All backwards start after the last forward ends at (m + p − 1)·t_fwd, and flow from the last stage "
        "(s = p−1) back to stage 0.",
        "bwd[s, i] = (m + p − 1)·t_fwd + (p − 1 − s + i)·t_bwd; makespan = (m + p − 1)(t_fwd + t_bwd); "
        "bubble = 1 − m(t_fwd + t_bwd) / makespan = (p − 1)/(m + p − 1)",
    ],
    wrong={
        "sign: backward runs from stage 0 to stage p−1": _pipe_bwd_first_stage_first,
        "off_by_one: backward starts one forward slot late": _pipe_off_by_one,
        "wrong_axis: arrays are (m, p) — stages and micro-batches swapped": _pipe_transposed,
        "other: no pipelining, a stage waits for the whole batch of the stage before": _pipe_no_overlap,
        "ignored_argument: backward assumed as long as the forward": _pipe_ignores_bwd,
        "normalisation: bubble as idle / busy time, (p−1)/m": _pipe_bubble_over_m,
        "fits_visible: hard-codes t_bwd = 2·t_fwd": _pipe_fits_visible,
    },
    section="12 · Pipeline parallelism",
)


# ------------------------------------------------------------------ 3. gradient accumulation
def _densify(g):
    if isinstance(g, dict):
        dense = np.zeros(tuple(g["dense_shape"]), dtype=np.float64)
        np.add.at(dense, np.asarray(g["indices"]), np.asarray(g["values"], dtype=np.float64))
        return dense
    return np.asarray(g, dtype=np.float64)


def accumulate_gradients(micro_grads, token_counts):
    """Reference: the gradient of the mean loss over *all* tokens, from per-micro-batch mean-loss gradients."""
    total = float(np.sum(token_counts))
    out = None
    for grads, n in zip(micro_grads, token_counts):
        dense = [_densify(g) * n for g in grads]
        out = dense if out is None else [a + b for a, b in zip(out, dense)]
    return [a / total for a in out]


def _accum_case(rng: np.random.Generator, k: int, equal: bool) -> tuple:
    vocab, d, h = int(rng.integers(4, 12)), int(rng.integers(2, 6)), int(rng.integers(2, 5))
    counts = [int(rng.integers(3, 40))] * k if equal else [int(rng.integers(1, 40)) for _ in range(k)]
    micro = []
    for n in counts:
        rows = int(rng.integers(2, 7))
        idx = rng.integers(0, vocab, rows)
        idx[-1] = idx[0]                                   # a duplicate row, as with a repeated token
        emb = {"indices": idx, "values": rng.normal(size=(rows, d)), "dense_shape": (vocab, d)}
        micro.append([emb, rng.normal(size=(d, h)) * float(rng.choice([1e-3, 1, 1e3])), rng.normal(size=h)])
    return micro, counts


def _accum_cases() -> list:
    rng = np.random.default_rng(12)
    return [{"args": _accum_case(rng, 1, True), "label": "(one micro-batch)"},
            {"args": _accum_case(rng, 4, True), "label": "(4 equal micro-batches)"},
            {"args": _accum_case(rng, 3, False), "label": "(3 micro-batches, different token counts)"},
            {"args": _accum_case(rng, 5, False), "label": "(5 micro-batches, different token counts)"}]


def _accum_random(rng: np.random.Generator) -> list:
    return [{"args": _accum_case(rng, int(rng.integers(1, 7)), bool(rng.integers(0, 2)))} for _ in range(4)]


def _accum_mean_of_means(micro_grads, token_counts):
    k = len(micro_grads)
    return [sum(_densify(g[j]) for g in micro_grads) / k for j in range(len(micro_grads[0]))]


def _accum_assign_rows(micro_grads, token_counts):
    def dens(g):
        if isinstance(g, dict):
            dense = np.zeros(tuple(g["dense_shape"]))
            dense[np.asarray(g["indices"])] = g["values"]     # duplicate rows overwrite instead of adding
            return dense
        return np.asarray(g, dtype=np.float64)
    total = float(np.sum(token_counts))
    return [sum(dens(g[j]) * n for g, n in zip(micro_grads, token_counts)) / total
            for j in range(len(micro_grads[0]))]


def _accum_sum(micro_grads, token_counts):
    return [sum(_densify(g[j]) * n for g, n in zip(micro_grads, token_counts))
            for j in range(len(micro_grads[0]))]                 # never divides by the token count


def _accum_skip_last(micro_grads, token_counts):
    mg, tc = micro_grads[:-1] or micro_grads, token_counts[:-1] or token_counts
    return accumulate_gradients(mg, tc)


def _accum_in_place(micro_grads, token_counts):
    total = float(np.sum(token_counts))
    acc = [g if not isinstance(g, dict) else _densify(g) for g in micro_grads[0]]   # aliases the input arrays
    for a in acc:
        a *= 0.0                                                  # ... and so zeroes micro-batch 0's gradients
    for grads, n in zip(micro_grads, token_counts):
        for j, g in enumerate(grads):
            acc[j] += _densify(g) * n
    return [a / total for a in acc]


def _accum_mean_of_counts(micro_grads, token_counts):
    mean_n = float(np.mean(token_counts))
    return [sum(_densify(g[j]) * n for g, n in zip(micro_grads, token_counts)) / mean_n / len(micro_grads) ** 2
            for j in range(len(micro_grads[0]))]


def _accum_none(micro_grads, token_counts):
    accumulate_gradients(micro_grads, token_counts)


def _accum_float32(micro_grads, token_counts):
    total = np.float32(np.sum(token_counts))
    acc = None
    for grads, n in zip(micro_grads, token_counts):
        dense = [np.float16(_densify(g)) * np.float16(n) for g in grads]   # accumulates in float16
        acc = dense if acc is None else [a + b for a, b in zip(acc, dense)]
    return [a.astype(np.float32) / total for a in acc]


function_exercise(
    "12.accumulate_gradients",
    title="gradient accumulation over micro-batches, normalised by the token count",
    reference=accumulate_gradients,
    cases=_accum_cases,
    random_cases=_accum_random,
    rtol=1e-6, atol=1e-9,
    hints=[
        "micro_grads[i] is the list of gradients of micro-batch i's *mean* loss over its token_counts[i] "
        "tokens. The answer is the gradient of the mean over all tokens of all micro-batches, one dense "
        "array per variable.",
        "Undo each micro-batch's mean (multiply by its token count), add them up, divide by the total token "
        "count. An embedding gradient comes as {'indices', 'values', 'dense_shape'} (like tf.IndexedSlices): "
        "densify it with np.add.at so that repeated indices add up.",
        "dense = zeros(dense_shape); np.add.at(dense, indices, values); out[j] = sum_i n_i * g_ij / sum_i n_i",
    ],
    wrong={
        "normalisation: mean of the micro-batch means (wrong when token counts differ)": _accum_mean_of_means,
        "other: densifies IndexedSlices by assignment, so repeated rows overwrite instead of adding":
            _accum_assign_rows,
        "normalisation: sums without dividing by the total token count": _accum_sum,
        "off_by_one: drops the last micro-batch": _accum_skip_last,
        "mutation: accumulates into the first micro-batch's arrays": _accum_in_place,
        "returns_none: computes the result but does not return it": _accum_none,
        "unstable: accumulates in float16": _accum_float32,
        "ignored_argument: uses the mean token count instead of each micro-batch's": _accum_mean_of_counts,
    },
    section="12 · Gradient accumulation",
)


# ------------------------------------------------------------------ 4. tensor-parallel MLP
def _gelu(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def tensor_parallel_mlp(X, W1, b1, W2, n):
    """Reference: each device's partial output of a Megatron MLP split n ways (b2 is added after the all-reduce)."""
    cols = np.array_split(np.arange(W1.shape[1]), n)
    return np.stack([_gelu(X @ W1[:, c] + b1[c]) @ W2[c, :] for c in cols])


def _tp_case(rng: np.random.Generator, n: int, even: bool = True) -> tuple:
    b, d = int(rng.integers(1, 6)), int(rng.integers(2, 7))
    hidden = n * int(rng.integers(1, 4)) if even else n * int(rng.integers(1, 4)) + int(rng.integers(1, n)) if n > 1 \
        else int(rng.integers(1, 9))
    scale = float(rng.choice([0.1, 1.0, 3.0]))
    return (rng.normal(size=(b, d)) * scale, rng.normal(size=(d, hidden)), rng.normal(size=hidden),
            rng.normal(size=(hidden, d)), n)


def _tp_cases() -> list:
    rng = np.random.default_rng(7)
    return [{"args": _tp_case(rng, 2), "label": "(2 devices)"}, {"args": _tp_case(rng, 4), "label": "(4 devices)"},
            {"args": _tp_case(rng, 1), "label": "(1 device)"},
            {"args": _tp_case(rng, 3, even=False), "label": "(hidden width not divisible by 3)"}]


def _tp_random(rng: np.random.Generator) -> list:
    out = []
    for _ in range(4):
        n = int(rng.integers(1, 6))
        out.append({"args": _tp_case(rng, n, even=bool(rng.integers(0, 2)))})
    return out


def _tp_rows_first(X, W1, b1, W2, n):
    rows = np.array_split(np.arange(W1.shape[0]), n)               # splits W1's input rows
    return np.stack([_gelu(X[:, r] @ W1[r, :] + b1 / n) @ W2 for r in rows])


def _tp_gelu_after_sum(X, W1, b1, W2, n):
    cols = np.array_split(np.arange(W1.shape[1]), n)
    h = X @ W1 + b1
    return np.stack([h[:, c] @ W2[c, :] for c in cols]) + 0 * _gelu(h).sum()   # no GELU on the shards


def _tp_bias_every_shard(X, W1, b1, W2, n):
    cols = np.array_split(np.arange(W1.shape[1]), n)
    return np.stack([_gelu(X @ W1[:, c] + b1.sum() / len(b1)) @ W2[c, :] for c in cols])


def _tp_drop_remainder(X, W1, b1, W2, n):
    k = W1.shape[1] // n                                           # loses the last hidden units
    return np.stack([_gelu(X @ W1[:, j * k:(j + 1) * k] + b1[j * k:(j + 1) * k]) @ W2[j * k:(j + 1) * k, :]
                     for j in range(n)])


def _tp_full_on_each(X, W1, b1, W2, n):
    full = _gelu(X @ W1 + b1) @ W2
    return np.stack([full / n] * n)                               # sums right, but nothing is split


def _tp_ignores_n(X, W1, b1, W2, n):
    return tensor_parallel_mlp(X, W1, b1, W2, 2)[:n] if n <= 2 else tensor_parallel_mlp(X, W1, b1, W2, 2)


def _tp_strided(X, W1, b1, W2, n):
    cols = [np.arange(W1.shape[1])[j::n] for j in range(n)]        # round-robin columns
    return np.stack([_gelu(X @ W1[:, c] + b1[c]) @ W2[c, :] for c in cols])


def _tp_relu(X, W1, b1, W2, n):
    cols = np.array_split(np.arange(W1.shape[1]), n)
    return np.stack([np.maximum(X @ W1[:, c] + b1[c], 0) @ W2[c, :] for c in cols])


function_exercise(
    "12.tensor_parallel_mlp",
    title="Megatron MLP: column-parallel W1, row-parallel W2",
    reference=tensor_parallel_mlp,
    cases=_tp_cases,
    random_cases=_tp_random,
    rtol=1e-6, atol=1e-8,
    hints=[
        "Return an array of shape (n, batch, d): device k's partial output. Summing over axis 0 (the "
        "all-reduce) must give gelu(X @ W1 + b1) @ W2; b2 is added once, after the all-reduce.",
        "Split the hidden units into n contiguous blocks with np.array_split(np.arange(hidden), n) (it "
        "handles a width that n does not divide). Device k owns W1[:, block], b1[block] and W2[block, :]; "
        "GELU is element-wise, so it runs on each block without communication. Use the tanh GELU.",
        "cols = np.array_split(np.arange(W1.shape[1]), n); return np.stack([gelu(X @ W1[:, c] + b1[c]) @ "
        "W2[c, :] for c in cols])",
    ],
    wrong={
        "wrong_axis: splits W1 by rows (its input dimension) instead of columns": _tp_rows_first,
        "other: GELU skipped on the shards (a non-linearity cannot follow the all-reduce)": _tp_gelu_after_sum,
        "other: adds a shared bias instead of each shard's slice of b1": _tp_bias_every_shard,
        "boundary: hidden // n per shard drops the remainder": _tp_drop_remainder,
        "fits_visible: every device computes the whole MLP and returns a 1/n share": _tp_full_on_each,
        "ignored_argument: always splits over 2 devices": _tp_ignores_n,
        "other: round-robin (strided) columns instead of contiguous blocks": _tp_strided,
        "other: ReLU instead of GELU": _tp_relu,
    },
    section="12 · Tensor parallelism",
)
