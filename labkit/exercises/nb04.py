"""Exercises of 04_data_pipelines: a stratified split, a near-duplicate filter, a pipeline that beats the naive one."""
import time

import numpy as np

from ..check import Exercise, Mismatch, function_exercise, register

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


def _judge_stratified(answer):
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    y = _split_labels()
    sorted_y = np.sort(y)  # data stored class by class, as files often are
    tests = []
    for labels, name in [(y, "shuffled labels"), (sorted_y, "labels sorted by class")]:
        for frac in (0.2, 0.25):
            for seed in range(4):
                out = answer(labels.copy(), frac, np.random.default_rng(seed))
                if not (isinstance(out, (tuple, list)) and len(out) == 2):
                    raise Mismatch("return a pair (train_idx, test_idx) of index arrays")
                train, test = (np.asarray(a) for a in out)
                if train.dtype.kind not in "iu" or test.dtype.kind not in "iu":
                    raise Mismatch("train_idx and test_idx must be integer index arrays (positions in y), "
                                   f"got dtypes {train.dtype} and {test.dtype}")
                both = np.concatenate([train, test])
                if len(np.unique(test)) != len(test):
                    raise Mismatch(f"{name}, test_fraction={frac}: the test set contains an index twice "
                                   "(sample without replacement)")
                if np.intersect1d(train, test).size:
                    raise Mismatch(f"{name}, test_fraction={frac}: {np.intersect1d(train, test).size} indices are "
                                   "in both train and test — that is leakage; the two must not overlap")
                if len(both) != len(labels) or not np.array_equal(np.sort(both), np.arange(len(labels))):
                    raise Mismatch(f"{name}, test_fraction={frac}: train and test together must contain every index "
                                   f"0…{len(labels) - 1} exactly once (got {len(both)} indices)")
                for c in np.unique(labels):
                    n_c = int(np.sum(labels == c))
                    got = int(np.sum(labels[test] == c))
                    want = test_fraction_count = frac * n_c
                    if abs(got - test_fraction_count) > 1:
                        raise Mismatch(f"{name}, test_fraction={frac}, seed {seed}: class {c} has {got} of its {n_c} "
                                       f"examples in the test set, expected about {want:g} (± 1)")
                tests.append(np.sort(test))
        if all(np.array_equal(tests[-1], t) for t in tests[-4:]):
            raise Mismatch(f"{name}: four different rng seeds gave the same test set — pick the test examples of each "
                           "class at random (use rng), not the first ones")


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


register(Exercise(
    id="04.stratified_split",
    title="a stratified train/test split",
    judge=_judge_stratified,
    reference=stratified_split,
    wrong=[_strat_wrong_random, _strat_wrong_first, _strat_wrong_replace, _strat_wrong_leak],
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
    wrong=[_dedup_wrong_exact, _dedup_wrong_strict, _dedup_wrong_all_earlier, _dedup_wrong_overlap,
           _dedup_wrong_keep_last],
    section=SECTION_DEDUP,
)


# ---------------------------------------------------------------- 3. a pipeline that beats the naive one
LATENCY = 0.008
N_ITEMS = 48
BATCH = 8


def _slow_loader():
    """A `load(i) -> (x, y)` for tf.data whose every call waits LATENCY seconds, as a network read does."""
    import tensorflow as tf

    def fetch(i):
        time.sleep(LATENCY)
        return np.full((4, 4), float(i), np.float32), np.int64(i % 3)

    def load(i):
        x, y = tf.numpy_function(fetch, [i], [tf.float32, tf.int64])
        x.set_shape((4, 4))
        y.set_shape(())
        return x, y
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


def _time_one_pass(ds):
    t0 = time.perf_counter()
    batches = [(x.numpy(), y.numpy()) for x, y in ds]
    return time.perf_counter() - t0, batches


def _judge_pipeline(answer):
    import tensorflow as tf
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    ids = np.arange(N_ITEMS, dtype=np.int64)
    load = _slow_loader()
    ds = answer(ids, load, BATCH)
    if not isinstance(ds, tf.data.Dataset):
        raise Mismatch(f"return a tf.data.Dataset, got {type(ds).__name__}")
    t_fast, batches = _time_one_pass(ds)
    sizes = [len(b[1]) for b in batches]
    if any(s != BATCH for s in sizes[:-1]) or not sizes or sizes[-1] > BATCH:
        raise Mismatch(f"batches should hold {BATCH} examples (only the last may be smaller); got sizes {sizes}")
    xs = np.concatenate([b[0] for b in batches])
    got = np.sort(xs[:, 0, 0].astype(np.int64))
    if len(got) != N_ITEMS or not np.array_equal(got, ids):
        missing = sorted(set(ids.tolist()) - set(got.tolist()))
        raise Mismatch(f"the pipeline should deliver each of the {N_ITEMS} examples exactly once; got {len(got)} "
                       f"examples" + (f", missing ids {missing[:5]}" if missing else ", some of them twice"))
    t_naive, _ = _time_one_pass(naive_pipeline(ids, load, BATCH))
    if t_fast > 0.2 * t_naive:  # one retry: a busy machine can slow one pass
        t_fast = min(t_fast, _time_one_pass(answer(ids, load, BATCH))[0])
    speedup = t_naive / t_fast
    if speedup < 2.5:
        raise Mismatch(f"one pass took {t_fast:.2f} s vs {t_naive:.2f} s for the naive pipeline: {speedup:.1f}× "
                       "faster, needs ≥ 2.5×. Every load waits on I/O — the waits have to overlap.")


def _fast_wrong_prefetch_only(ids, load, batch_size):
    import tensorflow as tf
    return tf.data.Dataset.from_tensor_slices(ids).map(load).batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _fast_wrong_cache_only(ids, load, batch_size):
    import tensorflow as tf
    return tf.data.Dataset.from_tensor_slices(ids).map(load).cache().batch(batch_size)  # the first pass is as slow


def _fast_wrong_drop(ids, load, batch_size):
    return fast_pipeline(ids, load, batch_size).unbatch().batch(batch_size, drop_remainder=True).take(
        len(ids) // batch_size - 1)  # fast, but loses examples


register(Exercise(
    id="04.fast_pipeline",
    title="a pipeline that beats the naive one",
    judge=_judge_pipeline,
    reference=fast_pipeline,
    wrong=[_fast_wrong_prefetch_only, _fast_wrong_cache_only, _fast_wrong_drop],
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
