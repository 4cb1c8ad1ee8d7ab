"""Exercises of 10_mixed_precision."""
import numpy as np  # noqa: F401  (kept light: NumPy only at module level)

from ..memory import training_memory
from ..precision import layer_policies, update_loss_scale
from ..check import function_exercise

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


def _scale_random(rng):
    out = []
    for _ in range(8):
        interval = int(rng.choice([1, 2, 3, 10, 2000]))
        good = int(rng.integers(0, interval))
        out.append((float(2.0 ** int(rng.integers(-4, 25))), good, bool(rng.integers(0, 2)), interval,
                    float(rng.choice([1.5, 2.0, 4.0, 10.0]))))
    return out


def _ignores_factor(scale, good_steps, grads_finite, growth_interval, factor=2.0):
    return update_loss_scale(scale, good_steps, grads_finite, growth_interval, 2.0)   # always 2


def _grow_one_step_early(scale, good_steps, grads_finite, growth_interval, factor=2.0):
    if not grads_finite:
        return scale / factor, 0, False
    if good_steps + 2 >= growth_interval and growth_interval > 1:  # counts this step twice
        return scale * factor, 0, True
    good_steps += 1
    if good_steps >= growth_interval:
        return scale * factor, 0, True
    return scale, good_steps, True


def _scale_none(scale, good_steps, grads_finite, growth_interval, factor=2.0):
    update_loss_scale(scale, good_steps, grads_finite, growth_interval, factor)


def _scale_fits_visible(scale, good_steps, grads_finite, growth_interval, factor=2.0):
    if not grads_finite:
        return scale / factor, 0, False
    if good_steps + 1 in (4, 2000, 1, 10):                   # the intervals of the visible cases
        return scale * factor, 0, True
    return scale, good_steps + 1, True


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
    random_cases=_scale_random,
    wrong={
        "other: forgets to reset the counter on overflow": _no_reset_on_overflow,
        "off_by_one: grows one good step late": _grow_one_step_late,
        "off_by_one: grows one good step early": _grow_one_step_early,
        "boundary: applies the step whose gradients overflowed": _apply_on_overflow,
        "sign: grows on overflow and shrinks when safe": _backwards,
        "ignored_argument: always a factor of 2": _ignores_factor,
        "returns_none: forgets the return": _scale_none,
        "fits_visible: grows at the visible intervals, not at growth_interval": _scale_fits_visible,
    },
    section="10 · Loss scaling",
)

# ------------------------------------------------------------------ 2. dtype per layer
_POLICY_CASES = [
    {"args": (["conv2d", "relu", "dense", "softmax"], "gpu_fp16"), "label": "(V100)"},
    {"args": (["embedding", "dense", "softmax", "dense", "sigmoid"], "gpu_bf16"), "label": "(H100, a softmax inside)"},
    {"args": (["dense", "sigmoid", "dense", "relu", "dense"], "gpu_fp16"), "label": "(a sigmoid gate inside)"},
    {"args": (["Dense", "ReLU", "Softmax"], "tpu"), "label": "(capitalised kinds, as Keras class names)"},
    {"args": (["Dense", "Sigmoid", "Dense"], "gpu_bf16"), "label": "(a capitalised sigmoid inside the model)"},
    {"args": (["dense"], "gpu_bf16"), "label": "(one layer: it is the last one)"},
    {"args": (["conv2d", "relu", "dense"], "tpu"), "label": "(TPU, the last layer is a dense layer)"},
    {"args": (["dense", "relu", "dense", "softmax"], "cpu_bf16"), "label": "(CPU with avx512_bf16)"},
    {"args": (["dense", "relu", "dense", "softmax"], "cpu"), "label": "(CPU without bfloat16 units)"},
    {"args": (["conv2d", "log_softmax", "dense"], "gpu"), "label": "(an old GPU)"},
]


def _same_everywhere(kinds, hardware):
    return ["float32" if k.lower() in ("softmax", "log_softmax", "sigmoid") or i == len(kinds) - 1 else "mixed_float16"
            for i, k in enumerate(kinds)]                   # ignores the hardware


def _forgets_last_layer(kinds, hardware):
    mixed = {"gpu_bf16": "mixed_bfloat16", "gpu_fp16": "mixed_float16", "gpu": "float32", "tpu": "mixed_bfloat16",
             "cpu_bf16": "mixed_bfloat16", "cpu": "float32"}[hardware]
    return ["float32" if k.lower() in ("softmax", "log_softmax", "sigmoid") else mixed for k in kinds]


def _pure_half(kinds, hardware):
    half = {"gpu_bf16": "bfloat16", "gpu_fp16": "float16", "gpu": "float32", "tpu": "bfloat16",
            "cpu_bf16": "bfloat16", "cpu": "float32"}[hardware]  # no float32 master weights
    return ["float32" if k.lower() in ("softmax", "log_softmax", "sigmoid") or i == len(kinds) - 1 else half
            for i, k in enumerate(kinds)]


def _bf16_on_every_gpu(kinds, hardware):
    mixed = {"gpu_bf16": "mixed_bfloat16", "gpu_fp16": "mixed_bfloat16", "gpu": "mixed_float16", "tpu": "mixed_bfloat16",
             "cpu_bf16": "mixed_bfloat16", "cpu": "mixed_bfloat16"}[hardware]
    return ["float32" if k.lower() in ("softmax", "log_softmax", "sigmoid") or i == len(kinds) - 1 else mixed
            for i, k in enumerate(kinds)]


_KINDS = ["dense", "conv2d", "relu", "embedding", "layernorm", "softmax", "log_softmax", "sigmoid", "Dense",
          "Softmax", "Sigmoid"]


def _policy_random(rng):
    out = []
    for _ in range(8):
        n = int(rng.integers(1, 9))
        kinds = [str(k) for k in rng.choice(_KINDS, n)]
        out.append((kinds, str(rng.choice(["gpu_bf16", "gpu_fp16", "gpu", "tpu", "cpu_bf16", "cpu"]))))
    return out


_MIXED = {"gpu_bf16": "mixed_bfloat16", "gpu_fp16": "mixed_float16", "gpu": "float32", "tpu": "mixed_bfloat16",
          "cpu_bf16": "mixed_bfloat16", "cpu": "float32"}


def _softmax_only(kinds, hardware):
    return ["float32" if k.lower() == "softmax" or i == len(kinds) - 1 else _MIXED[hardware]
            for i, k in enumerate(kinds)]                   # forgets sigmoid and log_softmax


def _case_sensitive(kinds, hardware):
    return ["float32" if k in ("softmax", "log_softmax", "sigmoid") or i == len(kinds) - 1 else _MIXED[hardware]
            for i, k in enumerate(kinds)]                   # 'Softmax' slips through


def _first_not_last(kinds, hardware):
    return ["float32" if k.lower() in ("softmax", "log_softmax", "sigmoid") or i == 0 else _MIXED[hardware]
            for i, k in enumerate(kinds)]                   # keeps the first layer in float32


def _policies_none(kinds, hardware):
    layer_policies(kinds, hardware)


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
        "return ['float32' if k.lower() in ('softmax', 'log_softmax', 'sigmoid') or i == len(kinds) - 1 "
        "else mixed for i, k in enumerate(kinds)]",
    ],
    random_cases=_policy_random,
    wrong={
        "ignored_argument: the same policy on every hardware": _same_everywhere,
        "boundary: forgets that the last layer stays float32": _forgets_last_layer,
        "other: pure float16/bfloat16 policies, no float32 master weights": _pure_half,
        "other: bfloat16 on every GPU, also those without bfloat16 units": _bf16_on_every_gpu,
        "other: only softmax stays float32 (sigmoid and log_softmax forgotten)": _softmax_only,
        "boundary: compares kinds case-sensitively ('Softmax')": _case_sensitive,
        "off_by_one: keeps the first layer, not the last, in float32": _first_not_last,
        "returns_none: forgets the return": _policies_none,
    },
    section="10 · Keras policies",
)

# ------------------------------------------------------------------ 3. memory saved
_MEMORY_CASES = [
    (1000, 5000, "float32", "adam"),
    (1000, 5000, "mixed_float16", "adam"),
    (7_000_000, 100_000_000, "mixed_bfloat16", "sgd"),
    (123, 0, "mixed_float16", "momentum"),
    (10, 20, "float32", "sgd"),
    (250_000, 1_000_000, "mixed_bfloat16", "adamw"),
]


def _memory_random(rng):
    return [(int(rng.integers(0, 10 ** int(rng.integers(1, 10)))), int(rng.integers(0, 10 ** int(rng.integers(1, 11)))),
             str(rng.choice(["float32", "mixed_float16", "mixed_bfloat16"])),
             str(rng.choice(["sgd", "momentum", "adam", "adamw"]))) for _ in range(8)]


_SLOTS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}


def _mem(weights, grads, master, slot_bytes, act, slots=_SLOTS):
    def f(n_params, n_activations, precision="float32", optimizer="adam"):
        half = precision != "float32"
        out = {"weights": n_params * weights(half), "gradients": n_params * grads(half),
               "optimizer": n_params * (master(half) + slot_bytes(half) * slots[optimizer]),
               "activations": n_activations * act(half)}
        out["total"] = sum(out.values())
        return out
    return f


def _h(a, b):
    return lambda half: a if half else b


def _memory_none(n_params, n_activations, precision="float32", optimizer="adam"):
    training_memory(n_params, n_activations, precision, optimizer)


function_exercise(
    "10.training_memory",
    title="bytes needed to train, in float32 and in mixed precision",
    reference=training_memory,
    cases=_MEMORY_CASES,
    random_cases=_memory_random,
    hints=[
        "Go part by part, bytes per parameter: weights, gradients, optimizer state; then bytes per "
        "activation. The course uses one accounting in notebooks 10, 11 and 12 (lk.memory).",
        "Mixed precision keeps a 2-byte working copy of the weights and 2-byte gradients and activations. "
        "The float32 *master* weights (4 bytes) count as optimizer state, together with the float32 slots: "
        "Adam/AdamW 2 (m and v), momentum 1, SGD 0. float32 training has no separate master copy.",
        "half = precision != 'float32'; weights = n * (2 if half else 4); gradients = n * (2 if half else 4); "
        "optimizer = n * ((4 if half else 0) + 4 * slots); activations = n_activations * (2 if half else 4); "
        "total = the sum",
    ],
    wrong={
        "other: master weights counted under weights (6 bytes), not optimizer state":
            _mem(_h(6, 4), _h(2, 4), _h(0, 0), _h(4, 4), _h(2, 4)),
        "normalisation: no fp32 master copy in mixed precision": _mem(_h(2, 4), _h(2, 4), _h(0, 0), _h(4, 4), _h(2, 4)),
        "other: 16-bit optimizer slots in mixed precision": _mem(_h(2, 4), _h(2, 4), _h(4, 0), _h(2, 4), _h(2, 4)),
        "other: activations stay float32 in mixed precision": _mem(_h(2, 4), _h(2, 4), _h(4, 0), _h(4, 4), _h(4, 4)),
        "off_by_one: Adam keeps one slot, not two":
            _mem(_h(2, 4), _h(2, 4), _h(4, 0), _h(4, 4), _h(2, 4), slots={"sgd": 0, "momentum": 1, "adam": 1, "adamw": 1}),
        "ignored_argument: always Adam": _mem(_h(2, 4), _h(2, 4), _h(4, 0), _h(4, 4), _h(2, 4),
                                              slots={"sgd": 2, "momentum": 2, "adam": 2, "adamw": 2}),
        "boundary: float32 training also counted with a master copy":
            _mem(_h(2, 4), _h(2, 4), _h(4, 4), _h(4, 4), _h(2, 4)),
        "returns_none: forgets the return": _memory_none,
    },
    section="10 · Memory",
)
