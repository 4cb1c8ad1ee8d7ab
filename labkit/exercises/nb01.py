"""Exercises of 01_gradient_descent: a finite-difference gradient, momentum, Adam, warm-up + cosine."""
import math

import numpy as np

from ..check import function_exercise
from ._compat import memorised

SECTION_AUTODIFF = "01 · Autodiff"
SECTION_OPT = "01 · Optimizers from scratch"
SECTION_SCHED = "01 · Learning-rate schedules"


# ------------------------------------------------------------------ 01.numerical_grad
def numerical_grad(f, w, h=1e-5):
    """Reference: central differences, one coordinate at a time."""
    w = np.asarray(w, dtype=np.float64)
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[i] = h
        g[i] = (f(w + e) - f(w - e)) / (2 * h)
    return g


def _ng_forward(f, w, h=1e-5):
    w = np.asarray(w, dtype=np.float64)
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[i] = h
        g[i] = (f(w + e) - f(w)) / h
    return g


def _ng_no_half(f, w, h=1e-5):
    w = np.asarray(w, dtype=np.float64)
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[i] = h
        g[i] = (f(w + e) - f(w - e)) / h
    return g


def _ng_all_at_once(f, w, h=1e-5):
    w = np.asarray(w, dtype=np.float64)
    return np.full_like(w, (f(w + h) - f(w - h)) / (2 * h))


def _ng_sign(f, w, h=1e-5):
    return -numerical_grad(f, w, h)


def _ng_ignores_h(f, w, h=1e-5):
    return numerical_grad(f, w, 1e-5)


def _ng_unrestored(f, w, h=1e-5):
    w = np.array(w, dtype=np.float64)
    g = np.zeros_like(w)
    for i in np.ndindex(w.shape):
        w[i] += h
        fp = f(w)
        w[i] -= 2 * h          # forgets to put w[i] back: later coordinates see a shifted w
        g[i] = (fp - f(w)) / (2 * h)
    return g


def _ng_no_return(f, w, h=1e-5):
    numerical_grad(f, w, h)


def _ng_flat_only(f, w, h=1e-5):
    w = np.asarray(w, dtype=np.float64)
    g = np.zeros(w.shape[0])
    for i in range(w.shape[0]):          # walks the first axis only
        e = np.zeros_like(w)
        e[i] = h
        g[i] = (f(w + e) - f(w - e)) / (2 * h)
    return g if w.ndim == 1 else np.broadcast_to(g[:, None], w.shape).copy()


def _f_quartic(w):
    return float(np.sum(w ** 4) + 3.0 * w[0] * w[-1])


def _f_logsumexp(w):
    z = 5.0 * w.ravel()
    return float(np.log(np.sum(np.exp(z - z.max()))) + z.max() + np.sum(w ** 2))


def _f_cubic_mix(w):
    v = w.ravel()
    return float(np.sum(v ** 3) - 2.0 * np.sum(np.sin(v)) + v[0] * v[-1] ** 2)


def _ng_cases():
    rng = np.random.default_rng(1)
    return [
        {"args": (_f_quartic, np.array([1.5, -2.0, 0.5])), "label": "(f = Σw⁴ + 3·w₀·w₂)"},
        {"args": (_f_logsumexp, rng.normal(size=(2, 3))), "label": "(a 2-D w)"},
        {"args": (_f_quartic, np.array([3.0, 1.0])), "kwargs": {"h": 1e-4}, "label": "(h = 1e-4)"},
        {"args": (_f_quartic, np.array([1.0, -0.5])), "kwargs": {"h": 0.25},
         "label": "(h = 0.25: a large step changes the answer, so h must be used)"},
    ]


def _ng_random(rng):
    out = []
    for f in (_f_quartic, _f_logsumexp, _f_cubic_mix):
        shape = [(int(rng.integers(1, 5)),), (int(rng.integers(1, 4)), int(rng.integers(2, 4))),
                 (2, 2, int(rng.integers(1, 3)))][int(rng.integers(0, 3))]
        if f is _f_quartic and len(shape) > 1:
            shape = (int(np.prod(shape)),)
        w = rng.normal(0, float(rng.choice([0.3, 1.0, 2.0])), shape)
        out.append({"args": (f, w), "kwargs": {"h": float(rng.choice([1e-4, 1e-3, 0.05, 0.2]))}})
    return out


function_exercise(
    "01.numerical_grad",
    title="a central finite-difference gradient",
    reference=numerical_grad,
    cases=_ng_cases,
    atol=1e-6,
    rtol=1e-6,
    hints=[
        "Perturb ONE coordinate at a time: build e = zeros_like(w) with e[i] = h, for every index i "
        "(np.ndindex(w.shape) walks every index of an n-D array).",
        "Central difference: g[i] = (f(w + e) − f(w − e)) / (2·h) — both sides, and divide by 2h.",
        "g = np.zeros_like(w); for i in np.ndindex(w.shape): e = np.zeros_like(w); e[i] = h; "
        "g[i] = (f(w + e) - f(w - e)) / (2 * h); return g",
    ],
    random_cases=_ng_random,
    wrong={
        "other: forward difference (f(w+h) − f(w)) / h": _ng_forward,
        "normalisation: divides by h instead of 2h": _ng_no_half,
        "wrong_axis: perturbs every coordinate at once": _ng_all_at_once,
        "sign: (f(w−h) − f(w+h)) / 2h": _ng_sign,
        "ignored_argument: always uses h = 1e-5": _ng_ignores_h,
        "mutation: perturbs w in place and never restores it": _ng_unrestored,
        "returns_none: forgets to return g": _ng_no_return,
        "off_by_one: loops over the first axis only": _ng_flat_only,
        "fits_visible: right on the notebook's cases only": memorised(numerical_grad, _ng_cases, _ng_forward),
    },
    section=SECTION_AUTODIFF,
)


# ------------------------------------------------------------------ 01.momentum_step
def momentum_step(w, g, v, lr, beta):
    """Reference: Keras's SGD momentum — the velocity holds the step itself."""
    v = beta * v - lr * g
    return w + v, v


def _mom_sign(w, g, v, lr, beta):
    v = beta * v + lr * g
    return w + v, v


def _mom_stale(w, g, v, lr, beta):
    v_new = beta * v - lr * g
    return w + v, v_new


def _mom_no_beta(w, g, v, lr, beta):
    v = v - lr * g
    return w + v, v


def _mom_ema(w, g, v, lr, beta):
    v = beta * v - (1 - beta) * lr * g
    return w + v, v


def _mom_no_return(w, g, v, lr, beta):
    v = beta * v - lr * g
    w = w + v


def _mom_nesterov(w, g, v, lr, beta):
    v = beta * v - lr * g
    return w + beta * v - lr * g, v


def _mom_cases():
    rng = np.random.default_rng(2)
    return [
        (np.array([1.0, -2.0]), np.array([0.5, 0.25]), np.array([0.1, -0.2]), 0.1, 0.9),
        (rng.normal(size=(3, 4)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4)) * 0.1, 0.01, 0.99),
        {"args": (np.array([0.0, 3.0]), np.array([1.0, -1.0]), np.zeros(2), 0.5, 0.5), "label": "(first step, v = 0)"},
    ]


function_exercise(
    "01.momentum_step",
    title="one step of SGD with momentum (Keras form)",
    reference=momentum_step,
    cases=_mom_cases,
    hints=[
        "The velocity is a running sum of past steps: decay the old one by beta, then add this step's −lr·g.",
        "Update the velocity FIRST, then move the weights by the NEW velocity; return both.",
        "v = beta * v - lr * g; return w + v, v",
    ],
    random_cases=lambda rng: [
        (rng.normal(0, s, shape), rng.normal(0, s, shape), rng.normal(0, 0.1 * s, shape),
         float(rng.uniform(1e-3, 0.5)), float(rng.uniform(0.5, 0.999)))
        for s, shape in [(float(rng.choice([0.01, 1.0, 50.0])), tuple(rng.integers(1, 5, rng.integers(1, 3))))
                         for _ in range(3)]],
    wrong={
        "sign: v = beta·v + lr·g": _mom_sign,
        "other: moves w by the OLD velocity": _mom_stale,
        "ignored_argument: never decays v by beta": _mom_no_beta,
        "normalisation: EMA form (1 − beta)·lr·g": _mom_ema,
        "returns_none: updates but returns nothing": _mom_no_return,
        "other: Nesterov look-ahead step w + beta·v − lr·g": _mom_nesterov,
        "fits_visible: right on the notebook's cases only": memorised(momentum_step, _mom_cases, _mom_ema),
    },
    section=SECTION_OPT,
)


# ------------------------------------------------------------------ 01.adam_step
def adam_step(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Reference: Adam with bias correction (Kingma & Ba), t counts from 1."""
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_no_correction(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    return w - lr * m / (np.sqrt(v) + eps), m, v


def _adam_t_minus_1(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        m_hat = m / (1 - beta1 ** (t - 1))
        v_hat = v / (1 - beta2 ** (t - 1))
        return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_eps_inside(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / np.sqrt(v_hat + eps), m, v


def _adam_no_one_minus(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + g
    v = beta2 * v + g ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def _adam_sign(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    w2, m, v = adam_step(w, g, m, v, t, lr, beta1, beta2, eps)
    return 2 * w - w2, m, v


def _adam_fixed_beta2(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    return adam_step(w, g, m, v, t, lr, beta1, 0.999, eps)


def _adam_no_return(w, g, m, v, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    adam_step(w, g, m, v, t, lr, beta1, beta2, eps)


def _adam_random(rng):
    out = []
    for _ in range(3):
        shape = tuple(int(k) for k in rng.integers(1, 5, rng.integers(1, 3)))
        s = float(rng.choice([1e-4, 1e-2, 1.0, 30.0]))
        t = int(rng.integers(1, 30))
        kw = {} if rng.random() < 0.4 else {"beta1": float(rng.uniform(0.5, 0.95)),
                                            "beta2": float(rng.uniform(0.9, 0.9999))}
        out.append({"args": (rng.normal(size=shape), rng.normal(0, s, shape), rng.normal(0, 0.3 * s, shape),
                             rng.uniform(0.1, 1.0, shape) * s * s, t, float(rng.uniform(1e-3, 0.3))),
                    "kwargs": kw})
    return out


def _adam_cases():
    rng = np.random.default_rng(3)
    z = np.zeros(3)
    return [
        {"args": (np.array([1.0, -1.0, 0.5]), np.array([0.3, -2.0, 1e-3]), z, z, 1, 0.1), "label": "(first step)"},
        {"args": (rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng.normal(size=(2, 3)) * 0.1,
                  rng.uniform(0.01, 0.2, (2, 3)), 5, 0.01), "label": "(t = 5)"},
        {"args": (np.array([2.0, 0.0]), np.array([-1e-3, 4e-4]), np.array([-1e-3, 2e-4]), np.array([1e-6, 5e-8]),
                  2, 0.05), "kwargs": {"beta1": 0.8, "beta2": 0.99}, "label": "(small gradients)"},
    ]


function_exercise(
    "01.adam_step",
    title="one Adam step with bias correction",
    reference=adam_step,
    cases=_adam_cases,
    hints=[
        "Two moving averages: m of g (weight 1 − beta1) and v of g² (weight 1 − beta2). Both start at 0, "
        "so both are biased towards 0 early on.",
        "Bias correction: m̂ = m / (1 − beta1**t), v̂ = v / (1 − beta2**t), with t = 1 on the first step. "
        "ε goes OUTSIDE the square root: lr·m̂ / (√v̂ + ε).",
        "m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g**2; m_hat = m/(1-beta1**t); "
        "v_hat = v/(1-beta2**t); return w - lr*m_hat/(np.sqrt(v_hat)+eps), m, v",
    ],
    random_cases=_adam_random,
    wrong={
        "normalisation: no bias correction": _adam_no_correction,
        "off_by_one: bias correction with t − 1": _adam_t_minus_1,
        "unstable: ε inside the square root": _adam_eps_inside,
        "normalisation: averages without (1 − beta)": _adam_no_one_minus,
        "sign: steps up the gradient": _adam_sign,
        "ignored_argument: always beta2 = 0.999": _adam_fixed_beta2,
        "returns_none: returns nothing": _adam_no_return,
        "fits_visible: right on the notebook's cases only": memorised(adam_step, _adam_cases, _adam_no_correction),
    },
    section=SECTION_OPT,
)


# ------------------------------------------------------------------ 01.warmup_cosine
def warmup_cosine(step, peak_lr, warmup_steps, total_steps, final_lr=0.0):
    """Reference: linear warm-up 0 → peak over warmup_steps, cosine peak → final_lr until total_steps."""
    t = np.asarray(step, dtype=np.float64)
    warm = peak_lr * t / warmup_steps
    frac = np.clip((t - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
    cos = final_lr + (peak_lr - final_lr) * 0.5 * (1 + np.cos(math.pi * frac))
    return np.where(t < warmup_steps, warm, cos)


def _wc_from_zero(step, peak_lr, warmup_steps, total_steps, final_lr=0.0):
    t = np.asarray(step, dtype=np.float64)
    warm = peak_lr * t / warmup_steps
    frac = np.clip(t / total_steps, 0.0, 1.0)
    cos = final_lr + (peak_lr - final_lr) * 0.5 * (1 + np.cos(math.pi * frac))
    return np.where(t < warmup_steps, warm, cos)


def _wc_no_clamp(step, peak_lr, warmup_steps, total_steps, final_lr=0.0):
    t = np.asarray(step, dtype=np.float64)
    warm = peak_lr * t / warmup_steps
    frac = (t - warmup_steps) / (total_steps - warmup_steps)
    cos = final_lr + (peak_lr - final_lr) * 0.5 * (1 + np.cos(math.pi * frac))
    return np.where(t < warmup_steps, warm, cos)


def _wc_off_by_one(step, peak_lr, warmup_steps, total_steps, final_lr=0.0):
    t = np.asarray(step, dtype=np.float64)
    warm = peak_lr * (t + 1) / warmup_steps
    frac = np.clip((t - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
    cos = final_lr + (peak_lr - final_lr) * 0.5 * (1 + np.cos(math.pi * frac))
    return np.where(t < warmup_steps, warm, cos)


def _wc_ignore_final(step, peak_lr, warmup_steps, total_steps, final_lr=0.0):
    t = np.asarray(step, dtype=np.float64)
    warm = peak_lr * t / warmup_steps
    frac = np.clip((t - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
    return np.where(t < warmup_steps, warm, peak_lr * 0.5 * (1 + np.cos(math.pi * frac)))


def _wc_rising(step, peak_lr, warmup_steps, total_steps, final_lr=0.0):
    t = np.asarray(step, dtype=np.float64)
    warm = peak_lr * t / warmup_steps
    frac = np.clip((t - warmup_steps) / (total_steps - warmup_steps), 0.0, 1.0)
    return np.where(t < warmup_steps, warm, final_lr + (peak_lr - final_lr) * 0.5 * (1 - np.cos(math.pi * frac)))


def _wc_no_return(step, peak_lr, warmup_steps, total_steps, final_lr=0.0):
    warmup_cosine(step, peak_lr, warmup_steps, total_steps, final_lr)


def _wc_random(rng):
    out = []
    for _ in range(3):
        warm = int(rng.integers(1, 40))
        total = warm + int(rng.integers(1, 300))
        steps = np.sort(rng.integers(0, total + 60, int(rng.integers(5, 40))))
        steps[0] = warm                          # the boundary step is always in
        final = 0.0 if rng.random() < 0.3 else float(rng.uniform(0, 0.3))
        out.append({"args": (steps, float(rng.choice([1e-4, 0.1, 3.0])), warm, total), "kwargs": {"final_lr": final}})
    return out


_WC_CASES = [
    {"args": (np.arange(0, 121), 0.1, 10, 100), "label": "(steps 0…120, past the end)"},
    {"args": (np.arange(0, 60, 3), 3e-4, 6, 50), "kwargs": {"final_lr": 3e-5}, "label": "(final_lr > 0)"},
    {"args": (np.array([0, 1, 99, 100, 1000]), 1.0, 100, 1000), "label": "(around the end of warm-up)"},
]

function_exercise(
    "01.warmup_cosine",
    title="a linear warm-up + cosine learning-rate schedule",
    reference=warmup_cosine,
    cases=_WC_CASES,
    random_cases=_wc_random,
    hints=[
        "Two pieces: for step < warmup_steps a straight line from 0 (at step 0) to peak_lr (at warmup_steps); "
        "after it, half a cosine from peak_lr down to final_lr, reached at total_steps and kept after. "
        "Work on whole arrays with np.where and np.clip.",
        "The cosine's progress is measured from the END of warm-up: frac = (step − warmup_steps) / "
        "(total_steps − warmup_steps), clipped to [0, 1]; lr = final + (peak − final)·½·(1 + cos(π·frac)).",
        "t = np.asarray(step, float); warm = peak_lr*t/warmup_steps; frac = np.clip((t-warmup_steps)/"
        "(total_steps-warmup_steps), 0, 1); cos = final_lr + (peak_lr-final_lr)*0.5*(1+np.cos(np.pi*frac)); "
        "return np.where(t < warmup_steps, warm, cos)",
    ],
    wrong={
        "other: cosine progress measured from step 0": _wc_from_zero,
        "boundary: no clamp after total_steps": _wc_no_clamp,
        "off_by_one: warm-up reaches peak one step early": _wc_off_by_one,
        "ignored_argument: decays to 0 whatever final_lr": _wc_ignore_final,
        "sign: 1 − cos (rises instead of falls)": _wc_rising,
        "returns_none: returns nothing": _wc_no_return,
        "fits_visible: right on the notebook's cases only": memorised(warmup_cosine, _WC_CASES, _wc_from_zero),
    },
    section=SECTION_SCHED,
)
