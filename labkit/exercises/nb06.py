"""Exercises of 06_rnn: the RNN step, an LSTM step, leak-free windowing of a series, temperature sampling."""
import numpy as np

from ..check import Exercise, Mismatch, call_answer, function_exercise, register
from ._compat import fresh_seed, memorised

SECTION_STEP = "06 · An RNN cell from scratch"
SECTION_LSTM = "06 · LSTM and GRU: the same measurement"
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


def _step_random(rng):
    out = []
    for _ in range(3):
        batch, f, u = int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 7))
        sc = float(rng.choice([0.1, 0.5, 2.0]))
        out.append((rng.normal(size=(batch, f)), rng.uniform(-1, 1, (batch, u)), rng.normal(0, sc, (f, u)),
                    rng.normal(0, sc, (u, u)), rng.normal(0, sc, u)))
    return out


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
    random_cases=_step_random,
    wrong={
        "other: no activation": lambda x_t, h_prev, Wx, Wh, b: x_t @ Wx + h_prev @ Wh + b,
        "wrong_axis: recurrent matrix transposed": lambda x_t, h_prev, Wx, Wh, b: np.tanh(x_t @ Wx + h_prev @ Wh.T + b),
        "other: relu instead of tanh": lambda x_t, h_prev, Wx, Wh, b: np.maximum(x_t @ Wx + h_prev @ Wh + b, 0),
        "ignored_argument: bias forgotten": lambda x_t, h_prev, Wx, Wh, b: np.tanh(x_t @ Wx + h_prev @ Wh),
        "ignored_argument: forgets the state": lambda x_t, h_prev, Wx, Wh, b: np.tanh(x_t @ Wx + b),
        "sign: subtracts the recurrent term": lambda x_t, h_prev, Wx, Wh, b: np.tanh(x_t @ Wx - h_prev @ Wh + b),
        "returns_none: returns nothing": lambda x_t, h_prev, Wx, Wh, b: None,
        "fits_visible: right on the notebook's cases only":
            memorised(rnn_step, _step_cases, lambda x_t, h_prev, Wx, Wh, b: np.tanh(x_t @ Wx + b)),
    },
    section=SECTION_STEP,
)


# ---------------------------------------------------------------- 1b. the LSTM step
def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def lstm_step(x_t, h_prev, c_prev, W, U, b):
    """Reference: one keras.layers.LSTM step, gates in Keras' order i, f, c (candidate), o; returns (h_t, c_t)."""
    z = x_t @ W + h_prev @ U + b
    zi, zf, zc, zo = np.split(z, 4, axis=-1)
    i, f, o = _sigmoid(zi), _sigmoid(zf), _sigmoid(zo)
    c = f * c_prev + i * np.tanh(zc)
    return o * np.tanh(c), c


def _lstm_parts(x_t, h_prev, W, U, b):
    return np.split(x_t @ W + h_prev @ U + b, 4, axis=-1)


def _lstm_wrong_order(x_t, h_prev, c_prev, W, U, b):
    zf, zi, zc, zo = _lstm_parts(x_t, h_prev, W, U, b)          # i and f swapped
    c = _sigmoid(zf) * c_prev + _sigmoid(zi) * np.tanh(zc)
    return _sigmoid(zo) * np.tanh(c), c


def _lstm_wrong_no_tanh_c(x_t, h_prev, c_prev, W, U, b):
    zi, zf, zc, zo = _lstm_parts(x_t, h_prev, W, U, b)
    c = _sigmoid(zf) * c_prev + _sigmoid(zi) * np.tanh(zc)
    return _sigmoid(zo) * c, c                                   # h = o·c, no tanh


def _lstm_wrong_sigmoid_candidate(x_t, h_prev, c_prev, W, U, b):
    zi, zf, zc, zo = _lstm_parts(x_t, h_prev, W, U, b)
    c = _sigmoid(zf) * c_prev + _sigmoid(zi) * _sigmoid(zc)
    return _sigmoid(zo) * np.tanh(c), c


def _lstm_wrong_no_cprev(x_t, h_prev, c_prev, W, U, b):
    zi, zf, zc, zo = _lstm_parts(x_t, h_prev, W, U, b)
    c = _sigmoid(zi) * np.tanh(zc)                               # forgets the old cell
    return _sigmoid(zo) * np.tanh(c), c


def _lstm_wrong_sign(x_t, h_prev, c_prev, W, U, b):
    zi, zf, zc, zo = _lstm_parts(x_t, h_prev, W, U, b)
    c = _sigmoid(zf) * c_prev - _sigmoid(zi) * np.tanh(zc)
    return _sigmoid(zo) * np.tanh(c), c


def _lstm_wrong_axis(x_t, h_prev, c_prev, W, U, b):
    z = x_t @ W + h_prev @ U + b
    u = z.shape[-1] // 4
    zi, zf, zc, zo = (z.reshape(z.shape[0], u, 4)[..., k] for k in range(4))   # interleaved, not blocks
    c = _sigmoid(zf) * c_prev + _sigmoid(zi) * np.tanh(zc)
    return _sigmoid(zo) * np.tanh(c), c


def _lstm_wrong_swap_return(x_t, h_prev, c_prev, W, U, b):
    h, c = lstm_step(x_t, h_prev, c_prev, W, U, b)
    return c, h


def _lstm_wrong_old_h(x_t, h_prev, c_prev, W, U, b):
    zi, zf, zc, zo = _lstm_parts(x_t, h_prev, W, U, b)
    c = _sigmoid(zf) * c_prev + _sigmoid(zi) * np.tanh(zc)
    return _sigmoid(zo) * np.tanh(c_prev), c                     # output from the OLD cell


def _lstm_case(rng, batch, f, u, scale=0.5, label=""):
    return {"args": (rng.normal(size=(batch, f)), rng.uniform(-1, 1, (batch, u)), rng.normal(0, 1.5, (batch, u)),
                     rng.normal(0, scale, (f, 4 * u)), rng.normal(0, scale, (u, 4 * u)), rng.normal(0, scale, 4 * u)),
            "label": label}


def _lstm_cases():
    rng = np.random.default_rng(16)
    return [_lstm_case(rng, 1, 3, 2, label="(one sequence, 2 units)"), _lstm_case(rng, 4, 2, 5, label="(batch of 4)"),
            _lstm_case(rng, 3, 4, 4, scale=2.0, label="(large weights)")]


def _lstm_random(rng):
    return [_lstm_case(rng, int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 7)),
                       float(rng.choice([0.2, 1.0, 3.0]))) for _ in range(3)]


function_exercise(
    "06.lstm_step",
    title="one LSTM step (Keras layout, gates i, f, c, o)",
    reference=lstm_step,
    cases=_lstm_cases,
    random_cases=_lstm_random,
    hints=[
        "One matrix product gives all four gates: z = x_t @ W + h_prev @ U + b has 4·units columns, in Keras' "
        "order [input i | forget f | candidate c̃ | output o] — split it into four equal blocks along the last axis.",
        "i, f, o are sigmoids; the candidate is tanh. The cell keeps what the forget gate lets through and adds "
        "what the input gate admits: c = f·c_prev + i·tanh(z_c); the output is h = o·tanh(c) — of the NEW cell.",
        "zi, zf, zc, zo = np.split(x_t @ W + h_prev @ U + b, 4, axis=-1); c = sigmoid(zf)*c_prev + "
        "sigmoid(zi)*np.tanh(zc); return sigmoid(zo)*np.tanh(c), c",
    ],
    wrong={
        "other: gates in the order f, i (input and forget swapped)": _lstm_wrong_order,
        "other: h = o·c without the tanh": _lstm_wrong_no_tanh_c,
        "other: sigmoid on the candidate": _lstm_wrong_sigmoid_candidate,
        "ignored_argument: the old cell c_prev is dropped": _lstm_wrong_no_cprev,
        "sign: subtracts the admitted candidate": _lstm_wrong_sign,
        "wrong_axis: gates interleaved instead of four blocks": _lstm_wrong_axis,
        "off_by_one: h from the previous cell state": _lstm_wrong_old_h,
        "other: returns (c, h)": _lstm_wrong_swap_return,
        "returns_none: returns nothing": lambda x_t, h_prev, c_prev, W, U, b: None,
        "fits_visible: right on the notebook's cases only": memorised(lstm_step, _lstm_cases, _lstm_wrong_no_tanh_c),
    },
    section=SECTION_LSTM,
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


def _win_wrong_no_return(series, window, start, stop):
    make_windows(series, window, start, stop)


def _win_wrong_fixed_window(series, window, start, stop):
    series = np.asarray(series)
    idx = np.arange(start, stop)
    return np.stack([series[i - 3:i] for i in idx]), series[idx]


def _win_wrong_reversed(series, window, start, stop):
    X, y = make_windows(series, window, start, stop)
    return X[:, ::-1], y                                      # inputs newest-first


def _win_random(rng):
    out = []
    for _ in range(3):
        n = int(rng.integers(12, 80))
        s = np.round(np.cumsum(rng.normal(size=n)), 3)
        window = int(rng.integers(1, min(9, n - 2)))
        start = int(rng.integers(window, n - 1))
        out.append((s, window, start, int(rng.integers(start + 1, n + 1))))
    return out


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
    random_cases=_win_random,
    wrong={
        "off_by_one: windows indexed by their first value (targets run past stop)": _win_wrong_by_start,
        "boundary: the target is inside its own input": _win_wrong_includes_target,
        "off_by_one: one target past stop": _win_wrong_one_past,
        "other: rows shuffled": _win_wrong_shuffled,
        "ignored_argument: window fixed at 3": _win_wrong_fixed_window,
        "wrong_axis: inputs newest first": _win_wrong_reversed,
        "returns_none: returns nothing": _win_wrong_no_return,
        "fits_visible: right on the notebook's cases only": memorised(make_windows, _win_cases, _win_wrong_by_start),
    },
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


def _sample_random(rng):
    out = []
    for _ in range(3):
        k = int(rng.integers(2, 8))
        logits = rng.normal(0, float(rng.choice([0.5, 2.0])), k) + float(rng.choice([0.0, 500.0, -700.0]))
        out.append((logits, float(rng.choice([0.0, 0.3, 0.7, 1.0, 2.5]))))
    return out


def _draws(answer, logits, temp, rng, n, where):
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            draws = [answer(logits.copy(), temp, rng) for _ in range(n)]   # the same rng object: not copied
    except ValueError as exc:
        if "nan" not in str(exc).lower() and "probabilit" not in str(exc).lower():
            raise
        raise Mismatch(f"{where}: the probabilities contain NaN or do not sum to 1 ({exc}); exp() of a large logit "
                       "overflows to inf") from None
    except ZeroDivisionError:
        raise Mismatch(f"{where}: division by zero — temperature 0 means greedy: return the argmax") from None
    for d in draws:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (int, np.integer)) or not 0 <= d < len(logits):
            raise Mismatch(f"{where}: returned {d!r}; expected an int index between 0 and {len(logits) - 1}")
    return np.asarray(draws, dtype=int)


def _judge_sample(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function sample_next(logits, temperature, rng), got {type(answer).__name__}")
    seed = fresh_seed()
    cases = [(lg, t, f"case {i} ({label}, logits {np.round(lg, 2).tolist()})")
             for i, (lg, t, label) in enumerate(_SAMPLE_CASES, 1)]
    cases += [(lg, t, f"random case {i} (temperature {t:g}, logits {np.round(lg, 2).tolist()}; seed {seed}, replay "
                      f"with lk.check('06.sample_next', fn, seed={seed}))")
              for i, (lg, t) in enumerate(_sample_random(np.random.default_rng(seed)), 1)]
    for n, (logits, temp, where) in enumerate(cases):
        draws = _draws(answer, logits, temp, np.random.default_rng(seed + n), N_DRAWS if temp else 20, where)
        freq = np.bincount(draws, minlength=len(logits)) / len(draws)
        expected = np.eye(len(logits))[int(np.argmax(logits))] if temp == 0 else _softmax(logits / temp)
        tol = 0.0 if temp == 0 else 4.5 * np.sqrt(expected * (1 - expected) / len(draws)) + 0.003
        worst = int(np.argmax(np.abs(freq - expected) - tol))
        if abs(freq[worst] - expected[worst]) > (tol if np.ndim(tol) == 0 else tol[worst]):
            raise Mismatch(f"{where}: index {worst} was drawn {freq[worst]:.1%} of the time over {len(draws)} draws, "
                           f"expected {expected[worst]:.1%}")
    logits = np.array([0.2, 0.1, 0.0, -0.1, 0.05])
    a = _draws(answer, logits, 1.0, np.random.default_rng(seed), 60, "same-seed check")
    b = _draws(answer, logits, 1.0, np.random.default_rng(seed), 60, "same-seed check")
    c = _draws(answer, logits, 1.0, np.random.default_rng(seed + 1), 60, "different-seed check")
    if not np.array_equal(a, b):
        raise Mismatch("two generators seeded alike gave different draws — take the randomness from the `rng` "
                       "argument (rng.choice), not from np.random")
    if np.array_equal(a, c):
        raise Mismatch("generators with different seeds gave the same 60 draws — the randomness must come from "
                       "the `rng` you are given, not from a generator of your own")


def _sample_global(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    return int(np.random.choice(len(logits), p=_softmax(np.asarray(logits, float) / temperature)))


def _sample_own_rng(logits, temperature, rng):
    if temperature == 0:
        return int(np.argmax(logits))
    return int(np.random.default_rng(0).choice(len(logits), p=_softmax(np.asarray(logits, float) / temperature)))


def _sample_no_greedy(logits, temperature, rng):
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.asarray(logits, float) / temperature             # temperature 0: division by zero
    return int(rng.choice(len(z), p=_softmax(z)))


register(Exercise(
    id="06.sample_next",
    title="sample the next character with a temperature",
    judge=_judge_sample,
    reference=sample_next,
    wrong={
        "other: multiplies the logits by T": lambda logits, temperature, rng: (
            int(rng.choice(len(logits), p=_softmax(np.asarray(logits) * temperature))) if temperature
            else int(np.argmax(logits))),
        "ignored_argument: ignores the temperature":
            lambda logits, temperature, rng: int(rng.choice(len(logits), p=_softmax(np.asarray(logits)))),
        "other: always greedy": lambda logits, temperature, rng: int(np.argmax(logits)),
        "unstable: exp without subtracting the max": lambda logits, temperature, rng: int(rng.choice(
            len(logits), p=np.exp(np.asarray(logits) / temperature) / np.exp(np.asarray(logits) / temperature).sum()))
        if temperature else int(np.argmax(logits)),
        "global_rng: np.random.choice instead of rng": _sample_global,
        "ignored_argument: a generator of its own, seeded 0": _sample_own_rng,
        "boundary: temperature 0 not handled (divides by zero)": _sample_no_greedy,
        "returns_none: returns nothing": lambda logits, temperature, rng: None,
    },
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
