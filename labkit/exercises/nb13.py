"""Exercises of 13_compression: fake quantization, magnitude masks, the sparsity schedule, the distillation loss."""

import numpy as np

from ..check import _normalise_case, function_exercise

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
        {"args": (np.array([-1.5, -0.5, 0.5, 1.5]), 2),
         "label": "(scale 1, zero point 2: every x/scale is a tie (ties go to even), and 1.5 must be clipped to 2^bits − 1)"},
    ]


def _fq_random(rng):
    cases = []
    for _ in range(5):
        bits = int(rng.integers(2, 9))
        shape = tuple(int(d) for d in rng.integers(1, 20, rng.integers(1, 3)))
        if rng.random() < 0.5:                                       # a dyadic grid: ties are exact
            qmax, step = 2 ** bits - 1, 2.0 ** int(rng.integers(-8, 4))
            lo = -(int(rng.integers(0, qmax)) + 0.5) * step
            x = lo + step * rng.integers(0, 2 * qmax + 1, shape) / 2
            x.flat[0], x.flat[-1] = lo, lo + qmax * step
            label = "(random, on a half-step grid: many exact ties)"
        else:
            x = rng.normal(rng.uniform(-2, 2), 1.0, shape) * 10.0 ** rng.uniform(-3, 3)
            label = "(random weights)"
        cases.append({"args": (x, bits), "label": f"{label[:-1]}, shape {shape}, {bits} bits)"})
    return cases


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


def _fq_parts(x, bits):
    x = np.asarray(x, float)
    lo, hi = min(x.min(), 0.0), max(x.max(), 0.0)
    scale = (hi - lo) / (2 ** bits - 1)
    return x, scale, round(-lo / scale)


def _fq_half_up(x, bits):
    x, scale, zp = _fq_parts(x, bits)
    return scale * (np.clip(np.floor(x / scale + 0.5) + zp, 0, 2 ** bits - 1) - zp)


def _fq_no_clip(x, bits):
    x, scale, zp = _fq_parts(x, bits)
    return scale * (np.round(x / scale) + zp - zp)


def _fq_returns_q(x, bits):
    x, scale, zp = _fq_parts(x, bits)
    return np.clip(np.round(x / scale) + zp, 0, 2 ** bits - 1)


def _fq_always_8(x, bits):
    return fake_quant(x, 8)


def _fq_no_return(x, bits):
    _ = fake_quant(x, bits)


def _fq_fits_visible(x, bits):
    if np.size(x) in (6, 200, 50, 128, 4):
        return fake_quant(x, bits)
    return np.asarray(x, float)


function_exercise(
    id="13.fake_quant",
    title="affine quantize-dequantize (scale and zero point)",
    reference=fake_quant,
    cases=_fq_cases,
    atol=1e-9,
    hints=[
        "Widen the range to contain 0: lo = min(x.min(), 0), hi = max(x.max(), 0). There are 2**bits levels, "
        "so 2**bits - 1 steps between lo and hi.",
        "scale = (hi - lo) / (2**bits - 1); zero_point = round(-lo / scale) (an integer, so 0.0 is exact); "
        "q = clip(round(x / scale) + zero_point, 0, 2**bits - 1). Round to nearest with ties to even (np.round, "
        "Python's round) — and keep the clip: rounding the zero point can push the largest value one level too high.",
        "return scale * (q - zero_point)",
    ],
    random_cases=_fq_random,
    wrong={
        "off_by_one: 2**bits steps instead of 2**bits − 1": _fq_levels_2pow,
        "other: truncates instead of rounding to the nearest level": _fq_floor,
        "boundary: range not widened to contain 0": _fq_no_zero,
        "other: symmetric around 0 (wastes levels on a skewed range)": _fq_symmetric,
        "boundary: ties rounded up instead of to even": _fq_half_up,
        "boundary: no clipping to [0, 2**bits − 1]": _fq_no_clip,
        "normalisation: returns the integers q, not the values they stand for": _fq_returns_q,
        "ignored_argument: always 8 bits": _fq_always_8,
        "returns_none: computes the values but never returns them": _fq_no_return,
        "fits_visible: right only on the visible case sizes": _fq_fits_visible,
    },
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
        {"args": (np.array([[3.0, -1.0, 2.0, 1.0], [-2.0, 1.0, -3.0, 0.5]]), 0.375),
         "label": "(tied magnitudes: of the three |w| = 1, only the first two in row-major order are pruned)"},
        {"args": (np.linspace(0.1, 1.0, 10) * np.resize([1.0, -1.0], 10), 0.34),
         "label": "(k = round(0.34·10) = 3, while a quantile cut would prune 4)"},
    ]


def _mm_random(rng):
    cases = []
    while len(cases) < 5:
        shape = tuple(int(d) for d in rng.integers(1, 12, rng.integers(1, 4)))
        n = int(np.prod(shape))
        s = float(rng.choice([rng.uniform(0, 0.99), 0.5, 0.9, 0.0]))
        if abs(s * n - np.floor(s * n) - 0.5) < 1e-9:
            continue                                                  # no k = x.5: Python's round is not the point
        if rng.random() < 0.5:
            w = rng.integers(-4, 5, shape) * 0.25                      # many tied magnitudes, both signs
            label = "tied magnitudes"
        else:
            w = rng.normal(0, 10.0 ** rng.uniform(-3, 2), shape)
            label = "distinct magnitudes"
        cases.append({"args": (w, s), "label": f"(random: shape {shape}, sparsity {s:.3g}, {label})"})
    # every call: two 2-D kernels whose size is none of the fixed cases' and that prune at least 2 weights,
    # so an answer that is right only on the visible sizes (or keeps everything) cannot pass by luck
    visible = {np.size(_normalise_case(c)[0][0]) for c in _mm_cases()}
    for label in ("tied magnitudes", "distinct magnitudes"):
        shape = (int(rng.integers(3, 12)), int(rng.integers(3, 12)))
        while shape[0] * shape[1] in visible:
            shape = (shape[0] + 1, shape[1])
        s = float(rng.uniform(0.2, 0.95))
        if abs(s * shape[0] * shape[1] % 1 - 0.5) < 1e-6:
            s += 0.001                                                # no k = x.5
        if label == "tied magnitudes":
            w = rng.integers(-4, 5, shape) * 0.25
        else:
            w = rng.normal(0, 10.0 ** rng.uniform(-3, 2), shape)
        cases.append({"args": (w, s), "label": f"(random: shape {shape}, sparsity {s:.3g}, {label})"})
    return cases


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


def _mm_quantile(w, s):
    w = np.asarray(w, float)
    return (np.abs(w) > np.quantile(np.abs(w), s)).astype(float) if s > 0 else np.ones_like(w)


def _mm_threshold_ties(w, s):
    w = np.asarray(w, float)
    k = int(round(s * w.size))
    if k == 0:
        return np.ones_like(w)
    thr = np.sort(np.abs(w).ravel())[k - 1]
    return (np.abs(w) > thr).astype(float)                             # prunes every weight tied at the threshold


def _mm_ties_last_first(w, s):
    w = np.asarray(w, float)
    k = int(round(s * w.size))
    flat = np.abs(w).ravel()
    order = (len(flat) - 1 - np.argsort(flat[::-1], kind="stable"))   # among ties, the LATER index goes first
    m = np.ones(w.size)
    m[order[:k]] = 0
    return m.reshape(w.shape)


def _mm_fixed_half(w, s):
    return magnitude_mask(w, 0.5)


def _mm_no_return(w, s):
    _ = magnitude_mask(w, s)


def _mm_fits_visible(w, s):
    if np.size(w) in (7, 30, 40, 12, 8, 10):
        return magnitude_mask(w, s)
    return np.ones(np.shape(w))


function_exercise(
    id="13.magnitude_mask",
    title="magnitude pruning mask",
    reference=magnitude_mask,
    cases=_mm_cases,
    hints=[
        "Rank the weights by |w| over the whole tensor (flatten it), not by their signed value and not row by row.",
        "k = round(sparsity * w.size) weights are pruned: exactly k, the k smallest |w| — not a quantile cut, "
        "and not every weight tied at the threshold. Among equal |w| the earlier one (row-major) goes first: "
        "np.argsort(np.abs(w).ravel(), kind='stable')[:k] gives their flat indices.",
        "m = np.ones(w.size); m[np.argsort(np.abs(w).ravel(), kind='stable')[:k]] = 0; return m.reshape(w.shape)",
    ],
    random_cases=_mm_random,
    wrong={
        "sign: ranks by signed value, not magnitude": _mm_signed,
        "other: keeps the smallest weights instead of the largest": _mm_inverted,
        "wrong_axis: one threshold per row instead of one per tensor": _mm_per_row,
        "off_by_one: int() instead of round() for k": _mm_truncate,
        "boundary: a quantile cut |w| > quantile(|w|, s) instead of exactly k weights": _mm_quantile,
        "boundary: prunes every weight tied at the k-th magnitude": _mm_threshold_ties,
        "boundary: ties broken latest-first": _mm_ties_last_first,
        "ignored_argument: always 50 % sparsity": _mm_fixed_half,
        "returns_none: builds the mask but never returns it": _mm_no_return,
        "fits_visible: right only on the visible case sizes": _mm_fits_visible,
    },
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


def _ps_random(rng):
    cases = []
    for _ in range(6):
        begin = int(rng.integers(0, 100))
        end = begin + int(rng.integers(1, 500))
        step = int(rng.choice([begin, end, rng.integers(max(begin - 20, 0), end + 100), rng.integers(begin, end + 1)]))
        initial = float(rng.uniform(0, 0.5))
        final = float(rng.uniform(initial, 0.99))
        power = float(rng.choice([1, 2, 3, 5, rng.uniform(0.5, 4)]))
        cases.append({"args": (step, begin, end, initial, final), "kwargs": {"power": power},
                      "label": f"(random: step {step} of {begin}…{end}, {initial:.2f} → {final:.2f}, power {power:.3g})"})
    return cases


def _ps_linear(step, begin_step, end_step, initial, final, power=3):  # ignores the power
    t = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return initial + (final - initial) * t


def _ps_no_clip(step, begin_step, end_step, initial, final, power=3):  # keeps changing after end_step
    t = max((step - begin_step) / (end_step - begin_step), 0.0)
    return final + (initial - final) * (1 - t) ** power


def _ps_slow_start(step, begin_step, end_step, initial, final, power=3):  # t**power: prunes late, not early
    t = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return initial + (final - initial) * t ** power


def _ps_off_by_one(step, begin_step, end_step, initial, final, power=3):
    t = min(max((step - begin_step) / (end_step - begin_step + 1), 0.0), 1.0)
    return final + (initial - final) * (1 - t) ** power


def _ps_swapped(step, begin_step, end_step, initial, final, power=3):
    t = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return initial + (final - initial) * (1 - t) ** power                # runs backwards: final → initial


def _ps_ignores_begin(step, begin_step, end_step, initial, final, power=3):
    t = min(max(step / end_step, 0.0), 1.0)
    return final + (initial - final) * (1 - t) ** power


def _ps_no_return(step, begin_step, end_step, initial, final, power=3):
    _ = polynomial_sparsity(step, begin_step, end_step, initial, final, power)


def _ps_fits_visible(step, begin_step, end_step, initial, final, power=3):
    if (begin_step, end_step) in ((10, 110), (0, 100)):
        return polynomial_sparsity(step, begin_step, end_step, initial, final, power)
    return final


function_exercise(
    id="13.polynomial_sparsity",
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
    random_cases=_ps_random,
    wrong={
        "ignored_argument: ignores power (linear)": _ps_linear,
        "boundary: no clipping after end_step": _ps_no_clip,
        "other: t**power, which prunes late instead of early": _ps_slow_start,
        "off_by_one: divides by end_step − begin_step + 1": _ps_off_by_one,
        "sign: initial and final swapped (runs backwards)": _ps_swapped,
        "ignored_argument: ignores begin_step": _ps_ignores_begin,
        "returns_none: computes the value but never returns it": _ps_no_return,
        "fits_visible: right only on the visible schedules": _ps_fits_visible,
    },
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


def _dl_random(rng):
    cases = []
    for _ in range(5):
        b, c = int(rng.integers(1, 64)), int(rng.integers(2, 20))
        scale = float(rng.choice([0.1, 1.0, 5.0, 50.0, 1000.0]))
        T = float(rng.choice([0.5, 1.0, 2.0, 4.0, 10.0]))
        cases.append({"args": (rng.normal(0, scale, (b, c)), rng.normal(0, scale, (b, c)), T),
                      "label": f"(random: batch {b}, {c} classes, logits ~ {scale:g}, T = {T:g})"})
    return cases


def _dl_wrong_axis(s, t, T):
    log_pt = _log_softmax(np.asarray(t, float) / T)
    log_ps = _log_softmax(np.asarray(s, float) / T)
    return float(T * T * np.mean(np.sum(np.exp(log_pt) * (log_pt - log_ps), axis=0)))   # sums over the batch


def _dl_batch_sum(s, t, T):
    return distill_loss(s, t, T) * len(np.asarray(s))


def _dl_no_return(s, t, T):
    _ = distill_loss(s, t, T)


def _dl_fits_visible(s, t, T):
    if np.shape(s) in ((16, 10), (5, 3), (1, 3)):
        return distill_loss(s, t, T)
    return 0.0


function_exercise(
    id="13.distill_loss",
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
    random_cases=_dl_random,
    wrong={
        "normalisation: forgets the T² factor": _dl_no_t2,
        "other: KL(student ‖ teacher), the wrong direction": _dl_reversed,
        "ignored_argument: the teacher's logits are not divided by T": _dl_teacher_unsoftened,
        "unstable: softmax without subtracting the max (overflows)": _dl_naive,
        "wrong_axis: sums over the batch and averages over classes": _dl_wrong_axis,
        "normalisation: sums over the batch instead of averaging": _dl_batch_sum,
        "returns_none: computes the loss but never returns it": _dl_no_return,
        "fits_visible: right only on the visible case shapes": _dl_fits_visible,
    },
    section=SECTION_D,
)
