"""Exercises of 06_rnn: the RNN step, leak-free windowing of a series, temperature sampling."""
import numpy as np

from ..check import Exercise, Mismatch, function_exercise, register

SECTION_STEP = "06 · An RNN cell from scratch"
SECTION_WINDOWS = "06 · Forecasting sunspots"
SECTION_SAMPLE = "06 · A character-level language model"


# ---------------------------------------------------------------- 1. the RNN step
def rnn_step(x_t, h_prev, Wx, Wh, b):
    """Reference: one Elman/SimpleRNN step, h_t = tanh(x_t Wx + h_prev Wh + b), batch first."""
    return np.tanh(x_t @ Wx + h_prev @ Wh + b)


def _step_cases():
    rng = np.random.default_rng(6)

    def case(batch, features, units, label, scale=0.5):
        return {"args": (rng.normal(size=(batch, features)), rng.normal(size=(batch, units)),
                         rng.normal(0, scale, (features, units)), rng.normal(0, scale, (units, units)),
                         rng.normal(0, scale, units)), "label": label}
    return [case(1, 3, 4, "(one sequence)"), case(5, 2, 3, "(batch of 5)"),
            case(4, 6, 6, "(features == units)"), case(3, 4, 5, "(large weights)", scale=2.0)]


function_exercise(
    "06.rnn_step",
    title="one step of a simple RNN",
    reference=rnn_step,
    cases=_step_cases,
    hints=[
        "The new state mixes the current input and the previous state: x_t @ Wx has shape (batch, units), "
        "and so must the recurrent term.",
        "Keras' layout multiplies the state on the LEFT: h_prev @ Wh (not Wh @ h_prev, not Wh.T), then adds the "
        "bias and squashes with tanh.",
        "return np.tanh(x_t @ Wx + h_prev @ Wh + b)",
    ],
    wrong=[
        lambda x_t, h_prev, Wx, Wh, b: x_t @ Wx + h_prev @ Wh + b,                  # no activation
        lambda x_t, h_prev, Wx, Wh, b: np.tanh(x_t @ Wx + h_prev @ Wh.T + b),       # recurrent matrix transposed
        lambda x_t, h_prev, Wx, Wh, b: np.maximum(x_t @ Wx + h_prev @ Wh + b, 0),   # relu instead of tanh
        lambda x_t, h_prev, Wx, Wh, b: np.tanh(x_t @ Wx + h_prev @ Wh),             # bias forgotten
        lambda x_t, h_prev, Wx, Wh, b: np.tanh(x_t @ Wx + b),                       # forgets the state
    ],
    section=SECTION_STEP,
)


# ---------------------------------------------------------------- 2. windowing without leakage
def make_windows(series, window, start, stop):
    """Reference: inputs series[i-window:i] and target series[i] for every target index i in [start, stop)."""
    series = np.asarray(series)
    if start < window:
        raise ValueError(f"start ({start}) must be ≥ window ({window}): the first target needs {window} "
                         "earlier values.")
    idx = np.arange(start, stop)
    X = np.stack([series[i - window:i] for i in idx])
    return X, series[idx]


def _win_wrong_by_start(series, window, start, stop):
    series = np.asarray(series)
    idx = np.arange(start, stop)  # indexes windows by their FIRST value: targets run past `stop`
    idx = idx[idx + window < len(series)]
    return np.stack([series[i:i + window] for i in idx]), series[idx + window]


def _win_wrong_includes_target(series, window, start, stop):
    series = np.asarray(series)
    idx = np.arange(start, stop)
    return np.stack([series[i - window + 1:i + 1] for i in idx]), series[idx]  # the target is inside the input


def _win_wrong_one_past(series, window, start, stop):
    series = np.asarray(series)
    idx = np.arange(start, min(stop + 1, len(series)))  # one target too many: the first test value leaks in
    return np.stack([series[i - window:i] for i in idx]), series[idx]


def _win_wrong_shuffled(series, window, start, stop):
    X, y = make_windows(series, window, start, stop)
    order = np.random.default_rng(0).permutation(len(y))  # shuffles rows: harmless for training, wrong here
    return X[order], y[order]


def _win_cases():
    rng = np.random.default_rng(11)
    s = np.round(np.cumsum(rng.normal(size=40)), 3)
    return [
        {"args": (s, 3, 3, 12), "label": "(train part)"},
        {"args": (s, 3, 12, 20), "label": "(a later part)"},
        {"args": (s, 5, 30, 40), "label": "(up to the end)"},
        {"args": (s[:15], 4, 6, 10), "label": "(short series)"},
    ]


function_exercise(
    "06.make_windows",
    title="window a series without leakage",
    reference=make_windows,
    cases=_win_cases,
    hints=[
        "Index the windows by their TARGET i, for i in range(start, stop): the input is the `window` values "
        "strictly before i. Then no target of the training range can fall at or after `stop`.",
        "The input must not contain the target: series[i - window:i] stops just before i. Keep the rows in time "
        "order (shuffle later, in the training pipeline, if you want).",
        "idx = np.arange(start, stop); X = np.stack([series[i - window:i] for i in idx]); return X, series[idx]",
    ],
    wrong=[_win_wrong_by_start, _win_wrong_includes_target, _win_wrong_one_past, _win_wrong_shuffled],
    section=SECTION_WINDOWS,
)


# ---------------------------------------------------------------- 3. temperature sampling
def sample_next(logits, temperature, rng):
    """Reference: sample an index from softmax(logits / temperature); temperature 0 means argmax."""
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0:
        return int(np.argmax(logits))
    z = logits / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    return int(rng.choice(len(p), p=p))


def _softmax(z):
    p = np.exp(z - np.max(z))
    return p / p.sum()


_SAMPLE_CASES = [
    (np.array([2.0, 1.0, 0.0, -1.0]), 1.0, "temperature 1"),
    (np.array([2.0, 1.0, 0.0, -1.0]), 0.5, "temperature 0.5 (sharper)"),
    (np.array([1.0, 0.5, 0.0, 3.0, -2.0]), 2.0, "temperature 2 (flatter)"),
    (np.array([1000.0, 999.0, 998.0]), 1.0, "huge logits (overflow?)"),
    (np.array([0.3, 2.5, -1.0, 2.4]), 0, "temperature 0 (greedy)"),
]
N_DRAWS = 3000


def _judge_sample(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function sample_next(logits, temperature, rng), got {type(answer).__name__}")
    for i, (logits, temp, label) in enumerate(_SAMPLE_CASES, 1):
        rng = np.random.default_rng(100 + i)
        try:
            with np.errstate(over="ignore", invalid="ignore"):
                draws = [answer(logits.copy(), temp, rng) for _ in range(N_DRAWS if temp else 20)]
        except ValueError as exc:
            if "nan" not in str(exc).lower():
                raise
            raise Mismatch(f"case {i} ({label}, logits {np.round(logits, 2).tolist()}): the probabilities "
                           f"contain NaN ({exc}); exp() of a large logit overflows to inf") from None
        for d in draws:
            if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)) or not 0 <= d < len(logits):
                raise Mismatch(f"case {i} ({label}): returned {d!r}; expected an int index between 0 and "
                               f"{len(logits) - 1}")
        freq = np.bincount(np.asarray(draws, dtype=int), minlength=len(logits)) / len(draws)
        if temp == 0:
            expected = np.eye(len(logits))[int(np.argmax(logits))]
        else:
            expected = _softmax(logits / temp)
        worst = int(np.argmax(np.abs(freq - expected)))
        if abs(freq[worst] - expected[worst]) > (0.03 if temp else 0.0):
            raise Mismatch(f"case {i} ({label}, logits {np.round(logits, 2).tolist()}): index {worst} was drawn "
                           f"{freq[worst]:.1%} of the time over {len(draws)} draws, expected {expected[worst]:.1%}")


register(Exercise(
    id="06.sample_next",
    title="sample the next character with a temperature",
    judge=_judge_sample,
    reference=sample_next,
    wrong=[
        lambda logits, temperature, rng: int(rng.choice(len(logits), p=_softmax(np.asarray(logits) * temperature)))
        if temperature else int(np.argmax(logits)),                                     # multiplies by T
        lambda logits, temperature, rng: int(rng.choice(len(logits), p=_softmax(np.asarray(logits)))),  # ignores T
        lambda logits, temperature, rng: int(np.argmax(logits)),                        # always greedy
        lambda logits, temperature, rng: int(rng.choice(                                # overflows: exp(1000)
            len(logits), p=np.exp(np.asarray(logits) / temperature) / np.exp(np.asarray(logits) / temperature).sum()))
        if temperature else int(np.argmax(logits)),
    ],
    hints=[
        "Divide the logits by the temperature, turn them into probabilities with a softmax, then draw one index "
        "with rng.choice(len(p), p=p). Temperature 0 means 'always the most likely': return the argmax.",
        "exp(1000) overflows to inf and inf/inf is NaN: subtract the largest logit before exponentiating "
        "(the softmax does not change). Low temperature must make the distribution SHARPER, so divide, don't multiply.",
        "if temperature == 0: return int(np.argmax(logits)); z = logits / temperature; p = np.exp(z - z.max()); "
        "p /= p.sum(); return int(rng.choice(len(p), p=p))",
    ],
    section=SECTION_SAMPLE,
))
