"""Exercises of 05_cnn: a conv layer's forward pass, output shapes, receptive fields, a small CNN."""
from functools import lru_cache

import numpy as np

from ..check import Exercise, Mismatch, function_exercise, register

SECTION_CONV = "05 · Channels, stride and padding"
SECTION_SHAPE = "05 · Output-shape arithmetic"
SECTION_RF = "05 · Receptive field"
SECTION_CNN = "05 · A CNN within a parameter budget"


def _integer_exercise(id, *, title, reference, cases, hints, wrong, section):
    """Like function_exercise, for answers that are whole numbers (compared exactly, case by case)."""
    def judge(answer):
        if not callable(answer):
            raise Mismatch(f"expected a function, got {type(answer).__name__}")
        for i, (args, kwargs) in enumerate(cases, 1):
            expected = reference(*args, **kwargs)
            got = answer(*args, **kwargs)
            call = ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
            if isinstance(got, (bool, np.bool_)) or not isinstance(got, (int, np.integer, float, np.floating)):
                raise Mismatch(f"case {i} ({call}): returned {got!r}, expected a whole number")
            if got != expected:
                raise Mismatch(f"case {i} ({call}): got {got!r}, expected {expected}")
    return register(Exercise(id=id, title=title, judge=judge, reference=reference, wrong=list(wrong),
                             hints=list(hints), section=section))


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
    wrong=[_conv_wrong_flipped, _conv_wrong_no_bias, _conv_wrong_pad_one_side, _conv_wrong_loop_range,
           _conv_wrong_stride_after],
    section=SECTION_CONV,
)


# ---------------------------------------------------------------- 2. output size
def conv_output_size(n, k, stride=1, padding=0, dilation=1):
    """Reference: spatial output length of a convolution or pooling window."""
    return (n + 2 * padding - dilation * (k - 1) - 1) // stride + 1


_SIZE_CASES = [
    (28, 3), (28, 5), (32, 3, 1, 1), (32, 3, 2, 1), (7, 3, 2), (224, 7, 2, 3), (10, 3, 1, 0, 2),
    (33, 3, 1, 2, 2), (17, 5, 3, 1), (15, 4, 2, 0), (64, 3, 1, 4, 4), (6, 6), (9, 2, 2, 0, 3),
]

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
    wrong=[
        lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - k) // stride + 1,  # ignores dilation
        lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * (k - 1)) / stride + 1,  # true division
        lambda n, k, stride=1, padding=0, dilation=1: (n + padding - dilation * (k - 1) - 1) // stride + 1,  # pads once
        lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * k) // stride + 1,  # d*k extent
        lambda n, k, stride=1, padding=0, dilation=1: (n + 2 * padding - dilation * (k - 1) - 1) // stride,  # no +1
    ],
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


_integer_exercise(
    "05.receptive_field",
    title="receptive field of a layer stack",
    reference=receptive_field,
    cases=[(([(3, 1)],), {}), (([(3, 1), (3, 1), (3, 1)],), {}), (([(3, 1), (2, 2), (3, 1), (2, 2), (3, 1)],), {}),
           (([(7, 2), (3, 2), (3, 1), (3, 1)],), {}), (([(3, 1, 1), (3, 1, 2), (3, 1, 4)],), {}),
           (([(5, 2), (3, 1, 2), (2, 2), (3, 1)],), {})],
    hints=[
        "Track two numbers through the stack: the receptive field r (start 1) and the 'jump' j — how many "
        "input pixels apart two neighbouring units of the current layer are (start 1).",
        "A layer with kernel k and dilation d widens r by (k - 1) * d * j, using the jump of the layer's INPUT; "
        "only afterwards does its stride multiply j.",
        "r, j = 1, 1; for (k, s[, d]) in layers: r += (k - 1) * d * j; j *= s; return r",
    ],
    wrong=[_rf_wrong_no_stride, _rf_wrong_jump_first, _rf_wrong_no_dilation, _rf_wrong_product],
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


def _judge_cnn(build):
    import keras
    if not callable(build):
        raise Mismatch(f"expected a function build_cnn(input_shape, n_classes), got {type(build).__name__}")
    Xtr, ytr, Xte, yte = _shapes16()
    keras.utils.set_random_seed(0)
    model = build(Xtr.shape[1:], 3)
    if not isinstance(model, keras.Model):
        raise Mismatch(f"build_cnn should return a keras Model, got {type(model).__name__}")
    out = np.asarray(model(Xtr[:4]))
    if out.shape != (4, 3):
        raise Mismatch(f"for 4 images and 3 classes the model outputs shape {out.shape}, expected (4, 3): "
                       "end with Dense(n_classes)")
    n_params = model.count_params()
    if n_params > CNN_BUDGET:
        raise Mismatch(f"the model has {n_params:,} parameters, over the budget of {CNN_BUDGET:,}: "
                       "share weights with convolutions instead of large Dense layers")
    probs = bool((out >= 0).all() and np.allclose(out.sum(1), 1, atol=1e-4))
    model.compile(optimizer=keras.optimizers.Adam(CNN_LR),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=not probs))
    model.fit(Xtr, ytr, epochs=CNN_EPOCHS, batch_size=32, verbose=0)
    acc = float(np.mean(np.argmax(np.asarray(model(Xte)), -1) == yte))
    if not acc >= CNN_TARGET:
        raise Mismatch(f"test accuracy {acc:.3f} after {CNN_EPOCHS} epochs, expected ≥ {CNN_TARGET} "
                       f"({n_params:,} parameters)")


register(Exercise(
    id="05.build_cnn",
    title=f"a CNN with ≤ {CNN_BUDGET:,} parameters that reaches {CNN_TARGET:.0%} on 16×16 shapes",
    judge=_judge_cnn,
    reference=build_cnn,
    wrong=[_cnn_wrong_linear, _cnn_wrong_mlp, _cnn_wrong_no_activation, _cnn_wrong_one_output],
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
