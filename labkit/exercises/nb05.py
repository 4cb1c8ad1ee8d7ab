"""Exercises of 05_cnn: a conv layer's forward and backward pass, output shapes, receptive fields, a small CNN,
and a CNN within a 1,000-parameter budget."""
import copy
from functools import lru_cache

import numpy as np

from ..check import (Exercise, Mismatch, TimeLimitExceeded, call_answer, discriminating_cases, function_exercise,
                     register, time_limit)
from ._compat import fresh_seed, memorised

SECTION_CONV = "05 · Channels, stride and padding"
SECTION_BACKWARD = "05 · The backward pass of a convolution"
SECTION_SHAPE = "05 · Output-shape arithmetic"
SECTION_RF = "05 · Receptive field"
SECTION_CNN = "05 · A CNN within a parameter budget"


def _integer_exercise(id, *, title, reference, cases, hints, wrong, section, random_cases=None):
    """Like function_exercise, for answers that are whole numbers (compared exactly, case by case).

    Every call gets deep copies of its arguments (``call_answer``), so an answer that consumes a list it is
    given (``layers.pop(0)``) cannot empty the cases; fresh random cases are drawn on every check.
    """
    def as_dicts(pairs):
        return [{"args": tuple(a), "kwargs": dict(k)} for a, k in pairs]

    def wrong_value(got, expected):
        return isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer, float, np.floating)) \
            or got != expected

    def rejects(answer, case, expected):  # for discriminating_cases: would this answer get a ✗ on case?
        try:
            with time_limit(2.0):
                return wrong_value(answer(*copy.deepcopy(case["args"]), **copy.deepcopy(case["kwargs"])), expected)
        except (Exception, TimeLimitExceeded):
            return True

    def draw(seed):  # deterministic in seed; extended until every catalogued wrong answer is caught
        return discriminating_cases(lambda rng: as_dicts(random_cases(rng)), seed, as_dicts(cases), reference,
                                    list(ex.wrong), rejects)

    def judge(answer):
        if not callable(answer):
            raise Mismatch(f"expected a function, got {type(answer).__name__}")
        seed = fresh_seed()
        extra = [] if random_cases is None else [(c["args"], c["kwargs"], f"random case {n} (seed {seed}; replay with "
                                                  f"lk.check({id!r}, fn, seed={seed}))")
                                                 for n, c in enumerate(draw(seed), 1)]
        for i, (args, kwargs, name) in enumerate([(a, k, "") for a, k in cases] + extra, 1):
            expected = reference(*copy.deepcopy(args), **copy.deepcopy(kwargs))
            got = call_answer(answer, *copy.deepcopy(args), **copy.deepcopy(kwargs))
            call = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
            where = name or f"case {i}"
            if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer, float, np.floating)):
                raise Mismatch(f"{where} ({call}): returned {got!r}, expected a whole number")
            if got != expected:
                raise Mismatch(f"{where} ({call}): got {got!r}, expected {expected}")
    ex = Exercise(id=id, title=title, judge=judge, reference=reference, wrong=wrong, hints=list(hints),
                  section=section)
    return register(ex)


# ---------------------------------------------------------------- 1. conv2d forward
def conv2d_forward(x, w, b, stride=1, padding=0):
    """Reference: a conv layer's forward pass (cross-correlation, like every DL library)."""
    from numpy.lib.stride_tricks import sliding_window_view
    kh, kw = w.shape[:2]
    x = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = sliding_window_view(x, (kh, kw), axis=(0, 1))[::stride, ::stride]  # (H', W', C_in, kh, kw)
    return np.einsum("ijckl,klco->ijo", win, w) + b


def _conv_wrong_flipped(x, w, b, stride=1, padding=0):
    return conv2d_forward(x, w[::-1, ::-1], b, stride, padding)  # true convolution: kernel flipped


def _conv_wrong_no_bias(x, w, b, stride=1, padding=0):
    return conv2d_forward(x, w, np.zeros_like(b), stride, padding)


def _conv_wrong_pad_one_side(x, w, b, stride=1, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view
    kh, kw = w.shape[:2]
    x = np.pad(x, ((0, 2 * padding), (0, 2 * padding), (0, 0)))  # all the zeros at the bottom/right
    win = sliding_window_view(x, (kh, kw), axis=(0, 1))[::stride, ::stride]
    return np.einsum("ijckl,klco->ijo", win, w) + b


def _conv_wrong_loop_range(x, w, b, stride=1, padding=0):
    kh, kw = w.shape[:2]
    x = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    H, W = x.shape[:2]
    rows = range(0, H - kh, stride)  # off by one: misses the last window
    cols = range(0, W - kw, stride)
    out = np.zeros((len(rows), len(cols), w.shape[3]))
    for a, i in enumerate(rows):
        for c, j in enumerate(cols):
            out[a, c] = np.einsum("klc,klco->o", x[i:i + kh, j:j + kw], w) + b
    return out


def _conv_wrong_stride_after(x, w, b, stride=1, padding=0):
    out = conv2d_forward(x, w, b, 1, padding)
    return out[stride - 1::stride, stride - 1::stride]  # windows start at the wrong offset


def _conv_cases():
    rng = np.random.default_rng(5)

    def case(h, wd, cin, cout, kh, kw, stride, padding, label):
        return {"args": (rng.normal(size=(h, wd, cin)), rng.normal(size=(kh, kw, cin, cout)),
                         rng.normal(size=cout)),
                "kwargs": {"stride": stride, "padding": padding}, "label": label}
    return [
        case(5, 5, 1, 1, 3, 3, 1, 0, "(one channel)"),
        case(6, 7, 2, 3, 3, 3, 1, 0, "(2 → 3 channels)"),
        case(8, 8, 3, 2, 3, 3, 1, 1, "(padding=1)"),
        case(9, 8, 2, 4, 3, 3, 2, 0, "(stride=2)"),
        case(7, 9, 2, 2, 2, 3, 2, 2, "(2×3 kernel, stride 2, padding 2)"),
    ]


def _conv_wrong_transposed(x, w, b, stride=1, padding=0):
    return conv2d_forward(x, np.swapaxes(w, 0, 1), b, stride, padding) if w.shape[0] == w.shape[1] else \
        conv2d_forward(x, w, b, stride, padding)[::-1]   # kernel rows and columns swapped


def _conv_wrong_minus_bias(x, w, b, stride=1, padding=0):
    return conv2d_forward(x, w, -np.asarray(b), stride, padding)


def _conv_wrong_none(x, w, b, stride=1, padding=0):
    conv2d_forward(x, w, b, stride, padding)


def _conv_random(rng):
    out = []
    for _ in range(3):
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        stride, padding = int(rng.integers(1, 4)), int(rng.integers(0, 3))
        h, wd = kh + int(rng.integers(0, 8)), kw + int(rng.integers(0, 8))
        cin, cout = int(rng.integers(1, 4)), int(rng.integers(1, 5))
        s = float(rng.choice([0.1, 1.0, 10.0]))
        out.append({"args": (rng.normal(0, s, (h, wd, cin)), rng.normal(size=(kh, kw, cin, cout)),
                             rng.normal(size=cout)), "kwargs": {"stride": stride, "padding": padding}})
    return out


function_exercise(
    "05.conv2d_forward",
    title="a conv layer's forward pass in NumPy",
    reference=conv2d_forward,
    cases=_conv_cases,
    hints=[
        "Pad first (np.pad with `padding` zeros on every side of the two spatial axes, none on channels), "
        "then the output pixel (i, j) is sum over (a, b, c) of x[i*stride + a, j*stride + b, c] * w[a, b, c, o], plus b[o].",
        "Do not flip the kernel: Keras computes cross-correlation. The output has "
        "(H + 2*padding - kh) // stride + 1 rows; the last window starts at row (H_out - 1) * stride.",
        "x = np.pad(x, ((p, p), (p, p), (0, 0))); win = sliding_window_view(x, (kh, kw), axis=(0, 1))[::s, ::s]; "
        "return np.einsum('ijckl,klco->ijo', win, w) + b",
    ],
    random_cases=_conv_random,
    wrong={
        "other: true convolution (kernel flipped)": _conv_wrong_flipped,
        "ignored_argument: bias left out": _conv_wrong_no_bias,
        "boundary: all the padding at the bottom/right": _conv_wrong_pad_one_side,
        "off_by_one: range(0, H − kh, stride) misses the last window": _conv_wrong_loop_range,
        "off_by_one: strided windows start at stride − 1": _conv_wrong_stride_after,
        "wrong_axis: kernel rows and columns swapped": _conv_wrong_transposed,
        "sign: subtracts the bias": _conv_wrong_minus_bias,
        "returns_none: returns nothing": _conv_wrong_none,
        "fits_visible: right on the notebook's cases only": memorised(conv2d_forward, _conv_cases, _conv_wrong_flipped),
    },
    section=SECTION_CONV,
)


# ---------------------------------------------------------------- 1b. conv2d backward
def conv2d_backward(x, w, b, dout, stride=1, padding=0):
    """Reference: gradients (dx, dw, db) of sum(conv2d_forward(x, w, b, stride, padding) * dout)."""
    from numpy.lib.stride_tricks import sliding_window_view
    kh, kw = w.shape[:2]
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = sliding_window_view(xp, (kh, kw), axis=(0, 1))[::stride, ::stride]   # (Ho, Wo, C_in, kh, kw)
    ho, wo = dout.shape[:2]
    win = win[:ho, :wo]
    dw = np.einsum("ijckl,ijo->klco", win, dout)
    db = dout.sum(axis=(0, 1))
    dxp = np.zeros_like(xp, dtype=np.float64)
    for a in range(kh):
        for c in range(kw):
            dxp[a:a + stride * ho:stride, c:c + stride * wo:stride] += np.einsum("ijo,ko->ijk", dout, w[a, c])
    dx = dxp[padding:padding + x.shape[0], padding:padding + x.shape[1]]
    return dx, dw, db


def _bw_db_mean(x, w, b, dout, stride=1, padding=0):
    dx, dw, db = conv2d_backward(x, w, b, dout, stride, padding)
    return dx, dw, dout.mean(axis=(0, 1))


def _bw_sign(x, w, b, dout, stride=1, padding=0):
    dx, dw, db = conv2d_backward(x, w, b, dout, stride, padding)
    return -dx, dw, db


def _bw_no_crop(x, w, b, dout, stride=1, padding=0):
    dx, dw, db = conv2d_backward(x, w, b, dout, stride, 0) if padding == 0 else (None, None, None)
    if padding == 0:
        return dx, dw, db
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    dxp, dw, db = conv2d_backward(xp, w, b, dout, stride, 0)
    return dxp, dw, db                          # gradient of the PADDED input: padding not cropped


def _bw_ignores_stride(x, w, b, dout, stride=1, padding=0):
    from numpy.lib.stride_tricks import sliding_window_view
    dx, _, db = conv2d_backward(x, w, b, dout, stride, padding)
    kh, kw = w.shape[:2]
    xp = np.pad(x, ((padding, padding), (padding, padding), (0, 0)))
    win = sliding_window_view(xp, (kh, kw), axis=(0, 1))[:dout.shape[0], :dout.shape[1]]   # windows 1 apart
    return dx, np.einsum("ijckl,ijo->klco", win, dout), db


def _bw_flipped_dx(x, w, b, dout, stride=1, padding=0):
    dx, dw, db = conv2d_backward(x, w[::-1, ::-1], b, dout, stride, padding)
    return dx, conv2d_backward(x, w, b, dout, stride, padding)[1], db    # dx with the kernel flipped


def _bw_db_channels(x, w, b, dout, stride=1, padding=0):
    dx, dw, db = conv2d_backward(x, w, b, dout, stride, padding)
    return dx, dw, np.full_like(db, dout.sum())


def _bw_dw_transposed(x, w, b, dout, stride=1, padding=0):
    dx, dw, db = conv2d_backward(x, w, b, dout, stride, padding)
    return dx, dw * (x.size / max(x.size, 1)) / dout.shape[0] / dout.shape[1], db   # averaged over positions


def _bw_none(x, w, b, dout, stride=1, padding=0):
    conv2d_backward(x, w, b, dout, stride, padding)


def _bw_case(rng, h, wd, cin, cout, kh, kw, stride, padding, label=""):
    x = rng.normal(size=(h, wd, cin))
    ho, wo = (h + 2 * padding - kh) // stride + 1, (wd + 2 * padding - kw) // stride + 1
    return {"args": (x, rng.normal(size=(kh, kw, cin, cout)), rng.normal(size=cout), rng.normal(size=(ho, wo, cout))),
            "kwargs": {"stride": stride, "padding": padding}, "label": label}


def _bw_cases():
    rng = np.random.default_rng(15)
    return [
        _bw_case(rng, 5, 5, 1, 1, 3, 3, 1, 0, "(one channel)"),
        _bw_case(rng, 6, 7, 2, 3, 3, 3, 1, 1, "(padding=1)"),
        _bw_case(rng, 9, 8, 2, 2, 3, 3, 2, 0, "(stride=2)"),
        _bw_case(rng, 7, 9, 3, 2, 2, 3, 2, 2, "(2×3 kernel, stride 2, padding 2)"),
    ]


def _bw_random(rng):
    out = []
    for _ in range(3):
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
        out.append(_bw_case(rng, kh + int(rng.integers(0, 7)), kw + int(rng.integers(0, 7)), int(rng.integers(1, 4)),
                            int(rng.integers(1, 4)), kh, kw, int(rng.integers(1, 4)), int(rng.integers(0, 3))))
    return out


function_exercise(
    "05.conv2d_backward",
    title="the backward pass of a conv layer (dx, dw, db)",
    reference=conv2d_backward,
    cases=_bw_cases,
    random_cases=_bw_random,
    hints=[
        "Forward: out[i, j, o] = b[o] + Σ x_pad[i·s + a, j·s + c, k]·w[a, c, k, o]. Each output pixel touched one "
        "window, so: db[o] = Σ_ij dout[i, j, o]; dw[a, c, k, o] = Σ_ij x_pad[i·s + a, j·s + c, k]·dout[i, j, o] "
        "(the same windows as the forward pass, einsum 'ijkac,ijo->acko').",
        "dx: every window sends its gradient back to the pixels it read. For each kernel tap (a, c): "
        "dx_pad[a + s·i, c + s·j, :] += Σ_o dout[i, j, o]·w[a, c, :, o] — a strided slice "
        "dx_pad[a:a + s·H_out:s, c:c + s·W_out:s] += einsum('ijo,ko->ijk', dout, w[a, c]). Then crop the padding.",
        "win = sliding_window_view(x_pad, (kh, kw), axis=(0, 1))[::s, ::s]; dw = einsum('ijkac,ijo->acko', win, dout); "
        "db = dout.sum((0, 1)); dx_pad = zeros; for a, c: dx_pad[a:a+s*Ho:s, c:c+s*Wo:s] += einsum('ijo,ko->ijk', "
        "dout, w[a, c]); dx = dx_pad[p:p+H, p:p+W]",
    ],
    wrong={
        "normalisation: db averaged instead of summed": _bw_db_mean,
        "sign: dx with the wrong sign": _bw_sign,
        "boundary: dx of the padded input (padding not cropped)": _bw_no_crop,
        "ignored_argument: dw from windows one pixel apart (stride ignored)": _bw_ignores_stride,
        "other: dx computed with the flipped kernel": _bw_flipped_dx,
        "wrong_axis: db summed over the channels too": _bw_db_channels,
        "normalisation: dw averaged over output positions": _bw_dw_transposed,
        "returns_none: returns nothing": _bw_none,
        "fits_visible: right on the notebook's cases only": memorised(conv2d_backward, _bw_cases, _bw_sign),
    },
    atol=1e-8,
    section=SECTION_BACKWARD,
)


# ---------------------------------------------------------------- 2. output size
def conv_output_size(n, k, stride=1, padding=0, dilation=1):
    """Reference: spatial output length of a convolution or pooling window."""
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


_SIZE_CASES = [
    (28, 3), (28, 5), (32, 3, 1, 1), (32, 3, 2, 1), (7, 3, 2), (224, 7, 2, 3), (10, 3, 1, 0, 2),
    (33, 3, 1, 2, 2), (17, 5, 3, 1), (15, 4, 2, 0), (64, 3, 1, 4, 4), (6, 6), (9, 2, 2, 0, 3),
]

def _size_random(rng):
    out = []
    for _ in range(8):
        k, d, st, p = int(rng.integers(1, 8)), int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(0, 4))
        n = d * (k - 1) + 1 - 2 * p + int(rng.integers(0, 60))
        n = max(n, 1)
        if n + 2 * p >= d * (k - 1) + 1:
            out.append(((n, k), {"stride": st, "padding": p, "dilation": d}))
    return out


_SIZE_TABLE = {c: conv_output_size(*c) for c in _SIZE_CASES}


def _size_fits(n, k, stride=1, padding=0, dilation=1):
    key = (n, k, stride, padding, dilation)
    for c, v in _SIZE_TABLE.items():
        if c == key[:len(c)] and all(x == dflt for x, dflt in zip(key[len(c):], (1, 0, 1)[len(c) - 2:])):
            return v
    return (n + 2 * padding - k) // stride + 1


_integer_exercise(
    "05.conv_output_size",
    title="output-shape arithmetic (padding, stride, dilation)",
    reference=conv_output_size,
    cases=[(c[:2], dict(zip(("stride", "padding", "dilation"), c[2:]))) for c in _SIZE_CASES],
    hints=[
        "A dilated kernel of size k covers dilation*(k-1) + 1 input pixels. Padding adds that many zeros on "
        "BOTH sides.",
        "Count window positions: the first window starts at 0, the last must end inside the padded input; "
        "positions are `stride` apart, so use floor division and add 1.",
        "return (n + 2*padding - dilation*(k - 1) - 1) // stride + 1",
    ],
    random_cases=_size_random,
    wrong={
        "ignored_argument: ignores dilation":
            lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - k) // stride + 1,
        "other: true division (a float)":
            lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * (k - 1)) / stride + 1,
        "normalisation: pads one side only":
            lambda n, k, stride=1, padding=0, dilation=1: (n + padding - dilation * (k - 1) - 1) // stride + 1,
        "off_by_one: dilated extent d·k instead of d·(k − 1) + 1":
            lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * k) // stride + 1,
        "off_by_one: forgets the + 1":
            lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * (k - 1) - 1) // stride,
        "boundary: ceil instead of floor":
            lambda n, k, stride=1, padding=0, dilation=1: -(-(n + 2 * padding - dilation * (k - 1) - 1) // stride) + 1,
        "returns_none: returns nothing": lambda n, k, stride=1, padding=0, dilation=1: None,
        "fits_visible: a table of the visible cases": _size_fits,
    },
    section=SECTION_SHAPE,
)


# ---------------------------------------------------------------- 3. receptive field
def receptive_field(layers):
    """Reference: receptive field (in input pixels) of one output unit after a stack of layers."""
    rf, jump = 1, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        rf += (k - 1) * d * jump
        jump *= s
    return rf


def _rf_wrong_no_stride(layers):
    return 1 + sum((l[0] - 1) * (l[2] if len(l) > 2 else 1) for l in layers)


def _rf_wrong_jump_first(layers):
    rf, jump = 1, 1
    for layer in layers:
        k, s = layer[0], layer[1]
        d = layer[2] if len(layer) > 2 else 1
        jump *= s  # updated before it is used: counts this layer's own stride
        rf += (k - 1) * d * jump
    return rf


def _rf_wrong_no_dilation(layers):
    return receptive_field([(l[0], l[1]) for l in layers])


def _rf_wrong_product(layers):
    return int(np.prod([l[0] for l in layers]))


def _rf_wrong_start_zero(layers):
    return receptive_field(layers) - 1


def _rf_wrong_none(layers):
    receptive_field(layers)


def _rf_wrong_consumes(layers):
    rf, jump = 1, 1
    while len(layers) > 1:               # pops as it goes — and stops one layer early
        k, s = layers.pop(0)[:2]
        rf += (k - 1) * jump
        jump *= s
    return rf


_RF_CASES = [(([(3, 1)],), {}), (([(3, 1), (3, 1), (3, 1)],), {}), (([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)],), {}),
             (([(7, 2), (3, 2), (3, 1), (3, 1)],), {}), (([(3, 1, 1), (3, 1, 2), (3, 1, 4)],), {}),
             (([(5, 2), (3, 1, 2), (2, 2), (3, 1)],), {})]


def _rf_fits(layers):
    for (args, _) in _RF_CASES:
        if [tuple(l) for l in args[0]] == [tuple(l) for l in layers]:
            return receptive_field(layers)
    return _rf_wrong_no_stride(layers)


def _rf_random(rng):
    out = []
    for _ in range(5):
        layers = []
        for _ in range(int(rng.integers(1, 7))):
            k, st = int(rng.integers(1, 8)), int(rng.integers(1, 4))
            layers.append((k, st, int(rng.integers(1, 4))) if rng.random() < 0.4 else (k, st))
        out.append(((layers,), {}))
    # every call: a strided first layer followed by a wider kernel, so ignoring strides changes the answer
    layers = [(int(rng.integers(1, 8)), int(rng.integers(2, 4)))]
    for _ in range(int(rng.integers(1, 5))):
        k, st = int(rng.integers(2, 8)), int(rng.integers(1, 4))
        layers.append((k, st, int(rng.integers(1, 4))) if rng.random() < 0.4 else (k, st))
    out.append(((layers,), {}))
    return out


_integer_exercise(
    "05.receptive_field",
    title="receptive field of a layer stack",
    reference=receptive_field,
    cases=_RF_CASES,
    random_cases=_rf_random,
    hints=[
        "Track two numbers through the stack: the receptive field r (start 1) and the 'jump' j — how many "
        "input pixels apart two neighbouring units of the current layer are (start 1).",
        "A layer with kernel k and dilation d widens r by (k - 1) * d * j, using the jump of the layer's INPUT; "
        "only afterwards does its stride multiply j.",
        "r, j = 1, 1; for (k, s[, d]) in layers: r += (k - 1) * d * j; j *= s; return r",
    ],
    wrong={
        "ignored_argument: strides ignored": _rf_wrong_no_stride,
        "off_by_one: the jump updated before it is used": _rf_wrong_jump_first,
        "ignored_argument: dilation ignored": _rf_wrong_no_dilation,
        "other: product of the kernel sizes": _rf_wrong_product,
        "off_by_one: starts the field at 0": _rf_wrong_start_zero,
        "mutation: pops the layers and stops one early": _rf_wrong_consumes,
        "returns_none: returns nothing": _rf_wrong_none,
        "fits_visible: a table of the visible cases": _rf_fits,
    },
    section=SECTION_RF,
)


# ---------------------------------------------------------------- 4. a CNN within a budget
CNN_BUDGET = 10_000   # parameters
CNN_TARGET = 0.90     # test accuracy
CNN_EPOCHS = 6
CNN_LR = 1e-2


@lru_cache(maxsize=1)
def _shapes16():
    from .. import data
    ds = data.load("shapes", n=600, size=16, noise=0.1, clutter=0, seed=7)
    return ds.X[:450], ds.y[:450], ds.X[450:], ds.y[450:]


def build_cnn(input_shape, n_classes):
    """Reference: two small conv blocks, global max pooling, a linear read-out (≈1.3k parameters)."""
    import keras
    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(n_classes),
    ])


def _cnn_wrong_linear(input_shape, n_classes):
    import keras
    return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(n_classes)])


def _cnn_wrong_mlp(input_shape, n_classes):
    import keras
    return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(),
                             keras.layers.Dense(64, activation="relu"), keras.layers.Dense(n_classes)])


def _cnn_wrong_no_activation(input_shape, n_classes):
    import keras
    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(8, 3, padding="same"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, padding="same"), keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(n_classes),
    ])


def _cnn_wrong_one_output(input_shape, n_classes):
    import keras
    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"), keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(1),
    ])


BUDGET_PARAMS = 1_000  # the budgeted CNN: parameters …
BUDGET_TARGET = 0.93   # … and test accuracy on cluttered 16×16 shapes
BUDGET_EPOCHS = 8


@lru_cache(maxsize=1)
def _shapes16_clutter():
    from .. import data
    ds = data.load("shapes", n=800, size=16, noise=0.15, clutter=2, seed=7)
    return ds.X[:600], ds.y[:600], ds.X[600:], ds.y[600:]


def _cnn_judge(budget, target, epochs, load_data, what):
    def judge(build):
        import keras
        if not callable(build):
            raise Mismatch(f"expected a function build(input_shape, n_classes), got {type(build).__name__}")
        Xtr, ytr, Xte, yte = load_data()
        for shape, k in [((20, 24, 1), 5), ((12, 12, 2), 2)]:         # the arguments must be used
            keras.utils.set_random_seed(0)
            probe = call_answer(build, shape, k)
            if probe is None:
                raise Mismatch("your function returned None; return the keras model")
            if not isinstance(probe, keras.Model):
                raise Mismatch(f"return a keras Model, got {type(probe).__name__}")
            try:
                out_shape = tuple(np.asarray(probe(np.zeros((2, *shape), np.float32))).shape)
            except Exception as exc:
                raise Mismatch(f"a model built for input_shape={shape} could not read images of that shape "
                               f"({type(exc).__name__}); use the input_shape argument in keras.Input") from None
            if out_shape != (2, k):
                raise Mismatch(f"built with n_classes={k}, the model outputs shape {out_shape} for 2 images, "
                               f"expected (2, {k}): end with Dense(n_classes)")
        keras.utils.set_random_seed(0)
        model = call_answer(build, Xtr.shape[1:], 3)
        out = np.asarray(model(Xtr[:4]))
        n_params = model.count_params()
        if n_params > budget:
            raise Mismatch(f"the model has {n_params:,} parameters, over the budget of {budget:,}: "
                           "share weights with convolutions instead of large Dense layers")
        probs = bool((out >= 0).all() and np.allclose(out.sum(1), 1, atol=1e-4))
        model.compile(optimizer=keras.optimizers.Adam(CNN_LR),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=not probs))
        model.fit(Xtr, ytr, epochs=epochs, batch_size=32, verbose=0, shuffle=True)
        acc = float(np.mean(np.argmax(np.asarray(model(Xte)), -1) == yte))
        if not acc >= target:
            raise Mismatch(f"test accuracy {acc:.3f} on {what} after {epochs} epochs, expected ≥ {target} "
                           f"({n_params:,} parameters)")
    return judge


_judge_cnn = _cnn_judge(CNN_BUDGET, CNN_TARGET, CNN_EPOCHS, _shapes16, "16×16 shapes")


def _cnn_wrong_fixed_classes(input_shape, n_classes):
    return build_cnn(input_shape, 3)


def _cnn_wrong_fixed_shape(input_shape, n_classes):
    return build_cnn((16, 16, 1), n_classes)


register(Exercise(
    id="05.build_cnn",
    title=f"a CNN with ≤ {CNN_BUDGET:,} parameters that reaches {CNN_TARGET:.0%} on 16×16 shapes",
    judge=_judge_cnn,
    reference=build_cnn,
    wrong={
        "other: a linear model on the pixels": _cnn_wrong_linear,
        "boundary: an MLP over the parameter budget": _cnn_wrong_mlp,
        "other: convolutions without a non-linearity": _cnn_wrong_no_activation,
        "off_by_one: one output instead of n_classes": _cnn_wrong_one_output,
        "ignored_argument: n_classes hard-coded to 3": _cnn_wrong_fixed_classes,
        "ignored_argument: input shape hard-coded": _cnn_wrong_fixed_shape,
        "returns_none: builds the model but returns nothing": lambda input_shape, n_classes: None,
    },
    hints=[
        "Flattening pixels into Dense layers either blows the parameter budget or cannot find a shape that "
        "moves around the image. Start with Conv2D(8, 3, padding='same', activation='relu') and MaxPooling2D().",
        "Without a non-linearity (activation='relu') a stack of convolutions is a single linear filter. "
        "Finish with a global pooling layer (GlobalMaxPooling2D) and Dense(n_classes).",
        "keras.Sequential([keras.Input(input_shape), Conv2D(8, 3, padding='same', activation='relu'), "
        "MaxPooling2D(), Conv2D(16, 3, padding='same', activation='relu'), GlobalMaxPooling2D(), Dense(n_classes)])",
    ],
    section=SECTION_CNN,
))


# ---------------------------------------------------------------- 5. a CNN within 1,000 parameters
def budget_cnn(input_shape, n_classes):
    """Reference: 6 and 12 filters, global max pooling, a linear read-out — 759 parameters for 3 classes."""
    import keras
    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(6, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(12, 3, padding="same", activation="relu"),
        keras.layers.GlobalMaxPooling2D(),
        keras.layers.Dense(n_classes),
    ])


def _budget_wrong_linear(input_shape, n_classes):
    import keras                                  # 771 parameters: within budget, but it cannot find shapes
    return keras.Sequential([keras.Input(input_shape), keras.layers.Flatten(), keras.layers.Dense(n_classes)])


def _budget_wrong_over(input_shape, n_classes):
    return build_cnn(input_shape, n_classes)      # 1,251 parameters: just over the budget


def _budget_wrong_dense_head(input_shape, n_classes):
    import keras
    return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(8, 3, activation="relu"),
                             keras.layers.MaxPooling2D(), keras.layers.Flatten(),
                             keras.layers.Dense(n_classes)])          # flatten: the head grows with the image


def _budget_wrong_no_activation(input_shape, n_classes):
    import keras
    return keras.Sequential([keras.Input(input_shape), keras.layers.Conv2D(6, 3, padding="same"),
                             keras.layers.MaxPooling2D(), keras.layers.Conv2D(12, 3, padding="same"),
                             keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(n_classes)])


register(Exercise(
    id="05.budget_cnn",
    title=f"a CNN with ≤ {BUDGET_PARAMS:,} parameters that reaches {BUDGET_TARGET:.0%} on cluttered 16×16 shapes",
    judge=_cnn_judge(BUDGET_PARAMS, BUDGET_TARGET, BUDGET_EPOCHS, _shapes16_clutter, "cluttered 16×16 shapes"),
    reference=budget_cnn,
    wrong={
        "other: a linear model on the pixels (within budget)": _budget_wrong_linear,
        "boundary: the warm-up CNN, just over the budget": _budget_wrong_over,
        "boundary: a flattening head over the budget": _budget_wrong_dense_head,
        "other: convolutions without a non-linearity": _budget_wrong_no_activation,
        "ignored_argument: n_classes hard-coded to 3": lambda input_shape, n_classes: budget_cnn(input_shape, 3),
        "ignored_argument: input shape hard-coded": lambda input_shape, n_classes: budget_cnn((16, 16, 1), n_classes),
        "returns_none: returns nothing": lambda input_shape, n_classes: None,
    },
    hints=[
        "Count before you train: Conv2D(f, 3) on c channels costs (9·c + 1)·f parameters, Dense(k) on m inputs "
        "(m + 1)·k. A Flatten in front of the Dense layer makes m the number of pixels — that is where budgets go.",
        "Two conv layers of 6 and 12 filters (60 + 660 parameters), a MaxPooling2D between them, then "
        "GlobalMaxPooling2D (12 numbers, whatever the image size) and Dense(n_classes): under 800 parameters.",
        "keras.Sequential([keras.Input(input_shape), Conv2D(6, 3, padding='same', activation='relu'), MaxPooling2D(), "
        "Conv2D(12, 3, padding='same', activation='relu'), GlobalMaxPooling2D(), Dense(n_classes)])",
    ],
    section=SECTION_CNN,
))
