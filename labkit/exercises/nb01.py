"""Exercises of 01_gradient_descent: a finite-difference gradient, momentum, Adam, warm-up + cosine."""
import math

import numpy as np

from ..check import function_exercise

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


def _f_quartic(w):
    return float(np.sum(w ** 4) + 3.0 * w[0] * w[-1])


def _f_logsumexp(w):
    z = 5.0 * w.ravel()
    return float(np.log(np.sum(np.exp(z - z.max()))) + z.max() + np.sum(w ** 2))


def _ng_cases():
    rng = np.random.default_rng(1)
    return [
        {"args": (_f_quartic, np.array([1.5, -2.0, 0.5])), "label": "(f = Σw⁴ + 3·w₀·w₂)"},
        {"args": (_f_logsumexp, rng.normal(size=(2, 3))), "label": "(a 2-D w)"},
        {"args": (_f_quartic, np.array([3.0, 1.0])), "kwargs": {"h": 1e-4}, "label": "(h = 1e-4)"},
    ]


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
    wrong=[_ng_forward, _ng_no_half, _ng_all_at_once],
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
    wrong=[_mom_sign, _mom_stale, _mom_no_beta, _mom_ema],
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
    wrong=[_adam_no_correction, _adam_t_minus_1, _adam_eps_inside, _adam_no_one_minus],
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


function_exercise(
    "01.warmup_cosine",
    title="a linear warm-up + cosine learning-rate schedule",
    reference=warmup_cosine,
    cases=[
        {"args": (np.arange(0, 121), 0.1, 10, 100), "label": "(steps 0…120, past the end)"},
        {"args": (np.arange(0, 60, 3), 3e-4, 6, 50), "kwargs": {"final_lr": 3e-5}, "label": "(final_lr > 0)"},
        {"args": (np.array([0, 1, 99, 100, 1000]), 1.0, 100, 1000), "label": "(around the end of warm-up)"},
    ],
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
    wrong=[_wc_from_zero, _wc_no_clamp, _wc_off_by_one, _wc_ignore_final],
    section=SECTION_SCHED,
)
