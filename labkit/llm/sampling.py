"""Turning logits into text (07_attention_transformers): temperature, top-k, top-p and a generate loop.

The filters work on NumPy logits (last axis = vocabulary) and return new arrays with the
removed tokens at −inf. ``generate`` recomputes the whole prefix at each step (simple, O(T²)
per token); 15_serving_llms adds a KV cache in ``labkit/llm/cache.py``.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

# one traced "logits at the last position" function per model: an eager Keras call costs ~20× a traced one
_LAST_LOGITS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def _last_logits_fn(model: Any) -> Any:
    """``ids (B, T) int32 -> logits (B, vocab)`` at the last position, traced once for any B and T."""
    fn = _LAST_LOGITS.get(model)
    if fn is None:
        import tensorflow as tf
        ref = weakref.ref(model)     # a strong reference in the value would keep the key (the model) alive forever
        fn = tf.function(lambda ids: ref()(ids, training=False)[:, -1, :],
                         input_signature=[tf.TensorSpec((None, None), tf.int32)])
        _LAST_LOGITS[model] = fn
    return fn


def softmax(logits: Any, axis: int = -1) -> np.ndarray:
    """A numerically stable softmax (subtracts the max; −inf entries get probability 0)."""
    z = np.asarray(logits, dtype=np.float64)
    m = np.max(z, axis=axis, keepdims=True)
    e = np.exp(z - np.where(np.isfinite(m), m, 0.0))
    return e / e.sum(axis=axis, keepdims=True)


def _as_logits(logits: Any) -> np.ndarray:
    z = np.array(logits, dtype=np.float64)  # a copy: the caller's array is never changed
    if z.ndim == 0 or z.shape[-1] == 0:
        raise ValueError(f"logits must have a vocabulary axis (last), got shape {z.shape}.")
    if np.isnan(z).any():
        raise ValueError("logits contain NaN; check the model's output.")
    return z


def top_k_filter(logits: Any, k: int) -> np.ndarray:
    """Keep the k largest logits on the last axis (ties with the k-th are kept), the rest → −inf."""
    z = _as_logits(logits)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"top_k must be a positive int, got {k!r}.")
    if k >= z.shape[-1]:
        return z
    kth = np.sort(z, axis=-1)[..., -k][..., None]
    return np.where(z >= kth, z, -np.inf)


def top_p_filter(logits: Any, p: float) -> np.ndarray:
    """Nucleus filter: keep the smallest set of most likely tokens whose probability reaches p, the rest → −inf.

    A token is kept when the probability of the tokens ranked above it is < p, so the most
    likely token is always kept and p = 1 keeps everything.
    """
    z = _as_logits(logits)
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be a number in (0, 1], got {p!r}.")
    probs = softmax(z)
    order = np.argsort(-z, axis=-1, kind="stable")
    sorted_p = np.take_along_axis(probs, order, axis=-1)
    before = np.cumsum(sorted_p, axis=-1) - sorted_p          # probability mass ranked above each token
    keep_sorted = before < p
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return np.where(keep, z, -np.inf)


def sample_next(logits: Any, rng: np.random.Generator, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None) -> Any:
    """Pick the next token from logits (V,) or (B, V): temperature 0 is greedy (argmax); returns int or (B,) ids."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy Generator, e.g. np.random.default_rng(0).")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating)) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}.")
    z = _as_logits(logits)
    if temperature == 0:
        out = np.argmax(z, axis=-1)
        return int(out) if out.ndim == 0 else out
    z = z / float(temperature)
    if top_k is not None:
        z = top_k_filter(z, top_k)
    if top_p is not None:
        z = top_p_filter(z, top_p)
    probs = softmax(z)
    flat = probs.reshape(-1, probs.shape[-1])
    u = rng.random(len(flat))[:, None]
    ids = np.minimum((np.cumsum(flat, axis=-1) < u).sum(axis=-1), flat.shape[-1] - 1)
    return int(ids[0]) if probs.ndim == 1 else ids.reshape(probs.shape[:-1])


def generate(model: Any, ids: Any, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
             top_p: float | None = None, seed: int | np.random.Generator = 0, context: int | None = None) -> np.ndarray:
    """Append ``max_new_tokens`` sampled tokens to ``ids`` (T,) or (B, T), recomputing the prefix each step.

    The prefix is cropped to the model's last ``context`` tokens. Returns int32 ids, same rank as given.
    """
    arr = np.asarray(ids)
    if arr.ndim not in (1, 2) or arr.shape[-1] == 0 or arr.dtype.kind not in "iu":
        raise ValueError(f"ids must be a non-empty int array (T,) or (B, T), got shape {arr.shape} "
                         f"dtype {arr.dtype}; encode the prompt with the tokenizer first.")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, (int, np.integer)) or max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}.")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    context = context or getattr(getattr(model, "gpt_config", None), "context", None) or arr.shape[-1] + max_new_tokens
    out = np.array(arr, dtype=np.int32, ndmin=2)
    step = _last_logits_fn(model) if int(max_new_tokens) > 0 else None
    for _ in range(int(max_new_tokens)):
        last = np.asarray(step(out[:, -context:]), dtype=np.float64)
        nxt = sample_next(last, rng, temperature, top_k, top_p)
        out = np.concatenate([out, np.asarray(nxt, np.int32).reshape(-1, 1)], axis=1)
    return out[0] if arr.ndim == 1 else out
