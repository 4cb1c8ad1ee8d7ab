"""The course's small GPT (introduced in 07_attention_transformers; used again in 12 and 15).

One readable decoder-only transformer in Keras 3, small enough to read in a lesson:

* :mod:`.config`     — :class:`GPTConfig` and the parameter-count formula :func:`count_params`;
* :mod:`.layers`     — causal multi-head self-attention, RoPE, RMSNorm, the pre-norm block,
  :func:`build_gpt` and :func:`attention_maps`;
* :mod:`.tokenizer`  — :class:`CharTokenizer` and a from-scratch byte-pair encoder
  (:func:`train_bpe`, :class:`BPETokenizer`);
* :mod:`.sampling`   — top-k / top-p filters, :func:`sample_next`, :func:`generate`;
* :mod:`.training`   — :func:`lm_batches` (tf.data for next-token training), :class:`TimeBudget`,
  :func:`train_for` (a budgeted fine-tuning loop, 15);
* :mod:`.pretrained` — :func:`load_pretrained` (the tiny GPT shipped in ``datasets/``).

Each piece is matched in tests against the library that does the same job:
``tests/test_llm.py`` — attention against ``keras.layers.MultiHeadAttention`` (weights copied
across), RMSNorm against ``keras.layers.RMSNormalization``, the parameter formula against
``count_params()`` (notebook 07 trains Hugging Face ``tokenizers`` beside our BPE);
``tests/test_llm_keras_hub.py`` — RoPE against
``keras_hub.layers.RotaryEmbedding`` (same half-split convention), the KV cache against
``keras_hub.layers.CachedMultiHeadAttention`` (prefill and decode steps), greedy / top-k / top-p
against ``keras_hub.samplers`` (the kept tokens and their probabilities; the tie conventions
differ and are asserted), and our BPE against ``keras_hub.tokenizers.BytePairTokenizer`` loaded
with our merges.

Names are imported lazily, so ``import labkit.llm`` does not start TensorFlow.
"""
from __future__ import annotations

import importlib

_WHERE = {
    "GPTConfig": "config", "count_params": "config",
    "CausalSelfAttention": "layers", "RMSNorm": "layers", "MLP": "layers", "TransformerBlock": "layers",
    "GPT": "layers", "build_gpt": "layers", "apply_rope": "layers", "rope_angles": "layers",
    "sinusoidal_positions": "layers", "attention_maps": "layers", "causal_mask": "layers",
    "CharTokenizer": "tokenizer", "BPETokenizer": "tokenizer", "train_bpe": "tokenizer",
    "count_pairs": "tokenizer", "merge_pair": "tokenizer",
    "top_k_filter": "sampling", "top_p_filter": "sampling", "sample_next": "sampling", "generate": "sampling",
    "softmax": "sampling",
    "lm_batches": "training", "lm_arrays": "training", "TimeBudget": "training", "compile_lm": "training",
    "evaluate_loss": "training", "train_for": "training",
    "load_pretrained": "pretrained", "pretrained_info": "pretrained", "save_weights": "pretrained", "load_weights": "pretrained",
    "PRETRAINED": "pretrained",
    "draft_agreement": "cache",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'labkit.llm' has no attribute {name!r}")


def __dir__():
    return __all__
