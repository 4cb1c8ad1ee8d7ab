"""Next-token training (07_attention_transformers; reused in 12 and 15).

``lm_arrays`` cuts a token stream into (input, target) windows shifted by one; ``lm_batches``
makes the shuffled ``tf.data`` pipeline; ``TimeBudget`` stops ``fit`` by wall time (or a step
count, for a run that must be reproducible); ``compile_lm`` and ``evaluate_loss`` are the
usual AdamW + cross-entropy in nats per token. ``train_for`` (15_serving_llms) is a short
fine-tuning run under a wall-clock budget with a plain ``tf.function`` step: on this CPU it is
traced in about a third of the time ``fit`` needs before its first step, which matters when a
notebook fine-tunes two models for seconds each.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np


def lm_arrays(ids: Any, context: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Windows of a token stream: X[i] = ids[s:s+context], Y[i] = ids[s+1:s+context+1], s = i·stride."""
    a = np.asarray(ids)
    if a.ndim != 1 or a.dtype.kind not in "iu":
        raise ValueError(f"ids must be a 1-D int array of token ids, got shape {a.shape} dtype {a.dtype}.")
    if isinstance(context, bool) or not isinstance(context, (int, np.integer)) or context < 1:
        raise ValueError(f"context must be a positive int, got {context!r}.")
    stride = context if stride is None else stride
    if isinstance(stride, bool) or not isinstance(stride, (int, np.integer)) or stride < 1:
        raise ValueError(f"stride must be a positive int, got {stride!r}.")
    if len(a) < context + 1:
        raise ValueError(f"The stream has {len(a)} tokens; it needs at least context + 1 = {context + 1}.")
    starts = np.arange(0, len(a) - context, stride)
    idx = starts[:, None] + np.arange(context + 1)[None, :]
    w = a[idx].astype(np.int32)
    return w[:, :-1], w[:, 1:]


def lm_batches(ids: Any, context: int, batch_size: int = 32, stride: int | None = None, shuffle: bool = True,
               seed: int = 0, repeat: bool = False):
    """A ``tf.data.Dataset`` of (x, y) int32 batches (batch, context) for next-token training."""
    import tensorflow as tf
    X, Y = lm_arrays(ids, context, stride)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    ds = tf.data.Dataset.from_tensor_slices((X, Y))
    if shuffle:
        ds = ds.shuffle(len(X), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    return ds.batch(int(batch_size), drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def _callback_base():
    import keras
    return keras.callbacks.Callback


class TimeBudget(_callback_base()):
    """A Keras callback that stops training after ``seconds`` of wall time or ``max_steps`` batches.

    Stopping by time keeps a notebook inside its budget on any machine; stopping by steps makes
    a run reproducible. The clock starts when the first batch ends, so graph tracing is not
    charged to the budget (``warmup_s`` says how long it took); ``min_steps`` keeps a busy machine
    from stopping before anything was learned. ``steps`` counts every batch,
    ``timed_steps`` those inside ``elapsed``; per-batch losses are kept in ``losses``.
    """

    def __init__(self, seconds: float | None = None, max_steps: int | None = None, min_steps: int = 0) -> None:
        super().__init__()
        if seconds is None and max_steps is None:
            raise ValueError("TimeBudget needs seconds=… or max_steps=… (or both).")
        if seconds is not None and (isinstance(seconds, bool) or not seconds > 0):
            raise ValueError(f"seconds must be > 0, got {seconds!r}.")
        if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
            raise ValueError(f"max_steps must be a positive int, got {max_steps!r}.")
        if isinstance(min_steps, bool) or not isinstance(min_steps, int) or min_steps < 0:
            raise ValueError(f"min_steps must be an int >= 0, got {min_steps!r}.")
        self.seconds, self.max_steps, self.min_steps = seconds, max_steps, min_steps
        self.steps, self.elapsed, self.warmup_s, self.losses = 0, 0.0, 0.0, []

    @property
    def timed_steps(self) -> int:
        """Batches run after the first one, i.e. inside ``elapsed``."""
        return max(self.steps - 1, 0)

    def on_train_begin(self, logs: Any = None) -> None:
        self.t_begin, self.t0 = time.perf_counter(), None
        self.steps, self.elapsed, self.losses = 0, 0.0, []

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        now = time.perf_counter()
        self.steps += 1
        if logs and "loss" in logs:
            self.losses.append(float(logs["loss"]))
        if self.t0 is None:
            self.t0, self.warmup_s = now, now - self.t_begin
        self.elapsed = now - self.t0
        out_of_time = self.seconds is not None and self.elapsed >= self.seconds and self.steps >= self.min_steps
        if out_of_time or (self.max_steps is not None and self.steps >= self.max_steps):
            self.model.stop_training = True


def compile_lm(model: Any, lr: float = 3e-3, weight_decay: float = 0.01, clipnorm: float | None = 1.0,
               jit_compile: Any = False) -> Any:
    """Compile for next-token training: AdamW, sparse cross-entropy on logits (nats per token).

    ``jit_compile`` is off by default: on a CPU, XLA's compile time costs more than it saves in a
    short run.
    """
    import keras
    opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=weight_decay, clipnorm=clipnorm)
    model.compile(optimizer=opt, loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  jit_compile=jit_compile)
    return model


def evaluate_loss(model: Any, X: Any, Y: Any, batch_size: int = 64) -> float:
    """Mean next-token cross-entropy (nats per token) of ``model`` on windows X → Y, in inference mode."""
    import keras
    from keras import ops
    X, Y = np.asarray(X), np.asarray(Y)
    if X.shape != Y.shape or X.ndim != 2:
        raise ValueError(f"X and Y must be matching (n, T) arrays, got {X.shape} and {Y.shape}.")
    total, count = 0.0, 0
    for i in range(0, len(X), batch_size):
        logits = model(X[i:i + batch_size], training=False)
        ce = keras.losses.sparse_categorical_crossentropy(Y[i:i + batch_size], logits, from_logits=True)
        total += float(ops.sum(ce))
        count += ce.shape[0] * ce.shape[1]
    return total / count


def train_for(model: Any, X: Any, Y: Any, seconds: float, lr: float = 1e-3, batch_size: int = 16,
              weight_decay: float = 0.01, clipnorm: float | None = 1.0, seed: int = 0,
              max_steps: int | None = None) -> dict:
    """Train ``model`` on windows X → Y (AdamW, cross-entropy on logits) for ``seconds`` of wall time.

    Batches are drawn without replacement by ``np.random.default_rng(seed)`` (reshuffled each
    pass). As with :class:`TimeBudget`, the clock starts after the first step, so tracing is not
    charged to the budget (``warmup_s`` says how long it took); ``max_steps`` caps the steps.
    Only ``model.trainable_variables`` change (so LoRA trains only its adapters). Returns
    ``{"steps", "seconds", "warmup_s", "losses"}``.
    """
    import keras
    import tensorflow as tf
    X, Y = np.asarray(X), np.asarray(Y)
    if X.shape != Y.shape or X.ndim != 2 or X.dtype.kind not in "iu":
        raise ValueError(f"X and Y must be matching (n, T) int arrays, got {X.shape} {X.dtype} and {Y.shape}.")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise ValueError(f"seconds must be > 0, got {seconds!r}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or not 1 <= batch_size <= len(X):
        raise ValueError(f"batch_size must be an int between 1 and len(X) = {len(X)}, got {batch_size!r}.")
    if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}.")
    variables = model.trainable_variables
    if not variables:
        raise ValueError("the model has no trainable variables; unfreeze something (or enable LoRA) first.")
    opt = keras.optimizers.AdamW(learning_rate=lr, weight_decay=weight_decay, clipnorm=clipnorm)
    opt.build(variables)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @tf.function
    def step(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    rng = np.random.default_rng(seed)
    order, pos = rng.permutation(len(X)), 0
    losses, t_begin, t0 = [], time.perf_counter(), None
    while True:
        if pos + batch_size > len(order):
            order, pos = rng.permutation(len(X)), 0
        idx = order[pos:pos + batch_size]
        pos += batch_size
        losses.append(float(step(X[idx].astype(np.int32), Y[idx].astype(np.int32))))   # float(): waits for the step
        now = time.perf_counter()
        if t0 is None:
            t0, warmup = now, now - t_begin
        if now - t0 >= seconds or (max_steps is not None and len(losses) >= max_steps):
            break
    return {"steps": len(losses), "seconds": time.perf_counter() - t0, "warmup_s": warmup, "losses": losses}
