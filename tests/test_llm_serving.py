"""labkit.llm's serving pieces (15_serving_llms): KV cache, speculative decoding, LoRA, batching simulator."""
import numpy as np
import pytest

import labkit as lk  # noqa: F401  (first: quiet TensorFlow)
import keras
import tensorflow as tf

from labkit import llm
from labkit.llm import batching, cache as kv, lora


@pytest.fixture(scope="module")
def tiny():
    cfg = llm.GPTConfig(vocab_size=23, context=48, d_model=32, n_layers=2, n_heads=4)
    m = llm.build_gpt(cfg, seed=0)
    rng = np.random.default_rng(0)
    m.set_weights([w + rng.normal(0, 0.2, w.shape).astype("float32") for w in m.get_weights()])
    return m


@pytest.fixture(scope="module")
def tiny_draft():
    cfg = llm.GPTConfig(vocab_size=23, context=48, d_model=16, n_layers=1, n_heads=2)
    m = llm.build_gpt(cfg, seed=1)
    rng = np.random.default_rng(1)
    m.set_weights([w + rng.normal(0, 0.2, w.shape).astype("float32") for w in m.get_weights()])
    return m


# ------------------------------------------------------------------ KV cache
def test_cached_forward_matches_full_model_in_chunks(tiny):
    ids = np.random.default_rng(2).integers(0, 23, (2, 20)).astype(np.int32)
    full = tiny(ids).numpy()
    cache = kv.init_cache(tiny, 2, 48)
    parts, start = [], 0
    for t in (7, 1, 1, 11):
        lg, cache = kv.cached_forward(tiny, tf.constant(ids[:, start:start + t]), cache, start)
        parts.append(lg.numpy())
        start += t
    np.testing.assert_allclose(np.concatenate(parts, axis=1), full, atol=1e-4)


def test_stale_slots_are_masked(tiny):
    ids = np.random.default_rng(3).integers(0, 23, (1, 10)).astype(np.int32)
    clean = kv.init_cache(tiny, 1, 48)
    dirty = tf.random.normal(clean.shape, stddev=10.0, seed=1)  # garbage everywhere: prefill overwrites 0..9
    a, _ = kv.cached_forward(tiny, tf.constant(ids), clean, 0)
    b, _ = kv.cached_forward(tiny, tf.constant(ids), dirty, 0)
    np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-5)


def test_greedy_cached_equals_recompute(tiny):
    prompt = np.random.default_rng(4).integers(0, 23, (1, 6)).astype(np.int32)
    ref = kv.greedy_recompute(tiny, prompt, 20)
    gen = kv.greedy_cached_fn(tiny, 48, jit_compile=False)
    np.testing.assert_array_equal(gen(prompt, 20), ref)
    step = kv.cached_forward_fn(tiny, jit_compile=False)
    logits, cache = step(prompt, kv.init_cache(tiny, 1, 48), 0)
    seq = list(prompt[0]) + [int(np.argmax(logits[0, -1]))]
    for i in range(19):
        logits, cache = step([[seq[-1]]], cache, len(seq) - 1)
        seq.append(int(np.argmax(logits[0, -1])))
    np.testing.assert_array_equal(np.asarray(seq)[None], ref)


@pytest.mark.parametrize("k", [1, 3])
def test_speculative_greedy_is_exact(tiny, tiny_draft, k):
    prompt = np.random.default_rng(5).integers(0, 23, (1, 5)).astype(np.int32)
    ref = kv.greedy_recompute(tiny, prompt, 16)
    tf_, df_ = kv.cached_forward_fn(tiny, jit_compile=False), kv.cached_forward_fn(tiny_draft, jit_compile=False)
    out, st = kv.speculative_greedy(tiny, tiny_draft, prompt, 16, k, 48, target_fn=tf_, draft_fn=df_)
    np.testing.assert_array_equal(out, ref)
    assert 0 <= st["acceptance"] <= 1 and st["target_calls"] <= 16
    # the target as its own draft accepts everything
    out2, st2 = kv.speculative_greedy(tiny, tiny, prompt, 16, k, 48, target_fn=tf_, draft_fn=tf_)
    np.testing.assert_array_equal(out2, ref)
    assert st2["acceptance"] == 1.0 and st2["target_calls"] == int(np.ceil(16 / (k + 1)))


def test_cache_bytes_formula_and_errors(tiny):
    assert kv.cache_bytes(32, 32, 128, 4096, 1, 2) == 2 * 32 * 32 * 128 * 4096 * 2
    assert kv.cache_bytes(2, 4, 8, 48, 1, 4) == np.prod(kv.init_cache(tiny, 1, 48).shape) * 4
    with pytest.raises(ValueError, match="positive"):
        kv.cache_bytes(0, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="context"):
        kv.init_cache(tiny, 1, 100)
    with pytest.raises(TypeError, match="course's GPT"):
        kv.init_cache(keras.Sequential([keras.layers.Dense(2)]), 1, 4)
    with pytest.raises(ValueError, match="k"):
        kv.speculative_greedy(tiny, tiny, [[1, 2]], 4, 0, 48)


# ------------------------------------------------------------------ LoRA
def test_lora_dense_matches_keras_enable_lora_and_merge():
    keras.utils.set_random_seed(0)
    d = keras.layers.Dense(6, activation="relu")
    d.build((None, 5))
    mine = lora.LoRADense(d, rank=2, alpha=4.0)
    x = np.random.default_rng(0).standard_normal((3, 5)).astype("float32")
    np.testing.assert_allclose(mine(x), d(x), atol=1e-6)          # B = 0 at init
    mine.bb.assign(np.random.default_rng(1).standard_normal((2, 6)))
    k = keras.layers.Dense(6, activation="relu")
    k.build((None, 5))
    k.set_weights(d.get_weights())
    k.enable_lora(2, lora_alpha=4.0)
    k.lora_kernel_a.assign(mine.a.numpy())
    k.lora_kernel_b.assign(mine.bb.numpy())
    np.testing.assert_allclose(mine(x), k(x), atol=1e-5)
    W = mine.merged()
    np.testing.assert_allclose(np.maximum(x @ W + d.bias.numpy(), 0), mine(x), atol=1e-5)
    assert {w.name for w in mine.trainable_weights} == {"lora_a", "lora_b"}


def test_lora_numpy_helpers():
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    A, B = rng.standard_normal((5, 2)), rng.standard_normal((2, 3))
    W0 = W.copy()
    np.testing.assert_allclose(lora.lora_forward(x, W, b, A, B, 8.0), x @ lora.merge(W, A, B, 8.0) + b, atol=1e-12)
    np.testing.assert_array_equal(W, W0)
    assert lora.lora_param_count(128, 512, 8) == 8 * 640
    with pytest.raises(ValueError, match="same r"):
        lora.merge(W, A, B.T, 1.0)
    with pytest.raises(TypeError, match="built"):
        lora.LoRADense(keras.layers.Dense(3), rank=2)


def test_enable_lora_freezes_all_but_adapters(tiny):
    m = llm.build_gpt(tiny.gpt_config)
    m.set_weights(tiny.get_weights())
    ids = np.arange(10, dtype=np.int32)[None] % 23
    before = m(ids).numpy()
    n = lora.enable_lora(m, rank=2, alpha=4.0)
    assert n == 2 * 6  # per block: query, key, value, attention_output, fc, proj
    assert m.trainable_weights and all("lora_kernel" in w.path for w in m.trainable_weights)
    np.testing.assert_allclose(m(ids).numpy(), before, atol=1e-6)  # B = 0: unchanged at start
    with pytest.raises(ValueError, match="rank"):
        lora.enable_lora(m, rank=0)


# ------------------------------------------------------------------ batching simulator
def test_batching_hand_computed():
    cost = batching.linear_step_cost(1.0, 0.0)   # 1 s per iteration, whatever the batch
    arr, n = [0.0, 0.0, 0.0], [1, 3, 2]
    s = batching.simulate_static(arr, n, 2, cost)
    # batch {0, 1} runs 3 iterations (t = 3), then {2} runs 2 (t = 5)
    np.testing.assert_allclose(s.finish, [3, 3, 5])
    c = batching.simulate_continuous(arr, n, 2, cost)
    # 0 ends at 1; 2 joins at t = 1 and ends at 3; 1 ends at 3
    np.testing.assert_allclose(c.finish, [1, 3, 3])
    assert c.throughput > s.throughput and c.summary()["slot utilisation"] == 1.0
    assert s.summary()["slot utilisation"] == pytest.approx(6 / (3 * 2 + 2 * 1))


def test_batching_idle_gap_and_order():
    cost = batching.linear_step_cost(0.5, 0.0)
    c = batching.simulate_continuous([0.0, 10.0], [2, 2], 4, cost)
    np.testing.assert_allclose(c.finish, [1.0, 11.0])
    s = batching.simulate_static([0.0, 10.0], [2, 2], 4, cost)
    np.testing.assert_allclose(s.finish, [1.0, 11.0])


def test_continuous_beats_static_on_long_tails():
    rng = np.random.default_rng(0)
    a = batching.poisson_arrivals(300, 3.0, rng)
    n = batching.long_tailed_lengths(300, rng)
    cost = batching.linear_step_cost()
    s = batching.simulate_static(a, n, 16, cost).summary()
    c = batching.simulate_continuous(a, n, 16, cost).summary()
    assert c["tokens/s"] > s["tokens/s"] and c["p99 latency s"] < s["p99 latency s"]


def test_batching_bad_input():
    cost = batching.linear_step_cost()
    with pytest.raises(ValueError, match="sorted"):
        batching.simulate_static([1.0, 0.0], [1, 1], 2, cost)
    with pytest.raises(ValueError, match="whole numbers"):
        batching.simulate_continuous([0.0], [0], 2, cost)
    with pytest.raises(ValueError, match="max_batch"):
        batching.simulate_continuous([0.0], [1], 0, cost)
    with pytest.raises(TypeError, match="Generator"):
        batching.poisson_arrivals(3, 1.0, 0)
    with pytest.raises(ValueError, match="seconds"):
        batching.linear_step_cost(-1.0)
