"""Training memory, FLOPs and scaling arithmetic: one accounting for notebooks 10, 11 and 12.

Introduced in 12_training_large_models; notebook 10 (mixed precision) uses ``training_memory`` and
notebook 11 (distributed training) uses ``zero_memory``, so all three count bytes the same way.

**The accounting, stated once** (the ZeRO paper's, Rajbhandari et al. 2020), bytes per parameter:

==============  ======================  ==========================================
part            float32 training        mixed precision (float16 or bfloat16)
==============  ======================  ==========================================
weights         4 (the fp32 weights)    2 (the 16-bit working copy)
gradients       4                       2
optimizer       4 × slots               4 (fp32 master weights) + 4 × slots
==============  ======================  ==========================================

Slots: SGD 0, momentum 1, Adam/AdamW 2 (m and v). The fp32 master weights count as *optimizer
state*: only the optimizer reads them, and ZeRO-1 shards them with the moments. Mixed precision
with Adam is 2 + 2 + 12 = 16 bytes per parameter; float32 with Adam is 4 + 4 + 8 = 16 too — mixed
precision saves activation memory and time, not model-state memory.

Everything here is plain arithmetic on Python numbers (no TensorFlow).
"""
from __future__ import annotations

import math
import os
from typing import Any, Sequence

import numpy as np

__all__ = ["PRECISIONS", "OPTIMIZER_SLOTS", "bytes_per_param", "training_memory", "zero_memory",
           "transformer_params", "activation_bytes", "training_flops", "flops_per_token", "cpu_peak_flops",
           "mfu", "chinchilla", "fit_scaling_law", "GB", "SWEEP", "sweep_point", "load_sweep", "SWEEP_SHA256"]

GB = 1e9  #: bytes in a GB as GPU vendors count them (an "80 GB" H100 holds 80e9 bytes)

PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
#: optimizer state slots per parameter, each float32
OPTIMIZER_SLOTS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}


def _check_choice(name: str, value: Any, options: Sequence[str]) -> None:
    if value not in options:
        raise ValueError(f"{name} must be one of {list(options)}, got {value!r}.")


def _check_count(name: str, value: Any, minimum: float = 0, integer: bool = False) -> None:
    ok_types = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, ok_types) or not value >= minimum or \
            (not integer and not math.isfinite(float(value))):
        kind = "an int" if integer else "a number"
        raise ValueError(f"{name} must be {kind} >= {minimum}, got {value!r}.")


def bytes_per_param(precision: str = "mixed_bfloat16", optimizer: str = "adam") -> dict[str, int]:
    """Bytes per parameter of model state: weights, gradients, optimizer (incl. fp32 master), total."""
    _check_choice("precision", precision, PRECISIONS)
    _check_choice("optimizer", optimizer, list(OPTIMIZER_SLOTS))
    half = precision != "float32"
    out = {"weights": 2 if half else 4, "gradients": 2 if half else 4,
           "optimizer": (4 if half else 0) + 4 * OPTIMIZER_SLOTS[optimizer]}
    out["total"] = sum(out.values())
    return out


def training_memory(n_params: int, n_activations: int, precision: str = "float32",
                    optimizer: str = "adam") -> dict[str, int]:
    """Bytes to train on one device: weights, gradients, optimizer state, activations and total.

    Activations are stored in the compute dtype: 4 bytes in float32, 2 in mixed precision.
    """
    for name, v in (("n_params", n_params), ("n_activations", n_activations)):
        _check_count(name, v, integer=True)
    per = bytes_per_param(precision, optimizer)
    out = {k: int(n_params) * per[k] for k in ("weights", "gradients", "optimizer")}
    out["activations"] = int(n_activations) * (4 if precision == "float32" else 2)
    out["total"] = sum(out.values())
    return out


def zero_memory(n_params: float, n_devices: int, stage: int, precision: str = "mixed_bfloat16",
                optimizer: str = "adam") -> dict[str, float]:
    """Model-state bytes per device under data parallelism with ZeRO stage 0–3.

    Stage 0: every device holds everything. Stage 1 shards the optimizer state (fp32 master weights
    and moments) over the ``n_devices``, stage 2 also the gradients, stage 3 also the weights.
    """
    _check_count("n_params", n_params)
    _check_count("n_devices", n_devices, 1, integer=True)
    if isinstance(stage, bool) or stage not in (0, 1, 2, 3):
        raise ValueError(f"stage must be 0, 1, 2 or 3 (0 = plain data parallel), got {stage!r}.")
    per = bytes_per_param(precision, optimizer)
    sharded = {"optimizer": stage >= 1, "gradients": stage >= 2, "weights": stage >= 3}
    out = {k: float(n_params) * per[k] / (n_devices if sharded[k] else 1) for k in ("weights", "gradients", "optimizer")}
    out["total"] = sum(out.values())
    return out


def transformer_params(vocab_size: int, d_model: int, n_layers: int, context: int = 0, mlp_ratio: float = 4,
                       bias: bool = True, tied: bool = True, norm: str = "layer") -> int:
    """Parameters of a pre-norm decoder-only transformer (GPT-2 layout): ≈ 12·L·d² + V·d.

    Per layer: attention 4·d² (+ 4·d biases), MLP 2·r·d² (+ r·d + d biases), two norms.
    ``context`` > 0 adds learned positions (context·d); ``tied=False`` adds an output matrix V·d
    (+ V bias); ``norm`` is ``"layer"`` (scale and shift) or ``"rms"`` (scale only).
    """
    for name, v in (("vocab_size", vocab_size), ("d_model", d_model), ("n_layers", n_layers),
                    ("context", context)):
        _check_count(name, v, 0, integer=True)
    _check_choice("norm", norm, ("layer", "rms"))
    d, hidden = int(d_model), int(round(mlp_ratio * d_model))
    norm_p = (2 if norm == "layer" else 1) * d
    attn = 4 * d * d + (4 * d if bias else 0)
    mlp = 2 * d * hidden + ((hidden + d) if bias else 0)
    layer = attn + mlp + 2 * norm_p
    head = 0 if tied else vocab_size * d + (vocab_size if bias else 0)
    return int(vocab_size * d + context * d + n_layers * layer + norm_p + head)


def activation_bytes(batch: int, seq: int, d_model: int, n_heads: int, n_layers: int = 1,
                     bytes_per_value: int = 2, checkpoint: bool = False) -> float:
    """Activation bytes saved for the backward pass (Korthikanti et al. 2022, 16-bit, no dropout masks).

    Per layer s·b·d·(34 + 5·a·s/d) bytes with 2-byte values: the 34 counts the linear layers' inputs,
    the 5·a·s/d the attention scores and softmax (quadratic in s). With ``checkpoint=True`` only
    each layer's input (2·s·b·d) is kept, plus one layer's full activations during recomputation.
    """
    for name, v in (("batch", batch), ("seq", seq), ("d_model", d_model), ("n_heads", n_heads),
                    ("n_layers", n_layers)):
        _check_count(name, v, 1, integer=True)
    if bytes_per_value not in (2, 4):
        raise ValueError(f"bytes_per_value must be 2 (16-bit) or 4 (float32), got {bytes_per_value!r}.")
    s, b, d, a = seq, batch, d_model, n_heads
    scale = bytes_per_value / 2
    per_layer = s * b * d * (34 + 5 * a * s / d) * scale
    if not checkpoint:
        return float(n_layers * per_layer)
    return float(n_layers * 2 * s * b * d * scale + per_layer)


def training_flops(n_params: float, n_tokens: float) -> float:
    """FLOPs to train ``n_params`` on ``n_tokens``: 6·N·D (2·N·D forward, 4·N·D backward)."""
    _check_count("n_params", n_params)
    _check_count("n_tokens", n_tokens)
    return 6.0 * float(n_params) * float(n_tokens)


def flops_per_token(n_params: float, n_layers: int = 0, context: int = 0, d_model: int = 0,
                    training: bool = True) -> float:
    """FLOPs per token (Kaplan et al. 2020): 2·N + 2·L·T·d forward; × 3 for training.

    ``n_params`` should exclude the embedding tables (a lookup is no matmul) but include an untied
    output layer; the second term is the attention scores and their weighted sum.
    """
    _check_count("n_params", n_params)
    for name, v in (("n_layers", n_layers), ("context", context), ("d_model", d_model)):
        _check_count(name, v, 0, integer=True)
    fwd = 2.0 * float(n_params) + 2.0 * n_layers * context * d_model
    return 3.0 * fwd if training else fwd


def cpu_peak_flops(cores: int | None = None) -> dict[str, Any]:
    """An *assumed* float32 peak of this CPU: cores × clock × FLOPs/cycle from its SIMD flags.

    FLOPs/cycle per core: 64 with AVX-512 (2 FMA units × 16 floats × 2), 32 with AVX2 + FMA,
    8 otherwise. Clock: the ``cpu MHz`` in /proc/cpuinfo (turbo not counted). A rough ceiling.
    """
    flags, mhz = "", 0.0
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags") and not flags:
                    flags = line
                elif line.startswith("cpu MHz") and not mhz:
                    mhz = float(line.split(":")[1])
    except OSError:
        pass
    words = set(flags.split())
    per_cycle = 64 if "avx512f" in words else 32 if {"avx2", "fma"} <= words else 8
    ghz = mhz / 1000 if mhz > 0 else 2.5
    n = cores if cores is not None else (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                         else os.cpu_count() or 1)
    _check_count("cores", n, 1, integer=True)
    simd = "AVX-512" if per_cycle == 64 else "AVX2+FMA" if per_cycle == 32 else "no FMA"
    return {"flops": float(n * ghz * 1e9 * per_cycle), "cores": n, "ghz": ghz, "flops_per_cycle": per_cycle,
            "simd": simd}


def mfu(n_params: float, tokens_per_step: float, step_time_s: float, peak_flops: float) -> float:
    """Model-FLOPs utilisation: 6·N·tokens / step time, as a fraction of ``peak_flops``."""
    _check_count("step_time_s", step_time_s)
    _check_count("peak_flops", peak_flops)
    if step_time_s <= 0 or peak_flops <= 0:
        raise ValueError("step_time_s and peak_flops must be > 0.")
    return training_flops(n_params, tokens_per_step) / step_time_s / float(peak_flops)


def chinchilla(compute_flops: float, tokens_per_param: float = 20.0) -> dict[str, float]:
    """Compute-optimal model size and tokens for a budget C = 6·N·D with D = r·N (Hoffmann et al. 2022).

    N = √(C / (6·r)), D = r·N.
    """
    _check_count("compute_flops", compute_flops)
    _check_count("tokens_per_param", tokens_per_param)
    if tokens_per_param <= 0:
        raise ValueError("tokens_per_param must be > 0; Chinchilla's is about 20.")
    n = math.sqrt(float(compute_flops) / (6.0 * tokens_per_param))
    return {"params": n, "tokens": tokens_per_param * n, "flops": float(compute_flops)}


def _fit_once(logn: np.ndarray, loss: np.ndarray, grid: int = 400) -> tuple[float, float, float, float]:
    best = (math.inf, 0.0, 0.0, 0.0)
    lo = float(loss.min())
    for c in np.linspace(0.0, lo * 0.999, grid):
        y = np.log(loss - c)
        slope, icpt = np.polyfit(logn, y, 1)
        pred = c + np.exp(icpt + slope * logn)
        sse = float(np.sum((pred - loss) ** 2))
        if sse < best[0]:
            best = (sse, float(np.exp(icpt)), float(-slope), float(c))
    return best


def fit_scaling_law(n_params: Sequence[float], loss: Sequence[float], n_boot: int = 200,
                    seed: int = 0) -> dict[str, Any]:
    """Fit L(N) = a·N^(−b) + c by least squares, with bootstrap percentiles (5–95 %) of b and c.

    For each c on a grid below min(L), log(L − c) is linear in log N; the c with the smallest squared
    error in L wins. The bootstrap resamples the (N, L) points with replacement.
    """
    n = np.asarray(n_params, dtype=np.float64)
    y = np.asarray(loss, dtype=np.float64)
    if n.ndim != 1 or n.shape != y.shape or len(n) < 3:
        raise ValueError("n_params and loss must be 1-D of the same length, with at least 3 points.")
    if np.any(n <= 0) or np.any(y <= 0) or not np.all(np.isfinite(y)):
        raise ValueError("n_params and loss must be positive and finite.")
    _check_count("n_boot", n_boot, 0, integer=True)
    sse, a, b, c = _fit_once(np.log(n), y)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, len(n), len(n))
        if len(np.unique(n[idx])) < 3:
            continue
        _, _, bb, cc = _fit_once(np.log(n[idx]), y[idx], grid=100)
        boots.append((bb, cc))
    arr = np.array(boots) if boots else np.full((1, 2), np.nan)
    return {"a": a, "b": b, "c": c, "sse": sse,
            "b_range": tuple(float(v) for v in np.nanpercentile(arr[:, 0], [5, 95])),
            "c_range": tuple(float(v) for v in np.nanpercentile(arr[:, 1], [5, 95])),
            "n_boot": len(boots)}


# ------------------------------------------------------------------ the scaling sweep (notebook 12)
#: the recipe of datasets/scaling_sweep.csv: character-level pydoc corpus, context 64, batch 32, AdamW
SWEEP = {"context": 64, "batch": 32, "lr": 3e-3, "tokens": 262_144, "short_tokens": 32_768, "seed": 0,
         "n_heads": 4, "sizes": [(8, 1), (16, 1), (16, 2), (32, 2), (48, 2)]}


def sweep_point(d_model: int, n_layers: int, tokens: int | None = None, seed: int | None = None) -> dict[str, Any]:
    """Train one tiny GPT of the scaling sweep on ``tokens`` training tokens; return its row of the table.

    Used by ``scripts/make_scaling_sweep.py`` (the shipped table) and notebook 12 (a few live points),
    so both follow one recipe (``SWEEP``): the first 90 % of the pydoc corpus, in order, one pass;
    validation loss on the first 32 768 tokens of the last 10 %.
    """
    import time as _time

    from . import data, llm
    _check_count("d_model", d_model, 1, integer=True)
    _check_count("n_layers", n_layers, 1, integer=True)
    tokens = SWEEP["tokens"] if tokens is None else tokens
    seed = SWEEP["seed"] if seed is None else seed
    _check_count("tokens", tokens, SWEEP["context"] * SWEEP["batch"], integer=True)
    text = data.load("pydoc_corpus").text
    vocab = sorted(set(text))
    lookup = {c: i for i, c in enumerate(vocab)}
    ids = np.array([lookup[c] for c in text], dtype=np.int32)
    split = int(0.9 * len(ids))
    T, B = SWEEP["context"], SWEEP["batch"]
    steps = tokens // (T * B)
    X, Y = llm.lm_arrays(ids[:split][: steps * T * B + 1], T)
    Xv, Yv = llm.lm_arrays(ids[split:split + 32_768 + 1], T)
    config = llm.GPTConfig(vocab_size=len(vocab), context=T, d_model=d_model, n_layers=n_layers,
                           n_heads=min(SWEEP["n_heads"], d_model // 2))
    model = llm.build_gpt(config, seed=seed)
    llm.compile_lm(model, lr=SWEEP["lr"], jit_compile=False)
    t0 = _time.perf_counter()
    model.fit(X[: steps * B], Y[: steps * B], batch_size=B, epochs=1, shuffle=False, verbose=0)
    seconds = _time.perf_counter() - t0
    counts = llm.count_params(config)
    val = llm.evaluate_loss(model, Xv, Yv, batch_size=128)
    return {"d_model": d_model, "n_layers": n_layers, "n_heads": config.n_heads, "params": counts["total"],
            "non_embedding_params": counts["layers"], "tokens": steps * T * B, "val_loss": round(float(val), 5),
            "train_seconds": round(seconds, 2), "seed": seed}


#: sha256 of datasets/scaling_sweep.csv as shipped (re-generating it changes train_seconds, hence the hash)
SWEEP_SHA256 = "058d7eeec3c118b6fcbed36ea54f59ff93b14256effe4186d361b23efd7f35dd"


def load_sweep() -> Any:
    """The shipped scaling sweep (datasets/scaling_sweep.csv) as a DataFrame, sha256-verified (notebook 12)."""
    import pandas as pd

    from . import data
    return pd.read_csv(data.verify(data.DATASETS_DIR / "scaling_sweep.csv", SWEEP_SHA256))

