"""Regenerate notebook 13's compression trade-off table outside the notebook and check its targets.

    python benchmarks/bench_compression.py            # prints the table; exit status 1 if a target is missed
    python benchmarks/bench_compression.py --seed 1   # another seed (targets should still hold)

Every variant of the MNIST-1D teacher (a 336k-parameter CNN): Keras float32, TFLite float32 / dynamic
range / float16 / full int8, Keras 3 ``quantize("int8")``, 90 %-pruned (gzip size), and a 26× smaller
student trained alone and by distillation. Size, accuracy and latency (median of repeated single-example
runs after a warm-up) for each. All the machinery is ``labkit.compress``, shared with the notebook.

Targets (from the course issue): full int8 ≥ 3.8× smaller with ≤ 0.5 pt accuracy drop; ≥ 80 % sparsity
with ≤ 1 pt drop and ≥ 3× smaller compressed; student ≥ 10× fewer parameters; the distilled student beats
the same student trained alone; the teacher beats the distilled student.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import labkit as lk  # noqa: E402
from labkit import compress  # noqa: E402


def clone(model: keras.Model) -> keras.Model:
    """A copy of ``model`` with the same weights."""
    c = keras.models.clone_model(model)
    c.set_weights(model.get_weights())
    return c


def main(seed: int = 0, repeats: int = 200) -> int:
    t_start = time.perf_counter()
    ds = lk.data.load("mnist1d")
    X, y = ds.X.astype("float32"), ds.y
    X_test, y_test = ds.X_test.astype("float32"), ds.y_test
    x1 = X_test[:1]
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    keras.utils.set_random_seed(seed)
    teacher = compress.teacher_model()
    teacher.compile(optimizer=keras.optimizers.Adam(2e-3), loss=loss)
    teacher.fit(X, y, batch_size=128, epochs=20, verbose=0)
    acc_float = compress.accuracy(teacher(X_test), y_test)
    rows = [("Keras float32", compress.keras_size(teacher), acc_float, compress.keras_latency_ms(teacher, x1, repeats))]

    lite = {m: compress.TFLiteModel(compress.tflite_convert(teacher, m, representative=X[:200]))
            for m in compress.TFLITE_MODES}
    for m in compress.TFLITE_MODES:
        rows.append((f"TFLite {m}", lite[m].size, compress.accuracy(lite[m](X_test), y_test),
                     lite[m].latency_ms(x1, repeats)))

    kq = clone(teacher)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kq.quantize("int8")
    rows.append(("Keras int8 (quantize)", compress.keras_size(kq), compress.accuracy(kq(X_test), y_test),
                 compress.keras_latency_ms(kq, x1, repeats)))

    keras.utils.set_random_seed(seed)
    pruned = clone(teacher)
    pruned.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    steps = 4 * int(np.ceil(len(X) / 128))
    pruned.fit(X, y, batch_size=128, epochs=4, verbose=0, callbacks=[compress.MagnitudePruning(
        final_sparsity=0.9, begin_step=0, end_step=int(0.6 * steps), frequency=8, min_size=10_000)])
    sparsity = compress.sparsity(pruned)["total"]
    prune_ratio = compress.gzip_size(teacher) / compress.gzip_size(pruned)
    rows.append(("pruned 90 % (gzip)", compress.gzip_size(pruned), compress.accuracy(pruned(X_test), y_test),
                 compress.keras_latency_ms(pruned, x1, repeats)))

    students = {}
    for name, tch in [("distilled student", teacher), ("student alone", None)]:
        keras.utils.set_random_seed(seed)
        s = compress.student_model(hidden=256)
        trainer = compress.Distiller(s, tch, temperature=2.0, alpha=0.1, seed=seed)
        trainer.compile(optimizer=keras.optimizers.Adam(1e-2))
        trainer.fit(X, y, batch_size=512, epochs=40, verbose=0)
        students[name] = s
        rows.append((name, compress.keras_size(s), compress.accuracy(s(X_test), y_test),
                     compress.keras_latency_ms(s, x1, repeats)))

    base = rows[0][1]
    print(f"\nMNIST-1D, seed {seed}: teacher {teacher.count_params():,} parameters, "
          f"student {students['student alone'].count_params():,}\n")
    print(f"| {'variant':<24} | {'size kB':>9} | {'× smaller':>9} | {'accuracy':>8} | {'Δ pts':>6} | {'latency ms':>10} |")
    print(f"|{'-' * 26}|{'-' * 11}|{'-' * 11}|{'-' * 10}|{'-' * 8}|{'-' * 12}|")
    for name, size, acc, lat in rows:
        print(f"| {name:<24} | {size / 1e3:9.1f} | {base / size:9.2f} | {acc:8.3f} | {100 * (acc - acc_float):+6.1f} "
              f"| {lat:10.3f} |")
    res = {name: (size, acc) for name, size, acc, _ in rows}
    int8_ratio = res["TFLite float32"][0] / res["TFLite int8"][0]
    checks = {
        f"full int8 ≥ 3.8× smaller ({int8_ratio:.2f}×)": int8_ratio >= 3.8,
        f"full int8 drop ≤ 0.5 pt ({100 * (acc_float - res['TFLite int8'][1]):+.1f})": acc_float - res["TFLite int8"][1] <= 0.005,
        f"sparsity ≥ 80 % ({sparsity:.1%})": sparsity >= 0.8,
        f"pruned drop ≤ 1 pt ({100 * (acc_float - res['pruned 90 % (gzip)'][1]):+.1f})":
            acc_float - res["pruned 90 % (gzip)"][1] <= 0.01,
        f"pruned ≥ 3× smaller compressed ({prune_ratio:.2f}×)": prune_ratio >= 3,
        f"student ≥ 10× fewer parameters ({teacher.count_params() / students['student alone'].count_params():.0f}×)":
            teacher.count_params() >= 10 * students["student alone"].count_params(),
        "distilled student beats student alone": res["distilled student"][1] > res["student alone"][1],
        "teacher beats distilled student": acc_float > res["distilled student"][1],
    }
    print()
    for what, ok in checks.items():
        print(f"{'✓' if ok else '✗'} {what}")
    print(f"\n{time.perf_counter() - t_start:.0f} s in all")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=200, help="timed runs per latency (median)")
    args = ap.parse_args()
    sys.exit(main(args.seed, args.repeats))
