"""Exercises of 13_compression: fake quantization, magnitude masks, the sparsity schedule, the distillation loss."""
import numpy as np

from ..check import function_exercise

SECTION_Q = "13 · Quantization from scratch"
SECTION_P = "13 · Magnitude pruning"
SECTION_D = "13 · Knowledge distillation"


# ------------------------------------------------------------------ 1. fake quantization
def fake_quant(x, bits):
    """Reference: affine (asymmetric) quantize-dequantize over x's own range, widened to contain 0."""
    from ..compress import fake_quant as ref
    return ref(x, bits)


def _fq_cases():
    rng = np.random.default_rng(11)
    return [
        (np.array([-1.0, -0.3, 0.0, 0.2, 0.5, 1.5]), 2),
        {"args": (rng.normal(0.2, 1.0, 200), 4), "label": "(weights-like, 4 bits)"},
        {"args": (rng.uniform(0.5, 3.0, 50), 3), "label": "(all positive: the range must still contain 0)"},
        {"args": (rng.normal(0.0, 0.05, (8, 16)), 8), "label": "(a 2-D kernel, 8 bits)"},
    ]


def _fq_levels_2pow(x, bits):  # scale uses 2**bits steps instead of 2**bits - 1
    x = np.asarray(x, float)
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    scale = (hi - lo) / 2 ** bits
    zp = round(-lo / scale)
    return scale * (np.clip(np.round(x / scale) + zp, 0, 2 ** bits - 1) - zp)


def _fq_floor(x, bits):  # truncates instead of rounding to the nearest level
    x = np.asarray(x, float)
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    scale = (hi - lo) / (2 ** bits - 1)
    zp = round(-lo / scale)
    return scale * (np.clip(np.floor(x / scale) + zp, 0, 2 ** bits - 1) - zp)


def _fq_no_zero(x, bits):  # uses [min, max] without widening it to contain 0
    x = np.asarray(x, float)
    lo, hi = x.min(), x.max()
    scale = (hi - lo) / (2 ** bits - 1)
    return np.round((x - lo) / scale) * scale + lo


def _fq_symmetric(x, bits):  # symmetric around 0: wastes levels on a skewed range
    x = np.asarray(x, float)
    scale = np.abs(x).max() / (2 ** (bits - 1) - 1)
    return np.clip(np.round(x / scale), -(2 ** (bits - 1) - 1), 2 ** (bits - 1) - 1) * scale


function_exercise(
    "13.fake_quant",
    title="affine quantize-dequantize (scale and zero point)",
    reference=fake_quant,
    cases=_fq_cases,
    atol=1e-9,
    hints=[
        "Widen the range to contain 0: lo = min(x.min(), 0), hi = max(x.max(), 0). There are 2**bits levels, "
        "so 2**bits - 1 steps between lo and hi.",
        "scale = (hi - lo) / (2**bits - 1); zero_point = round(-lo / scale) (an integer, so 0.0 is exact); "
        "q = clip(round(x / scale) + zero_point, 0, 2**bits - 1).",
        "return scale * (q - zero_point)",
    ],
    wrong=[_fq_levels_2pow, _fq_floor, _fq_no_zero, _fq_symmetric],
    section=SECTION_Q,
)


# ------------------------------------------------------------------ 2. magnitude mask
def magnitude_mask(w, sparsity):
    """Reference: zero the round(sparsity * size) weights of smallest magnitude (ties: earlier index first)."""
    from ..compress import magnitude_mask as ref
    return ref(np.asarray(w, dtype=np.float64), sparsity)


def _mm_cases():
    rng = np.random.default_rng(3)
    return [
        (np.array([0.5, -2.0, 0.1, -0.05, 1.0, -0.7, 0.3]), 0.5),
        {"args": (rng.normal(0, 1, (6, 5)), 0.8), "label": "(a 6×5 kernel at 80 %)"},
        {"args": (rng.normal(0, 1, (4, 10)) * np.array([[10.0], [1.0], [0.1], [1.0]]), 0.5),
         "label": "(rows on different scales: the threshold is over the whole tensor)"},
        (rng.normal(0, 1, 12), 0.0),
    ]


def _mm_signed(w, s):  # ranks by value, not magnitude: prunes large negative weights
    w = np.asarray(w, float)
    k = int(round(s * w.size))
    m = np.ones(w.size)
    m[np.argsort(w.ravel(), kind="stable")[:k]] = 0
    return m.reshape(w.shape)


def _mm_inverted(w, s):  # keeps the smallest weights instead of the largest
    w = np.asarray(w, float)
    k = int(round(s * w.size))
    m = np.zeros(w.size)
    m[np.argsort(np.abs(w).ravel(), kind="stable")[:w.size - k]] = 1
    return m.reshape(w.shape)


def _mm_per_row(w, s):  # one threshold per row instead of one per tensor
    w = np.atleast_2d(np.asarray(w, float))
    out = np.ones_like(w)
    for i, row in enumerate(w):
        k = int(round(s * row.size))
        out[i, np.argsort(np.abs(row), kind="stable")[:k]] = 0
    return out.reshape(np.shape(np.asarray(w)))


def _mm_truncate(w, s):  # int() instead of round(): prunes one weight too few at 50 % of 7
    w = np.asarray(w, float)
    k = int(s * w.size)
    m = np.ones(w.size)
    m[np.argsort(np.abs(w).ravel(), kind="stable")[:k]] = 0
    return m.reshape(w.shape)


function_exercise(
    "13.magnitude_mask",
    title="magnitude pruning mask",
    reference=magnitude_mask,
    cases=_mm_cases,
    hints=[
        "Rank the weights by |w| over the whole tensor (flatten it), not by their signed value and not row by row.",
        "k = round(sparsity * w.size) weights are pruned: the k smallest |w|. np.argsort(np.abs(w).ravel(), "
        "kind='stable')[:k] gives their flat indices.",
        "m = np.ones(w.size); m[np.argsort(np.abs(w).ravel(), kind='stable')[:k]] = 0; return m.reshape(w.shape)",
    ],
    wrong=[_mm_signed, _mm_inverted, _mm_per_row, _mm_truncate],
    section=SECTION_P,
)


# ------------------------------------------------------------------ 3. sparsity schedule
def polynomial_sparsity(step, begin_step, end_step, initial, final, power=3):
    """Reference: final + (initial - final) * (1 - t)**power with t clipped to [0, 1]."""
    from ..compress import polynomial_sparsity as ref
    return ref(step, begin_step, end_step, initial, final, power)


_PS_CASES = [(s, 10, 110, 0.0, 0.8) for s in (0, 10, 35, 60, 109, 110, 200)] + [
    {"args": (50, 0, 100, 0.2, 0.9), "kwargs": {"power": 2}, "label": "(initial 0.2, power 2)"},
]


def _ps_linear(step, begin_step, end_step, initial, final, power=3):  # ignores the power
    t = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return initial + (final - initial) * t


def _ps_no_clip(step, begin_step, end_step, initial, final, power=3):  # keeps changing after end_step
    t = max((step - begin_step) / (end_step - begin_step), 0.0)
    return final + (initial - final) * (1 - t) ** power


def _ps_slow_start(step, begin_step, end_step, initial, final, power=3):  # t**power: prunes late, not early
    t = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return initial + (final - initial) * t ** power


function_exercise(
    "13.polynomial_sparsity",
    title="polynomial sparsity schedule",
    reference=polynomial_sparsity,
    cases=_PS_CASES,
    hints=[
        "Progress t = (step - begin_step) / (end_step - begin_step), clipped to [0, 1] so the schedule holds "
        "before begin_step and after end_step.",
        "Prune fast at first, slowly at the end: sparsity = final + (initial - final) * (1 - t)**power.",
        "t = min(max((step - begin_step) / (end_step - begin_step), 0), 1); "
        "return final + (initial - final) * (1 - t) ** power",
    ],
    wrong=[_ps_linear, _ps_no_clip, _ps_slow_start],
    section=SECTION_P,
)


# ------------------------------------------------------------------ 4. distillation loss
def _log_softmax(z):
    z = np.asarray(z, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def distill_loss(student_logits, teacher_logits, T):
    """Reference: T² · mean over the batch of KL(softmax(teacher/T) ‖ softmax(student/T)), stable."""
    log_pt = _log_softmax(np.asarray(teacher_logits, float) / T)
    log_ps = _log_softmax(np.asarray(student_logits, float) / T)
    return float(T * T * np.mean(np.sum(np.exp(log_pt) * (log_pt - log_ps), axis=-1)))


def _dl_cases():
    rng = np.random.default_rng(7)
    s, t = rng.normal(0, 2, (16, 10)), rng.normal(0, 4, (16, 10))
    return [
        (s, t, 1.0),
        (s, t, 4.0),
        {"args": (rng.normal(0, 1, (5, 3)), rng.normal(0, 1, (5, 3)), 2.0), "label": "(3 classes)"},
        {"args": (np.array([[1000.0, 0.0, -1000.0]]), np.array([[990.0, 5.0, 0.0]]), 2.0),
         "label": "(huge logits: needs a stable log-softmax)"},
    ]


def _dl_no_t2(s, t, T):  # forgets the T² factor that keeps gradients comparable across temperatures
    return distill_loss(s, t, T) / (T * T)


def _dl_reversed(s, t, T):  # KL(student ‖ teacher): the wrong direction
    return distill_loss(t, s, T)


def _dl_teacher_unsoftened(s, t, T):  # divides only the student's logits by T
    log_pt = _log_softmax(np.asarray(t, float))
    log_ps = _log_softmax(np.asarray(s, float) / T)
    return float(T * T * np.mean(np.sum(np.exp(log_pt) * (log_pt - log_ps), axis=-1)))


def _dl_naive(s, t, T):  # softmax without subtracting the max: overflows on large logits
    with np.errstate(all="ignore"):
        ps = np.exp(np.asarray(s, float) / T)
        ps = ps / ps.sum(-1, keepdims=True)
        pt = np.exp(np.asarray(t, float) / T)
        pt = pt / pt.sum(-1, keepdims=True)
        return float(T * T * np.mean(np.sum(pt * (np.log(pt) - np.log(ps)), axis=-1)))


function_exercise(
    "13.distill_loss",
    title="the distillation loss T²·KL(teacher ‖ student)",
    reference=distill_loss,
    cases=_dl_cases,
    atol=1e-8,
    hints=[
        "Soften both: p_teacher = softmax(teacher_logits / T), and the student's log-probabilities "
        "log_softmax(student_logits / T). KL(p ‖ q) = Σ p (log p − log q), summed over classes, averaged over the batch.",
        "Compute log-softmax stably: z = z − z.max(-1, keepdims=True); log_softmax = z − log Σ exp z. "
        "Multiply the mean KL by T² so that gradient sizes do not shrink as 1/T².",
        "lt, ls = log_softmax(t / T), log_softmax(s / T); return T*T * np.mean(np.sum(np.exp(lt) * (lt - ls), -1))",
    ],
    wrong=[_dl_no_t2, _dl_reversed, _dl_teacher_unsoftened, _dl_naive],
    section=SECTION_D,
)
