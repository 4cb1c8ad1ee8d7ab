"""Exercises of 00_welcome."""
import numpy as np

from ..check import function_exercise

# A column with a tiny standard deviation (≈ 0.006) is part of the fixed cases on purpose. The
# common guard `(X - mean) / (std + 1e-8)` is right — it keeps a constant column from giving NaN — and
# it changes such a column by a relative 1e-8 / 0.006 ≈ 2e-6, so the check allows a relative 1e-5.
# A guard that is far too large for the data (`+ 1e-3`) is still a wrong answer, and is rejected.
RTOL = 1e-5


def _cases():
    rng = np.random.default_rng(0)
    return [
        (np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 60.0]]),),
        (rng.normal(5.0, 3.0, (50, 4)),),
        {"args": (rng.uniform(-1, 1, (7, 3)) * np.array([1.0, 100.0, 0.01]),),
         "label": "(columns on very different scales; the last has std ≈ 0.006 — a `+ 1e-8` guard is fine)"},
        {"args": (1e7 + rng.normal(0.0, 1.0, (20, 2)),),
         "label": "(large mean, unit spread: a one-pass variance E[x²] − E[x]² loses most of its digits here)"},
    ]


def _random_cases(rng):
    out = []
    for _ in range(4):
        n, d = int(rng.integers(3, 41)), int(rng.integers(1, 7))
        loc = rng.uniform(-100, 100, d) * 10.0 ** rng.integers(-2, 3, d)
        scale = 10.0 ** rng.uniform(-2, 2, d)
        out.append((loc + scale * rng.standard_normal((n, d)),))
    n = int(rng.integers(3, 30))
    out.append({"args": (np.column_stack([rng.normal(0, 1, n), 1e6 + rng.normal(0, 0.1, n)]),),
                "label": "(a column with mean 1e6 and std 0.1)"})
    return out


def standardize(X):
    """Reference: zero mean and unit (population) standard deviation per column."""
    X = np.asarray(X, dtype=np.float64)
    return (X - X.mean(axis=0)) / X.std(axis=0)


_VISIBLE = [c["args"][0] if isinstance(c, dict) else c[0] for c in _cases()]


def _fits_visible(X):
    for seen in _VISIBLE:
        if np.shape(X) == seen.shape and np.array_equal(X, seen):
            return standardize(seen)
    return X - X.mean(axis=0)


def _in_place(X):
    X -= X.mean(axis=0)
    X /= X.std(axis=0)
    return X


def _no_return(X):
    X = (X - X.mean(axis=0)) / X.std(axis=0)  # noqa: F841 — forgot `return`


def _one_pass_variance(X):
    mean = X.mean(axis=0)
    return (X - mean) / np.sqrt(np.mean(X * X, axis=0) - mean ** 2)


function_exercise(
    "00.standardize",
    title="standardize features column by column",
    reference=standardize,
    cases=_cases,
    random_cases=_random_cases,
    rtol=RTOL,
    hints=[
        "Each column (feature) gets its own mean and standard deviation: reduce over axis=0.",
        "Use the population standard deviation (NumPy's default, ddof=0), as sklearn's StandardScaler does. "
        "A small guard like `X.std(axis=0) + 1e-8` is fine.",
        "return (X - X.mean(axis=0)) / X.std(axis=0)",
    ],
    wrong={
        "wrong_axis: one mean and std for the whole array": lambda X: (X - X.mean()) / X.std(),
        "wrong_axis: per row instead of per column":
            lambda X: (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True),
        "normalisation: sample std (ddof=1) instead of population":
            lambda X: (X - X.mean(axis=0)) / X.std(axis=0, ddof=1),
        "normalisation: forgot to divide by the std": lambda X: X - X.mean(axis=0),
        "normalisation: a guard far too large for the data (+1e-3)":
            lambda X: (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-3),
        "sign: mean minus x": lambda X: (X.mean(axis=0) - X) / X.std(axis=0),
        "unstable: one-pass variance E[x²] − E[x]²": _one_pass_variance,
        "mutation: standardizes the caller's array in place": _in_place,
        "returns_none: computes the result but forgets to return it": _no_return,
        "fits_visible: hard-codes the fixed cases": _fits_visible,
    },
    section="00 · First exercise",
)
