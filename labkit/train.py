"""A readable training loop — what ``model.fit`` does, written out (used from notebook 01 on).

``fit(model, train_ds, loss=..., optimizer=...)`` runs a ``tf.function`` train step over a
``tf.data`` pipeline with metrics, Keras callbacks, a history and a progress bar. Inside a
``tf.distribute`` strategy scope it runs unchanged: each replica computes its loss on its
shard, scaled by the global batch size, and the gradients are summed across replicas.
``benchmarks/bench_train_loop.py`` measures it against ``model.fit`` (goal ≥ 0.9× throughput).
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np


class History:
    """Per-epoch logs, like ``keras.callbacks.History``: ``history.history["loss"]``."""

    def __init__(self) -> None:
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, logs: dict[str, float]) -> None:
        self.epoch.append(epoch)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(float(v))

    def __repr__(self) -> str:
        last = {k: round(v[-1], 4) for k, v in self.history.items()}
        return f"History(epochs={len(self.epoch)}, last={last})"


def as_dataset(data: Any, batch_size: int = 32, shuffle: bool = True, seed: int = 0):
    """``(X, y)`` arrays → a shuffled, batched, prefetched ``tf.data.Dataset``; datasets pass through."""
    import tensorflow as tf
    if isinstance(data, tf.data.Dataset):
        return data
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError("Training data must be a tf.data.Dataset or an (X, y) tuple of arrays, "
                        f"got {type(data).__name__}.")
    X, y = (np.asarray(a) for a in data)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got {len(X)} and {len(y)}.")
    if len(X) == 0:
        raise ValueError("Training data is empty.")
    if X.dtype.kind == "f" and not np.isfinite(X).all():
        raise ValueError("X contains NaN or inf; clean or impute it before training.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    ds = tf.data.Dataset.from_tensor_slices((X, y))
    if shuffle:
        ds = ds.shuffle(len(X), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)


def _resolve(obj: Any, kind: str):
    import keras
    if isinstance(obj, str):
        return getattr(keras, kind).get(obj)
    if obj is None:
        example = {"losses": "loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True) or "
                              "loss='mse'", "optimizers": "optimizer=keras.optimizers.Adam() or optimizer='adam'"}
        raise ValueError(f"fit() needs {'a loss' if kind == 'losses' else 'an optimizer'}: pass e.g. "
                         f"{example.get(kind, kind)}.")
    return obj


def fit(model, train_data, *, loss: Any, optimizer: Any = "adam", epochs: int = 1, metrics: Sequence = (),
        validation_data: Any = None, batch_size: int = 32, callbacks: Iterable = (), strategy=None,
        verbose: bool | int = True, seed: int = 0) -> History:
    """Train ``model`` with an explicit GradientTape loop; returns a :class:`History`.

    ``loss`` is a Keras loss (object or name) or ``fn(y_true, y_pred) -> per-example losses``.
    With ``strategy`` (or inside ``strategy.scope()``) the step runs on every replica via
    ``strategy.run`` and the per-replica losses are averaged over the *global* batch.
    ``verbose``: 1/True a progress bar, 2 one line per epoch, 0 silent.
    """
    import keras
    import tensorflow as tf

    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}.")
    strategy = strategy or tf.distribute.get_strategy()
    loss_obj = _resolve(loss, "losses")
    # per-example losses so that we can average over the global batch ourselves
    if isinstance(loss_obj, keras.losses.Loss):
        cfg = loss_obj.get_config()
        cfg["reduction"] = None
        per_example = loss_obj.__class__.from_config(cfg)
    else:
        per_example = loss_obj
    with strategy.scope():
        opt = _resolve(optimizer, "optimizers")
        if getattr(opt, "_distribution_strategy", strategy) is not strategy:
            if opt.built:
                raise ValueError("The optimizer was built under another distribution strategy; create it "
                                 "inside `with strategy.scope():` (or pass its name, e.g. optimizer='adam').")
            opt = opt.__class__.from_config(opt.get_config())  # re-create it under this strategy
        if not opt.built:
            opt.build(model.trainable_variables)
        # "accuracy" means sparse categorical accuracy here (integer labels, as in the course)
        metric_objs = [keras.metrics.SparseCategoricalAccuracy(name="accuracy") if m in ("accuracy", "acc")
                       else keras.metrics.get(m) if isinstance(m, str) else m for m in metrics]
        loss_mean = keras.metrics.Mean(name="loss")
        val_metrics = [m.__class__.from_config(m.get_config()) for m in metric_objs]
        val_loss_mean = keras.metrics.Mean(name="loss")
    train_ds = as_dataset(train_data, batch_size=batch_size, shuffle=True, seed=seed)
    val_ds = None if validation_data is None else as_dataset(validation_data, batch_size=batch_size, shuffle=False)
    dist_train = strategy.experimental_distribute_dataset(train_ds)
    dist_val = None if val_ds is None else strategy.experimental_distribute_dataset(val_ds)
    replicas = strategy.num_replicas_in_sync

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            per_ex = per_example(y, pred)
            # average over the global batch: each replica contributes its share
            global_bs = tf.cast(tf.shape(per_ex)[0] * replicas, per_ex.dtype)
            loss_value = tf.reduce_sum(per_ex) / global_bs
            if model.losses:
                loss_value += tf.add_n(model.losses) / replicas
        grads = tape.gradient(loss_value, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        loss_mean.update_state(per_ex)
        for m in metric_objs:
            m.update_state(y, pred)

    def replica_eval(x, y):
        pred = model(x, training=False)
        val_loss_mean.update_state(per_example(y, pred))
        for m in val_metrics:
            m.update_state(y, pred)

    @tf.function
    def train_step(x, y):
        strategy.run(replica_step, args=(x, y))

    @tf.function
    def eval_step(x, y):
        strategy.run(replica_eval, args=(x, y))

    history = History()
    cb = keras.callbacks.CallbackList(list(callbacks), add_history=False, add_progbar=False, model=model,
                                      epochs=int(epochs), verbose=0)
    model.stop_training = False
    cb.on_train_begin()
    show = bool(verbose)
    bar = None
    if verbose == 1 or verbose is True:  # a progress bar over epochs, metrics as its postfix
        from tqdm.auto import tqdm
        bar = tqdm(total=int(epochs), desc="training", unit="epoch", leave=True)
    for epoch in range(int(epochs)):
        cb.on_epoch_begin(epoch)
        for m in [loss_mean, *metric_objs]:
            m.reset_state()
        t0 = time.perf_counter()
        steps = 0
        for x, y in dist_train:
            train_step(x, y)
            steps += 1
        logs = {"loss": float(loss_mean.result())}
        logs.update({m.name: float(m.result()) for m in metric_objs})
        if dist_val is not None:
            for m in [val_loss_mean, *val_metrics]:
                m.reset_state()
            for x, y in dist_val:
                eval_step(x, y)
            logs["val_loss"] = float(val_loss_mean.result())
            logs.update({"val_" + m.name: float(m.result()) for m in val_metrics})
        dt = time.perf_counter() - t0
        cb.on_epoch_end(epoch, logs)
        history.append(epoch, logs)
        if bar is not None:
            bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items()}, refresh=False)
            bar.update(1)
        elif show:
            txt = " · ".join(f"{k} {v:.4f}" for k, v in logs.items())
            print(f"epoch {epoch + 1}/{epochs} · {steps} steps · {dt:.2f} s · {txt}")
        if getattr(model, "stop_training", False):
            if show:
                print(f"stopped early after epoch {epoch + 1}")
            break
    if bar is not None:
        bar.close()
    cb.on_train_end()
    return history
