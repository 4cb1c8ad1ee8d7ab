"""Static vs continuous batching of LLM requests, simulated (introduced in 15_serving_llms).

An LLM server produces one token per request per *iteration* (a decode step of the whole
batch). **Static** (request-level) batching takes up to ``max_batch`` waiting requests and runs
them together until the longest one is done; the slots of finished requests idle and everyone
gets their answer when the batch ends. **Continuous** (iteration-level, Orca/vLLM) batching
admits waiting requests into free slots before every iteration and returns each request as soon
as its last token is out. Both simulations share one cost model, ``step_cost(b)`` seconds per
iteration of ``b`` active slots, so the only difference is the scheduling rule.

    arrivals = poisson_arrivals(400, rate=40.0, rng=rng)
    lengths = long_tailed_lengths(400, rng=rng)
    s = simulate_static(arrivals, lengths, max_batch=16, step_cost=linear_step_cost())
    c = simulate_continuous(arrivals, lengths, max_batch=16, step_cost=linear_step_cost())
    s.summary(), c.summary()
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["BatchRun", "linear_step_cost", "poisson_arrivals", "long_tailed_lengths",
           "simulate_static", "simulate_continuous"]


@dataclass
class BatchRun:
    """What a simulated server did: per-request finish times and latencies, and the totals."""
    policy: str
    arrivals: np.ndarray
    lengths: np.ndarray
    finish: np.ndarray
    iterations: int
    busy_slot_steps: int
    makespan: float

    @property
    def latency(self) -> np.ndarray:
        """Seconds from each request's arrival to its last token."""
        return self.finish - self.arrivals

    @property
    def throughput(self) -> float:
        """Generated tokens per second over the whole run (first arrival to last finish)."""
        return float(self.lengths.sum() / self.makespan)

    def summary(self) -> dict:
        """Throughput, p50/p99 latency and the share of slot-steps that produced a token."""
        lat = self.latency
        return {"policy": self.policy, "tokens/s": self.throughput,
                "p50 latency s": float(np.percentile(lat, 50)), "p99 latency s": float(np.percentile(lat, 99)),
                "slot utilisation": float(self.lengths.sum() / max(self.busy_slot_steps, 1)),
                "iterations": self.iterations}


def linear_step_cost(base_s: float = 0.020, per_slot_s: float = 0.0005) -> Callable[[int], float]:
    """Seconds for one decode iteration of ``b`` slots: a fixed cost (reading the weights) plus a small per-slot cost."""
    if base_s < 0 or per_slot_s < 0:
        raise ValueError("base_s and per_slot_s are durations in seconds; pass values >= 0.")
    return lambda b: base_s + per_slot_s * b


def poisson_arrivals(n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` sorted arrival times (s) of a Poisson process with ``rate`` requests per second."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy Generator: pass np.random.default_rng(seed).")
    if n < 1 or rate <= 0:
        raise ValueError("n must be >= 1 and rate > 0 (requests per second).")
    return np.cumsum(rng.exponential(1.0 / rate, int(n)))


def long_tailed_lengths(n: int, rng: np.random.Generator, median: float = 60.0, sigma: float = 1.0,
                        max_len: int = 1024) -> np.ndarray:
    """``n`` output lengths (tokens) from a log-normal clipped to [1, max_len]: most short, a few very long."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy Generator: pass np.random.default_rng(seed).")
    if n < 1 or median < 1 or sigma < 0 or max_len < 1:
        raise ValueError("n >= 1, median >= 1, sigma >= 0 and max_len >= 1 are required.")
    return np.clip(np.round(rng.lognormal(np.log(median), sigma, int(n))), 1, max_len).astype(np.int64)


def _validate(arrivals, lengths, max_batch):
    a = np.asarray(arrivals, dtype=np.float64)
    n = np.asarray(lengths)
    if a.ndim != 1 or n.shape != a.shape or a.size == 0:
        raise ValueError("arrivals and lengths must be 1-D arrays of the same, non-zero length.")
    if np.any(np.diff(a) < 0):
        raise ValueError("arrivals must be sorted; pass np.sort(arrivals) (and reorder lengths with it).")
    if np.any(n < 1) or not np.all(np.equal(np.mod(n, 1), 0)):
        raise ValueError("lengths must be whole numbers of tokens >= 1.")
    if not isinstance(max_batch, (int, np.integer)) or max_batch < 1:
        raise ValueError("max_batch must be an int >= 1.")
    return a, n.astype(np.int64)


def simulate_static(arrivals, lengths, max_batch: int, step_cost: Callable[[int], float]) -> BatchRun:
    """Request-level batching: a batch of up to ``max_batch`` waiting requests runs until its longest member ends.

    Every iteration costs ``step_cost(size of the batch)`` (finished members still occupy their slot
    as padding) and all members are answered when the batch ends.
    """
    a, n = _validate(arrivals, lengths, max_batch)
    finish = np.empty_like(a)
    t, i, iters, slot_steps = 0.0, 0, 0, 0
    while i < len(a):
        t = max(t, a[i])
        j = i + 1
        while j < len(a) and j - i < max_batch and a[j] <= t:
            j += 1
        b, steps = j - i, int(n[i:j].max())
        t += steps * step_cost(b)
        finish[i:j] = t
        iters += steps
        slot_steps += steps * b
        i = j
    return BatchRun("static", a, n, finish, iters, slot_steps, float(finish.max() - a[0]))


def simulate_continuous(arrivals, lengths, max_batch: int, step_cost: Callable[[int], float]) -> BatchRun:
    """Iteration-level batching: before every decode step, waiting requests fill the free slots.

    A request leaves (and is answered) as soon as its last token is generated, so its slot is
    reused at the next iteration.
    """
    a, n = _validate(arrivals, lengths, max_batch)
    finish = np.empty_like(a)
    left: dict[int, int] = {}  # active request -> tokens still to generate
    t, nxt, iters, slot_steps = 0.0, 0, 0, 0
    while nxt < len(a) or left:
        if not left and a[nxt] > t:
            t = a[nxt]  # idle until the next request arrives
        while nxt < len(a) and len(left) < max_batch and a[nxt] <= t:
            left[nxt] = int(n[nxt])
            nxt += 1
        b = len(left)
        t += step_cost(b)
        iters += 1
        slot_steps += b
        for r in list(left):
            left[r] -= 1
            if left[r] == 0:
                finish[r] = t
                del left[r]
    return BatchRun("continuous", a, n, finish, iters, slot_steps, float(finish.max() - a[0]))
