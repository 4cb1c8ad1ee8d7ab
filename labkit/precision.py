"""Floating-point formats and mixed-precision helpers (introduced in 10_mixed_precision).

- ``FORMATS`` / ``format_info``: range, precision and machine epsilon of float32, float16,
  bfloat16 and the two float8 formats, computed from their bit layouts.
- ``round_to`` and ``bits``: what a number becomes when stored in a format, and its bits.
- ``update_loss_scale`` and ``DynamicLossScaler``: dynamic loss scaling, the rule that
  ``keras.optimizers.LossScaleOptimizer`` applies.
- ``hardware``, ``MIXED_POLICY`` and ``layer_policies``: which Keras dtype policy suits which
  accelerator and which layers must stay float32.
- ``peak_memory``, ``time_steps`` and ``policy``: the measurements behind "mixed precision saves
  memory and time" (the byte arithmetic is ``labkit.memory.training_memory``, shared with 11 and 12).

TensorFlow and Keras are imported inside the functions that need them.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

__all__ = ["FloatFormat", "FORMATS", "format_info", "numpy_dtype", "round_to", "bits", "update_loss_scale",
           "DynamicLossScaler", "HARDWARE", "MIXED_POLICY", "hardware", "layer_policies",
           "peak_memory", "time_steps", "policy"]


@dataclass(frozen=True)
class FloatFormat:
    """A binary floating-point format: 1 sign bit, ``exponent_bits``, ``mantissa_bits`` (stored)."""
    name: str
    exponent_bits: int
    mantissa_bits: int
    finite_only: bool = False  # float8_e4m3fn: no infinities, the top exponent holds numbers too

    @property
    def total_bits(self) -> int:
        """Bits per number: sign + exponent + mantissa."""
        return 1 + self.exponent_bits + self.mantissa_bits

    @property
    def bias(self) -> int:
        """The exponent bias: stored exponent − bias = true exponent."""
        return 2 ** (self.exponent_bits - 1) - 1

    @property
    def eps(self) -> float:
        """Machine epsilon: the gap between 1 and the next representable number."""
        return 2.0 ** -self.mantissa_bits

    @property
    def min_normal(self) -> float:
        """The smallest positive number with full precision."""
        return 2.0 ** (1 - self.bias)

    @property
    def min_subnormal(self) -> float:
        """The smallest positive number at all (below it, values round to zero)."""
        return 2.0 ** (1 - self.bias - self.mantissa_bits)

    @property
    def max(self) -> float:
        """The largest finite number (above it: inf, or NaN for finite-only formats)."""
        if self.finite_only:  # top exponent is usable; only mantissa all-ones there is NaN
            return (2.0 - 2.0 ** (1 - self.mantissa_bits)) * 2.0 ** (self.bias + 1)
        return (2.0 - 2.0 ** -self.mantissa_bits) * 2.0 ** self.bias

    @property
    def decimal_digits(self) -> float:
        """Roughly how many significant decimal digits the format keeps."""
        return (self.mantissa_bits + 1) * math.log10(2)


#: the formats of the course, by NumPy/ml_dtypes name
FORMATS: dict[str, FloatFormat] = {
    "float32": FloatFormat("float32", 8, 23),
    "bfloat16": FloatFormat("bfloat16", 8, 7),
    "float16": FloatFormat("float16", 5, 10),
    "float8_e5m2": FloatFormat("float8_e5m2", 5, 2),
    "float8_e4m3fn": FloatFormat("float8_e4m3fn", 4, 3, finite_only=True),
}


def _format(name: str) -> FloatFormat:
    if not isinstance(name, str):
        raise TypeError(f"format must be a name such as 'bfloat16', got {type(name).__name__}.")
    try:
        return FORMATS[name]
    except KeyError:
        raise ValueError(f"Unknown format {name!r}; use one of {list(FORMATS)}.") from None


def format_info(name: str) -> dict[str, Any]:
    """Bits, epsilon, smallest and largest numbers of a format, as a dict (one table row)."""
    f = _format(name)
    return {"format": f.name, "bits": f.total_bits, "exponent_bits": f.exponent_bits,
            "mantissa_bits": f.mantissa_bits, "eps": f.eps, "min_subnormal": f.min_subnormal,
            "min_normal": f.min_normal, "max": f.max, "decimal_digits": round(f.decimal_digits, 1)}


def numpy_dtype(name: str) -> np.dtype:
    """The NumPy dtype of a format (bfloat16 and float8 come from ``ml_dtypes``, shipped with TF)."""
    _format(name)
    if name in ("float32", "float16"):
        return np.dtype(name)
    import ml_dtypes
    return np.dtype(getattr(ml_dtypes, name))


def round_to(x: Any, name: str) -> np.ndarray:
    """``x`` as a float32 tensor would hold it, cast to format ``name``, read back as float64."""
    dt = numpy_dtype(name)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.asarray(x, dtype=np.float64).astype(np.float32).astype(dt).astype(np.float64)


_UINT = {8: np.uint8, 16: np.uint16, 32: np.uint32}


def bits(x: float, name: str) -> tuple[str, str, str]:
    """The (sign, exponent, mantissa) bit strings of ``x`` stored in format ``name``."""
    if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, float, np.number)):
        raise TypeError(f"bits() takes one number, got {type(x).__name__}; loop over arrays yourself.")
    f = _format(name)
    with np.errstate(over="ignore", invalid="ignore"):
        stored = np.asarray(np.float64(x)).astype(np.float32).astype(numpy_dtype(name))
    u = int(stored.reshape(1).view(_UINT[f.total_bits])[0])
    s = format(u, f"0{f.total_bits}b")
    return s[0], s[1:1 + f.exponent_bits], s[1 + f.exponent_bits:]


# ------------------------------------------------------------------ loss scaling
def update_loss_scale(scale: float, good_steps: int, grads_finite: bool, growth_interval: int,
                      factor: float = 2.0) -> tuple[float, int, bool]:
    """One step of dynamic loss scaling → ``(new_scale, new_good_steps, apply_this_step)``.

    Non-finite gradients: divide the scale by ``factor``, reset the counter, skip the step.
    Finite: count the step; after ``growth_interval`` finite steps in a row multiply the scale
    by ``factor`` and reset the counter. The rule of ``keras.optimizers.LossScaleOptimizer``.
    """
    if not grads_finite:
        return scale / factor, 0, False
    good_steps += 1
    if good_steps >= growth_interval:
        return scale * factor, 0, True
    return scale, good_steps, True


class DynamicLossScaler:
    """Dynamic loss scaling for a hand-written training loop (notebook 10).

    ``loss * scaler.scale`` before the backward pass; ``scaler.unscale(grads)`` after it;
    ``scaler.update(finite)`` says whether to apply the step and adapts the scale.
    """

    def __init__(self, initial_scale: float = 2.0 ** 15, growth_interval: int = 2000, factor: float = 2.0):
        if not initial_scale > 0:
            raise ValueError(f"initial_scale must be > 0, got {initial_scale!r}; 2**15 is the usual start.")
        if isinstance(growth_interval, bool) or not isinstance(growth_interval, int) or growth_interval < 1:
            raise ValueError(f"growth_interval must be a positive int, got {growth_interval!r}.")
        if not factor > 1:
            raise ValueError(f"factor must be > 1, got {factor!r}; 2.0 is the usual choice.")
        self.scale = float(initial_scale)
        self.growth_interval = growth_interval
        self.factor = float(factor)
        self.good_steps = 0
        self.history: list[float] = []
        self.skipped = 0

    def unscale(self, grads: Sequence[Any]) -> list[Any]:
        """Divide every gradient by the current scale (``None`` stays ``None``)."""
        return [None if g is None else g / self.scale for g in grads]

    def update(self, grads_finite: bool) -> bool:
        """Record one step; returns whether its gradients may be applied."""
        self.history.append(self.scale)
        self.scale, self.good_steps, apply = update_loss_scale(
            self.scale, self.good_steps, bool(grads_finite), self.growth_interval, self.factor)
        self.skipped += not apply
        return apply

    def __repr__(self) -> str:
        return f"DynamicLossScaler(scale={self.scale:g}, good_steps={self.good_steps}, skipped={self.skipped})"


# ------------------------------------------------------------------ policies
#: the accelerator kinds that decide the policy, and why
HARDWARE = {
    "gpu_bf16": "NVIDIA Ampere or newer (A100, H100, RTX 30xx+): float16 and bfloat16 tensor cores",
    "gpu_fp16": "NVIDIA Volta/Turing (V100, T4, RTX 20xx): float16 tensor cores, no bfloat16 ones",
    "gpu": "an older GPU without tensor cores: half precision does not pay",
    "tpu": "a TPU: bfloat16 matrix units",
    "cpu_bf16": "a CPU with avx512_bf16 or AMX: bfloat16 dot products in hardware",
    "cpu": "a CPU without bfloat16 units: half precision is emulated and slower",
}

#: the Keras mixed policy to use on each kind of hardware
MIXED_POLICY = {"gpu_bf16": "mixed_bfloat16", "gpu_fp16": "mixed_float16", "gpu": "float32",
                "tpu": "mixed_bfloat16", "cpu_bf16": "mixed_bfloat16", "cpu": "float32"}

#: layers whose outputs feed exp/log in the loss: compute them in float32
SENSITIVE_LAYERS = ("softmax", "log_softmax", "sigmoid")


def hardware() -> str:
    """The kind of accelerator this process would train on (a key of ``HARDWARE``)."""
    import tensorflow as tf
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        cc = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability") or (0, 0)
        return "gpu_bf16" if tuple(cc) >= (8, 0) else "gpu_fp16" if tuple(cc) >= (7, 0) else "gpu"
    from .doctor import bf16_fast
    return "cpu_bf16" if bf16_fast() else "cpu"


def layer_policies(kinds: Sequence[str], hardware: str) -> list[str]:
    """The dtype policy for each layer: the hardware's mixed policy, float32 for the last and softmax-like layers."""
    if hardware not in MIXED_POLICY:
        raise ValueError(f"Unknown hardware {hardware!r}; use one of {list(MIXED_POLICY)} (lk.precision.hardware()).")
    if isinstance(kinds, str):
        raise TypeError("kinds must be a list of layer kinds such as ['dense', 'relu', 'softmax'], not one string.")
    mixed = MIXED_POLICY[hardware]
    n = len(kinds)
    return ["float32" if (k.lower() in SENSITIVE_LAYERS or i == n - 1) else mixed for i, k in enumerate(kinds)]


@contextlib.contextmanager
def policy(name: str) -> Iterator[None]:
    """Set the global Keras dtype policy inside a ``with`` block and restore the previous one after it."""
    import keras
    before = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_dtype_policy(before)


# ------------------------------------------------------------------ memory and time
def _wait(out: Any) -> None:
    """Block until ``out`` (a tensor, or a list/tuple/dict of them) is computed: GPU work is asynchronous."""
    from .timing import sync
    sync(out)


def peak_memory(fn: Callable[[], Any], device: str | None = None) -> int:
    """Peak bytes TensorFlow's allocator held on ``device`` (default: first GPU, else CPU) while ``fn()`` ran."""
    import tensorflow as tf
    if device is None:
        device = "GPU:0" if tf.config.list_physical_devices("GPU") else "CPU:0"
    tf.config.experimental.reset_memory_stats(device)
    base = tf.config.experimental.get_memory_info(device)["current"]
    _wait(fn())  # wait for the work to finish
    return int(tf.config.experimental.get_memory_info(device)["peak"] - base)


def time_steps(steps: Mapping[str, Callable[[], Any]], repeats: int = 3,
               max_repeats: Mapping[str, int] | None = None) -> dict[str, float]:
    """Best time (s) of each zero-argument step function, measured in interleaved rounds.

    Interleaving (a, b, c, a, b, c, …) makes a busy machine slow every variant alike, so the
    ratios stay meaningful even when the absolute times do not. Call each step once before
    (to trace it). ``max_repeats`` caps the rounds of slow variants. The clock stops only after the
    returned tensor(s) are computed (``.numpy()``), so GPU timings are honest: return the step's output.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}.")
    if not steps:
        raise ValueError("time_steps() needs at least one step function.")
    from .timing import timed
    best = {k: math.inf for k in steps}
    caps = dict(max_repeats or {})
    for r in range(repeats):
        for k, fn in steps.items():
            if r >= caps.get(k, repeats):
                continue
            best[k] = min(best[k], timed(fn))   # the step's result must exist before the clock stops
    return best
