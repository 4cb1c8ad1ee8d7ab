"""Exercises of 11_distributed_training."""
import numpy as np

from ..check import Exercise, Mismatch, fresh_seed, function_exercise, register
from ..distribute import allreduce_time

# ------------------------------------------------------------------ 1. shard a dataset per replica
_CONTEXTS = [  # (num_input_pipelines, input_pipeline_id, num_replicas_in_sync) — every pipeline of each job
    (1, 4),    # one machine, 4 replicas (this notebook)
    (2, 2),    # two workers, one replica each
    (2, 4),    # two workers with two GPUs each
    (4, 8),    # four workers with two GPUs each
]
_N_EXAMPLES, _GLOBAL_BATCH = 96, 16


def replica_dataset(ds, global_batch_size, ctx):
    """Reference: each pipeline reads a disjoint shard, batched per replica."""
    ds = ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id)
    return ds.batch(ctx.get_per_replica_batch_size(global_batch_size))


def _shard_jobs(rng):
    """The fixed jobs (96 examples, global batch 16) and two random ones (sizes varied)."""
    jobs = [(pipelines, replicas, _N_EXAMPLES, _GLOBAL_BATCH) for pipelines, replicas in _CONTEXTS]
    for j in range(2):
        pipelines = int(rng.choice([1, 2, 3, 4]))
        replicas = pipelines * int(rng.choice([1, 2, 3]))
        per_replica = int(rng.integers(1, 6))
        while j == 0 and per_replica == _GLOBAL_BATCH // replicas:   # every call: a job where hard-coding
            per_replica = int(rng.integers(1, 6))                        # the visible global batch of 16 fails
        # job 0 gives each pipeline >= 2 per-replica batches: a wrong batch size then shows in a batch's length
        n = pipelines * per_replica * (replicas // pipelines) * int(rng.integers(2 if j == 0 else 1, 5))
        jobs.append((pipelines, replicas, n, per_replica * replicas))
    return jobs


def _judge_shard(answer):
    import tensorflow as tf
    if not callable(answer):
        raise Mismatch(f"expected a function, got {type(answer).__name__}")
    seed = fresh_seed()   # fresh per judge call, reported on a ✗; lk.check(..., seed=…) replays it
    for pipelines, replicas, n_examples, global_batch in _shard_jobs(np.random.default_rng(seed)):
        seen = []
        per_replica = global_batch // replicas
        for pid in range(pipelines):
            ctx = tf.distribute.InputContext(num_input_pipelines=pipelines, input_pipeline_id=pid,
                                             num_replicas_in_sync=replicas)
            out = answer(tf.data.Dataset.range(n_examples), global_batch, ctx)
            if not isinstance(out, tf.data.Dataset):
                raise Mismatch(f"should return a tf.data.Dataset, got {type(out).__name__}")
            where = (f"with {n_examples} examples, global batch {global_batch}, {pipelines} pipeline(s) and "
                     f"{replicas} replicas (seed {seed}), pipeline {pid}")
            for batch in out.take(256):
                b = np.atleast_1d(batch.numpy())
                if b.ndim != 1:
                    raise Mismatch(f"{where}: batches should be 1-D vectors of examples, got shape {b.shape}")
                if len(b) != per_replica:
                    raise Mismatch(f"{where}: a batch has {len(b)} examples, expected the per-replica batch "
                                   f"{global_batch} ÷ {replicas} = {per_replica}")
                seen.extend(b.tolist())
        where = f"with {pipelines} pipeline(s) and {replicas} replicas (seed {seed})"
        if len(seen) != len(set(seen)):
            dup = sorted({v for v in seen if seen.count(v) > 1})[:5]
            raise Mismatch(f"{where}: examples {dup}… are read by more than one pipeline (or twice); the "
                           "pipelines must read disjoint shards")
        if set(seen) != set(range(n_examples)):
            raise Mismatch(f"{where}: only {len(set(seen))} of {n_examples} examples are read; together the "
                           "pipelines must cover them all")


def _global_batch(ds, global_batch_size, ctx):
    return ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id).batch(global_batch_size)


def _no_shard(ds, global_batch_size, ctx):
    return ds.batch(ctx.get_per_replica_batch_size(global_batch_size))


def _shard_by_replicas(ds, global_batch_size, ctx):
    return ds.shard(ctx.num_replicas_in_sync, ctx.input_pipeline_id).batch(
        ctx.get_per_replica_batch_size(global_batch_size))


def _batch_per_pipeline(ds, global_batch_size, ctx):
    return ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id).batch(
        global_batch_size // ctx.num_input_pipelines)


def _shard_next_id(ds, global_batch_size, ctx):
    return ds.shard(ctx.num_input_pipelines, (ctx.input_pipeline_id + 1) % ctx.num_input_pipelines).batch(
        ctx.get_per_replica_batch_size(global_batch_size)).take(1 if ctx.input_pipeline_id else 10 ** 6)


def _shard_none(ds, global_batch_size, ctx):
    ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id).batch(ctx.get_per_replica_batch_size(global_batch_size))


def _shard_fits_visible(ds, global_batch_size, ctx):
    return ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id).batch(16 // ctx.num_replicas_in_sync)


register(Exercise(
    id="11.replica_dataset",
    title="shard a dataset per input pipeline, batched per replica",
    judge=_judge_shard,
    reference=replica_dataset,
    wrong={
        "normalisation: batches by the global batch, not the per-replica batch": _global_batch,
        "ignored_argument: no sharding — every pipeline reads everything": _no_shard,
        "wrong_axis: shards by replicas instead of input pipelines": _shard_by_replicas,
        "normalisation: splits the batch over pipelines, not replicas": _batch_per_pipeline,
        "off_by_one: shards with input_pipeline_id + 1": _shard_next_id,
        "returns_none: builds the dataset but does not return it": _shard_none,
        "fits_visible: hard-codes the global batch of 16": _shard_fits_visible,
    },
    hints=[
        "Two steps: keep only this pipeline's share of the examples, then batch. tf.data has a method for "
        "each (ds.shard(num_shards, index) and ds.batch(n)).",
        "Shard by the number of *input pipelines* (workers), with this pipeline's id; batch by the "
        "*per-replica* batch size: ctx.get_per_replica_batch_size(global_batch_size) — the global batch is "
        "split over all replicas in sync, not over pipelines.",
        "return ds.shard(ctx.num_input_pipelines, ctx.input_pipeline_id)"
        ".batch(ctx.get_per_replica_batch_size(global_batch_size))",
    ],
    section="11 · Feeding the replicas",
))

# ------------------------------------------------------------------ 2. all-reduce cost
_ALLREDUCE_CASES = [
    {"args": (25e6, 4, 8, 10e9, 0.0), "label": "(ResNet-50 float32 grads, 8 devices, no latency)"},
    {"args": (1.3e9, 2, 64, 50e9, 5e-6), "label": "(1.3B bf16 grads, 64 devices)"},
    {"args": (1e6, 2, 2, 1e9, 1e-3), "label": "(2 devices, large latency)"},
    {"args": (7e9, 2, 1, 100e9, 1e-5), "label": "(1 device: nothing to send)"},
    {"args": (1e8, 4, 512, 25e9, 2e-5), "label": "(512 devices)"},
]


def _one_pass(n_params, bytes_per_param, n_devices, bandwidth, latency):
    n = n_devices   # only the reduce-scatter half
    return (n - 1) / n * n_params * bytes_per_param / bandwidth + (n - 1) * latency


def _no_division_by_n(n_params, bytes_per_param, n_devices, bandwidth, latency):
    n = n_devices   # sends the whole gradient at every step
    return 2 * (n - 1) * n_params * bytes_per_param / bandwidth + 2 * (n - 1) * latency


def _ignores_bytes(n_params, bytes_per_param, n_devices, bandwidth, latency):
    n = n_devices   # counts parameters, not bytes
    return 2 * (n - 1) / n * n_params / bandwidth + 2 * (n - 1) * latency


def _latency_once(n_params, bytes_per_param, n_devices, bandwidth, latency):
    n = n_devices
    return 2 * (n - 1) / n * n_params * bytes_per_param / bandwidth + latency


def _allreduce_random(rng):
    return [(float(rng.integers(1, 1000)) * 10 ** int(rng.integers(3, 9)), int(rng.choice([1, 2, 4])),
             int(rng.integers(1, 1025)), float(10 ** rng.uniform(8, 12)), float(rng.choice([0.0, 1e-6, 1e-4])))
            for _ in range(6)]


def _n_not_n_minus_1(n_params, bytes_per_param, n_devices, bandwidth, latency):
    n = n_devices
    return 2 * n / n * n_params * bytes_per_param / bandwidth + 2 * n * latency


def _bits_not_bytes(n_params, bytes_per_param, n_devices, bandwidth, latency):
    n = n_devices
    return 2 * (n - 1) / n * n_params * bytes_per_param * 8 / bandwidth + 2 * (n - 1) * latency


def _allreduce_none(n_params, bytes_per_param, n_devices, bandwidth, latency):
    allreduce_time(n_params, bytes_per_param, n_devices, bandwidth, latency)


function_exercise(
    "11.allreduce_time",
    title="time of a ring all-reduce",
    reference=lambda n_params, bytes_per_param, n_devices, bandwidth, latency:
        allreduce_time(n_params, bytes_per_param, n_devices, bandwidth, latency),
    cases=_ALLREDUCE_CASES,
    rtol=1e-9, atol=1e-15,
    hints=[
        "Two terms: bytes each device sends divided by the bandwidth, plus the number of ring steps times "
        "the latency. The gradient has n_params × bytes_per_param bytes.",
        "A ring all-reduce is a reduce-scatter (N−1 steps) followed by an all-gather (N−1 steps); in each "
        "step a device sends one chunk of 1/N of the gradient. With one device there is nothing to send.",
        "n = n_devices; return 2 * (n - 1) / n * n_params * bytes_per_param / bandwidth + 2 * (n - 1) * latency",
    ],
    random_cases=_allreduce_random,
    wrong={
        "normalisation: only the reduce-scatter half": _one_pass,
        "normalisation: sends the whole gradient at every ring step": _no_division_by_n,
        "ignored_argument: counts parameters, not bytes": _ignores_bytes,
        "other: pays the latency once, not once per ring step": _latency_once,
        "off_by_one: N steps per phase instead of N − 1": _n_not_n_minus_1,
        "other: bandwidth read as bits per second": _bits_not_bytes,
        "returns_none: forgets the return": _allreduce_none,
    },
    section="11 · Three ways to split the work",
)

# ------------------------------------------------------------------ 3. per-replica loss scaling
def replica_loss(per_example_loss, global_batch_size, regularization_loss=0.0, num_replicas=1):
    """Reference: the summed per-example loss over the global batch, plus the replica's share of the penalty."""
    return float(np.sum(np.asarray(per_example_loss, dtype=np.float64)) / global_batch_size
                 + regularization_loss / num_replicas)


def _loss_cases():
    rng = np.random.default_rng(0)
    return [
        {"args": (rng.uniform(0, 2, 16).astype(np.float32), 64, 0.0, 4), "label": "(a full local batch of 16)"},
        {"args": (rng.uniform(0, 2, 3).astype(np.float32), 64, 0.0, 4), "label": "(a short last batch: 3 examples)"},
        {"args": (rng.uniform(0, 2, 32).astype(np.float32), 64, 0.5, 2), "label": "(with an L2 penalty of 0.5)"},
        {"args": (rng.uniform(0, 2, 8).astype(np.float32), 8, 0.2, 1), "label": "(a single replica)"},
    ]


def _local_mean(per_example_loss, global_batch_size, regularization_loss=0.0, num_replicas=1):
    return float(np.mean(per_example_loss) + regularization_loss / num_replicas)


def _mean_over_replicas(per_example_loss, global_batch_size, regularization_loss=0.0, num_replicas=1):
    return float(np.mean(per_example_loss) / num_replicas + regularization_loss / num_replicas)


def _penalty_not_scaled(per_example_loss, global_batch_size, regularization_loss=0.0, num_replicas=1):
    return float(np.sum(per_example_loss) / global_batch_size + regularization_loss)


def _loss_random(rng):
    out = []
    for _ in range(6):
        replicas = int(rng.choice([1, 2, 4, 8]))
        global_batch = replicas * int(rng.integers(1, 33))
        local = int(rng.integers(1, global_batch // replicas + 1))
        out.append((rng.uniform(0, 5, local).astype(np.float32), global_batch, float(rng.choice([0.0, 0.1, 2.0])),
                    replicas))
    return out


def _local_times_replicas(per_example_loss, global_batch_size, regularization_loss=0.0, num_replicas=1):
    return float(np.sum(per_example_loss) / (len(per_example_loss) * num_replicas) + regularization_loss / num_replicas)


def _no_penalty(per_example_loss, global_batch_size, regularization_loss=0.0, num_replicas=1):
    return float(np.sum(per_example_loss) / global_batch_size)


def _penalty_sign(per_example_loss, global_batch_size, regularization_loss=0.0, num_replicas=1):
    return float(np.sum(per_example_loss) / global_batch_size - regularization_loss / num_replicas)


def _replica_loss_none(per_example_loss, global_batch_size, regularization_loss=0.0, num_replicas=1):
    replica_loss(per_example_loss, global_batch_size, regularization_loss, num_replicas)


function_exercise(
    "11.replica_loss",
    title="the loss one replica differentiates",
    reference=replica_loss,
    cases=_loss_cases,
    rtol=1e-5, atol=1e-6,
    hints=[
        "The replicas' gradients are summed. Ask what each replica must contribute so that the sum equals "
        "the gradient of the mean loss over the *global* batch.",
        "Sum (not average) the local per-example losses and divide by global_batch_size — this stays right "
        "for a short last batch. The penalty is identical on every replica and is summed num_replicas times.",
        "return np.sum(per_example_loss) / global_batch_size + regularization_loss / num_replicas",
    ],
    random_cases=_loss_random,
    wrong={
        "normalisation: the local mean (wrong for a short last batch, and N times too big)": _local_mean,
        "normalisation: local mean ÷ replicas (wrong for a short last batch)": _mean_over_replicas,
        "off_by_one: local batch × replicas as the denominator": _local_times_replicas,
        "other: the penalty is added once per replica, N times in all": _penalty_not_scaled,
        "ignored_argument: drops the regularization loss": _no_penalty,
        "sign: subtracts the penalty": _penalty_sign,
        "returns_none: forgets the return": _replica_loss_none,
    },
    section="11 · A custom loop",
)
