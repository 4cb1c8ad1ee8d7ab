"""Exercises of 18_drift_monitoring: PSI, a drift alert rule, a replay buffer."""
import numpy as np

from ..check import Exercise, Mismatch, function_exercise, register
from .. import drift
from ._compat import memorised

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


def _psi_random(rng):
    n_ref, n_cur = int(rng.integers(200, 2000)), int(rng.integers(100, 1500))
    ref = rng.normal(size=n_ref) * rng.uniform(0.5, 3)
    cur = rng.normal(rng.uniform(-1, 1), rng.uniform(0.5, 2), n_cur) * ref.std()
    far = rng.normal(6 * ref.std(), ref.std() * 0.3, int(rng.integers(50, 300)))
    bins = int(rng.integers(3, 13))
    return [{"args": (ref, cur), "kwargs": {"bins": bins}, "label": f"(random: {bins} bins)"},
            {"args": (ref, far), "kwargs": {"bins": bins, "eps": float(10 ** rng.uniform(-6, -2))},
             "label": "(random: far shift, empty bins, another eps)"}]


def _psi_bins_ignored(expected, actual, bins=10, eps=1e-4):
    return psi(expected, actual)


def _psi_eps_ignored(expected, actual, bins=10, eps=1e-4):
    return psi(expected, actual, bins=bins)


def _psi_log2(expected, actual, bins=10, eps=1e-4):
    return psi(expected, actual, bins=bins, eps=eps) / np.log(2)


def _psi_bins_from_actual(expected, actual, bins=10, eps=1e-4):
    return psi(actual, expected, bins=bins, eps=eps)


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
    random_cases=_psi_random,
    wrong={
        "other: one-way KL(a‖e), not symmetric": _psi_one_way_kl,
        "other: equal-width bins instead of quantile bins": _psi_equal_width,
        "unstable: no clipping, an empty bin gives log 0": _psi_no_clip,
        "boundary: closed outer edges drop values beyond the reference range": _psi_closed_edges,
        "ignored_argument: always 10 bins": _psi_bins_ignored,
        "ignored_argument: eps ignored": _psi_eps_ignored,
        "normalisation: log base 2": _psi_log2,
        "wrong_axis: bins from the current window, not the reference": _psi_bins_from_actual,
        "returns_none: forgets to return": lambda expected, actual, bins=10, eps=1e-4: None,
        "fits_visible: right on the fixed cases only": memorised(psi, _psi_cases, _psi_one_way_kl),
    },
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


def _alert_random(rng):
    n = int(rng.integers(5, 60))
    thr = float(np.round(rng.uniform(0.05, 0.4), 2))
    scores = np.round(rng.gamma(2.0, thr / 2, n), 2)
    scores[rng.random(n) < 0.15] = thr                     # some scores exactly at the threshold
    long = np.round(rng.gamma(2.0, thr / 1.5, 40), 2)        # patience ≥ 2 on a stream with long runs above
    return [{"args": (scores, thr, int(rng.integers(1, 5))), "label": f"(random: {n} windows)"},
            {"args": (long, thr, int(rng.integers(2, 5))), "label": "(random: patience ≥ 2)"}]


def _alert_patience_ignored(scores, threshold, patience):
    return np.asarray(scores) > threshold


def _alert_below(scores, threshold, patience):
    return _alert_ge(-np.asarray(scores), -threshold, patience)


def _alert_looks_ahead(scores, threshold, patience):
    above = np.asarray(scores) > threshold
    return np.array([bool(above[t:t + patience].all()) and t + patience <= len(above) for t in range(len(above))])


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
    random_cases=_alert_random,
    wrong={
        "boundary: ≥ instead of > at the threshold": _alert_ge,
        "other: never resets the count of windows above": _alert_no_reset,
        "off_by_one: needs patience + 1 windows": _alert_off_by_one,
        "ignored_argument: patience ignored": _alert_patience_ignored,
        "sign: flags windows at or below the threshold": _alert_below,
        "off_by_one: looks ahead (windows t … t+patience−1)": _alert_looks_ahead,
        "fits_visible: right on the fixed cases only": memorised(alert_rule, _alert_cases, _alert_patience_ignored),
    },
    section=SECTION_ALERT,
    register_it=False,
)
_alert_judge = _alert_ex.judge
_alert_ex.judge = lambda answer: _alert_judge(_as_array(answer))
register(_alert_ex)


# ------------------------------------------------------------------ 3. replay buffer
from ..drift import ReplayBuffer  # noqa: E402  the reference is the library's class: one implementation


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


class _OffByOneBuffer(ReplayBuffer):
    """Keeps the i-th example with probability capacity / i instead of capacity / (i + 1)."""

    def add(self, x, y):
        if len(self.X) < self.capacity:
            self.X.append(x)
            self.y.append(y)
        else:
            j = self.rng.integers(0, self.seen)
            if j < self.capacity:
                self.X[j], self.y[j] = x, y
        self.seen += 1


class _DeterministicSampleBuffer(ReplayBuffer):
    """sample(n) returns the first n stored examples every time."""

    def sample(self, n):
        k = min(n, len(self.X))
        return np.stack(self.X[:k]), np.asarray(self.y[:k])


class _GlobalRngBuffer(ReplayBuffer):
    """Ignores its seed: draws from NumPy's global random state."""

    def add(self, x, y):
        if len(self.X) < self.capacity:
            self.X.append(x)
            self.y.append(y)
        else:
            j = np.random.randint(0, self.seen + 1)
            if j < self.capacity:
                self.X[j], self.y[j] = x, y
        self.seen += 1

    def sample(self, n):
        idx = np.random.choice(len(self.X), size=min(n, len(self.X)), replace=False)
        return np.stack([self.X[i] for i in idx]), np.asarray([self.y[i] for i in idx])


class _WithReplacementBuffer(ReplayBuffer):
    """sample(n) draws with replacement (the same example can come twice)."""

    def sample(self, n):
        idx = self.rng.integers(0, len(self.X), size=min(n, len(self.X)))
        return np.stack([self.X[i] for i in idx]), np.asarray([self.y[i] for i in idx])


class _UnpairedBuffer(ReplayBuffer):
    """Shuffles X and y separately, so pairs no longer belong together."""

    def sample(self, n):
        k = min(n, len(self.X))
        ix = self.rng.choice(len(self.X), size=k, replace=False)
        iy = self.rng.choice(len(self.X), size=k, replace=False)
        return np.stack([self.X[i] for i in ix]), np.asarray([self.y[i] for i in iy])


def _stream(buf, start, stop):
    for i in range(start, stop):
        buf.add(np.array([float(i), 2.0 * i]), i)
    return buf


def _judge_replay(answer):
    from ._compat import fresh_seed
    if not callable(answer):
        raise Mismatch(f"expected a class ReplayBuffer(capacity, seed=0), got {type(answer).__name__}")
    seed = fresh_seed()
    rng = np.random.default_rng(seed)
    cap = int(rng.integers(20, 60))
    first = int(rng.integers(5, cap))
    tag = f" [random case, seed={seed}: capacity {cap}]"
    buf = _stream(answer(cap, seed=int(rng.integers(2 ** 31))), 0, first)
    if len(buf) != first:
        raise Mismatch(f"after adding {first} examples to a buffer of capacity {cap}, len(buf) is {len(buf)}, "
                       f"expected {first}{tag}")
    _stream(buf, first, 5 * cap)
    if len(buf) != cap:
        raise Mismatch(f"after adding {5 * cap} examples to a buffer of capacity {cap}, len(buf) is {len(buf)}, "
                       f"expected {cap}{tag}")
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
    X, y = buf.sample(10 * cap)
    if len(y) != cap or len(set(np.asarray(y).tolist())) != cap:
        raise Mismatch(f"sample({10 * cap}) from a buffer holding {cap} examples returned {len(y)} examples, "
                       f"{len(set(np.asarray(y).tolist()))} of them different; expected each of the {cap} once")
    # sample() must be random and uniform over what is stored
    counts = {}
    draws = 200
    for _ in range(draws):
        for v in np.asarray(buf.sample(5)[1]).tolist():
            counts[int(v)] = counts.get(int(v), 0) + 1
    expected = draws * 5 / cap
    if len(counts) < cap or min(counts.values()) < 0.3 * expected or max(counts.values()) > 2.5 * expected:
        raise Mismatch(f"200 calls of sample(5) from a full buffer of {cap} drew {len(counts)} different stored "
                       f"examples, each between {min(counts.values())} and {max(counts.values())} times; a uniform "
                       f"random sample draws every one about {expected:.0f} times — draw fresh random indices on "
                       f"every call{tag}")
    # the buffer's randomness comes from its seed: same seed, same buffer; different seeds, different buffers
    s = int(rng.integers(2 ** 31))
    a = np.sort(np.asarray(_stream(answer(10, seed=s), 0, 200).sample(10)[1]))
    b = np.sort(np.asarray(_stream(answer(10, seed=s), 0, 200).sample(10)[1]))
    if not np.array_equal(a, b):
        raise Mismatch(f"two buffers made with the same seed ({s}) and fed the same stream kept different examples: "
                       "draw every random number from np.random.default_rng(seed), not from np.random")
    # every example of the stream is kept with the same probability: capacity / seen
    for c, n in ((1, 3), (2, 4)):
        kept = np.zeros(n)
        for t in range(300):
            buf = answer(c, seed=int(rng.integers(2 ** 31)))
            for i in range(n):
                buf.add(np.array([float(i)]), i)
            for v in np.asarray(buf.sample(c)[1]).tolist():
                kept[int(v)] += 1
        share = kept / 300
        if np.abs(share - c / n).max() > 0.12:
            raise Mismatch(f"capacity {c}, a stream of {n} examples, 300 runs: example i was kept in "
                           f"{', '.join(f'{v:.0%}' for v in share)} of the runs; reservoir sampling keeps each one "
                           f"with probability {c}/{n} = {c / n:.0%} (keep the i-th, 0-based, with probability "
                           f"capacity/(i+1)){tag}")
    first_half, first_tenth = [], []
    for _ in range(10):
        buf = answer(100, seed=int(rng.integers(2 ** 31)))
        for i in range(2000):
            buf.add(np.array([float(i)]), i)
        kept = np.array([int(v) for v in buf.sample(100)[1]])
        first_half.append(np.mean(kept < 1000))
        first_tenth.append(np.mean(kept < 200))
    h, t = float(np.mean(first_half)), float(np.mean(first_tenth))
    if not (0.4 <= h <= 0.6 and 0.05 <= t <= 0.15):
        raise Mismatch(f"after streaming 2,000 examples through a buffer of 100, {h:.0%} of the kept examples come "
                       f"from the first half of the stream and {t:.0%} from the first tenth; a uniform sample keeps "
                       f"about 50 % and 10 % (reservoir sampling){tag}")


register(Exercise(
    id="18.replay_buffer",
    title="a replay buffer with reservoir sampling",
    judge=_judge_replay,
    reference=ReplayBuffer,
    wrong={
        "other: keeps the most recent examples (FIFO)": _FIFOBuffer,
        "boundary: keeps only the first `capacity` examples": _FirstOnlyBuffer,
        "normalisation: always replaces once full (old examples decay)": _AlwaysReplaceBuffer,
        "off_by_one: keeps the i-th with probability capacity/i": _OffByOneBuffer,
        "fits_visible: sample() always returns the first n": _DeterministicSampleBuffer,
        "global_rng: ignores its seed (np.random)": _GlobalRngBuffer,
        "other: samples with replacement": _WithReplacementBuffer,
        "wrong_axis: x's and y's shuffled separately": _UnpairedBuffer,
    },
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
