"""A KV cache for the course's GPT, and greedy / speculative decoding with it (introduced in 15_serving_llms).

Without a cache every new token re-runs the model over the whole sequence. With one, each layer
keeps the keys and values of the tokens it has seen in a fixed-size buffer ``(layers, 2, batch,
max_len, heads, head_dim)``; a step projects only the new tokens, writes their keys and values at
positions ``start … start+T−1`` and attends over the buffer with a mask that hides every slot
after the current position. The buffer's shape never changes, so one ``tf.function`` (with or
without XLA) serves every step, and slots past the current position may hold stale values from
a rejected speculation: the mask makes them harmless.

    step = cached_forward_fn(model)                      # compiled once per input length
    cache = init_cache(model, batch=1, max_len=384)
    logits, cache = step(prompt_ids, cache, 0)           # prefill
    logits, cache = step(next_id[:, None], cache, len(prompt))   # one decode step
"""
from __future__ import annotations

import time
from typing import Any, Callable

import numpy as np
import tensorflow as tf
from keras import ops

__all__ = ["draft_agreement", "init_cache", "cache_bytes", "cached_forward", "cached_forward_fn", "greedy_cached_fn",
           "greedy_recompute", "speculative_greedy"]


def _cfg(model):
    cfg = getattr(model, "gpt_config", None)
    if cfg is None:
        raise TypeError("Expected the course's GPT (lk.llm.build_gpt(config) or lk.llm.load_pretrained(...)).")
    return cfg


def init_cache(model: Any, batch: int, max_len: int) -> tf.Tensor:
    """A zero KV cache (layers, 2, batch, max_len, heads, head_dim) float32 for ``model``."""
    c = _cfg(model)
    if batch < 1 or max_len < 1:
        raise ValueError("batch and max_len must be >= 1.")
    if c.pos == "learned" and max_len > c.context:
        raise ValueError(f"max_len {max_len} exceeds the model's context {c.context} (learned positions); "
                         f"use max_len <= {c.context}.")
    return tf.zeros((c.n_layers, 2, batch, max_len, c.n_heads, c.head_dim), tf.float32)


def cache_bytes(layers: int, kv_heads: int, head_dim: int, seq: int, batch: int, bytes_per_value: float = 2) -> float:
    """Bytes of a KV cache: 2 (K and V) · layers · kv_heads · head_dim · seq · batch · bytes per value."""
    if min(layers, kv_heads, head_dim, seq, batch) < 1 or bytes_per_value <= 0:
        raise ValueError("All sizes must be positive (bytes_per_value: 2 for fp16/bf16, 1 for int8).")
    return float(2 * layers * kv_heads * head_dim * seq * batch * bytes_per_value)


def cached_forward(model: Any, ids: Any, cache: Any, start: Any) -> tuple[Any, Any]:
    """Logits (B, T, vocab) for tokens ``ids`` (B, T) at positions start…start+T−1, and the updated cache.

    Uses the model's own sublayers (``embed``, ``norm1``, ``attn.project``, ``attn.attend``,
    ``mlp``, ``logits``), so it computes exactly what ``model(full_sequence)`` computes for these
    positions, given that the cache holds the keys and values of positions 0…start−1.
    """
    start = tf.cast(start, tf.int32)
    ids = tf.cast(ids, tf.int32)
    t = tf.shape(ids)[1]
    max_len = cache.shape[3]
    x = model.embed(ids, start)
    # query i (at position start+i) sees slots 0 … start+i of the buffer
    mask = (tf.range(max_len)[None, :] <= start + tf.range(t)[:, None])[None, None]   # (1, 1, T, max_len)
    b = tf.shape(ids)[0]
    where = tf.stack(tf.meshgrid(tf.range(b), start + tf.range(t), indexing="ij"), axis=-1)   # (B, T, 2)
    layers = []
    for i, blk in enumerate(model.blocks):
        q, k, v = blk.attn.project(blk.norm1(x), start)
        kv = []
        for old, new in ((cache[i, 0], k), (cache[i, 1], v)):             # (B, max_len, H, dh) each
            kv.append(tf.tensor_scatter_nd_update(old, where, new))
        layer = tf.stack(kv)
        out, _ = blk.attn.attend(q, layer[0], layer[1], mask)
        x = x + out
        x = x + blk.mlp(blk.norm2(x))
        layers.append(layer)
    return model.logits(x), tf.stack(layers)


def cached_forward_fn(model: Any, jit_compile: bool = True) -> Callable:
    """``cached_forward`` for ``model`` as one ``tf.function`` (XLA by default); retraces once per input length."""
    _cfg(model)
    compiled = tf.function(lambda ids, cache, start: cached_forward(model, ids, cache, start), jit_compile=jit_compile)

    def step(ids: Any, cache: Any, start: Any) -> tuple[Any, Any]:
        # start as a tensor: a Python int would retrace (and recompile) for every position
        return compiled(tf.convert_to_tensor(ids, tf.int32), cache, tf.convert_to_tensor(start, tf.int32))

    return step


def greedy_cached_fn(model: Any, max_len: int, jit_compile: bool = True) -> Callable:
    """A compiled ``generate(prompt (1, T0) int32, n_new: int) -> (1, T0 + n_new)``: prefill, then a decode loop.

    The whole loop runs inside one ``tf.function`` over a fixed buffer of ``max_len`` tokens.
    """
    _cfg(model)

    @tf.function(jit_compile=jit_compile)
    def run(prompt, n_new):
        t0 = tf.shape(prompt)[1]
        cache = init_cache(model, 1, max_len)
        logits, cache = cached_forward(model, prompt, cache, 0)
        nxt = tf.argmax(logits[:, -1], axis=-1, output_type=tf.int32)
        out = tf.concat([prompt, tf.zeros((1, max_len - t0), tf.int32)], axis=1)
        out = tf.tensor_scatter_nd_update(out, [[0, t0]], nxt)
        i = tf.constant(0)

        def body(i, out, cache, nxt):
            logits, cache = cached_forward(model, nxt[:, None], cache, t0 + i)
            nxt = tf.argmax(logits[:, -1], axis=-1, output_type=tf.int32)
            out = tf.tensor_scatter_nd_update(out, [[0, t0 + i + 1]], nxt)
            return i + 1, out, cache, nxt

        _, out, _, _ = tf.while_loop(lambda i, *_: i < n_new - 1, body, (i, out, cache, nxt))
        return out

    def generate(prompt: Any, n_new: int) -> np.ndarray:
        p = np.asarray(prompt, dtype=np.int32).reshape(1, -1)
        if n_new < 1 or p.shape[1] + n_new > max_len:
            raise ValueError(f"prompt ({p.shape[1]}) + n_new ({n_new}) must fit in max_len={max_len}.")
        return run(tf.constant(p), tf.constant(int(n_new)))[:, :p.shape[1] + n_new].numpy()

    return generate


def greedy_recompute(model: Any, prompt: Any, n_new: int, step: Callable | None = None) -> np.ndarray:
    """Greedy decoding without a cache: every step runs the model over the whole sequence so far."""
    c = _cfg(model)
    p = np.asarray(prompt, dtype=np.int32).reshape(1, -1)
    if p.shape[1] + n_new > c.context:
        raise ValueError(f"prompt + n_new must fit in the context ({c.context}).")
    if step is None:
        step = tf.function(lambda ids: model(ids)[:, -1], input_signature=[tf.TensorSpec((1, None), tf.int32)])
    out = p
    for _ in range(n_new):
        nxt = int(np.argmax(step(tf.constant(out)).numpy()[0]))
        out = np.concatenate([out, [[nxt]]], axis=1).astype(np.int32)
    return out


def speculative_greedy(target: Any, draft: Any, prompt: Any, n_new: int, k: int, max_len: int,
                       target_fn: Callable | None = None, draft_fn: Callable | None = None,
                       prefill_fns: tuple[Callable, Callable] | None = None) -> tuple[np.ndarray, dict]:
    """Greedy speculative decoding: the draft proposes ``k`` tokens, the target checks them in one pass.

    The longest prefix where draft and target agree is kept, plus the target's own next token,
    so the output is exactly the target's greedy output. Returns (tokens (1, T0 + n_new), stats)
    with stats ``{"proposed", "accepted", "acceptance", "target_calls", "draft_calls"}``.
    ``target_fn``/``draft_fn`` are ``cached_forward_fn``s (made here if None); ``prefill_fns``
    (target, draft) run the prompt, e.g. without XLA to save a compile for the prompt's shape.
    """
    if k < 1:
        raise ValueError("k (tokens proposed per round) must be >= 1.")
    p = np.asarray(prompt, dtype=np.int32).reshape(1, -1)
    if p.shape[1] + n_new + k + 1 > max_len:
        raise ValueError(f"prompt + n_new + k + 1 must fit in max_len={max_len}.")
    tf_ = target_fn or cached_forward_fn(target)
    df_ = draft_fn or cached_forward_fn(draft)
    tc, dc = init_cache(target, 1, max_len), init_cache(draft, 1, max_len)
    n0 = p.shape[1]
    # prefill both on all but the last prompt token; the last one is fed at the start of each round
    tp, dp = prefill_fns or (tf_, df_)
    if n0 > 1:
        _, tc = tp(tf.constant(p[:, :-1]), tc, 0)
        _, dc = dp(tf.constant(p[:, :-1]), dc, 0)
    seq = list(p[0])
    proposed = accepted = t_calls = d_calls = 0
    while len(seq) < n0 + n_new:
        n = len(seq)
        last = seq[-1]
        props, tok = [], last
        for j in range(k):
            lg, dc = df_(tf.constant([[tok]], tf.int32), dc, n - 1 + j)
            d_calls += 1
            tok = int(np.argmax(lg.numpy()[0, -1]))
            props.append(tok)
        lg, tc = tf_(tf.constant([[last] + props], tf.int32), tc, n - 1)
        t_calls += 1
        best = np.argmax(lg.numpy()[0], axis=-1)           # target's choice after last, d1, …, dk
        m = 0
        while m < k and props[m] == best[m]:
            m += 1
        if m == k:  # the draft never saw its own last proposal: feed it so its cache stays valid
            _, dc = df_(tf.constant([[props[-1]]], tf.int32), dc, n - 1 + k)
            d_calls += 1
        seq += props[:m] + [int(best[m])]
        proposed += k
        accepted += m
    out = np.asarray(seq[:n0 + n_new], dtype=np.int32)[None]
    return out, {"proposed": proposed, "accepted": accepted, "acceptance": accepted / max(proposed, 1),
                 "target_calls": t_calls, "draft_calls": d_calls}


def draft_agreement(draft: Any, target: Any, X: Any) -> dict:
    """How well a draft predicts the target, over every position of the windows ``X`` (batch, T).

    ``greedy_agreement``: the fraction of positions where the two argmaxes match (what greedy
    speculation accepts); ``sampling_acceptance``: the mean of Σ min(p, q) = 1 − TV(p, q), the
    probability that speculative *sampling* accepts a drafted token. Used by 15_serving_llms and
    by ``scripts/make_pretrained.py`` (the figures in the draft files' metadata).
    """
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must be token windows of shape (batch, T), got shape {X.shape}.")

    def probs(m: Any) -> np.ndarray:
        logits = tf.cast(m(tf.constant(X, tf.int32), training=False), tf.float32)
        return tf.nn.softmax(logits, axis=-1).numpy().astype(np.float64)
    p, q = probs(target), probs(draft)
    if p.shape != q.shape:
        raise ValueError(f"draft and target disagree on the vocabulary: {q.shape[-1]} vs {p.shape[-1]} tokens.")
    return {"greedy_agreement": float(np.mean(p.argmax(-1) == q.argmax(-1))),
            "sampling_acceptance": float(np.mean(np.minimum(p, q).sum(-1)))}
