"""Attribution methods and how to score them (introduced in 16_explainability).

Framework-free pieces the notebook builds on: integrated gradients over any gradient function,
a LIME-style weighted linear surrogate, turning per-segment weights into a pixel map, and the
scores that say how much of an attribution falls on the object (mask overlap, pointing game)
and whether it changes when the model does (rank correlation).

    ig = lk.explain.integrated_gradients(grad_fn, x, baseline=np.zeros_like(x), steps=64)
    lk.explain.mask_overlap(ig[..., 0], mask)     # share of the positive attribution on the object
"""
from __future__ import annotations

from typing import Callable, Mapping, Sequence

import numpy as np

__all__ = ["integrated_gradients", "local_surrogate", "lime_kernel", "grid_segments", "segment_map",
           "mask_overlap", "pointing_game", "score_maps", "rank_correlation"]


def _finite(name: str, a: np.ndarray) -> None:
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf; check what produced it.")


#: the most interpolation steps integrated_gradients accepts (a hang guard, not a tuning knob)
MAX_IG_STEPS = 10_000


def integrated_gradients(grad_fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                         baseline: np.ndarray | None = None, steps: int = 64) -> np.ndarray:
    """Integrated gradients of one example: (x − baseline) · mean gradient on the straight path (midpoints).

    ``grad_fn`` maps a batch of shape ``(steps, *x.shape)`` to the gradients of the explained
    output with respect to that batch (same shape). ``baseline`` defaults to zeros.
    """
    if not callable(grad_fn):
        raise TypeError("grad_fn must be a function batch -> gradients, e.g. lambda b: grads(b, class_index).")
    x = np.asarray(x, dtype=np.float64)
    b = np.zeros_like(x) if baseline is None else np.asarray(baseline, dtype=np.float64)
    if b.shape != x.shape:
        raise ValueError(f"baseline has shape {b.shape} but x has {x.shape}; give one baseline per example.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= MAX_IG_STEPS:
        raise ValueError(f"steps must be an int in 1..{MAX_IG_STEPS} (64 is usual; more than a few hundred "
                         f"changes little), got {steps!r}.")
    _finite("x", x)
    _finite("baseline", b)
    if max(np.abs(x).max(initial=0), np.abs(b).max(initial=0)) > np.finfo(np.float32).max:
        raise ValueError("x or baseline is beyond float32's range (~3.4e38), where models compute; rescale the input.")
    if steps * max(x.size, 1) > 50_000_000:
        raise ValueError(f"steps × x.size = {steps * x.size:,} values would not fit in memory; use fewer steps.")
    alphas = (np.arange(steps) + 0.5) / steps                      # midpoint Riemann sum
    path = b[None] + alphas.reshape((-1,) + (1,) * x.ndim) * (x - b)[None]
    g = np.asarray(grad_fn(path.astype(np.float32)), dtype=np.float64)
    if g.shape != path.shape:
        raise ValueError(f"grad_fn returned shape {g.shape} for a batch of shape {path.shape}; it must return "
                         "one gradient per path point, shaped like its input.")
    return (x - b) * g.mean(axis=0)


def lime_kernel(distances: np.ndarray, kernel_width: float = 0.25) -> np.ndarray:
    """LIME's proximity weights: sqrt(exp(−d² / width²)) (lime's default kernel)."""
    try:
        d = np.asarray(distances, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("distances must be an array of numbers (one per perturbed sample).") from None
    _finite("distances", d)
    if (d < 0).any():
        raise ValueError("distances must be ≥ 0 (e.g. cosine distance to the original input).")
    if isinstance(kernel_width, bool) or not isinstance(kernel_width, (int, float, np.floating)) \
            or not np.isfinite(kernel_width) or not kernel_width > 0:
        raise ValueError(f"kernel_width must be a finite number > 0 (0.25 is lime's default), got {kernel_width!r}.")
    with np.errstate(over="ignore", under="ignore"):  # very far samples get weight 0, which is right
        return np.sqrt(np.exp(-(d ** 2) / kernel_width ** 2))


def local_surrogate(Z: np.ndarray, y: np.ndarray, weights: np.ndarray,
                    alpha: float = 1.0) -> tuple[np.ndarray, float]:
    """Weighted ridge regression with an unpenalised intercept — LIME's local linear model.

    Minimises Σ wᵢ (yᵢ − b − zᵢ·c)² + alpha·‖c‖²; returns ``(coef, intercept)``, as
    ``sklearn.linear_model.Ridge(alpha).fit(Z, y, sample_weight=weights)`` does.
    """
    Z = np.asarray(Z, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    if Z.ndim != 2:
        raise ValueError(f"Z must be 2-D (samples, features), got shape {Z.shape}.")
    if y.shape != (len(Z),) or w.shape != (len(Z),):
        raise ValueError(f"y and weights must have shape ({len(Z)},), got {y.shape} and {w.shape}.")
    if (w < 0).any() or w.sum() <= 0:
        raise ValueError("weights must be ≥ 0 and not all zero.")
    if alpha < 0:
        raise ValueError(f"alpha must be ≥ 0, got {alpha}.")
    zm = w @ Z / w.sum()
    ym = w @ y / w.sum()
    Zc, yc = Z - zm, y - ym
    A = Zc.T @ (w[:, None] * Zc) + alpha * np.eye(Z.shape[1])
    coef = np.linalg.solve(A, Zc.T @ (w * yc))
    return coef, float(ym - zm @ coef)


def grid_segments(shape: Sequence[int], cell: int) -> np.ndarray:
    """Label an image of ``shape`` (h, w, …) with square cells of ``cell`` pixels: a segmentation for tiny images."""
    if len(shape) < 2:
        raise ValueError(f"shape must be at least (height, width), got {tuple(shape)}.")
    if isinstance(cell, bool) or not isinstance(cell, (int, np.integer)) or cell < 1:
        raise ValueError(f"cell must be a positive int number of pixels, got {cell!r}.")
    h, w = int(shape[0]), int(shape[1])
    per_row = -(-w // cell)
    return (np.arange(h)[:, None] // cell) * per_row + np.arange(w)[None, :] // cell


def segment_map(segments: np.ndarray, weights: Mapping[int, float] | Sequence[float]) -> np.ndarray:
    """A pixel map that gives every pixel its segment's weight (segments missing from ``weights`` get 0)."""
    seg = np.asarray(segments)
    if seg.dtype.kind not in "iu":
        raise TypeError(f"segments must be an integer label image, got dtype {seg.dtype}.")
    if seg.size == 0:
        raise ValueError("segments is empty; pass a label image such as grid_segments((28, 28), 7).")
    if seg.min() < 0:
        raise ValueError(f"segment labels must be >= 0, got {seg.min()}; number segments 0, 1, 2, …")
    if seg.max() >= 10_000_000:
        raise ValueError(f"segment label {seg.max()} is too large; number segments 0, 1, 2, … (as grid_segments does).")
    table = np.zeros(int(seg.max()) + 1)
    items = weights.items() if isinstance(weights, Mapping) else enumerate(weights)
    for k, v in items:
        if not np.isfinite(float(v)):
            raise ValueError(f"the weight of segment {k} is {v}; weights must be finite numbers.")
        if 0 <= int(k) < len(table):
            table[int(k)] = float(v)
    return table[seg]


def _pair(attr: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(attr, dtype=np.float64)
    m = np.asarray(mask).astype(bool)
    if a.shape != m.shape:
        raise ValueError(f"attribution has shape {a.shape} but the mask has {m.shape}; "
                         "sum the channel axis first (attr.sum(-1)).")
    _finite("attribution", a)
    return a, m


def mask_overlap(attr: np.ndarray, mask: np.ndarray) -> float:
    """Share of the positive attribution that lies on the mask (0 when nothing is positive)."""
    a, m = _pair(attr, mask)
    pos = np.maximum(a, 0.0)
    total = pos.sum()
    return float(pos[m].sum() / total) if total > 0 else 0.0


def pointing_game(attr: np.ndarray, mask: np.ndarray) -> bool:
    """Whether the single most positive pixel of the attribution lies on the mask."""
    a, m = _pair(attr, mask)
    return bool(m.ravel()[int(np.argmax(a.ravel()))])


def score_maps(maps: np.ndarray, masks: np.ndarray) -> dict[str, float]:
    """Mean mask overlap and pointing-game hit rate of a stack of attribution maps (n, h, w)."""
    maps, masks = np.asarray(maps), np.asarray(masks)
    if maps.shape != masks.shape or maps.ndim != 3:
        raise ValueError(f"maps and masks must both be (n, h, w), got {maps.shape} and {masks.shape}.")
    return {"mask overlap": float(np.mean([mask_overlap(a, m) for a, m in zip(maps, masks)])),
            "pointing game": float(np.mean([pointing_game(a, m) for a, m in zip(maps, masks)]))}


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of |a| and |b| — how similar two attribution maps are, ignoring scale and sign."""
    from scipy.stats import spearmanr
    a, b = np.abs(np.asarray(a, np.float64)).ravel(), np.abs(np.asarray(b, np.float64)).ravel()
    if a.shape != b.shape:
        raise ValueError(f"the two maps must have the same size, got {a.size} and {b.size}.")
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(spearmanr(a, b)[0])
