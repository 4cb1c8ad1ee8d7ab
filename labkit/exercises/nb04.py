"""Exercises of 04_data_pipelines: a stratified split, a near-duplicate filter, a pipeline that beats the naive one."""
import time

import numpy as np

from ..check import Exercise, Mismatch, call_answer, function_exercise, register
from ._compat import fresh_seed, memorised

SECTION_SAMPLING = "04 · Sampling and class balance"
SECTION_DEDUP = "04 · Deduplication and leakage"
SECTION_THROUGHPUT = "04 · Throughput: naive vs tuned"


# ---------------------------------------------------------------- 1. stratified split
def stratified_split(y, test_fraction, rng):
    """Reference: per class, a random round(test_fraction · count) of its indices go to the test set."""
    y = np.asarray(y)
    test = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        k = int(round(test_fraction * len(idx)))
        test.append(rng.permutation(idx)[:k])
    test = np.sort(np.concatenate(test))
    train = np.setdiff1d(np.arange(len(y)), test)
    return train, test


def _split_labels():
    rng = np.random.default_rng(0)
    return rng.permutation(np.repeat(np.arange(5), [500, 300, 150, 40, 10]))


def _allowed_counts(frac, n_c):
    """round(frac · n_c); at an exact .5 tie both neighbours are accepted (Python rounds half to even)."""
    x = frac * n_c
    lo = int(np.floor(x))
    if abs(x - lo - 0.5) < 1e-9:
        return {lo, lo + 1}
    return {int(round(x))}


def _strat_random_cases(rng):
    out = []
    for _ in range(3):
        k = int(rng.integers(2, 8))
        counts = rng.integers(1, 120, k)
        counts[0] = int(rng.choice([1, 2, 3]))                 # a tiny class
        y = np.repeat(rng.permutation(10)[:k], counts)
        y = y if rng.random() < 0.3 else rng.permutation(y)
        frac = float(rng.choice([0.1, 0.25, 0.3, 0.35, 0.5])) if rng.random() < 0.5 else float(rng.uniform(0.05, 0.6))
        out.append((y, frac))
    return out


def _judge_stratified(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    y = _split_labels()
    sorted_y = np.sort(y)  # data stored class by class, as files often are
    seed = fresh_seed()
    fixed = [(y, 0.2, "shuffled labels"), (y, 0.25, "shuffled labels"), (sorted_y, 0.2, "labels sorted by class"),
             (sorted_y, 0.25, "labels sorted by class"),
             (np.repeat([0, 1, 2], [7, 9, 13]), 0.3, "counts where round() and int() differ (2.1, 2.7, 3.9)")]
    randoms = [(yy, f, f"random case {k} (seed {seed}; replay with lk.check('04.stratified_split', fn, seed={seed}))")
               for k, (yy, f) in enumerate(_strat_random_cases(np.random.default_rng(seed)), 1)]
    for labels, frac, name in fixed + randoms:
        tests = []
        for rs in (0, 1, 2, 3, 0):
            out = call_answer(answer, labels.copy(), frac, np.random.default_rng(rs))
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise Mismatch(f"{name}: return a pair (train_idx, test_idx) of index arrays, got {type(out).__name__}")
            train, test = (np.asarray(a) for a in out)
            if train.dtype.kind not in "iu" or test.dtype.kind not in "iu":
                raise Mismatch(f"{name}: train_idx and test_idx must be integer index arrays (positions in y), "
                               f"got dtypes {train.dtype} and {test.dtype}")
            both = np.concatenate([train, test])
            if len(np.unique(test)) != len(test):
                raise Mismatch(f"{name}, test_fraction={frac:g}: the test set contains an index twice "
                               "(sample without replacement)")
            if np.intersect1d(train, test).size:
                raise Mismatch(f"{name}, test_fraction={frac:g}: {np.intersect1d(train, test).size} indices are "
                               "in both train and test — that is leakage; the two must not overlap")
            if len(both) != len(labels) or not np.array_equal(np.sort(both), np.arange(len(labels))):
                raise Mismatch(f"{name}, test_fraction={frac:g}: train and test together must contain every index "
                               f"0…{len(labels) - 1} exactly once (got {len(both)} indices)")
            for c in np.unique(labels):
                n_c = int(np.sum(labels == c))
                got = int(np.sum(labels[test] == c))
                ok = _allowed_counts(frac, n_c)
                if got not in ok:
                    raise Mismatch(f"{name}, test_fraction={frac:g}, rng seed {rs}: class {c} has {got} of its {n_c} "
                                   f"examples in the test set, expected round({frac:g} × {n_c}) = "
                                   f"{' or '.join(map(str, sorted(ok)))}")
            tests.append(np.sort(test))
        if not np.array_equal(tests[0], tests[-1]):
            raise Mismatch(f"{name}: two generators with the same seed gave different test sets — draw with the "
                           "`rng` you are given, not np.random or a generator of your own")
        movable = any(0 < min(_allowed_counts(frac, int(np.sum(labels == c)))) < np.sum(labels == c)
                      for c in np.unique(labels))
        if movable and all(np.array_equal(tests[0], t) for t in tests[1:4]):
            raise Mismatch(f"{name}: four different rng seeds gave the same test set — pick the test examples of "
                           "each class at random (use rng), not the first ones")


def _strat_wrong_random(y, test_fraction, rng):
    perm = rng.permutation(len(y))  # a plain random split: class proportions drift
    k = int(round(test_fraction * len(y)))
    return np.sort(perm[k:]), np.sort(perm[:k])


def _strat_wrong_first(y, test_fraction, rng):
    y = np.asarray(y)
    test = np.concatenate([np.flatnonzero(y == c)[:int(round(test_fraction * np.sum(y == c)))] for c in np.unique(y)])
    return np.setdiff1d(np.arange(len(y)), test), np.sort(test)  # not random: the first examples of each class


def _strat_wrong_replace(y, test_fraction, rng):
    y = np.asarray(y)
    test = np.concatenate([rng.choice(np.flatnonzero(y == c), int(round(test_fraction * np.sum(y == c))), replace=True)
                           for c in np.unique(y)])
    return np.setdiff1d(np.arange(len(y)), test), np.sort(test)  # with replacement: repeated test indices


def _strat_wrong_leak(y, test_fraction, rng):
    _, test = stratified_split(y, test_fraction, rng)
    return np.arange(len(y)), test  # train keeps everything: the test examples leak into training


def _strat_wrong_global(y, test_fraction, rng):
    y = np.asarray(y)
    test = np.concatenate([np.random.permutation(np.flatnonzero(y == c))[:int(round(test_fraction * np.sum(y == c)))]
                           for c in np.unique(y)])
    return np.setdiff1d(np.arange(len(y)), test), np.sort(test)   # global NumPy state instead of rng


def _strat_wrong_truncate(y, test_fraction, rng):
    y = np.asarray(y)
    test = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:int(test_fraction * np.sum(y == c))]
                           for c in np.unique(y)])
    return np.setdiff1d(np.arange(len(y)), test), np.sort(test)   # int() truncates: 2.7 → 2


def _strat_wrong_none(y, test_fraction, rng):
    stratified_split(y, test_fraction, rng)


register(Exercise(
    id="04.stratified_split",
    title="a stratified train/test split",
    judge=_judge_stratified,
    reference=stratified_split,
    wrong={
        "other: a plain random split (class proportions drift)": _strat_wrong_random,
        "ignored_argument: the first examples of each class, rng unused": _strat_wrong_first,
        "other: sampled with replacement (repeated test indices)": _strat_wrong_replace,
        "other: train keeps every index (test leaks into training)": _strat_wrong_leak,
        "global_rng: np.random.permutation instead of rng": _strat_wrong_global,
        "boundary: int() truncates instead of rounding": _strat_wrong_truncate,
        "returns_none: returns nothing": _strat_wrong_none,
    },
    hints=[
        "Work class by class: for each label c, find its indices (np.flatnonzero(y == c)), shuffle them with rng, "
        "and send round(test_fraction · count) of them to the test set.",
        "The test indices of all classes, concatenated, form the test set; every other index is training "
        "(np.setdiff1d(np.arange(len(y)), test)). No index may be in both.",
        "for c in np.unique(y): idx = rng.permutation(np.flatnonzero(y == c)); test.append(idx[:int(round(test_fraction * "
        "len(idx)))])  — then test = np.sort(np.concatenate(test)); train = np.setdiff1d(np.arange(len(y)), test)",
    ],
    section=SECTION_SAMPLING,
))


# ---------------------------------------------------------------- 2. near-duplicate filter
def _shingles(text, k=5):
    text = " ".join(text.lower().split())
    return {text[i:i + k] for i in range(max(1, len(text) - k + 1))}


def _jaccard(a, b):
    return len(a & b) / len(a | b) if a | b else 1.0


def dedup(texts, threshold=0.8):
    """Reference: keep a text unless its shingle Jaccard similarity with an already KEPT text is ≥ threshold."""
    kept, kept_sets = [], []
    for i, t in enumerate(texts):
        s = _shingles(t)
        if all(_jaccard(s, o) < threshold for o in kept_sets):
            kept.append(i)
            kept_sets.append(s)
    return kept


def _dedup_wrong_exact(texts, threshold=0.8):
    seen, kept = set(), []
    for i, t in enumerate(texts):
        key = " ".join(t.lower().split())
        if key not in seen:  # exact duplicates only
            seen.add(key)
            kept.append(i)
    return kept


def _dedup_wrong_strict(texts, threshold=0.8):
    kept, kept_sets = [], []
    for i, t in enumerate(texts):
        s = _shingles(t)
        if all(_jaccard(s, o) <= threshold for o in kept_sets):  # > instead of ≥: misses pairs exactly at the threshold
            kept.append(i)
            kept_sets.append(s)
    return kept


def _dedup_wrong_all_earlier(texts, threshold=0.8):
    sets = [_shingles(t) for t in texts]
    return [i for i in range(len(texts))  # compares with every earlier text, removed ones included
            if all(_jaccard(sets[i], sets[j]) < threshold for j in range(i))]


def _dedup_wrong_overlap(texts, threshold=0.8):
    kept, kept_sets = [], []
    for i, t in enumerate(texts):
        s = _shingles(t)
        if all(len(s & o) / min(len(s), len(o)) < threshold for o in kept_sets):  # overlap coefficient, not Jaccard
            kept.append(i)
            kept_sets.append(s)
    return kept


def _dedup_wrong_keep_last(texts, threshold=0.8):
    n = len(texts)
    return sorted(n - 1 - i for i in dedup(texts[::-1], threshold))  # keeps the last copy instead of the first


def _dedup_wrong_raw(texts, threshold=0.8):
    def raw_shingles(text, k=5):               # no lower-casing, no whitespace collapsing
        return {text[i:i + k] for i in range(max(1, len(text) - k + 1))}
    kept, kept_sets = [], []
    for i, t in enumerate(texts):
        s = raw_shingles(t)
        if all(_jaccard(s, o) < threshold for o in kept_sets):
            kept.append(i)
            kept_sets.append(s)
    return kept


def _dedup_wrong_fixed_threshold(texts, threshold=0.8):
    return dedup(texts, 0.8)


def _dedup_wrong_one_based(texts, threshold=0.8):
    return [i + 1 for i in dedup(texts, threshold)]


def _dedup_wrong_none(texts, threshold=0.8):
    dedup(texts, threshold)


_WORDS = ("model data batch token layer weight gradient loss shard cache prefetch index split train test "
          "eval metric score copy text page web crawl filter hash band row signature vector matrix").split()


def _dedup_random(rng):
    out = []
    for _ in range(2):
        first = " ".join(rng.choice(_WORDS, int(rng.integers(4, 12))))
        texts = [first, " ".join(rng.choice(_WORDS, 5)), "  " + "\t".join(w.upper() for w in first.split()) + " \n"]
        for _ in range(int(rng.integers(4, 12))):
            kind = rng.random()
            if texts and kind < 0.2:                                   # exact copy, case and spacing changed
                src = texts[int(rng.integers(len(texts)))]
                words = src.split()
                texts.append(("  " if rng.random() < 0.5 else "") + "\t ".join(
                    w.upper() if rng.random() < 0.5 else w.capitalize() for w in words) + "\n")
            elif texts and kind < 0.45:                                # near copy: one word replaced
                words = texts[int(rng.integers(len(texts)))].split()
                words[int(rng.integers(len(words)))] = str(rng.choice(_WORDS))
                texts.append(" ".join(words))
            else:                                                      # a new text
                texts.append(" ".join(rng.choice(_WORDS, int(rng.integers(4, 12)))))
        out.append((texts, float(rng.choice([0.5, 0.6, 0.7, 0.8, 0.9]))))
    return out


_BASE = ("The quick brown fox jumps over the lazy dog near the river bank today",
         "Data pipelines feed accelerators; a slow input pipeline leaves them idle",
         "Deduplication removes repeated documents before the train test split")


def _dedup_cases():
    a, b, c = _BASE
    chain_mid = a.replace("lazy dog", "lazy cat").replace("today", "again")
    chain_end = chain_mid.replace("river bank", "river side").replace("quick", "slow")
    exact = [a, b, a, c, "  THE quick brown fox jumps over the lazy dog near the river bank today ", b]
    near = [a, b, a.replace("today", "at noon"), c, b + "!", c.replace("Deduplication", "Dedup")]
    chain = [a, chain_mid, chain_end, b]
    # 13 characters differing in the last one: 8 shared 5-shingles of 10 in the union, Jaccard exactly 0.8
    boundary = ["0123456789abc", "0123456789abx", "abcdefghijklmnop", "abcdefghijklmnoq", "abcdefghijkl", "abcdefghijkm"]
    return [
        {"args": (exact, 0.8), "label": "(exact copies, one with different case and spacing)"},
        {"args": (near, 0.7), "label": "(near copies)"},
        {"args": (chain, 0.55), "label": "(a chain: 0~1 and 1~2 but not 0~2)"},
        {"args": (boundary, 0.8), "label": "(pairs exactly at the threshold)"},
        {"args": ([b, "data " + b, a], 0.8), "label": "(one text inside another)"},
        {"args": (["Batch Norm Layer", "batch   norm\tlayer", "BATCH NORM LAYER!", "token shard cache"], 0.9),
         "label": "(the same words in other case and spacing)"},
    ]


function_exercise(
    "04.dedup",
    title="a near-duplicate filter",
    reference=dedup,
    cases=_dedup_cases,
    hints=[
        "Go through the texts in order and keep the list of texts already kept (their shingle sets). A text is kept "
        "only if its Jaccard similarity with EVERY kept text is below the threshold.",
        "Jaccard = |A ∩ B| / |A ∪ B| of the two shingle sets (`shingles(text)`), not |A ∩ B| / min(|A|, |B|). A pair "
        "at exactly the threshold counts as a duplicate (≥). Compare only with kept texts, not removed ones.",
        "kept, sets = [], []; for i, t in enumerate(texts): s = shingles(t); if all(len(s & o) / len(s | o) < threshold "
        "for o in sets): kept.append(i); sets.append(s)  — return kept",
    ],
    random_cases=_dedup_random,
    wrong={
        "other: exact duplicates only": _dedup_wrong_exact,
        "boundary: > instead of ≥ (misses pairs exactly at the threshold)": _dedup_wrong_strict,
        "other: compares with removed texts too": _dedup_wrong_all_earlier,
        "other: overlap coefficient instead of Jaccard": _dedup_wrong_overlap,
        "other: keeps the last copy instead of the first": _dedup_wrong_keep_last,
        "normalisation: no lower-casing or whitespace collapsing": _dedup_wrong_raw,
        "ignored_argument: threshold fixed at 0.8": _dedup_wrong_fixed_threshold,
        "off_by_one: 1-based indices": _dedup_wrong_one_based,
        "returns_none: returns nothing": _dedup_wrong_none,
        "fits_visible: right on the notebook's cases only": memorised(dedup, _dedup_cases, _dedup_wrong_raw),
    },
    section=SECTION_DEDUP,
)


# ---------------------------------------------------------------- 3. a pipeline that beats the naive one
LATENCY = 0.01
SPEEDUP = 1.5        # at least this many times faster than the naive one (ideal: ~10×; slack for a loaded machine)
N_ITEMS = 50          # not a multiple of BATCH: the last batch is short, so drop_remainder loses examples
BATCH = 8


def _slow_loader():
    """A `load(i) -> (x, y)` for tf.data whose every call waits LATENCY seconds, as a network read does.

    ``load.peak`` counts the most calls that were waiting at the same time (reset it to 0 before a pass):
    the judge uses it to tell overlapped loads from serial ones without trusting a timing alone.
    """
    import threading

    import tensorflow as tf
    lock = threading.Lock()
    state = {"now": 0}

    def fetch(i):
        with lock:
            state["now"] += 1
            load.peak = max(load.peak, state["now"])
        try:
            time.sleep(LATENCY)
        finally:
            with lock:
                state["now"] -= 1
        return np.full((4, 4), float(i), np.float32), np.int64(i % 3)

    def load(i):
        x, y = tf.numpy_function(fetch, [i], [tf.float32, tf.int64])
        x.set_shape((4, 4))
        y.set_shape(())
        return x, y
    load.peak = 0
    return load


def naive_pipeline(ids, load, batch_size):
    """The naive pipeline the answer has to beat: one example at a time, nothing overlapped."""
    import tensorflow as tf
    return tf.data.Dataset.from_tensor_slices(ids).map(load).batch(batch_size)


def fast_pipeline(ids, load, batch_size):
    """Reference: parallel map with a thread pool larger than the core count (the work waits on I/O), then prefetch."""
    import tensorflow as tf
    options = tf.data.Options()
    options.threading.private_threadpool_size = 16
    return (tf.data.Dataset.from_tensor_slices(ids)
            .map(load, num_parallel_calls=16)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE)
            .with_options(options))


def _time_one_pass(make):
    """Seconds to BUILD the pipeline (make()) and read one pass of it: work done up front is timed too."""
    t0 = time.perf_counter()
    ds = make()
    if ds is None or not hasattr(ds, "__iter__"):
        return time.perf_counter() - t0, ds
    batches = [(np.asarray(x), np.asarray(y)) for x, y in ds]
    return time.perf_counter() - t0, batches


def _judge_pipeline(answer):
    import tensorflow as tf
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    seed = fresh_seed()
    rng = np.random.default_rng(seed)
    n_rand = int(rng.integers(37, 56))
    b_rand = int(rng.choice([b for b in (5, 6, 7, 9, 10) if n_rand % b]))
    load = _slow_loader()
    for n, batch, where in [(N_ITEMS, BATCH, f"{N_ITEMS} ids, batch_size={BATCH}"),
                            (n_rand, b_rand, f"random case: {n_rand} ids, batch_size={b_rand} (seed {seed}; replay "
                                             f"with lk.check('04.fast_pipeline', fn, seed={seed}))")]:
        ids = np.arange(n, dtype=np.int64)
        load.peak = 0
        t_fast, batches = _time_one_pass(lambda: call_answer(answer, ids, load, batch))
        peak = load.peak
        if batches is None:
            raise Mismatch(f"{where}: your function returned None; return the tf.data.Dataset")
        if not isinstance(batches, list):
            raise Mismatch(f"{where}: return a tf.data.Dataset, got {type(batches).__name__}")
        sizes = [len(b[1]) for b in batches]
        want = [batch] * (n // batch) + ([n % batch] if n % batch else [])
        if sizes != want:
            raise Mismatch(f"{where}: batch sizes should be {want[:3]}…{want[-2:]} (every batch full, the last one "
                           f"holding the remaining {n % batch}); got {sizes[:3]}…{sizes[-2:]} ({len(sizes)} batches)")
        xs = np.concatenate([b[0] for b in batches])
        got = np.sort(xs[:, 0, 0].astype(np.int64))
        if len(got) != n or not np.array_equal(got, ids):
            missing = sorted(set(ids.tolist()) - set(got.tolist()))
            raise Mismatch(f"{where}: the pipeline should deliver each of the {n} examples exactly once; got "
                           f"{len(got)} examples" + (f", missing ids {missing[:5]}" if missing else ", some twice"))
        if peak < 2:  # serial loads cannot be faster, however a busy machine skews one timing
            raise Mismatch(f"{where}: your pipeline ran the loads one at a time (never two waiting at once), so "
                           "it cannot beat the naive one. Every load waits on I/O — the waits have to overlap: "
                           "map(load, num_parallel_calls=...).")
        t_naive, _ = _time_one_pass(lambda: naive_pipeline(ids, load, batch))
        for _ in range(2):  # retries: a busy machine can slow one pass
            if t_fast <= t_naive / SPEEDUP:
                break
            t_fast = min(t_fast, _time_one_pass(lambda: call_answer(answer, ids, load, batch))[0])
        speedup = t_naive / t_fast
        if speedup < SPEEDUP:
            raise Mismatch(f"{where}: building your pipeline and reading one pass took {t_fast:.2f} s vs "
                           f"{t_naive:.2f} s for the naive pipeline: {speedup:.1f}× faster, needs ≥ {SPEEDUP:g}×. Every load "
                           "waits on I/O — the waits have to overlap (loading everything up front is timed too).")


def _fast_wrong_eager(ids, load, batch_size):
    import tensorflow as tf
    loaded = [load(tf.constant(i)) for i in ids]            # all the waiting happens here, one read at a time
    xs = tf.stack([x for x, _ in loaded]); ys = tf.stack([y for _, y in loaded])
    return tf.data.Dataset.from_tensor_slices((xs, ys)).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _fast_wrong_fixed_batch(ids, load, batch_size):
    return fast_pipeline(ids, load, 8)


def _fast_wrong_skip(ids, load, batch_size):
    import tensorflow as tf
    opts = tf.data.Options(); opts.threading.private_threadpool_size = 16
    return (tf.data.Dataset.from_tensor_slices(ids).skip(1).map(load, num_parallel_calls=16)
            .batch(batch_size).with_options(opts))


def _fast_wrong_none(ids, load, batch_size):
    fast_pipeline(ids, load, batch_size)


def _fast_wrong_prefetch_only(ids, load, batch_size):
    import tensorflow as tf
    return tf.data.Dataset.from_tensor_slices(ids).map(load).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _fast_wrong_cache_only(ids, load, batch_size):
    import tensorflow as tf
    return tf.data.Dataset.from_tensor_slices(ids).map(load).cache().batch(batch_size)  # the first pass is as slow


def _fast_wrong_drop(ids, load, batch_size):
    import tensorflow as tf
    opts = tf.data.Options(); opts.threading.private_threadpool_size = 16
    return (tf.data.Dataset.from_tensor_slices(ids).map(load, num_parallel_calls=16)
            .batch(batch_size, drop_remainder=True).with_options(opts))   # fast, but loses the short last batch


register(Exercise(
    id="04.fast_pipeline",
    title="a pipeline that beats the naive one",
    judge=_judge_pipeline,
    reference=fast_pipeline,
    wrong={
        "other: prefetch only (the loads still wait one at a time)": _fast_wrong_prefetch_only,
        "other: cache only (the first pass is as slow)": _fast_wrong_cache_only,
        "other: loads everything eagerly, one by one, before returning the dataset": _fast_wrong_eager,
        "boundary: drop_remainder=True loses the short last batch": _fast_wrong_drop,
        "ignored_argument: batch size fixed at 8": _fast_wrong_fixed_batch,
        "off_by_one: skips the first example": _fast_wrong_skip,
        "returns_none: builds the pipeline but returns nothing": _fast_wrong_none,
    },
    hints=[
        "Each `load` call spends its time waiting (like a network read), so the calls must run concurrently: "
        "`map(load, num_parallel_calls=...)`. Prefetch alone only overlaps loading with the consumer, and "
        "cache only speeds up the SECOND pass.",
        "tf.data's thread pool is as large as the number of cores by default — on 2 cores at most 2 loads wait at "
        "once. For I/O-bound work ask for more: options = tf.data.Options(); "
        "options.threading.private_threadpool_size = 16; ds = ds.with_options(options).",
        "return tf.data.Dataset.from_tensor_slices(ids).map(load, num_parallel_calls=16).batch(batch_size)"
        ".prefetch(tf.data.AUTOTUNE).with_options(options)",
    ],
    section=SECTION_THROUGHPUT,
))
