"""The course's one timer (introduced in 10_mixed_precision; used by 11–15 through precision and compress).

Accelerators run asynchronously: a call returns as soon as the work is *queued*. A timer that
stops the clock there measures kernel launches, not work. :func:`timed` stops it only after the
result exists on the host (``.numpy()`` on every tensor in it), which is what every speed figure
in the course goes through: ``lk.precision.time_steps`` (interleaved best-of, for ratios) and
``lk.compress.latency_samples_ms`` (per-call samples, for percentiles).
"""
from __future__ import annotations

import time
from typing import Any, Callable

__all__ = ["sync", "timed", "timed_call"]


def sync(out: Any) -> Any:
    """Wait until ``out`` — a tensor, or a list/tuple/dict of them, nested — is computed; returns it."""
    if isinstance(out, dict):
        for o in out.values():
            sync(o)
    elif isinstance(out, (list, tuple)):
        for o in out:
            sync(o)
    elif hasattr(out, "numpy") and callable(out.numpy):
        out.numpy()
    return out


def timed(fn: Callable[[], Any]) -> float:
    """Seconds one call of ``fn()`` takes, its result synchronised (see :func:`sync`)."""
    if not callable(fn):
        raise TypeError(f"timed() takes a zero-argument function, e.g. lambda: model(x); got {type(fn).__name__}.")
    t0 = time.perf_counter()
    sync(fn())
    return time.perf_counter() - t0


def timed_call(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``(result, seconds)`` of one call of ``fn()``, synchronised like :func:`timed` (07 and 15 time whole runs with it)."""
    if not callable(fn):
        raise TypeError(f"timed_call() takes a zero-argument function, e.g. lambda: train(x); got {type(fn).__name__}.")
    t0 = time.perf_counter()
    out = sync(fn())
    return out, time.perf_counter() - t0
