"""Exercises of 10_mixed_precision."""
import numpy as np  # noqa: F401  (kept light: NumPy only at module level)

from ..check import function_exercise
from ..precision import layer_policies, training_memory, update_loss_scale

# ------------------------------------------------------------------ 1. dynamic loss scaling
_SCALE_CASES = [
    {"args": (1024.0, 0, False, 4), "label": "(overflow on a fresh counter)"},
    {"args": (1024.0, 3, False, 4), "label": "(overflow with 3 good steps counted)"},
    {"args": (1024.0, 0, True, 4), "label": "(first good step)"},
    {"args": (1024.0, 2, True, 4), "label": "(third good step of 4)"},
    {"args": (1024.0, 3, True, 4), "label": "(fourth good step of 4: time to grow)"},
    {"args": (2.0 ** 15, 1999, True, 2000), "label": "(Keras default interval, growth step)"},
    {"args": (8.0, 0, True, 1), "label": "(interval 1: grow every good step)"},
    {"args": (256.0, 5, False, 10, 4.0), "label": "(factor 4, overflow)"},
    {"args": (256.0, 9, True, 10, 4.0), "label": "(factor 4, growth)"},
]


def _no_reset_on_overflow(scale, good_steps, grads_finite, growth_interval, factor=2.0):
    if not grads_finite:
        return scale / factor, good_steps, False            # forgets to reset the counter
    good_steps += 1
    if good_steps >= growth_interval:
        return scale * factor, 0, True
    return scale, good_steps, True


def _grow_one_step_late(scale, good_steps, grads_finite, growth_interval, factor=2.0):
    if not grads_finite:
        return scale / factor, 0, False
    good_steps += 1
    if good_steps > growth_interval:                        # off by one
        return scale * factor, 0, True
    return scale, good_steps, True


def _apply_on_overflow(scale, good_steps, grads_finite, growth_interval, factor=2.0):
    if not grads_finite:
        return scale / factor, 0, True                      # applies inf/NaN gradients
    good_steps += 1
    if good_steps >= growth_interval:
        return scale * factor, 0, True
    return scale, good_steps, True


def _backwards(scale, good_steps, grads_finite, growth_interval, factor=2.0):
    if not grads_finite:
        return scale * factor, 0, False                     # grows on overflow, shrinks when safe
    good_steps += 1
    if good_steps >= growth_interval:
        return scale / factor, 0, True
    return scale, good_steps, True


function_exercise(
    "10.dynamic_loss_scale",
    title="dynamic loss scaling: back off on overflow, grow when safe",
    reference=update_loss_scale,
    cases=_SCALE_CASES,
    hints=[
        "Handle the overflow case first: the scale is too big, so make it smaller, and this step's "
        "gradients are garbage — don't apply them. Every change of scale restarts the count.",
        "For finite gradients, add one to good_steps *before* comparing with growth_interval: after "
        "growth_interval good steps in a row (counting this one) the scale grows and the counter restarts.",
        "if not grads_finite: return scale / factor, 0, False; then good_steps += 1; "
        "if good_steps >= growth_interval: return scale * factor, 0, True; else return scale, good_steps, True",
    ],
    wrong=[_no_reset_on_overflow, _grow_one_step_late, _apply_on_overflow, _backwards],
    section="10 · Loss scaling",
)

# ------------------------------------------------------------------ 2. dtype per layer
_POLICY_CASES = [
    {"args": (["conv2d", "relu", "dense", "softmax"], "gpu_fp16"), "label": "(V100)"},
    {"args": (["embedding", "dense", "softmax", "dense", "sigmoid"], "gpu_bf16"), "label": "(H100, a softmax inside)"},
    {"args": (["conv2d", "relu", "dense"], "tpu"), "label": "(TPU, the last layer is a dense layer)"},
    {"args": (["dense", "relu", "dense", "softmax"], "cpu_bf16"), "label": "(CPU with avx512_bf16)"},
    {"args": (["dense", "relu", "dense", "softmax"], "cpu"), "label": "(CPU without bfloat16 units)"},
    {"args": (["conv2d", "log_softmax", "dense"], "gpu"), "label": "(an old GPU)"},
]


def _same_everywhere(kinds, hardware):
    return ["float32" if k in ("softmax", "log_softmax", "sigmoid") or i == len(kinds) - 1 else "mixed_float16"
            for i, k in enumerate(kinds)]                   # ignores the hardware


def _forgets_last_layer(kinds, hardware):
    mixed = {"gpu_bf16": "mixed_bfloat16", "gpu_fp16": "mixed_float16", "gpu": "float32", "tpu": "mixed_bfloat16",
             "cpu_bf16": "mixed_bfloat16", "cpu": "float32"}[hardware]
    return ["float32" if k in ("softmax", "log_softmax", "sigmoid") else mixed for k in kinds]


def _pure_half(kinds, hardware):
    half = {"gpu_bf16": "bfloat16", "gpu_fp16": "float16", "gpu": "float32", "tpu": "bfloat16",
            "cpu_bf16": "bfloat16", "cpu": "float32"}[hardware]  # no float32 master weights
    return ["float32" if k in ("softmax", "log_softmax", "sigmoid") or i == len(kinds) - 1 else half
            for i, k in enumerate(kinds)]


def _bf16_on_every_gpu(kinds, hardware):
    mixed = {"gpu_bf16": "mixed_bfloat16", "gpu_fp16": "mixed_bfloat16", "gpu": "mixed_float16", "tpu": "mixed_bfloat16",
             "cpu_bf16": "mixed_bfloat16", "cpu": "mixed_bfloat16"}[hardware]
    return ["float32" if k in ("softmax", "log_softmax", "sigmoid") or i == len(kinds) - 1 else mixed
            for i, k in enumerate(kinds)]


function_exercise(
    "10.layer_policies",
    title="pick the dtype policy of every layer",
    reference=layer_policies,
    cases=_POLICY_CASES,
    hints=[
        "Two decisions: which mixed policy the hardware wants (a dict from hardware kind to policy name), "
        "and which layers must be 'float32' whatever the hardware.",
        "Volta/Turing GPUs (gpu_fp16) have float16 tensor cores only → 'mixed_float16'; Ampere+, TPUs and "
        "bfloat16 CPUs → 'mixed_bfloat16'; 'cpu' and old 'gpu' → 'float32'. Use *mixed* policies, never "
        "plain 'float16': the variables must stay float32.",
        "return ['float32' if k in ('softmax', 'log_softmax', 'sigmoid') or i == len(kinds) - 1 else mixed "
        "for i, k in enumerate(kinds)]",
    ],
    wrong=[_same_everywhere, _forgets_last_layer, _pure_half, _bf16_on_every_gpu],
    section="10 · Keras policies",
)

# ------------------------------------------------------------------ 3. memory saved
_MEMORY_CASES = [
    (1000, 5000, "float32", "adam"),
    (1000, 5000, "mixed_float16", "adam"),
    (7_000_000, 100_000_000, "mixed_bfloat16", "sgd"),
    (123, 0, "mixed_float16", "momentum"),
    (10, 20, "float32", "sgd"),
    (250_000, 1_000_000, "mixed_bfloat16", "adam"),
]


def _no_master_copy(n_params, n_activations, precision="float32", optimizer="adam"):
    half = precision != "float32"
    slots = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer]
    out = {"weights": n_params * (2 if half else 4), "gradients": n_params * (2 if half else 4),
           "optimizer": n_params * 4 * slots, "activations": n_activations * (2 if half else 4)}
    out["total"] = sum(out.values())
    return out


def _half_optimizer_state(n_params, n_activations, precision="float32", optimizer="adam"):
    half = precision != "float32"
    slots = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer]
    out = {"weights": n_params * (6 if half else 4), "gradients": n_params * (2 if half else 4),
           "optimizer": n_params * (2 if half else 4) * slots, "activations": n_activations * (2 if half else 4)}
    out["total"] = sum(out.values())
    return out


def _activations_not_halved(n_params, n_activations, precision="float32", optimizer="adam"):
    half = precision != "float32"
    slots = {"sgd": 0, "momentum": 1, "adam": 2}[optimizer]
    out = {"weights": n_params * (6 if half else 4), "gradients": n_params * (2 if half else 4),
           "optimizer": n_params * 4 * slots, "activations": n_activations * 4}
    out["total"] = sum(out.values())
    return out


def _adam_one_slot(n_params, n_activations, precision="float32", optimizer="adam"):
    half = precision != "float32"
    slots = {"sgd": 0, "momentum": 1, "adam": 1}[optimizer]
    out = {"weights": n_params * (6 if half else 4), "gradients": n_params * (2 if half else 4),
           "optimizer": n_params * 4 * slots, "activations": n_activations * (2 if half else 4)}
    out["total"] = sum(out.values())
    return out


function_exercise(
    "10.training_memory",
    title="bytes needed to train, in float32 and in mixed precision",
    reference=training_memory,
    cases=_MEMORY_CASES,
    hints=[
        "Go part by part, bytes per parameter: weights, gradients, optimizer slots; then bytes per "
        "activation. Only the 16-bit parts shrink.",
        "Mixed precision *adds* a 2-byte copy of the weights to the 4-byte float32 master weights (6 bytes "
        "in all); gradients and activations are 2 bytes; Adam keeps 2 float32 slots (m and v), momentum 1, "
        "SGD none — 4 bytes each, in every precision.",
        "half = precision != 'float32'; weights = n_params * (6 if half else 4); gradients = n_params * "
        "(2 if half else 4); optimizer = n_params * 4 * slots; activations = n_activations * (2 if half else 4); "
        "total = the sum",
    ],
    wrong=[_no_master_copy, _half_optimizer_state, _activations_not_halved, _adam_one_slot],
    section="10 · Memory",
)
