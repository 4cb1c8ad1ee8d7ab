"""Throughput of labkit.train.fit vs keras Model.fit on the same model and data, in one run.

    python benchmarks/bench_train_loop.py        # prints samples/s for each and the ratio

Goal: labkit's teaching loop reaches ≥ 0.9× the throughput of model.fit. Timings are of
whole epochs after one warm-up epoch each (tracing excluded), median of several epochs.
"""
from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import labkit as lk  # noqa: E402


def make_model(seed: int = 0) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((64,)), keras.layers.Dense(256, activation="relu"),
                             keras.layers.Dense(256, activation="relu"), keras.layers.Dense(10)])


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.t0)


def main(epochs: int = 6, batch_size: int = 64) -> float:
    ds = lk.data.load("digits")
    X = np.tile(ds.X, (4, 1))
    y = np.tile(ds.y, 4)
    data = lk.train.as_dataset((X, y), batch_size=batch_size, seed=0)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    m1 = make_model()
    m1.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    t_fit = EpochTimer()
    m1.fit(data, epochs=epochs, verbose=0, callbacks=[t_fit], shuffle=False)

    m2 = make_model()
    t_lk = EpochTimer()
    lk.train.fit(m2, data, loss=loss, optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"],
                 epochs=epochs, callbacks=[t_lk], verbose=0)

    n = len(X)
    fit_tp = n / statistics.median(t_fit.times[1:])
    lk_tp = n / statistics.median(t_lk.times[1:])
    ratio = lk_tp / fit_tp
    print(f"model.fit        {fit_tp:10.0f} samples/s")
    print(f"labkit.train.fit {lk_tp:10.0f} samples/s")
    print(f"ratio labkit/fit {ratio:10.2f}  (goal ≥ 0.90)")
    return ratio


if __name__ == "__main__":
    r = main()
    sys.exit(0)
