"""Exercises of 18_drift_monitoring: PSI, a drift alert rule, a replay buffer."""
import numpy as np

from ..check import Exercise, Mismatch, function_exercise, register
from .. import drift

SECTION_PSI = "18 · Data drift: PSI and the KS test"
SECTION_ALERT = "18 · An alerting rule and its false-alarm rate"
SECTION_REPLAY = "18 · Continual learning: forgetting and replay"


# ------------------------------------------------------------------ 1. PSI
def psi(expected, actual, bins=10, eps=1e-4):
    """Reference: quantile bins of the reference sample, open outer edges, clipped proportions."""
    return drift.psi(expected, actual, bins=bins, eps=eps)


def _psi_cases():
    rng = np.random.default_rng(15)
    ref = rng.normal(size=1000)  # 999·k/bins is never an integer: no bin edge sits on a data point
    return [
        {"args": (ref, rng.normal(0.3, 1.0, 500)), "label": "(mean shifted by 0.3)"},
        {"args": (ref, rng.normal(0.0, 1.6, 800)), "kwargs": {"bins": 5}, "label": "(wider spread, 5 bins)"},
        {"args": (ref, rng.normal(4.0, 0.5, 300)), "label": "(far shift: some bins end up empty)"},
        {"args": (ref, ref.copy()), "label": "(no drift at all)"},
    ]


def _counts(x, inner, bins):
    return np.bincount(np.searchsorted(inner, x, side="right"), minlength=bins) / len(x)


def _psi_one_way_kl(expected, actual, bins=10, eps=1e-4):
    inner = np.quantile(expected, np.linspace(0, 1, bins + 1))[1:-1]
    e, a = np.clip(_counts(expected, inner, bins), eps, None), np.clip(_counts(actual, inner, bins), eps, None)
    return float(np.sum(a * np.log(a / e)))  # KL(a‖e) only: not symmetric


def _psi_equal_width(expected, actual, bins=10, eps=1e-4):
    inner = np.linspace(expected.min(), expected.max(), bins + 1)[1:-1]  # equal-width, not quantile bins
    e, a = np.clip(_counts(expected, inner, bins), eps, None), np.clip(_counts(actual, inner, bins), eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _psi_no_clip(expected, actual, bins=10, eps=1e-4):
    inner = np.quantile(expected, np.linspace(0, 1, bins + 1))[1:-1]
    e, a = _counts(expected, inner, bins), _counts(actual, inner, bins)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.sum((a - e) * np.log(a / e)))  # an empty bin gives log(0): inf or nan


def _psi_closed_edges(expected, actual, bins=10, eps=1e-4):
    edges = np.quantile(expected, np.linspace(0, 1, bins + 1))  # values beyond the reference range are dropped
    e = np.histogram(expected, edges)[0] / len(expected)
    a = np.histogram(actual, edges)[0] / len(actual)
    e, a = np.clip(e, eps, None), np.clip(a, eps, None)
    return float(np.sum((a - e) * np.log(a / e)))


function_exercise(
    "18.psi",
    title="population stability index",
    reference=psi,
    cases=_psi_cases,
    atol=1e-6, rtol=1e-6,
    hints=[
        "Bin edges are the quantiles of the REFERENCE sample: np.quantile(expected, np.linspace(0, 1, bins + 1)). "
        "Open the two outer edges (−∞, +∞) so no value falls outside.",
        "Turn counts into proportions of each sample, clip both at eps (an empty bin would give log 0), "
        "then PSI = Σ (actual − expected) · ln(actual / expected) — symmetric, unlike one-way KL.",
        "inner = np.quantile(expected, np.linspace(0, 1, bins + 1))[1:-1]; "
        "p = lambda x: np.clip(np.bincount(np.searchsorted(inner, x, side='right'), minlength=bins) / len(x), eps, None); "
        "e, a = p(expected), p(actual); return float(np.sum((a - e) * np.log(a / e)))",
    ],
    wrong=[_psi_one_way_kl, _psi_equal_width, _psi_no_clip, _psi_closed_edges],
    section=SECTION_PSI,
)


# ------------------------------------------------------------------ 2. alert rule
def alert_rule(scores, threshold, patience):
    """Reference: alarm at t when the last `patience` scores (t included) all exceed `threshold`."""
    return drift.alert(scores, threshold, patience)


def _alert_cases():
    s = np.array([0.05, 0.30, 0.10, 0.30, 0.30, 0.20, 0.40, 0.35, 0.30, 0.05, 0.25, 0.26, 0.27])
    rng = np.random.default_rng(7)
    noisy = np.round(rng.gamma(2.0, 0.06, 60), 2)
    return [
        {"args": (s, 0.25, 1), "label": "(patience 1)"},
        {"args": (s, 0.25, 2), "label": "(patience 2)"},
        {"args": (s, 0.20, 3), "label": "(a score exactly at the threshold is not above it)"},
        {"args": (noisy, 0.2, 2), "label": "(noisy scores)"},
        {"args": (np.zeros(5), 0.1, 1), "label": "(no drift)"},
    ]


def _alert_ge(scores, threshold, patience):
    out, run = [], 0
    for v in scores:
        run = run + 1 if v >= threshold else 0  # ≥ instead of >
        out.append(run >= patience)
    return np.array(out)


def _alert_no_reset(scores, threshold, patience):
    return np.cumsum(np.asarray(scores) > threshold) >= patience  # counts all exceedances so far


def _alert_off_by_one(scores, threshold, patience):
    out, run = [], 0
    for v in scores:
        run = run + 1 if v > threshold else 0
        out.append(run > patience)  # needs patience + 1 windows
    return np.array(out)


def _as_array(fn):
    if not callable(fn):
        return fn
    return lambda *a, **k: np.asarray(fn(*a, **k), dtype=bool)


_alert_ex = function_exercise(
    "18.alert_rule",
    title="a drift alert rule with a threshold and patience",
    reference=alert_rule,
    cases=_alert_cases,
    hints=[
        "Walk through the scores keeping a counter of consecutive windows ABOVE the threshold (strictly >); "
        "reset it to 0 whenever a score is not above.",
        "The alarm at window t is on when that counter is ≥ patience — so patience=1 flags every window above "
        "the threshold. Return a boolean NumPy array as long as `scores`.",
        "out, run = np.zeros(len(scores), bool), 0\n"
        "for t, v in enumerate(scores):\n    run = run + 1 if v > threshold else 0\n    out[t] = run >= patience\n"
        "return out",
    ],
    wrong=[_alert_ge, _alert_no_reset, _alert_off_by_one],
    section=SECTION_ALERT,
    register_it=False,
)
_alert_judge = _alert_ex.judge
_alert_ex.judge = lambda answer: _alert_judge(_as_array(answer))
register(_alert_ex)


# ------------------------------------------------------------------ 3. replay buffer
class ReplayBuffer:
    """Reference: reservoir sampling (Vitter's algorithm R)."""

    def __init__(self, capacity, seed=0):
        self.capacity, self.rng = capacity, np.random.default_rng(seed)
        self.X, self.y, self.seen = [], [], 0

    def add(self, x, y):
        if len(self.X) < self.capacity:
            self.X.append(x)
            self.y.append(y)
        else:
            j = self.rng.integers(0, self.seen + 1)
            if j < self.capacity:
                self.X[j], self.y[j] = x, y
        self.seen += 1

    def __len__(self):
        return len(self.X)

    def sample(self, n):
        idx = self.rng.choice(len(self.X), size=min(n, len(self.X)), replace=False)
        return np.stack([self.X[i] for i in idx]), np.array([self.y[i] for i in idx])


class _FIFOBuffer(ReplayBuffer):
    """Keeps the most recent examples: forgets the old task, the thing replay should prevent."""

    def add(self, x, y):
        self.X.append(x)
        self.y.append(y)
        if len(self.X) > self.capacity:
            self.X.pop(0)
            self.y.pop(0)
        self.seen += 1


class _FirstOnlyBuffer(ReplayBuffer):
    """Keeps the first `capacity` examples and ignores everything after."""

    def add(self, x, y):
        if len(self.X) < self.capacity:
            self.X.append(x)
            self.y.append(y)
        self.seen += 1


class _AlwaysReplaceBuffer(ReplayBuffer):
    """Once full, every new example overwrites a random slot: old examples decay exponentially."""

    def add(self, x, y):
        if len(self.X) < self.capacity:
            self.X.append(x)
            self.y.append(y)
        else:
            j = self.rng.integers(0, self.capacity)
            self.X[j], self.y[j] = x, y
        self.seen += 1


def _judge_replay(answer):
    if not callable(answer):
        raise Mismatch(f"expected a class ReplayBuffer(capacity, seed=0), got {type(answer).__name__}")
    buf = answer(50, seed=0)
    for i in range(30):
        buf.add(np.array([float(i), 2.0 * i]), i)
    if len(buf) != 30:
        raise Mismatch(f"after adding 30 examples to a buffer of capacity 50, len(buf) is {len(buf)}, expected 30")
    for i in range(30, 230):
        buf.add(np.array([float(i), 2.0 * i]), i)
    if len(buf) != 50:
        raise Mismatch(f"after adding 230 examples to a buffer of capacity 50, len(buf) is {len(buf)}, expected 50")
    out = buf.sample(10)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise Mismatch("sample(n) should return a tuple (X, y) of arrays")
    X, y = np.asarray(out[0]), np.asarray(out[1])
    if X.shape != (10, 2) or y.shape != (10,):
        raise Mismatch(f"sample(10) returned X of shape {X.shape} and y of shape {y.shape}; expected (10, 2) and (10,)")
    if not np.array_equal(X[:, 0].astype(int), y.astype(int)):
        raise Mismatch("sample() returned x's and y's that do not belong together: keep each (x, y) pair intact")
    if len(set(y.tolist())) != 10:
        raise Mismatch("sample(10) returned the same example twice: draw without replacement")
    X, y = buf.sample(500)
    if len(y) != 50:
        raise Mismatch(f"sample(500) from a buffer holding 50 examples returned {len(y)}; expected all 50")
    # every example of the stream should be kept with the same probability: capacity / seen
    first_half, first_tenth = [], []
    for seed in range(10):
        buf = answer(100, seed=seed)
        for i in range(2000):
            buf.add(np.array([float(i)]), i)
        kept = np.array([int(v) for v in buf.sample(100)[1]])
        first_half.append(np.mean(kept < 1000))
        first_tenth.append(np.mean(kept < 200))
    h, t = float(np.mean(first_half)), float(np.mean(first_tenth))
    if not (0.4 <= h <= 0.6 and 0.05 <= t <= 0.15):
        raise Mismatch(f"after streaming 2,000 examples through a buffer of 100, {h:.0%} of the kept examples come "
                       f"from the first half of the stream and {t:.0%} from the first tenth; a uniform sample keeps "
                       "about 50 % and 10 % (reservoir sampling)")


register(Exercise(
    id="18.replay_buffer",
    title="a replay buffer with reservoir sampling",
    judge=_judge_replay,
    reference=ReplayBuffer,
    wrong=[_FIFOBuffer, _FirstOnlyBuffer, _AlwaysReplaceBuffer],
    hints=[
        "The buffer must stay a uniform sample of EVERYTHING seen so far, not the latest or the first examples: "
        "count the examples seen and fill the buffer until it holds `capacity` of them.",
        "Once it is full, keep the i-th example (0-based) with probability capacity / (i + 1): draw "
        "j = rng.integers(0, i + 1) and, if j < capacity, overwrite slot j. sample(n) draws min(n, len) stored "
        "indices with rng.choice(..., replace=False).",
        "add(): if len(self.X) < self.capacity: append; else: j = self.rng.integers(0, self.seen + 1); "
        "if j < self.capacity: self.X[j], self.y[j] = x, y.  Then self.seen += 1.",
    ],
    section=SECTION_REPLAY,
))
