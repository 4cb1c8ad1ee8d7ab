"""Exercises of 14_deployment_inference: percentiles of timings, a micro-batching queue, a version-switch rule.

Each judge runs fixed cases and fresh random ones; ``wrong`` is a catalogue of classed mistakes that
``tests/test_exercises.py`` proves are rejected.
"""
import math
from statistics import NormalDist

import numpy as np

from ..check import function_exercise

SECTION_L = "14 · Latency vs throughput"
SECTION_B = "14 · A dynamic-batching server"
SECTION_V = "14 · Versioning and rollback"


# ------------------------------------------------------------------ 1. percentile (warm-up)
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
        {"args": (np.array([4.0, 9.0, 1.0]), 100), "label": "(q = 100 is the maximum)"},
        {"args": ([2.0, 2.0, 5.0, 5.0, 5.0, 9.0], 37.5), "label": "(a list with ties, fractional q)"},
    ]


def _pc_random(rng):
    cases = []
    for _ in range(6):
        n = int(rng.integers(1, 300))
        vals = rng.lognormal(rng.uniform(-2, 3), rng.uniform(0.1, 1.5), n)
        if rng.random() < 0.3:
            vals = np.round(vals, 0)                                  # ties
        q = float(rng.choice([0, 50, 90, 95, 99, 99.9, 100, rng.uniform(0, 100)]))
        cases.append({"args": (vals, q), "label": f"(random: {n} timings, q = {q:g})"})
    return cases


def _pc_nearest_rank(values, q):
    a = np.sort(np.asarray(values, float))
    return float(a[int(round((len(a) - 1) * q / 100.0))])


def _pc_n_not_n_minus_1(values, q):
    a = np.sort(np.asarray(values, float))
    pos = min(len(a) * q / 100.0, len(a) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(a[lo] + (a[hi] - a[lo]) * (pos - lo))


def _pc_unsorted(values, q):
    a = np.asarray(values, float)
    pos = (len(a) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(a[lo] + (a[hi] - a[lo]) * (pos - lo))


def _pc_q_as_fraction(values, q):
    a = np.sort(np.asarray(values, float))
    pos = min((len(a) - 1) * q, len(a) - 1)                          # forgot the / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(a[lo] + (a[hi] - a[lo]) * (pos - lo))


def _pc_wrong_neighbour(values, q):
    a = np.sort(np.asarray(values, float))
    pos = (len(a) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(a[lo] + (a[hi] - a[lo]) * (hi - pos))                # weight measured from the wrong end


def _pc_always_p95(values, q):
    return percentile(values, 95)


def _pc_no_return(values, q):
    a = np.sort(np.asarray(values, float))
    pos = (len(a) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    _ = float(a[lo] + (a[hi] - a[lo]) * (pos - lo))


_PC_VISIBLE = {(3.0, 50): 2.5, (5.0, 95): 4.8, (7.0, 99): 7.0, (4.0, 0): 4.0}


def _pc_fits_visible(values, q):
    v = np.asarray(values, float)
    key = (float(v[0]), q)
    return _PC_VISIBLE.get(key, float(np.median(v)))


function_exercise(
    id="14.percentile",
    title="a percentile of measured latencies",
    reference=percentile,
    cases=_pc_cases,
    random_cases=_pc_random,
    hints=[
        "Sort the timings first. The q-th percentile sits at position (n − 1)·q/100 in the sorted array "
        "(0 is the minimum, n − 1 the maximum).",
        "That position is usually between two indices lo = floor(pos) and hi = ceil(pos): interpolate linearly, "
        "a[lo] + (a[hi] − a[lo])·(pos − lo). Don't assume a normal distribution: latency tails are long.",
        "a = np.sort(values); pos = (len(a) - 1) * q / 100; lo, hi = math.floor(pos), math.ceil(pos); "
        "return a[lo] + (a[hi] - a[lo]) * (pos - lo)",
    ],
    wrong={
        "other: nearest rank, no interpolation": _pc_nearest_rank,
        "off_by_one: position q/100·n instead of q/100·(n − 1)": _pc_n_not_n_minus_1,
        "other: forgets to sort the timings": _pc_unsorted,
        "normalisation: q used as a fraction (forgot / 100)": _pc_q_as_fraction,
        "sign: interpolation weight taken from the wrong neighbour": _pc_wrong_neighbour,
        "ignored_argument: always the 95th percentile": _pc_always_p95,
        "returns_none: computes the value but never returns it": _pc_no_return,
        "fits_visible: hard-codes the visible cases, median otherwise": _pc_fits_visible,
    },
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


_TICK = 1.0 / 1024  # random cases live on a dyadic grid: sums are exact, so "arrives at the deadline" is a real tie


class _GridCost:
    """cost(b) = (c0 + c1·b) ticks: exact in binary floating point."""

    def __init__(self, c0, c1):
        self.c0, self.c1 = int(c0), int(c1)

    def __call__(self, b):
        return (self.c0 + self.c1 * b) * _TICK

    def __repr__(self):
        return f"cost(b) = ({self.c0} + {self.c1}·b)/1024 s"


def _pb_cases():
    rng = np.random.default_rng(5)
    burst = [0.0, 0.0005, 0.001, 0.0012, 0.002, 0.0021, 0.0022, 0.01, 0.0105, 0.03]
    poisson = np.cumsum(rng.exponential(0.001, 60)).tolist()
    t = _TICK
    return [
        {"args": (burst, 4, 0.002, _cost_const), "label": "(a burst, max_batch 4, 2 ms wait)"},
        {"args": (burst, 1, 0.002, _cost_const), "label": "(max_batch 1: no batching)"},
        {"args": ([0.0, 0.001, 0.0025, 0.0028], 8, 0.002, _cost_const), "label": "(the wait window closes)"},
        {"args": (poisson, 8, 0.003, _cost_linear), "label": "(60 Poisson arrivals, busy worker)"},
        {"args": ([0.0, 0.0, 0.0, 0.0, 0.0], 2, 0.0, _cost_const), "label": "(max_wait 0, simultaneous)"},
        {"args": ([0.0, 2 * t, 4 * t, 5 * t], 8, 2 * t, _GridCost(1, 0)),
         "label": "(a request arrives exactly at the deadline: it joins the batch)"},
    ]


def _pb_random(rng):
    cases = []
    for _ in range(4):
        n = int(rng.integers(1, 60))
        gaps = rng.geometric(rng.uniform(0.1, 0.9), n) - 1           # many zero gaps: simultaneous requests
        arrivals = (np.cumsum(gaps) * _TICK).tolist()
        max_batch = int(rng.integers(1, 9))
        max_wait = int(rng.integers(0, 6)) * _TICK
        cost = _GridCost(rng.integers(0, 6), rng.integers(0, 3))
        cases.append({"args": (arrivals, max_batch, max_wait, cost),
                      "label": f"(random: {n} arrivals, max_batch {max_batch}, max_wait {max_wait * 1024:g}/1024 s, "
                               f"{cost})"})
    return cases


def _pb_deadline_from_arrival(arrivals, max_batch, max_wait, cost):
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


def _pb_ignores_busy_worker(arrivals, max_batch, max_wait, cost):
    return plan_batches(arrivals, max_batch, max_wait, lambda b: 0.0)


def _pb_off_by_one(arrivals, max_batch, max_wait, cost):
    return plan_batches(arrivals, max_batch + 1, max_wait, cost)


def _pb_always_waits(arrivals, max_batch, max_wait, cost):
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


def _pb_strict_deadline(arrivals, max_batch, max_wait, cost):
    out, free, i, n = [], 0.0, 0, len(arrivals)
    while i < n:
        start = max(arrivals[i], free)
        deadline = start + max_wait
        batch, j = [i], i + 1
        while j < n and len(batch) < max_batch and arrivals[j] < deadline:   # < : a request at the deadline waits
            batch.append(j)
            j += 1
        run = max(start, arrivals[batch[-1]]) if len(batch) == max_batch else deadline
        out.append((float(run), batch))
        free = run + cost(len(batch))
        i = j
    return out


def _pb_no_return(arrivals, max_batch, max_wait, cost):
    _ = plan_batches(arrivals, max_batch, max_wait, cost)


def _pb_fits_visible(arrivals, max_batch, max_wait, cost):
    if len(arrivals) in (10, 4, 60, 5):
        return plan_batches(arrivals, max_batch, max_wait, cost)
    return [(float(a), [k]) for k, a in enumerate(arrivals)]


function_exercise(
    id="14.plan_batches",
    title="simulate a micro-batching queue",
    reference=plan_batches,
    cases=_pb_cases,
    random_cases=_pb_random,
    atol=1e-12,
    hints=[
        "Loop over batches. A batch starts when the worker is free AND a request is waiting: "
        "start = max(arrivals[i], free). Its window closes at start + max_wait.",
        "Add the following requests while they arrive by the deadline (a request at exactly the deadline joins) "
        "and the batch holds fewer than max_batch. A full batch runs at max(start, arrival of its last request); "
        "a partial one at the deadline. Then free = run + cost(len(batch)).",
        "run = max(start, arrivals[batch[-1]]) if len(batch) == max_batch else start + max_wait; "
        "out.append((run, batch)); free = run + cost(len(batch)); i = next unbatched index",
    ],
    wrong={
        "other: window measured from the request's arrival, not from when the worker takes it": _pb_deadline_from_arrival,
        "ignored_argument: ignores cost, so the worker is never busy": _pb_ignores_busy_worker,
        "off_by_one: lets a batch grow to max_batch + 1": _pb_off_by_one,
        "other: waits for the deadline even when the batch is full": _pb_always_waits,
        "boundary: a request arriving exactly at the deadline is left out": _pb_strict_deadline,
        "returns_none: builds the plan but never returns it": _pb_no_return,
        "fits_visible: right only on the visible case sizes": _pb_fits_visible,
    },
    section=SECTION_B,
)


# ------------------------------------------------------------------ 3. version-switch rule
def switch_version(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    """Reference: "wait" until the candidate has min_requests; then "rollback" if its p95 is over budget or a
    one-sided two-proportion z-test (pooled) finds its error rate higher than the baseline's at level alpha;
    else "promote"."""
    if candidate["requests"] < min_requests:
        return "wait"
    if candidate["p95_ms"] > p95_budget_ms:
        return "rollback"
    n_b, n_c = baseline["requests"], candidate["requests"]
    e_b, e_c = baseline["errors"], candidate["errors"]
    pooled = (e_b + e_c) / (n_b + n_c)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_b + 1 / n_c))
    z = (e_c / n_c - e_b / n_b) / se if se > 0 else 0.0
    return "rollback" if z > NormalDist().inv_cdf(1 - alpha) else "promote"


def _sv_z(baseline, candidate):
    n_b, n_c, e_b, e_c = baseline["requests"], candidate["requests"], baseline["errors"], candidate["errors"]
    pooled = (e_b + e_c) / (n_b + n_c)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_b + 1 / n_c))
    return (e_c / n_c - e_b / n_b) / se if se > 0 else 0.0


def _sv_cases():
    base = {"requests": 1000, "errors": 30, "p95_ms": 12.0}
    return [
        {"args": (base, {"requests": 150, "errors": 40, "p95_ms": 10.0}), "label": "(too early to judge)"},
        {"args": (base, {"requests": 150, "errors": 4, "p95_ms": 300.0}),
         "label": "(too early, even though p95 is over budget: min_requests comes first)"},
        {"args": (base, {"requests": 400, "errors": 14, "p95_ms": 11.0}), "label": "(3.5 % vs 3 %: chance, promote)"},
        {"args": (base, {"requests": 400, "errors": 40, "p95_ms": 11.0}), "label": "(10 % vs 3 %: roll back)"},
        {"args": (base, {"requests": 300, "errors": 5, "p95_ms": 180.0}), "label": "(too slow: roll back)"},
        {"args": (base, {"requests": 200, "errors": 6, "p95_ms": 100.0}),
         "label": "(exactly min_requests, p95 exactly at budget: decide, and it is allowed)"},
        {"args": (base, {"requests": 400, "errors": 24, "p95_ms": 11.0}), "kwargs": {"alpha": 0.05},
         "label": "(6 % vs 3 %: z ≈ 2.63, roll back)"},
        {"args": (base, {"requests": 400, "errors": 21, "p95_ms": 11.0}),
         "label": "(5.25 % vs 3 %: z ≈ 2.03, over 1.645 but under 2.326: promote at alpha 0.01)"},
        {"args": (base, {"requests": 400, "errors": 21, "p95_ms": 11.0}), "kwargs": {"alpha": 0.05},
         "label": "(the same at alpha 0.05: roll back)"},
        {"args": ({"requests": 800, "errors": 0, "p95_ms": 5.0}, {"requests": 300, "errors": 0, "p95_ms": 6.0}),
         "label": "(no errors anywhere: the standard error is 0)"},
        {"args": (base, {"requests": 600, "errors": 2, "p95_ms": 11.0}), "kwargs": {"alpha": 0.05},
         "label": "(a much BETTER candidate: one-sided, so promote)"},
        {"args": ({"requests": 500, "errors": 10, "p95_ms": 5.0}, {"requests": 2000, "errors": 50, "p95_ms": 6.0}),
         "kwargs": {"min_requests": 2000}, "label": "(a bigger candidate sample: compare rates, not counts)"},
    ]


def _sv_random(rng):
    cases = []
    while len(cases) < 8:
        n_b = int(rng.integers(100, 3000))
        p = rng.uniform(0, 0.3)
        base = {"requests": n_b, "errors": int(rng.binomial(n_b, p)), "p95_ms": float(rng.uniform(5, 50))}
        n_c = int(rng.integers(20, 2000))
        p_c = min(1.0, p + rng.choice([0.0, 0.01, 0.03, 0.08, -0.02]))
        cand = {"requests": n_c, "errors": int(rng.binomial(n_c, max(p_c, 0.0))),
                "p95_ms": float(rng.choice([rng.uniform(5, 99), rng.uniform(100.5, 300), 100.0]))}
        kw = {"min_requests": int(rng.choice([50, 200, n_c])), "alpha": float(rng.choice([0.01, 0.05, 0.2]))}
        z, crit = _sv_z(base, cand), NormalDist().inv_cdf(1 - kw["alpha"])
        if abs(z - crit) < 1e-6:
            continue                                                   # never judge on a floating-point tie
        cases.append({"args": (base, cand), "kwargs": kw, "label": "(random traffic)"})
    return cases


def _sv_p95_first(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    if candidate["p95_ms"] > p95_budget_ms:
        return "rollback"
    return switch_version(baseline, candidate, min_requests, alpha, p95_budget_ms)


def _sv_fixed_margin(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    if candidate["requests"] < min_requests:
        return "wait"
    err_b = baseline["errors"] / baseline["requests"]
    err_c = candidate["errors"] / candidate["requests"]
    return "rollback" if err_c > err_b + 0.01 or candidate["p95_ms"] > p95_budget_ms else "promote"


def _sv_sign(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    if candidate["requests"] < min_requests:
        return "wait"
    if candidate["p95_ms"] > p95_budget_ms:
        return "rollback"
    z = -_sv_z(baseline, candidate)                                     # baseline minus candidate
    return "rollback" if z > NormalDist().inv_cdf(1 - alpha) else "promote"


def _sv_two_sided(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    if candidate["requests"] < min_requests:
        return "wait"
    if candidate["p95_ms"] > p95_budget_ms:
        return "rollback"
    return "rollback" if abs(_sv_z(baseline, candidate)) > NormalDist().inv_cdf(1 - alpha / 2) else "promote"


def _sv_variance_not_se(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    if candidate["requests"] < min_requests:
        return "wait"
    if candidate["p95_ms"] > p95_budget_ms:
        return "rollback"
    n_b, n_c, e_b, e_c = baseline["requests"], candidate["requests"], baseline["errors"], candidate["errors"]
    pooled = (e_b + e_c) / (n_b + n_c)
    var = pooled * (1 - pooled) * (1 / n_b + 1 / n_c)                   # forgot the square root
    z = (e_c / n_c - e_b / n_b) / var if var > 0 else 0.0
    return "rollback" if z > NormalDist().inv_cdf(1 - alpha) else "promote"


def _sv_counts(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    if candidate["requests"] < min_requests:
        return "wait"
    if candidate["p95_ms"] > p95_budget_ms:
        return "rollback"
    return "rollback" if candidate["errors"] > baseline["errors"] else "promote"   # counts, not rates


def _sv_off_by_one(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    if candidate["requests"] <= min_requests:
        return "wait"
    return switch_version(baseline, candidate, 0, alpha, p95_budget_ms)


def _sv_ignores_alpha(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    return switch_version(baseline, candidate, min_requests, 0.05, p95_budget_ms)


def _sv_zero_se(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    if candidate["requests"] < min_requests:
        return "wait"
    if candidate["p95_ms"] > p95_budget_ms:
        return "rollback"
    n_b, n_c, e_b, e_c = baseline["requests"], candidate["requests"], baseline["errors"], candidate["errors"]
    pooled = (e_b + e_c) / (n_b + n_c)
    z = (e_c / n_c - e_b / n_b) / math.sqrt(pooled * (1 - pooled) * (1 / n_b + 1 / n_c))   # 0/0 with no errors
    return "rollback" if z > NormalDist().inv_cdf(1 - alpha) else "promote"


def _sv_no_return(baseline, candidate, min_requests=200, alpha=0.01, p95_budget_ms=100.0):
    d = switch_version(baseline, candidate, min_requests, alpha, p95_budget_ms)
    if d != "promote":
        return d                                                        # falls off the end instead of promoting


function_exercise(
    id="14.switch_version",
    title="a version-switch rule: wait, promote or roll back on evidence",
    reference=switch_version,
    cases=_sv_cases,
    random_cases=_sv_random,
    hints=[
        "Three outcomes, checked in this order: fewer than min_requests → 'wait' (before anything else, even "
        "latency: a p95 of 20 requests means little); p95 over budget or errors significantly worse → 'rollback'; "
        "otherwise 'promote'.",
        "Compare error RATES with a one-sided two-proportion z-test: pooled p = (e_b + e_c)/(n_b + n_c), "
        "se = sqrt(p(1 − p)(1/n_b + 1/n_c)), z = (e_c/n_c − e_b/n_b)/se (take z = 0 when se is 0). Roll back when "
        "z > NormalDist().inv_cdf(1 − alpha). One-sided: a better candidate is never rolled back.",
        "if candidate['requests'] < min_requests: return 'wait'; if candidate['p95_ms'] > p95_budget_ms: "
        "return 'rollback'; …compute z…; return 'rollback' if z > NormalDist().inv_cdf(1 - alpha) else 'promote'",
    ],
    wrong={
        "other: checks p95 before min_requests (rolls back on 20 noisy timings)": _sv_p95_first,
        "other: a fixed margin on the rates (rolls back an identical model by chance)": _sv_fixed_margin,
        "sign: baseline minus candidate": _sv_sign,
        "other: two-sided test (rolls back a better candidate)": _sv_two_sided,
        "normalisation: divides by the variance instead of the standard error": _sv_variance_not_se,
        "normalisation: compares error counts, not rates": _sv_counts,
        "off_by_one: still waits at exactly min_requests": _sv_off_by_one,
        "ignored_argument: alpha hard-coded to 0.05": _sv_ignores_alpha,
        "unstable: divides by a zero standard error when neither version erred": _sv_zero_se,
        "returns_none: forgets to return 'promote'": _sv_no_return,
    },
    section=SECTION_V,
)
