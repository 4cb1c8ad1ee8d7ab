"""The course's GPT, layer by layer (07_attention_transformers; reused in 12 and 15).

Every projection is a ``keras.layers.EinsumDense`` or ``Dense`` sublayer, so Keras'
``layer.enable_lora(rank)`` works on them, and the attention weights use the same shapes as
``keras.layers.MultiHeadAttention`` (query/key/value kernels (d, heads, head_dim), output
kernel (heads, head_dim, d)), so weights copy across one to one.

Positions are computed inside ``call`` from the input's runtime shape (``keras.ops.arange`` on
a symbolic Functional-API input fails with "Invalid dtype: NoneType").
"""
from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

from .config import GPTConfig


# ------------------------------------------------------------------ masks and positions
def causal_mask(t: Any, s: Any = None) -> Any:
    """Boolean (t, s) mask, True where query i may attend to key j: j <= i + (s - t).

    With s == t this is the lower triangle; with s > t (keys cached from earlier steps) the
    t new queries sit at the end of the s keys.
    """
    s = t if s is None else s
    q = ops.arange(t)[:, None] + (s - t)
    k = ops.arange(s)[None, :]
    return k <= q


def sinusoidal_positions(length: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """The fixed sinusoidal position table of "Attention is all you need": (length, d_model) float32."""
    if d_model % 2:
        raise ValueError(f"d_model must be even for sinusoidal positions, got {d_model}.")
    pos = np.arange(length)[:, None]
    i = np.arange(d_model // 2)[None, :]
    angle = pos / base ** (2 * i / d_model)
    out = np.zeros((length, d_model), np.float32)
    out[:, 0::2], out[:, 1::2] = np.sin(angle), np.cos(angle)
    return out


def rope_angles(positions: Any, head_dim: int, base: float = 10000.0) -> Any:
    """RoPE rotation angles: (T, head_dim/2), angle[p, i] = p · base^(−2i/head_dim)."""
    inv_freq = 1.0 / (base ** (np.arange(0, head_dim, 2, dtype=np.float32) / head_dim))
    return ops.cast(positions, "float32")[:, None] * ops.convert_to_tensor(inv_freq)[None, :]


def apply_rope(x: Any, positions: Any, base: float = 10000.0) -> Any:
    """Rotate each (first-half, second-half) feature pair of x (B, T, heads, head_dim) by its position's angle.

    The "rotate half" layout of GPT-NeoX, Llama and keras-hub's ``RotaryEmbedding``. Then
    q(m)·k(n) depends on m − n only: the relative-position property.
    """
    head_dim = x.shape[-1]
    half = head_dim // 2
    ang = rope_angles(positions, head_dim, base)               # (T, half)
    cos = ops.cast(ops.cos(ang), x.dtype)[None, :, None, :]    # (1, T, 1, half)
    sin = ops.cast(ops.sin(ang), x.dtype)[None, :, None, :]
    x1, x2 = x[..., :half], x[..., half:]
    return ops.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)


# ------------------------------------------------------------------ layers
@keras.saving.register_keras_serializable(package="labkit")
class RMSNorm(keras.layers.Layer):
    """Root-mean-square norm (Llama): x / sqrt(mean(x²) + eps) · scale — no mean subtraction, no shift."""

    def __init__(self, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epsilon = epsilon

    def build(self, input_shape: Any) -> None:
        self.scale = self.add_weight(name="scale", shape=(input_shape[-1],), initializer="ones")

    def call(self, x: Any) -> Any:
        ms = ops.mean(ops.square(x), axis=-1, keepdims=True)
        return x * ops.rsqrt(ms + self.epsilon) * self.scale

    def get_config(self) -> dict:
        return {**super().get_config(), "epsilon": self.epsilon}


def _norm(kind: str, name: str) -> keras.layers.Layer:
    if kind == "rms":
        return RMSNorm(name=name)
    return keras.layers.LayerNormalization(epsilon=1e-5, name=name)


@keras.saving.register_keras_serializable(package="labkit")
class CausalSelfAttention(keras.layers.Layer):
    """Multi-head self-attention with a causal mask; optional RoPE on queries and keys.

    ``call(x)`` → (B, T, d); ``call(x, return_attention=True)`` → (output, weights (B, heads, T, T)).
    ``project`` and ``attend`` are the two halves, so a KV cache can store keys and values.
    """

    def __init__(self, d_model: int, n_heads: int, use_rope: bool = False, dropout: float = 0.0,
                 rope_base: float = 10000.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads}).")
        self.d_model, self.n_heads, self.head_dim = d_model, n_heads, d_model // n_heads
        self.use_rope, self.dropout, self.rope_base = use_rope, dropout, rope_base
        shape = (None, n_heads, self.head_dim)
        self.query = keras.layers.EinsumDense("btd,dhk->bthk", output_shape=shape, bias_axes="hk", name="query")
        self.key = keras.layers.EinsumDense("btd,dhk->bthk", output_shape=shape, bias_axes="hk", name="key")
        self.value = keras.layers.EinsumDense("btd,dhk->bthk", output_shape=shape, bias_axes="hk", name="value")
        self.output_dense = keras.layers.EinsumDense("bthk,hkd->btd", output_shape=(None, d_model),
                                                     bias_axes="d", name="attention_output")
        self.attn_dropout = keras.layers.Dropout(dropout)

    def build(self, input_shape: Any) -> None:
        self.query.build(input_shape)
        self.key.build(input_shape)
        self.value.build(input_shape)
        self.output_dense.build((input_shape[0], input_shape[1], self.n_heads, self.head_dim))

    def project(self, x: Any, start: Any = 0) -> tuple[Any, Any, Any]:
        """Queries, keys, values (B, T, heads, head_dim) for tokens at positions start … start+T−1."""
        q, k, v = self.query(x), self.key(x), self.value(x)
        if self.use_rope:
            pos = ops.arange(ops.shape(x)[1]) + start
            q, k = apply_rope(q, pos, self.rope_base), apply_rope(k, pos, self.rope_base)
        return q, k, v

    def attend(self, q: Any, k: Any, v: Any, mask: Any = None, training: bool = False) -> tuple[Any, Any]:
        """softmax(q·kᵀ/√d_head, masked) · v, then the output projection; returns (output, weights)."""
        scores = ops.einsum("bqhk,bshk->bhqs", q, k) / math.sqrt(self.head_dim)
        if mask is not None:
            scores = ops.where(mask, scores, ops.cast(-1e9, scores.dtype))
        weights = ops.softmax(scores, axis=-1)
        out = ops.einsum("bhqs,bshk->bqhk", self.attn_dropout(weights, training=training), v)
        return self.output_dense(out), weights

    def call(self, x: Any, padding_mask: Any = None, return_attention: bool = False, training: bool = False,
             start: Any = 0) -> Any:
        q, k, v = self.project(x, start)
        t = ops.shape(x)[1]
        mask = causal_mask(t, t)[None, None]                         # (1, 1, T, T)
        if padding_mask is not None:                                 # (B, T): True for real tokens
            mask = ops.logical_and(mask, ops.cast(padding_mask, "bool")[:, None, None, :])
        out, weights = self.attend(q, k, v, mask, training)
        return (out, weights) if return_attention else out

    def get_config(self) -> dict:
        return {**super().get_config(), "d_model": self.d_model, "n_heads": self.n_heads,
                "use_rope": self.use_rope, "dropout": self.dropout, "rope_base": self.rope_base}


@keras.saving.register_keras_serializable(package="labkit")
class MLP(keras.layers.Layer):
    """The position-wise feed-forward net: GELU (d → d_ff → d, GPT-2) or SwiGLU (Llama, no biases)."""

    def __init__(self, d_model: int, d_ff: int, kind: str = "gelu", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if kind not in ("gelu", "swiglu"):
            raise ValueError(f"kind must be 'gelu' or 'swiglu', got {kind!r}.")
        self.d_model, self.d_ff, self.kind = d_model, d_ff, kind
        if kind == "gelu":
            self.fc = keras.layers.Dense(d_ff, name="fc")
        else:
            self.gate = keras.layers.Dense(d_ff, use_bias=False, name="gate")
            self.up = keras.layers.Dense(d_ff, use_bias=False, name="up")
        self.proj = keras.layers.Dense(d_model, use_bias=kind == "gelu", name="proj")

    def build(self, input_shape: Any) -> None:
        hidden = (*input_shape[:-1], self.d_ff)
        if self.kind == "gelu":
            self.fc.build(input_shape)
        else:
            self.gate.build(input_shape)
            self.up.build(input_shape)
        self.proj.build(hidden)

    def call(self, x: Any) -> Any:
        if self.kind == "gelu":
            return self.proj(ops.gelu(self.fc(x), approximate=True))
        return self.proj(ops.silu(self.gate(x)) * self.up(x))

    def get_config(self) -> dict:
        return {**super().get_config(), "d_model": self.d_model, "d_ff": self.d_ff, "kind": self.kind}


@keras.saving.register_keras_serializable(package="labkit")
class TransformerBlock(keras.layers.Layer):
    """A pre-norm block: x + attn(norm(x)), then x + mlp(norm(x)) — the residual stream stays un-normalised."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int, norm: str = "layer", mlp: str = "gelu",
                 use_rope: bool = False, dropout: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.args = dict(d_model=d_model, n_heads=n_heads, d_ff=d_ff, norm=norm, mlp=mlp, use_rope=use_rope,
                         dropout=dropout)
        self.norm1 = _norm(norm, "norm1")
        self.attn = CausalSelfAttention(d_model, n_heads, use_rope=use_rope, dropout=dropout, name="attn")
        self.norm2 = _norm(norm, "norm2")
        self.mlp = MLP(d_model, d_ff, mlp, name="mlp")
        self.drop = keras.layers.Dropout(dropout)

    def build(self, input_shape: Any) -> None:
        for layer in (self.norm1, self.attn, self.norm2, self.mlp):
            layer.build(input_shape)

    def call(self, x: Any, padding_mask: Any = None, return_attention: bool = False, training: bool = False,
             start: Any = 0) -> Any:
        h, w = self.attn(self.norm1(x), padding_mask=padding_mask, return_attention=True, training=training,
                         start=start)
        x = x + self.drop(h, training=training)
        x = x + self.drop(self.mlp(self.norm2(x)), training=training)
        return (x, w) if return_attention else x

    def get_config(self) -> dict:
        return {**super().get_config(), **self.args}


class GPT(keras.Model):
    """A decoder-only transformer: token (+ learned position) embedding, pre-norm blocks, final norm, tied head.

    ``model(ids)`` maps int tokens (B, T) to logits (B, T, vocab). ``model(ids, start=s)``
    treats the tokens as positions s … s+T−1; ``return_attention=True`` also returns a list of
    attention weights (B, heads, T, T), one per layer.
    """

    def __init__(self, config: GPTConfig, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        c = self.gpt_config = config
        init = keras.initializers.RandomNormal(stddev=0.02)
        self.token_embedding = keras.layers.Embedding(c.vocab_size, c.d_model, embeddings_initializer=init,
                                                      name="token_embedding")
        self.position_embedding = (keras.layers.Embedding(c.context, c.d_model, embeddings_initializer=init,
                                                          name="position_embedding") if c.pos == "learned" else None)
        self.embed_dropout = keras.layers.Dropout(c.dropout)
        self.blocks = [TransformerBlock(c.d_model, c.n_heads, c.d_ff, c.norm, c.mlp, c.pos == "rope", c.dropout,
                                        name=f"block_{i}") for i in range(c.n_layers)]
        self.final_norm = _norm(c.norm, "final_norm")
        self.head = None if c.tie_embeddings else keras.layers.Dense(c.vocab_size, name="head")

    def build(self, input_shape: Any) -> None:
        d = self.gpt_config.d_model
        self.token_embedding.build(input_shape)
        if self.position_embedding is not None:
            self.position_embedding.build((None,))
        hidden = (*input_shape, d)
        for b in self.blocks:
            b.build(hidden)
        self.final_norm.build(hidden)
        if self.head is not None:
            self.head.build(hidden)

    def embed(self, ids: Any, start: Any = 0, training: bool = False) -> Any:
        """Token embeddings plus (for pos="learned") the embeddings of positions start … start+T−1."""
        x = self.token_embedding(ids)
        if self.position_embedding is not None:
            pos = ops.arange(ops.shape(ids)[1]) + start
            x = x + self.position_embedding(pos)[None]
        return self.embed_dropout(x, training=training)

    def logits(self, x: Any) -> Any:
        """Final norm, then the output projection (the embedding matrix transposed when tied)."""
        x = self.final_norm(x)
        if self.head is not None:
            return self.head(x)
        return ops.matmul(x, ops.transpose(self.token_embedding.embeddings))

    def call(self, ids: Any, training: bool = False, start: Any = 0, padding_mask: Any = None,
             return_attention: bool = False) -> Any:
        x = self.embed(ids, start, training)
        maps = []
        for b in self.blocks:
            x, w = b(x, padding_mask=padding_mask, return_attention=True, training=training, start=start)
            maps.append(w)
        out = self.logits(x)
        return (out, maps) if return_attention else out


def build_gpt(config: GPTConfig, seed: int | None = None) -> GPT:
    """A built (weights created) GPT for ``config``; ``seed`` seeds Keras first for identical weights."""
    if not isinstance(config, GPTConfig):
        raise TypeError(f"build_gpt needs a GPTConfig, got {type(config).__name__}; e.g. "
                        "lk.llm.GPTConfig(vocab_size=100).")
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    model = GPT(config, name="gpt")
    model.build((None, None))
    return model


def attention_maps(model: GPT, ids: Any) -> np.ndarray:
    """Attention weights of every layer and head for one sequence: (layers, heads, T, T) float32."""
    arr = np.asarray(ids)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[0] != 1:
        raise ValueError(f"attention_maps takes one sequence of token ids (T,) or (1, T), got shape {arr.shape}.")
    if arr.shape[1] > model.gpt_config.context:
        raise ValueError(f"The sequence ({arr.shape[1]} tokens) is longer than the context "
                         f"({model.gpt_config.context}); pass ids[-context:].")
    _, maps = model(arr.astype("int32"), return_attention=True)
    return np.stack([ops.convert_to_numpy(m)[0] for m in maps]).astype(np.float32)
