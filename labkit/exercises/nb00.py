"""Exercises of 00_welcome."""
import numpy as np

from ..check import function_exercise


def _cases():
    rng = np.random.default_rng(0)
    return [
        (np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 60.0]]),),
        (rng.normal(5.0, 3.0, (50, 4)),),
        {"args": (rng.uniform(-1, 1, (7, 3)) * np.array([1.0, 100.0, 0.01]),), "label": "(columns on very different scales)"},
    ]


def standardize(X):
    """Reference: zero mean and unit (population) standard deviation per column."""
    X = np.asarray(X, dtype=np.float64)
    return (X - X.mean(axis=0)) / X.std(axis=0)


function_exercise(
    "00.standardize",
    title="standardize features column by column",
    reference=standardize,
    cases=_cases,
    hints=[
        "Each column (feature) gets its own mean and standard deviation: reduce over axis=0.",
        "Use the population standard deviation (NumPy's default, ddof=0), as sklearn's StandardScaler does.",
        "return (X - X.mean(axis=0)) / X.std(axis=0)",
    ],
    wrong=[
        lambda X: (X - X.mean()) / X.std(),                                  # one mean/std for the whole array
        lambda X: (X - X.mean(axis=0)) / X.std(axis=0, ddof=1),              # sample std instead of population
        lambda X: (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True),  # per row
        lambda X: X - X.mean(axis=0),                                        # forgot to divide
    ],
    section="00 · First exercise",
)
