"""Low-rank adapters (LoRA) from scratch, and Keras 3's own (introduced in 15_serving_llms).

A frozen weight ``W`` (d_in × d_out) gets a trainable update ``ΔW = (α/r)·A·B`` with ``A`` (d_in × r)
random and ``B`` (r × d_out) zero, so the adapted model starts exactly where the pretrained one
is. Only ``r·(d_in + d_out)`` numbers train per layer. For serving, ``merge`` folds ``ΔW`` into
``W`` and the adapter costs nothing at inference. Keras 3 does the same with
``layer.enable_lora(rank, lora_alpha)`` on ``Dense``, ``EinsumDense`` and ``Embedding``;
``LoRADense`` below matches it number for number.
"""
from __future__ import annotations

import keras
import numpy as np

__all__ = ["lora_forward", "merge", "LoRADense", "enable_lora", "lora_param_count"]


def _check_rank(A, B):
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise ValueError(f"A must be (d_in, r) and B (r, d_out) with the same r; got {A.shape} and {B.shape}.")
    return A.shape[1]


def lora_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray | None, A: np.ndarray, B: np.ndarray,
                 alpha: float) -> np.ndarray:
    """``x @ W + b + (alpha / r) · (x @ A) @ B`` in NumPy: the adapter applied without touching ``W``."""
    x, W, A, B = (np.asarray(v, dtype=np.float64) for v in (x, W, A, B))
    r = _check_rank(A, B)
    if W.shape != (A.shape[0], B.shape[1]):
        raise ValueError(f"W must be (d_in, d_out) = {(A.shape[0], B.shape[1])}, got {W.shape}.")
    y = x @ W + (alpha / r) * ((x @ A) @ B)
    return y if b is None else y + np.asarray(b, dtype=np.float64)


def merge(W: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> np.ndarray:
    """The serving weight ``W + (alpha / r) · A @ B`` (a new array; ``W`` is not modified)."""
    W, A, B = np.asarray(W), np.asarray(A), np.asarray(B)
    r = _check_rank(A, B)
    if W.shape != (A.shape[0], B.shape[1]):
        raise ValueError(f"W must be (d_in, d_out) = {(A.shape[0], B.shape[1])}, got {W.shape}.")
    return W + (alpha / r) * (A @ B)


def lora_param_count(d_in: int, d_out: int, rank: int) -> int:
    """Trainable numbers of one rank-``rank`` adapter on a d_in × d_out weight: ``rank·(d_in + d_out)``."""
    if min(d_in, d_out, rank) < 1:
        raise ValueError("d_in, d_out and rank must be positive integers.")
    return int(rank * (d_in + d_out))


class LoRADense(keras.layers.Layer):
    """A frozen ``Dense`` plus a trainable rank-``rank`` adapter; ``merged()`` returns the plain Dense kernel.

    Built from an existing built ``keras.layers.Dense``: its kernel and bias are copied and frozen.
    ``A`` is He-uniform initialised (as Keras does) and ``B`` is zeros.
    """

    def __init__(self, dense: keras.layers.Dense, rank: int, alpha: float | None = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dense, keras.layers.Dense) or not dense.built:
            raise TypeError("LoRADense wraps a built keras.layers.Dense; call the layer once (or build it) first.")
        if not isinstance(rank, int) or rank < 1:
            raise ValueError(f"rank must be an int >= 1, got {rank!r}.")
        self.rank, self.alpha = rank, float(alpha if alpha is not None else rank)
        self.activation = dense.activation
        d_in, d_out = dense.kernel.shape
        self.w = self.add_weight(shape=(d_in, d_out), initializer="zeros", trainable=False, name="kernel")
        self.w.assign(dense.kernel)
        self.b = None
        if dense.bias is not None:
            self.b = self.add_weight(shape=(d_out,), initializer="zeros", trainable=False, name="bias")
            self.b.assign(dense.bias)
        self.a = self.add_weight(shape=(d_in, rank), initializer="he_uniform", name="lora_a")
        self.bb = self.add_weight(shape=(rank, d_out), initializer="zeros", name="lora_b")

    def call(self, x):
        y = keras.ops.matmul(x, self.w) + (self.alpha / self.rank) * keras.ops.matmul(keras.ops.matmul(x, self.a), self.bb)
        if self.b is not None:
            y = y + self.b
        return self.activation(y)

    def merged(self) -> np.ndarray:
        """The kernel to serve with: ``W + (alpha / rank) · A @ B``."""
        return merge(keras.ops.convert_to_numpy(self.w), keras.ops.convert_to_numpy(self.a),
                     keras.ops.convert_to_numpy(self.bb), self.alpha)


def enable_lora(model: keras.Model, rank: int, alpha: float | None = None,
                kinds: tuple = (keras.layers.Dense, keras.layers.EinsumDense)) -> int:
    """Freeze ``model`` and call Keras' ``enable_lora(rank, alpha)`` on every layer of ``kinds``; returns how many.

    Embeddings and norms stay frozen. Afterwards only the LoRA matrices are trainable.
    """
    if not isinstance(model, keras.Model) or not model.built:
        raise TypeError("enable_lora needs a built keras.Model; call it on a batch of tokens first.")
    if not isinstance(rank, int) or rank < 1:
        raise ValueError(f"rank must be an int >= 1, got {rank!r}.")
    for v in model.weights:  # freeze every existing variable; containers stay trainable
        v.trainable = False
    n = 0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, kinds) and not getattr(layer, "lora_enabled", False):
            layer.enable_lora(rank, lora_alpha=alpha)
            n += 1
    return n
