"""Exercises of 14_deployment_inference: percentiles of timings, a micro-batching queue, a version-switch rule."""
import math

import numpy as np

from ..check import function_exercise

SECTION_L = "14 · Latency vs throughput"
SECTION_B = "14 · A dynamic-batching server"
SECTION_V = "14 · Versioning and rollback"


# ------------------------------------------------------------------ 1. percentile
def percentile(values, q):
    """Reference: the q-th percentile with linear interpolation between order statistics (NumPy's default)."""
    a = np.sort(np.asarray(values, dtype=np.float64))
    pos = (len(a) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(a[lo] + (a[hi] - a[lo]) * (pos - lo))


def _pc_cases():
    rng = np.random.default_rng(12)
    lat = rng.lognormal(0.0, 0.6, 101)
    return [
        (np.array([3.0, 1.0, 2.0, 10.0]), 50),
        (np.array([5.0, 1.0, 4.0, 2.0, 3.0]), 95),
        {"args": (lat, 99), "label": "(101 skewed latencies, p99)"},
        {"args": (rng.exponential(2.0, 40), 95), "label": "(40 timings, p95)"},
        (np.array([7.0]), 99),
        (np.array([4.0, 8.0]), 0),
    ]


def _pc_nearest_rank(values, q):  # nearest rank: no interpolation between neighbours
    a = np.sort(np.asarray(values, float))
    return float(a[int(round((len(a) - 1) * q / 100.0))])


def _pc_n_not_n_minus_1(values, q):  # position q/100·n instead of q/100·(n−1)
    a = np.sort(np.asarray(values, float))
    pos = min(len(a) * q / 100.0, len(a) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(a[lo] + (a[hi] - a[lo]) * (pos - lo))


def _pc_unsorted(values, q):  # forgets to sort: indexes the timings in arrival order
    a = np.asarray(values, float)
    pos = (len(a) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(a[lo] + (a[hi] - a[lo]) * (pos - lo))


def _pc_gaussian(values, q):  # assumes normal latencies: mean + z·std (tails are not normal)
    a = np.asarray(values, float)
    z = {0: -np.inf, 50: 0.0, 95: 1.6449, 99: 2.3263}.get(q, 0.0)
    return float(a.mean() + z * a.std()) if np.isfinite(z) else float(a.min())


function_exercise(
    "14.percentile",
    title="a percentile of measured latencies",
    reference=percentile,
    cases=_pc_cases,
    hints=[
        "Sort the timings first. The q-th percentile sits at position (n − 1)·q/100 in the sorted array "
        "(0 is the minimum, n − 1 the maximum).",
        "That position is usually between two indices lo = floor(pos) and hi = ceil(pos): interpolate linearly, "
        "a[lo] + (a[hi] − a[lo])·(pos − lo). Don't assume a normal distribution: latency tails are long.",
        "a = np.sort(values); pos = (len(a) - 1) * q / 100; lo, hi = math.floor(pos), math.ceil(pos); "
        "return a[lo] + (a[hi] - a[lo]) * (pos - lo)",
    ],
    wrong=[_pc_nearest_rank, _pc_n_not_n_minus_1, _pc_unsorted, _pc_gaussian],
    section=SECTION_L,
)


# ------------------------------------------------------------------ 2. micro-batching queue
def plan_batches(arrivals, max_batch, max_wait, cost):
    """Reference simulation of lk.serve.MicroBatcher with one worker.

    When the worker is free it takes the oldest waiting request at ``start = max(its arrival, worker free)``,
    then keeps adding requests that arrive by ``start + max_wait`` until it holds ``max_batch``. A full
    batch runs as soon as its last request arrives (never before ``start``); otherwise it runs at the
    deadline. The worker is then busy for ``cost(batch size)`` seconds.
    Returns ``[(run_time, [request indices]), ...]``.
    """
    arrivals = list(arrivals)
    out, free, i, n = [], 0.0, 0, len(arrivals)
    while i < n:
        start = max(arrivals[i], free)
        deadline = start + max_wait
        batch = [i]
        j = i + 1
        while j < n and len(batch) < max_batch and arrivals[j] <= deadline:
            batch.append(j)
            j += 1
        run = max(start, arrivals[batch[-1]]) if len(batch) == max_batch else deadline
        out.append((float(run), batch))
        free = run + cost(len(batch))
        i = j
    return out


def _cost_const(b):
    return 0.004


def _cost_linear(b):
    return 0.002 + 0.0005 * b


def _pb_cases():
    rng = np.random.default_rng(5)
    burst = [0.0, 0.0005, 0.001, 0.0012, 0.002, 0.0021, 0.0022, 0.01, 0.0105, 0.03]
    poisson = np.cumsum(rng.exponential(0.001, 60)).tolist()
    return [
        {"args": (burst, 4, 0.002, _cost_const), "label": "(a burst, max_batch 4, 2 ms wait)"},
        {"args": (burst, 1, 0.002, _cost_const), "label": "(max_batch 1: no batching)"},
        {"args": ([0.0, 0.001, 0.0025, 0.0028], 8, 0.002, _cost_const), "label": "(the wait window closes)"},
        {"args": (poisson, 8, 0.003, _cost_linear), "label": "(60 Poisson arrivals, busy worker)"},
        {"args": ([0.0, 0.0, 0.0, 0.0, 0.0], 2, 0.0, _cost_const), "label": "(max_wait 0, simultaneous)"},
    ]


def _pb_deadline_from_arrival(arrivals, max_batch, max_wait, cost):  # window measured from the arrival
    out, free, i, n = [], 0.0, 0, len(arrivals)
    while i < n:
        start = max(arrivals[i], free)
        deadline = arrivals[i] + max_wait
        batch, j = [i], i + 1
        while j < n and len(batch) < max_batch and arrivals[j] <= max(deadline, start):
            batch.append(j)
            j += 1
        run = max(start, arrivals[batch[-1]]) if len(batch) == max_batch else max(deadline, start)
        out.append((float(run), batch))
        free = run + cost(len(batch))
        i = j
    return out


def _pb_ignores_busy_worker(arrivals, max_batch, max_wait, cost):  # batches overlap: the worker is never busy
    return plan_batches(arrivals, max_batch, max_wait, lambda b: 0.0)


def _pb_off_by_one(arrivals, max_batch, max_wait, cost):  # lets a batch grow to max_batch + 1
    return plan_batches(arrivals, max_batch + 1, max_wait, cost)


def _pb_always_waits(arrivals, max_batch, max_wait, cost):  # waits for the deadline even when full
    out, free, i, n = [], 0.0, 0, len(arrivals)
    while i < n:
        start = max(arrivals[i], free)
        deadline = start + max_wait
        batch, j = [i], i + 1
        while j < n and len(batch) < max_batch and arrivals[j] <= deadline:
            batch.append(j)
            j += 1
        out.append((float(deadline), batch))
        free = deadline + cost(len(batch))
        i = j
    return out


function_exercise(
    "14.plan_batches",
    title="simulate a micro-batching queue",
    reference=plan_batches,
    cases=_pb_cases,
    atol=1e-12,
    hints=[
        "Loop over batches. A batch starts when the worker is free AND a request is waiting: "
        "start = max(arrivals[i], free). Its window closes at start + max_wait.",
        "Add the following requests while they arrive by the deadline and the batch holds fewer than max_batch. "
        "A full batch runs at max(start, arrival of its last request); a partial one at the deadline. "
        "Then free = run + cost(len(batch)).",
        "run = max(start, arrivals[batch[-1]]) if len(batch) == max_batch else start + max_wait; "
        "out.append((run, batch)); free = run + cost(len(batch)); i = next unbatched index",
    ],
    wrong=[_pb_deadline_from_arrival, _pb_ignores_busy_worker, _pb_off_by_one, _pb_always_waits],
    section=SECTION_B,
)


# ------------------------------------------------------------------ 3. version-switch rule
def switch_version(baseline, candidate, min_requests=200, max_error_increase=0.01, p95_budget_ms=100.0):
    """Reference: "wait" until the candidate has min_requests; "rollback" if its error *rate* exceeds the
    baseline's by more than max_error_increase or its p95 latency exceeds the budget; else "promote"."""
    if candidate["requests"] < min_requests:
        return "wait"
    err_b = baseline["errors"] / baseline["requests"]
    err_c = candidate["errors"] / candidate["requests"]
    if err_c > err_b + max_error_increase or candidate["p95_ms"] > p95_budget_ms:
        return "rollback"
    return "promote"


def _sv_cases():
    base = {"requests": 1000, "errors": 30, "p95_ms": 12.0}
    return [
        (base, {"requests": 150, "errors": 40, "p95_ms": 10.0}),                      # too early to judge
        (base, {"requests": 400, "errors": 14, "p95_ms": 11.0}),                      # 3.5 %: promote
        (base, {"requests": 400, "errors": 40, "p95_ms": 11.0}),                      # 10 %: roll back
        (base, {"requests": 300, "errors": 5, "p95_ms": 180.0}),                      # too slow: roll back
        (base, {"requests": 200, "errors": 8, "p95_ms": 100.0}),                      # 4 % == 3 % + 1 %, p95 at budget
        {"args": ({"requests": 500, "errors": 10, "p95_ms": 5.0}, {"requests": 2000, "errors": 50, "p95_ms": 6.0}),
         "label": "(a bigger candidate sample: compare rates, not counts)"},
        {"args": (base, {"requests": 250, "errors": 10, "p95_ms": 40.0}), "kwargs": {"max_error_increase": 0.0},
         "label": "(strict: no increase allowed)"},
    ]


def _sv_counts(baseline, candidate, min_requests=200, max_error_increase=0.01, p95_budget_ms=100.0):
    # compares error counts, not rates
    if candidate["requests"] < min_requests:
        return "wait"
    if candidate["errors"] > baseline["errors"] + max_error_increase * baseline["requests"] \
            or candidate["p95_ms"] > p95_budget_ms:
        return "rollback"
    return "promote"


def _sv_no_wait(baseline, candidate, min_requests=200, max_error_increase=0.01, p95_budget_ms=100.0):
    # decides on too little evidence
    return switch_version(baseline, candidate, 0, max_error_increase, p95_budget_ms)


def _sv_ignores_latency(baseline, candidate, min_requests=200, max_error_increase=0.01, p95_budget_ms=100.0):
    return switch_version(baseline, candidate, min_requests, max_error_increase, float("inf"))


def _sv_strict_boundary(baseline, candidate, min_requests=200, max_error_increase=0.01, p95_budget_ms=100.0):
    # rolls back at exactly the tolerance (>= instead of >)
    if candidate["requests"] < min_requests:
        return "wait"
    err_b = baseline["errors"] / baseline["requests"]
    err_c = candidate["errors"] / candidate["requests"]
    if err_c >= err_b + max_error_increase - 1e-12 or candidate["p95_ms"] >= p95_budget_ms:
        return "rollback"
    return "promote"


function_exercise(
    "14.switch_version",
    title="a version-switch rule: wait, promote or roll back",
    reference=switch_version,
    cases=_sv_cases,
    hints=[
        "Three outcomes, checked in order: not enough traffic yet → 'wait'; worse than the baseline → 'rollback'; "
        "otherwise 'promote'.",
        "Compare error RATES (errors / requests) — the two versions saw different amounts of traffic. Roll back if "
        "the candidate's rate is more than baseline + max_error_increase, or its p95 is over the budget "
        "(strictly greater: exactly at the limit is allowed).",
        "if candidate['requests'] < min_requests: return 'wait'; if err_c > err_b + max_error_increase or "
        "candidate['p95_ms'] > p95_budget_ms: return 'rollback'; return 'promote'",
    ],
    wrong=[_sv_counts, _sv_no_wait, _sv_ignores_latency, _sv_strict_boundary],
    section=SECTION_V,
)
