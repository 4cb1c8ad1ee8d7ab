"""Drift monitoring and continual learning (introduced in 18_drift_monitoring).

Small, dependency-light pieces that a monitoring job needs:

- :func:`psi` and :func:`report` — the population stability index and a per-feature
  drift table (PSI plus the two-sample Kolmogorov–Smirnov test);
- :func:`alert` — a threshold-with-patience alerting rule over a series of drift scores;
- :func:`simulate` — a labelled stream with covariate, label (prior) or concept drift;
- :class:`ReplayBuffer` — a reservoir-sampled memory of past examples for replay;
- :func:`dataset_hash` and :class:`ModelRegistry` — model versions tied to data versions.

    ref, cur = lk.drift.simulate("none", 2000), lk.drift.simulate("covariate", 2000, magnitude=1)
    pd.DataFrame(lk.drift.report(ref[0], cur[0]))
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .files import atomic_write_text

KINDS = ("none", "covariate", "label", "concept")

__all__ = ["psi", "report", "alert", "simulate", "ReplayBuffer", "dataset_hash", "ModelRegistry", "KINDS"]


def _as_1d(x: Any, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of one feature's values, got shape {a.shape}; "
                         "pass one column at a time (or use report() for a table).")
    if a.size == 0:
        raise ValueError(f"{name} is empty; a drift score needs at least one value.")
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; drop or impute them first.")
    return a


def _check_int(name: str, value: Any, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}.")
    if value < lo:
        raise ValueError(f"{name} must be ≥ {lo}, got {value}.")
    return int(value)


def psi(expected: Any, actual: Any, bins: int = 10, eps: float = 1e-4) -> float:
    """Population stability index of ``actual`` against the reference sample ``expected``.

    Bins are the quantiles of ``expected`` (outer edges open), proportions are clipped at ``eps``,
    and PSI = Σ (a − e) · ln(a / e). Rule of thumb: < 0.1 stable, 0.1–0.25 moderate, > 0.25 major.
    """
    e, a = _as_1d(expected, "expected"), _as_1d(actual, "actual")
    bins = _check_int("bins", bins, 2)
    if not 0 < eps < 1:
        raise ValueError(f"eps must be in (0, 1), got {eps}; 1e-4 is usual.")
    inner = np.quantile(e, np.linspace(0, 1, bins + 1))[1:-1]
    pe = np.bincount(np.searchsorted(inner, e, side="right"), minlength=bins) / e.size
    pa = np.bincount(np.searchsorted(inner, a, side="right"), minlength=bins) / a.size
    pe, pa = np.clip(pe, eps, None), np.clip(pa, eps, None)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def max_psi(reference: Any, current: Any, bins: int = 10) -> float:
    """The worst feature's PSI between two (samples, features) windows (introduced in 18_drift_monitoring)."""
    R, C = np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)
    if R.ndim == 1:
        R, C = R[:, None], C.reshape(-1, 1)
    if R.ndim != 2 or C.ndim != 2 or R.shape[1] != C.shape[1] or R.shape[1] == 0:
        raise ValueError(f"reference and current must be (samples, features) with the same number of "
                         f"features, got {R.shape} and {C.shape}.")
    return max(psi(R[:, j], C[:, j], bins=bins) for j in range(R.shape[1]))


def report(reference: Any, current: Any, names: Sequence[str] | None = None, *, bins: int = 10,
           psi_threshold: float = 0.25, alpha: float = 0.05) -> list[dict[str, Any]]:
    """Per-feature drift table: PSI, KS statistic and p-value, and a ``drift`` flag.

    A feature is flagged when its PSI exceeds ``psi_threshold`` or its KS p-value is below
    ``alpha / n_features`` (Bonferroni: ``alpha`` is the chance of any false flag per call).
    """
    from scipy import stats
    R, C = np.asarray(reference, dtype=np.float64), np.asarray(current, dtype=np.float64)
    if R.ndim == 1:
        R, C = R[:, None], C.reshape(-1, 1)
    if R.ndim != 2 or C.ndim != 2 or R.shape[1] != C.shape[1]:
        raise ValueError(f"reference and current must be (samples, features) with the same number of "
                         f"features, got {R.shape} and {C.shape}.")
    d = R.shape[1]
    names = list(names) if names is not None else [f"x{i}" for i in range(d)]
    if len(names) != d:
        raise ValueError(f"names has {len(names)} entries for {d} features; give one name per column.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}.")
    rows = []
    for j, name in enumerate(names):
        p = psi(R[:, j], C[:, j], bins=bins)
        ks = stats.ks_2samp(R[:, j], C[:, j])
        rows.append({"feature": name, "psi": p, "ks": float(ks.statistic), "p_value": float(ks.pvalue),
                     "drift": bool(p > psi_threshold or ks.pvalue < alpha / d)})
    return rows


def alert(scores: Any, threshold: float, patience: int = 1) -> np.ndarray:
    """Boolean alarms: ``True`` at t when scores[t−patience+1 … t] all exceed ``threshold``."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must be a 1-D series (one score per window), got shape {s.shape}.")
    if not np.isfinite(s).all():
        raise ValueError("scores contain NaN or inf; drop or fill the windows that had no data.")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating, np.integer)) \
            or not np.isfinite(threshold):
        raise ValueError(f"threshold must be a finite number (e.g. 0.25 for PSI), got {threshold!r}.")
    patience = _check_int("patience", patience, 1)
    out = np.zeros(s.size, dtype=bool)
    run = 0
    for t, v in enumerate(s):
        run = run + 1 if v > threshold else 0
        out[t] = run >= patience
    return out


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


#: weights of the reference concept: x0 and x1 matter, x2 a little, x3 not at all
W_REF = np.array([2.0, -1.5, 1.0, 0.0])


def simulate(kind: str = "none", n: int = 1000, magnitude: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A labelled sample (X (n, 4), y (n,)) from the reference world or a drifted one.

    Reference: x ~ N(0, I₄), P(y=1 | x) = σ(W_REF · x).
    ``covariate``: x0 shifted by ``magnitude`` standard deviations, same P(y | x).
    ``label``: P(y=1) raised to σ(1.5 · magnitude), same P(x | y).
    ``concept``: same P(x), the weights of x0 and x1 rotated by ``magnitude`` × 45°.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}.")
    n = _check_int("n", n, 1)
    if n > 10_000_000:
        raise ValueError(f"n must be at most 10,000,000 (it is held in memory), got {n}.")
    if not np.isfinite(magnitude) or magnitude < 0:
        raise ValueError(f"magnitude must be a finite number ≥ 0, got {magnitude}.")
    rng = np.random.default_rng(seed)
    w = W_REF.copy()
    if kind == "concept":
        th = np.deg2rad(45.0 * magnitude)
        rot = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        w[:2] = rot @ W_REF[:2]
    if kind == "label":
        X = rng.normal(size=(6 * n, 4))
        y = (rng.random(6 * n) < _sigmoid(X @ w)).astype(np.int64)
        n1 = int(round(n * _sigmoid(1.5 * magnitude)))
        i1, i0 = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
        idx = np.concatenate([rng.choice(i1, n1, replace=n1 > i1.size),
                              rng.choice(i0, n - n1, replace=n - n1 > i0.size)])
        rng.shuffle(idx)
        return X[idx], y[idx]
    X = rng.normal(size=(n, 4))
    if kind == "covariate":
        X[:, 0] += magnitude
    y = (rng.random(n) < _sigmoid(X @ w)).astype(np.int64)
    return X, y


class ReplayBuffer:
    """A fixed-size memory of past examples, each seen example equally likely to be kept (reservoir sampling)."""

    def __init__(self, capacity: int, seed: int = 0) -> None:
        self.capacity = _check_int("capacity", capacity, 1)
        self.rng = np.random.default_rng(seed)
        self.X: list[Any] = []
        self.y: list[Any] = []
        self.seen = 0

    def add(self, x: Any, y: Any) -> None:
        """Offer one example; it replaces a random slot with probability capacity / seen."""
        if len(self.X) < self.capacity:
            self.X.append(x)
            self.y.append(y)
        else:
            j = int(self.rng.integers(0, self.seen + 1))
            if j < self.capacity:
                self.X[j], self.y[j] = x, y
        self.seen += 1

    def __len__(self) -> int:
        return len(self.X)

    def sample(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``n`` stored examples drawn without replacement (all of them if fewer are stored)."""
        n = _check_int("n", n, 0)
        if not self.X:
            raise ValueError("The buffer is empty: add() examples before sampling.")
        idx = self.rng.choice(len(self.X), size=min(n, len(self.X)), replace=False)
        return np.stack([self.X[i] for i in idx]), np.asarray([self.y[i] for i in idx])


def dataset_hash(*arrays: Any) -> str:
    """sha256 over the dtype, shape and bytes of each array: the same data gives the same id."""
    if not arrays:
        raise ValueError("dataset_hash() needs at least one array, e.g. dataset_hash(X, y).")
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        if a.dtype.kind == "O":
            raise TypeError("dataset_hash() takes numeric/string arrays, not object arrays; convert them first.")
        h.update(f"{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


class ModelRegistry:
    """Model versions in a JSON file, each tied to the hash of the data it was trained on."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._records: list[dict[str, Any]] = (
            json.loads(self.path.read_text(encoding="utf-8")) if self.path.exists() else [])

    def register(self, name: str, data_hash: str, weights_hash: str, metrics: dict[str, float] | None = None,
                 params: dict[str, Any] | None = None, parent: str | None = None, note: str = "") -> dict[str, Any]:
        """Add a version (``name-vN``) and save the registry atomically; returns its record."""
        if not isinstance(name, str) or not name:
            raise ValueError("name must be a non-empty string such as 'churn-model'.")
        for label, h in (("data_hash", data_hash), ("weights_hash", weights_hash)):
            if not isinstance(h, str) or len(h) < 8:
                raise ValueError(f"{label} must be a hex digest; compute it with lk.drift.dataset_hash(...).")
        if parent is not None and parent not in {r["version"] for r in self._records}:
            raise ValueError(f"parent {parent!r} is not registered; versions: {[r['version'] for r in self._records]}.")
        k = 1 + sum(r["name"] == name for r in self._records)
        rec = {"version": f"{name}-v{k}", "name": name, "data_hash": data_hash, "weights_hash": weights_hash,
               "metrics": dict(metrics or {}), "params": dict(params or {}), "parent": parent, "note": note,
               "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        self._records.append(rec)
        self._save()
        return rec

    def _save(self) -> None:
        atomic_write_text(self.path, json.dumps(self._records, indent=1), prefix=".registry-")

    def records(self) -> list[dict[str, Any]]:
        """All versions, oldest first."""
        return [dict(r) for r in self._records]

    def get(self, version: str) -> dict[str, Any]:
        """One version's record; ``ValueError`` listing the versions if unknown."""
        for r in self._records:
            if r["version"] == version:
                return dict(r)
        raise ValueError(f"No version {version!r}; registered: {[r['version'] for r in self._records]}.")

    def by_data(self, data_hash: str) -> list[dict[str, Any]]:
        """Versions trained on exactly this data."""
        return [dict(r) for r in self._records if r["data_hash"] == data_hash]

    def lineage(self, version: str) -> list[str]:
        """The chain of versions from ``version`` back to its first ancestor."""
        chain = [version]
        while (parent := self.get(chain[-1])["parent"]) is not None:
            chain.append(parent)
        return chain
