"""Model compression: quantization, magnitude pruning, distillation, and measuring them (notebook 13).

Everything here works with Keras 3 (``tensorflow-model-optimization`` rejects Keras 3 models):

* **quantization** — affine int quantization from scratch (:func:`quant_params`, :func:`quantize`,
  :func:`dequantize`, :func:`fake_quant`) and the real thing: :func:`tflite_convert` (``model.export``
  then ``TFLiteConverter.from_saved_model``) run by :class:`TFLiteModel` (the LiteRT interpreter);
* **pruning** — :func:`magnitude_mask`, the polynomial schedule :func:`polynomial_sparsity`, and the
  :class:`MagnitudePruning` callback that applies both during ``model.fit``; :func:`sparsity` and
  :func:`gzip_size` measure the result;
* **distillation** — :func:`distillation_loss` and :class:`Distiller`, a ``keras.Model`` whose
  ``train_step`` trains a student on a teacher's softened outputs;
* **measuring** — :func:`latency_ms` (median of repeated, synchronised runs after a warm-up),
  :func:`latency_samples_ms` (every run, for percentiles), :func:`keras_latency_ms`,
  :meth:`TFLiteModel.latency_ms`, :func:`keras_size`, :func:`accuracy`.

``benchmarks/bench_compression.py`` uses these to regenerate notebook 13's trade-off table.
"""
from __future__ import annotations

import contextlib
import gzip
import os
import tempfile
from typing import Any, Callable, Iterable, Sequence

import numpy as np

__all__ = ["quant_params", "quantize", "dequantize", "fake_quant", "magnitude_mask", "polynomial_sparsity",
           "MagnitudePruning", "prunable_kernels", "sparsity", "gzip_size", "keras_size", "distillation_loss",
           "Distiller", "tflite_convert", "TFLiteModel", "latency_ms", "keras_latency_ms", "accuracy",
           "teacher_model", "student_model", "TFLITE_MODES"]

TFLITE_MODES = ("float32", "dynamic", "float16", "int8")


def _check_bits(bits: Any) -> int:
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError(f"bits must be an int such as 8, got {type(bits).__name__}.")
    if not 2 <= bits <= 16:
        raise ValueError(f"bits must be between 2 and 16, got {bits}; 8 is the usual choice.")
    return int(bits)


# ------------------------------------------------------------------ quantization from scratch
def quant_params(xmin: float, xmax: float, bits: int = 8) -> tuple[float, int]:
    """Scale and zero point of unsigned affine quantization covering ``[xmin, xmax]`` (0 always exact)."""
    bits = _check_bits(bits)
    xmin, xmax = float(min(xmin, 0.0)), float(max(xmax, 0.0))  # the range must contain 0 (padding, ReLU)
    if not (np.isfinite(xmin) and np.isfinite(xmax)):
        raise ValueError(f"the range must be finite, got [{xmin}, {xmax}]; remove NaN/inf first.")
    qmax = 2 ** bits - 1
    scale = (xmax - xmin) / qmax if xmax > xmin else 1.0
    if not np.isfinite(scale):
        raise ValueError(f"the range [{xmin:g}, {xmax:g}] is too wide for float64 arithmetic; rescale the values "
                         "(e.g. divide by their max |x|) before quantizing.")
    if scale < np.finfo(np.float64).tiny:
        raise ValueError(f"the range [{xmin:g}, {xmax:g}] is too narrow to quantize (scale {scale:g} underflows); "
                         "rescale the values first, or treat them as 0.")
    zero_point = int(np.clip(round(-xmin / scale), 0, qmax))
    return scale, zero_point


def quantize(x: Any, scale: float, zero_point: int, bits: int = 8) -> np.ndarray:
    """Real values → integers ``clip(round(x / scale) + zero_point, 0, 2**bits - 1)``."""
    bits = _check_bits(bits)
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.floating, np.integer)) \
            or not np.isfinite(scale) or not scale > 0:
        raise ValueError(f"scale must be positive and finite, got {scale!r}; compute it with quant_params().")
    if isinstance(zero_point, bool) or not isinstance(zero_point, (int, np.integer)) \
            or not 0 <= zero_point <= 2 ** bits - 1:
        raise ValueError(f"zero_point must be an int in [0, {2 ** bits - 1}], got {zero_point!r}; "
                         "compute it with quant_params().")
    x = np.asarray(x, dtype=np.float64)
    if np.isnan(x).any():
        raise ValueError("x contains NaN, which has no integer code; remove or replace NaN before quantizing.")
    with np.errstate(over="ignore"):  # ±inf and huge values saturate to the ends of the range
        q = np.round(x / scale) + zero_point
    return np.clip(q, 0, 2 ** bits - 1).astype(np.int64)


def dequantize(q: Any, scale: float, zero_point: int) -> np.ndarray:
    """Integers → the real values they stand for: ``scale * (q - zero_point)``."""
    return scale * (np.asarray(q, dtype=np.float64) - zero_point)


def fake_quant(x: Any, bits: int = 8) -> np.ndarray:
    """Quantize then dequantize ``x`` with its own min/max range: what ``bits`` bits keep of it."""
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        raise ValueError("fake_quant needs a non-empty array.")
    if not np.isfinite(x).all():
        raise ValueError("fake_quant needs finite values; x contains NaN or inf.")
    scale, zp = quant_params(x.min(), x.max(), bits)
    return dequantize(quantize(x, scale, zp, bits), scale, zp)


# ------------------------------------------------------------------ pruning
def magnitude_mask(w: Any, sparsity: float) -> np.ndarray:
    """A 0/1 mask (same shape as ``w``) that zeroes the ``round(sparsity * size)`` smallest ``|w|``."""
    w = np.asarray(w)
    if w.dtype.kind not in "fiu" or w.size == 0 or not np.isfinite(w).all():
        raise ValueError("w must be a non-empty array of finite numbers (a layer's weights); it has NaN/inf, "
                         f"no entries, or dtype {w.dtype}.")
    if isinstance(sparsity, bool) or not isinstance(sparsity, (int, float, np.floating)):
        raise TypeError(f"sparsity must be a number in [0, 1), got {type(sparsity).__name__}.")
    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity must be in [0, 1), got {sparsity}; 0.8 prunes 80 % of the weights.")
    k = int(round(float(sparsity) * w.size))
    mask = np.ones(w.size, dtype=w.dtype if w.dtype.kind == "f" else np.float32)
    if k:
        order = np.argsort(np.abs(w).ravel(), kind="stable")  # ties: the earlier index is pruned first
        mask[order[:k]] = 0
    return mask.reshape(w.shape)


def polynomial_sparsity(step: int, begin_step: int, end_step: int, initial: float = 0.0, final: float = 0.8,
                        power: float = 3.0) -> float:
    """Target sparsity at ``step``: rises from ``initial`` to ``final`` as ``1 - (1 - t)**power``, then holds."""
    for name, v in (("step", step), ("begin_step", begin_step), ("end_step", end_step)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an int (a training step), got {v!r}.")
    for name, v in (("initial", initial), ("final", final), ("power", power)):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating, np.integer)) or not np.isfinite(v):
            raise ValueError(f"{name} must be a finite number, got {v!r}.")
    if not power > 0:
        raise ValueError(f"power must be > 0 (3 is the usual cubic schedule), got {power}.")
    if end_step <= begin_step:
        raise ValueError(f"end_step ({end_step}) must be after begin_step ({begin_step}).")
    if not 0.0 <= initial <= final < 1.0:
        raise ValueError(f"need 0 <= initial <= final < 1, got initial={initial}, final={final}.")
    t = min(max((step - begin_step) / (end_step - begin_step), 0.0), 1.0)
    return float(final + (initial - final) * (1.0 - t) ** power)


def prunable_kernels(model, min_size: int = 0) -> list:
    """The kernel variables of a model's Dense and Conv layers with at least ``min_size`` weights."""
    import keras
    if not hasattr(model, "layers"):
        raise TypeError(f"expected a Keras model, got {type(model).__name__}.")
    out = []
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, (keras.layers.Dense, keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)):
            if int(np.prod(layer.kernel.shape)) >= min_size:
                out.append(layer.kernel)
    if not out:
        raise ValueError(f"the model has no Dense or Conv kernel with ≥ {min_size} weights to prune; "
                         "lower min_size.")
    return out


def _make_pruning_callback():
    import keras

    class MagnitudePruning(keras.callbacks.Callback):
        """Prune each Dense/Conv kernel to its scheduled sparsity by weight magnitude during ``fit``.

        Every ``frequency`` steps between ``begin_step`` and ``end_step`` the masks are recomputed
        (layer by layer, smallest ``|w|`` first); after *every* step the masks are re-applied so
        pruned weights stay exactly zero. Kernels with fewer than ``min_size`` weights (the first
        convolution, the output layer) are left dense: they cost little and are the most
        sensitive. ``self.log`` records ``(step, target sparsity)``.
        """

        def __init__(self, final_sparsity: float = 0.8, begin_step: int = 0, end_step: int = 100,
                     frequency: int = 10, initial_sparsity: float = 0.0, power: float = 3.0, min_size: int = 0):
            super().__init__()
            polynomial_sparsity(begin_step, begin_step, end_step, initial_sparsity, final_sparsity, power)
            if isinstance(frequency, bool) or not isinstance(frequency, int) or frequency < 1:
                raise ValueError(f"frequency must be a positive int (steps between mask updates), got {frequency!r}.")
            self.final, self.initial, self.power = final_sparsity, initial_sparsity, power
            self.begin, self.end, self.frequency = begin_step, end_step, frequency
            self.min_size = min_size
            self.step = 0
            self.log: list[tuple[int, float]] = []
            self.masks: list | None = None

        def on_train_begin(self, logs=None):
            if self.masks is None:
                self.kernels = prunable_kernels(self.model, self.min_size)
                self.masks = [keras.ops.ones(k.shape, k.dtype) for k in self.kernels]

        def on_train_batch_end(self, batch, logs=None):
            self.step += 1
            s = self.step
            if self.begin <= s <= self.end and ((s - self.begin) % self.frequency == 0 or s == self.end):
                target = polynomial_sparsity(s, self.begin, self.end, self.initial, self.final, self.power)
                self.masks = [keras.ops.convert_to_tensor(magnitude_mask(k.numpy(), target), k.dtype)
                              for k in self.kernels]
                self.log.append((s, target))
            for k, m in zip(self.kernels, self.masks):
                k.assign(keras.ops.multiply(k, m))

    return MagnitudePruning


def __getattr__(name: str):
    # Keras classes are built on first use so that `import labkit.compress` stays light
    if name == "MagnitudePruning":
        cls = _make_pruning_callback()
        globals()[name] = cls
        return cls
    if name == "Distiller":
        cls = _make_distiller()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'labkit.compress' has no attribute {name!r}")


def sparsity(model) -> dict[str, float]:
    """Fraction of exact zeros in each prunable kernel, by layer name, plus ``"total"`` over them."""
    kernels = prunable_kernels(model)
    out, zeros, size = {}, 0, 0
    for k in kernels:
        v = np.asarray(k.numpy())
        name = k.path.rsplit("/", 1)[0] if hasattr(k, "path") else k.name
        out[name] = float((v == 0).mean())
        zeros += int((v == 0).sum())
        size += v.size
    out["total"] = zeros / size
    return out


def gzip_size(weights: Any) -> int:
    """Bytes of the model's (or list of arrays') float32 weights after gzip -9: what a zip download costs."""
    arrays = weights.get_weights() if hasattr(weights, "get_weights") else list(weights)
    if not arrays:
        raise ValueError("gzip_size needs a model or a non-empty list of arrays.")
    raw = b"".join(np.ascontiguousarray(a, dtype=np.float32).tobytes() for a in arrays)
    return len(gzip.compress(raw, compresslevel=9, mtime=0))


def keras_size(model) -> int:
    """Bytes of a Keras model's variables in memory (int8 variables count 1 byte each)."""
    return int(sum(np.asarray(v.numpy()).nbytes for v in model.weights))


# ------------------------------------------------------------------ distillation
def distillation_loss(student_logits: Any, teacher_logits: Any, temperature: float = 2.0):
    """``T² · KL(softmax(teacher/T) ‖ softmax(student/T))``, averaged over the batch (Hinton et al. 2015)."""
    import tensorflow as tf
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature}; 1 means no softening.")
    t = float(temperature)
    p_t = tf.nn.softmax(tf.cast(teacher_logits, tf.float32) / t)
    log_p_t = tf.nn.log_softmax(tf.cast(teacher_logits, tf.float32) / t)
    log_p_s = tf.nn.log_softmax(tf.cast(student_logits, tf.float32) / t)
    return t * t * tf.reduce_mean(tf.reduce_sum(p_t * (log_p_t - log_p_s), axis=-1))


def _make_distiller():
    import keras
    import tensorflow as tf

    class Distiller(keras.Model):
        """Train ``student`` on hard labels and, if a ``teacher`` is given, on its softened outputs.

        ``train_step`` mixes each batch (mixup: ``x = λ·x_i + (1-λ)·x_j``) so that teacher and student
        are compared on fresh inputs every step — a "patient and consistent" teacher (Beyer et al. 2022).
        With ``teacher=None`` it trains the same student on the same mixed inputs with the mixed
        labels alone: the fair baseline. The loss is ``alpha·CE(labels) + (1-alpha)·T²·KL(teacher‖student)``.
        """

        def __init__(self, student, teacher=None, temperature: float = 2.0, alpha: float = 0.1,
                     num_classes: int = 10, mixup: bool = True, seed: int = 0):
            super().__init__()
            if teacher is not None and teacher.count_params() <= student.count_params():
                raise ValueError(f"the teacher ({teacher.count_params()} parameters) should be bigger than the "
                                 f"student ({student.count_params()}): did you swap them?")
            if not 0.0 <= alpha <= 1.0:
                raise ValueError(f"alpha (weight of the hard-label loss) must be in [0, 1], got {alpha}.")
            self.student, self.teacher = student, teacher
            self.temperature, self.alpha, self.num_classes, self.mixup = temperature, alpha, num_classes, mixup
            self.seed_gen = keras.random.SeedGenerator(seed)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            if teacher is not None:
                teacher.trainable = False

        @property
        def metrics(self):
            return [self.loss_tracker]

        def call(self, x, training=False):
            return self.student(x, training=training)

        def train_step(self, data):
            x, y = data
            y = tf.one_hot(tf.cast(y, tf.int32), self.num_classes)
            if self.mixup:
                n = tf.shape(x)[0]
                lam = keras.random.uniform((n, 1), seed=self.seed_gen)
                j = keras.random.shuffle(tf.range(n), seed=self.seed_gen)
                x = lam * x + (1.0 - lam) * tf.gather(x, j)
                y = lam * y + (1.0 - lam) * tf.gather(y, j)
            teacher_logits = None if self.teacher is None else self.teacher(x, training=False)
            with tf.GradientTape() as tape:
                logits = self.student(x, training=True)
                loss = tf.reduce_mean(keras.losses.categorical_crossentropy(y, logits, from_logits=True))
                if teacher_logits is not None:
                    soft = distillation_loss(logits, teacher_logits, self.temperature)
                    loss = self.alpha * loss + (1.0 - self.alpha) * soft
            grads = tape.gradient(loss, self.student.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.student.trainable_variables))
            self.loss_tracker.update_state(loss)
            return {"loss": self.loss_tracker.result()}

    return Distiller


# ------------------------------------------------------------------ the course's models for notebook 13
def teacher_model(input_len: int = 40, classes: int = 10, name: str = "teacher"):
    """The big model of notebook 13: two Conv1D layers and a wide Dense head (≈ 336k parameters)."""
    import keras
    L = keras.layers
    return keras.Sequential([keras.Input((input_len,)), L.Reshape((input_len, 1)),
                             L.Conv1D(32, 5, padding="same", activation="relu"),
                             L.Conv1D(32, 5, padding="same", activation="relu"),
                             L.Flatten(), L.Dense(256, activation="relu"), L.Dense(classes)], name=name)


def student_model(input_len: int = 40, classes: int = 10, hidden: int = 128, name: str = "student"):
    """The small model of notebook 13: one hidden Dense layer (≈ 6.5k parameters at ``hidden=128``)."""
    import keras
    L = keras.layers
    return keras.Sequential([keras.Input((input_len,)), L.Dense(hidden, activation="relu"), L.Dense(classes)],
                            name=name)


# ------------------------------------------------------------------ TFLite / LiteRT
@contextlib.contextmanager
def _quiet_native_logs(tmpdir: str):
    """Send the converter's C++ log lines (fd 2) and TF's INFO logs to a file; show its tail on failure."""
    import logging
    import sys
    log_path = os.path.join(tmpdir, "converter.log")
    tf_logger = logging.getLogger("tensorflow")
    old_level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved = os.dup(2)
    with open(log_path, "w") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        except Exception as exc:
            os.dup2(saved, 2)
            with open(log_path, errors="replace") as fh:
                tail = "".join(fh.readlines()[-15:])
            raise RuntimeError(f"TFLite conversion failed: {exc}\nconverter log (last lines):\n{tail}") from exc
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tf_logger.setLevel(old_level)


def tflite_convert(model, mode: str = "float32", representative: Any = None, workdir: str | None = None) -> bytes:
    """Convert a Keras model to a TFLite flatbuffer: ``float32``, ``dynamic`` (int8 weights), ``float16`` or
    ``int8`` (weights and activations; needs ``representative`` inputs to calibrate activation ranges).

    Goes through ``model.export`` (a SavedModel) and ``TFLiteConverter.from_saved_model``, the artifact
    serving tools also read; ``from_keras_model`` and ``from_concrete_functions`` convert Keras 3 models
    too (notebook 13 checks that they agree). ``workdir`` (default: a temporary directory, removed
    afterwards) holds the SavedModel.
    """
    import tensorflow as tf
    if mode not in TFLITE_MODES:
        raise ValueError(f"mode must be one of {TFLITE_MODES}, got {mode!r}.")
    if mode == "int8" and representative is None:
        raise ValueError("full int8 needs representative inputs (e.g. 200 training examples) to calibrate "
                         "activation ranges: tflite_convert(model, 'int8', representative=X_train[:200]).")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp, _quiet_native_logs(tmp):
        path = os.path.join(tmp, "saved_model")
        model.export(path, verbose=False)
        conv = tf.lite.TFLiteConverter.from_saved_model(path)
        if mode != "float32":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "float16":
            conv.target_spec.supported_types = [tf.float16]
        if mode == "int8":
            rep = np.asarray(representative, dtype=np.float32)

            def gen():
                for i in range(len(rep)):
                    yield [rep[i:i + 1]]
            conv.representative_dataset = gen
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            conv.inference_input_type = tf.int8
            conv.inference_output_type = tf.int8
        return conv.convert()


class TFLiteModel:
    """Run a TFLite flatbuffer with the LiteRT interpreter like a function: ``logits = m(X)``.

    int8 models are fed and read through their input/output scale and zero point, so callers
    always pass and get float32. ``m.input_dtype`` tells which kind it is.
    """

    def __init__(self, content: bytes, num_threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter
        if not isinstance(content, (bytes, bytearray)):
            raise TypeError(f"TFLiteModel takes the flatbuffer bytes (from tflite_convert), got {type(content).__name__}.")
        self.content = bytes(content)
        self.interpreter = Interpreter(model_content=self.content, num_threads=num_threads)
        self.inp = self.interpreter.get_input_details()[0]
        self.out = self.interpreter.get_output_details()[0]
        self.input_dtype = np.dtype(self.inp["dtype"])
        self._shape: tuple[int, ...] | None = None

    @property
    def size(self) -> int:
        """Bytes of the flatbuffer: what ships to the device."""
        return len(self.content)

    def _prepare(self, x: np.ndarray) -> np.ndarray:
        if self.input_dtype == np.int8:
            scale, zp = self.inp["quantization"]
            return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)
        return x.astype(self.input_dtype)

    def set_input(self, X: Any) -> None:
        """Resize for ``X``'s batch (only when it changed) and copy it in."""
        x = np.asarray(X, dtype=np.float32)
        if x.ndim != len(self.inp["shape"]):
            raise ValueError(f"input should have {len(self.inp['shape'])} dimensions like {tuple(self.inp['shape'])}, "
                             f"got shape {x.shape}.")
        if self._shape != x.shape:
            self.interpreter.resize_tensor_input(self.inp["index"], list(x.shape))
            self.interpreter.allocate_tensors()
            self._shape = x.shape
        self.interpreter.set_tensor(self.inp["index"], self._prepare(x))

    def output(self) -> np.ndarray:
        """The last output as float32 (int8 outputs dequantized)."""
        y = self.interpreter.get_tensor(self.out["index"])
        if np.dtype(self.out["dtype"]) == np.int8:
            scale, zp = self.out["quantization"]
            return (y.astype(np.float32) - zp) * scale
        return y

    def __call__(self, X: Any) -> np.ndarray:
        self.set_input(X)
        self.interpreter.invoke()
        return self.output()

    def latency_ms(self, X: Any, repeats: int = 200) -> float:
        """Median time of one ``invoke`` on ``X`` (copied in once), in milliseconds."""
        self.set_input(X)
        return latency_ms(self.interpreter.invoke, repeats=repeats)


# ------------------------------------------------------------------ measuring
def latency_samples_ms(fn: Callable[[], Any], repeats: int = 200, warmup: int = 10) -> np.ndarray:
    """Wall time of each of ``repeats`` runs of ``fn()`` in ms, after ``warmup`` untimed runs (notebook 13).

    The result is synchronised: a returned tensor is copied to the host (``.numpy()``) inside the
    timed region, so on a GPU the timer measures the work, not only the kernel launch.
    """
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}.")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}.")
    if not callable(fn):
        raise TypeError("latency_ms takes a zero-argument function, e.g. lambda: model(x).")
    from .timing import sync, timed   # the course's one synchronising timer
    for _ in range(warmup):
        sync(fn())
    return np.array([timed(fn) for _ in range(repeats)]) * 1e3


def latency_ms(fn: Callable[[], Any], repeats: int = 200, warmup: int = 10) -> float:
    """Median wall time of ``fn()`` in milliseconds over ``repeats`` synchronised runs, after ``warmup`` untimed runs."""
    return float(np.median(latency_samples_ms(fn, repeats=repeats, warmup=warmup)))


def keras_latency_ms(model, X: Any, repeats: int = 200) -> float:
    """Median time of one inference call of a Keras model on ``X``, through a ``tf.function`` (ms)."""
    import tensorflow as tf
    if not callable(model):
        raise TypeError(f"expected a Keras model, got {type(model).__name__}.")
    fn = tf.function(lambda x: model(x, training=False))
    x = tf.constant(np.asarray(X, dtype=np.float32))
    return latency_ms(lambda: fn(x), repeats=repeats)


def accuracy(logits: Any, y: Any) -> float:
    """Top-1 accuracy of ``logits`` (n, classes) against integer labels ``y``."""
    logits, y = np.asarray(logits), np.asarray(y)
    if logits.ndim != 2 or y.ndim != 1 or len(logits) != len(y) or len(y) == 0:
        raise ValueError(f"need logits (n, classes) and n labels (n >= 1), got {logits.shape} and {y.shape}.")
    if logits.dtype.kind not in "fiu" or not np.isfinite(logits).all():
        raise ValueError("logits must be finite numbers; NaN/inf logits mean the model diverged — check its outputs.")
    if y.dtype.kind not in "iu" or y.min() < 0 or y.max() >= logits.shape[1]:
        raise ValueError(f"y must hold integer class labels in [0, {logits.shape[1]}), got dtype {y.dtype} with "
                         f"range [{y.min()}, {y.max()}].")
    return float((logits.argmax(1) == y).mean())
