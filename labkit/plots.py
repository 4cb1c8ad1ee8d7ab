"""Figures used across the course; every function returns the matplotlib Figure (notebook 00 on)."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np


def _plt():
    import matplotlib.pyplot as plt
    return plt


def _history_dict(history: Any) -> Mapping[str, Sequence[float]]:
    h = getattr(history, "history", history)
    if not isinstance(h, Mapping) or not h:
        raise TypeError("curves() takes a History (from fit) or a dict like {'loss': [...], 'val_loss': [...]}.")
    return h


def curves(history: Any, metrics: Sequence[str] | None = None, title: str = ""):
    """Training curves: one panel per metric, train and ``val_`` together."""
    h = _history_dict(history)
    base = metrics or [k for k in h if not k.startswith("val_")]
    missing = [m for m in base if m not in h]
    if missing:
        raise ValueError(f"History has no {missing}; available: {sorted(h)}.")
    plt = _plt()
    fig, axes = plt.subplots(1, len(base), figsize=(4.2 * len(base), 3.2), squeeze=False)
    for ax, m in zip(axes[0], base):
        ep = np.arange(1, len(h[m]) + 1)
        ax.plot(ep, h[m], label="train")
        if "val_" + m in h:
            ax.plot(ep, h["val_" + m], label="validation", linestyle="--")
        ax.set_xlabel("epoch")
        ax.set_title(m)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def decision_boundary(predict: Callable[[np.ndarray], np.ndarray], X: np.ndarray, y: np.ndarray, *,
                      resolution: int = 200, ax=None, title: str = ""):
    """Colour the plane by the predicted class of ``predict`` and scatter the 2-D points ``X``."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary needs 2-D points, X of shape (n, 2); got {X.shape}.")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}.")
    plt = _plt()
    fig = ax.figure if ax is not None else plt.figure(figsize=(4.5, 4.5))
    ax = ax or fig.gca()
    pad = 0.1 * (X.max(0) - X.min(0) + 1e-9)
    xs = np.linspace(X[:, 0].min() - pad[0], X[:, 0].max() + pad[0], resolution)
    ys = np.linspace(X[:, 1].min() - pad[1], X[:, 1].max() + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    out = np.asarray(predict(np.c_[gx.ravel(), gy.ravel()].astype(np.float32)))
    z = out.argmax(-1) if out.ndim == 2 and out.shape[1] > 1 else (out.ravel() > 0.5).astype(int)
    from matplotlib.colors import ListedColormap
    from .core import OKABE_ITO
    k = int(max(y.max(), z.max())) + 1
    cmap = ListedColormap(OKABE_ITO[:k])
    ax.contourf(gx, gy, z.reshape(gx.shape), levels=np.arange(k + 1) - 0.5, cmap=cmap, alpha=0.25)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap=cmap, s=10, edgecolors="k", linewidths=0.2, vmin=-0.5, vmax=k - 0.5)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title)
    return fig


def image_grid(images: np.ndarray, labels: Sequence[Any] | None = None, preds: Sequence[Any] | None = None, *,
               ncols: int = 8, cmap: str | Sequence[str] = "gray", names: Sequence[str] | None = None, size: float = 1.3,
               vmin: float | None = None, vmax: float | None = None, row_titles: Sequence[str] | None = None):
    """A grid of images titled with labels (and predictions, red when wrong); used from 00_welcome on.

    ``vmin``/``vmax`` fix the colour scale for every image (e.g. 0 and 1, so that augmented copies
    are drawn on the same scale as the originals); ``row_titles`` titles each row (above its first
    image, or beside it when labels are given); ``cmap`` may be one colour map per row (images and
    their masks in 00_welcome).
    """
    imgs = np.asarray(images)
    if imgs.ndim == 4 and imgs.shape[-1] == 1:
        imgs = imgs[..., 0]
    if imgs.ndim not in (3, 4):
        raise ValueError(f"image_grid takes (n, h, w) or (n, h, w, c) images, got shape {imgs.shape}.")
    n = len(imgs)
    if labels is not None and len(labels) != n:
        raise ValueError(f"{len(labels)} labels for {n} images.")
    if not isinstance(ncols, (int, np.integer)) or isinstance(ncols, bool) or ncols < 1:
        raise ValueError(f"ncols must be a positive integer, got {ncols!r}.")
    ncols = max(1, min(ncols, n))
    nrows = int(np.ceil(n / ncols))
    if row_titles is not None and len(row_titles) != nrows:
        raise ValueError(f"{len(row_titles)} row titles for {nrows} rows ({n} images, ncols={ncols}); "
                         "give one title per row.")
    cmaps = [cmap] * nrows if isinstance(cmap, str) else list(cmap)
    if len(cmaps) != nrows or not all(isinstance(c, str) for c in cmaps):
        raise ValueError(f"cmap must be a colour-map name or one name per row ({nrows} rows), got {cmap!r}.")
    plt = _plt()
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + 0.2 * (labels is not None)),
                             squeeze=False)
    fmt = (lambda v: names[int(v)]) if names is not None else str
    for i, ax in enumerate(axes.ravel()):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(imgs[i], cmap=cmaps[i // ncols] if imgs.ndim == 3 else None, vmin=vmin, vmax=vmax)
        if row_titles is not None and i % ncols == 0:
            if labels is None:
                ax.set_title(row_titles[i // ncols], fontsize=8, loc="left")
            else:                                        # the title row is taken: write it beside the row
                ax.text(-0.12, 0.5, row_titles[i // ncols], transform=ax.transAxes, rotation=90,
                        ha="right", va="center", fontsize=9)
        if labels is not None:
            t = fmt(labels[i])
            color = "black"
            if preds is not None:
                t += f" / {fmt(preds[i])}"
                color = "black" if preds[i] == labels[i] else "#D55E00"
            ax.set_title(t, fontsize=8, color=color)
    fig.tight_layout()
    return fig


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], names: Sequence[str] | None = None, *,
                     normalize: bool = False, ax=None):
    """A confusion-matrix heatmap with counts (or row-normalised rates) written in each cell."""
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if yt.shape != yp.shape or yt.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D and of the same shape, got {yt.shape} and {yp.shape}.")
    for nm, a in (("y_true", yt), ("y_pred", yp)):
        if a.size and (a.dtype.kind not in "iu" and not (a.dtype.kind == "f" and np.isfinite(a).all()
                                                          and (a == np.round(a)).all())):
            raise ValueError(f"{nm} must hold integer class labels, got dtype {a.dtype}; use argmax for scores.")
        if a.size and a.min() < 0:
            raise ValueError(f"{nm} has a negative label ({a.min()}); class labels are 0, 1, 2, …")
    yt, yp = yt.astype(int), yp.astype(int)
    k = int(max(yt.max(initial=0), yp.max(initial=0))) + 1 if names is None else len(names)
    if names is not None and max(yt.max(initial=0), yp.max(initial=0)) >= k:
        raise ValueError(f"a label is >= len(names) = {k}; give one name per class.")
    cm = np.zeros((k, k), float)
    np.add.at(cm, (yt, yp), 1)
    if normalize:
        cm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    plt = _plt()
    fig = ax.figure if ax is not None else plt.figure(figsize=(0.5 * k + 2.5, 0.5 * k + 2))
    ax = ax or fig.gca()
    ax.imshow(cm, cmap="Blues")
    ax.grid(False)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{cm[i, j]:.2f}" if normalize else f"{int(cm[i, j])}", ha="center", va="center",
                    color="white" if cm[i, j] > cm.max() / 2 else "black", fontsize=8)
    labels = names or list(range(k))
    ax.set_xticks(range(k), labels, rotation=45 if names else 0)
    ax.set_yticks(range(k), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    return fig


def heatmap_overlay(image: np.ndarray, heat: np.ndarray, *, alpha: float = 0.5, ax=None, title: str = "",
                    cmap: str = "inferno"):
    """An attribution/saliency map drawn over its image."""
    img = np.asarray(image)
    if img.ndim == 3 and img.shape[-1] == 1:
        img = img[..., 0]
    hm = np.asarray(heat, dtype=float)
    if hm.ndim == 3 and hm.shape[-1] == 1:
        hm = hm[..., 0]
    if hm.shape != img.shape[:2]:
        raise ValueError(f"heat has shape {hm.shape} but the image is {img.shape[:2]}; resize one to the other.")
    if not np.isfinite(hm).all():
        raise ValueError("heat contains NaN/inf; check the attribution method's output.")
    plt = _plt()
    fig = ax.figure if ax is not None else plt.figure(figsize=(3, 3))
    ax = ax or fig.gca()
    ax.imshow(img, cmap="gray" if img.ndim == 2 else None)
    ax.imshow(hm, cmap=cmap, alpha=alpha)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return fig
