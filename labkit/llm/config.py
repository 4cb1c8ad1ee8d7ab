"""The configuration of the course's GPT and its parameter count (07_attention_transformers)."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

_CHOICES = {"norm": ("layer", "rms"), "pos": ("learned", "rope"), "mlp": ("gelu", "swiglu")}


@dataclass(frozen=True)
class GPTConfig:
    """Hyper-parameters of a decoder-only transformer (a GPT); validated on creation."""
    vocab_size: int
    context: int = 128
    d_model: int = 64
    n_layers: int = 2
    n_heads: int = 4
    mlp_ratio: int = 4
    norm: str = "layer"       # "layer" (LayerNorm, GPT-2) or "rms" (RMSNorm, Llama)
    pos: str = "learned"      # "learned" absolute positions (GPT-2) or "rope" (rotary, Llama)
    mlp: str = "gelu"         # "gelu" (GPT-2) or "swiglu" (Llama)
    dropout: float = 0.0
    tie_embeddings: bool = True  # the output projection reuses the token embedding matrix

    def __post_init__(self) -> None:
        for name in ("vocab_size", "context", "d_model", "n_layers", "n_heads", "mlp_ratio"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"GPTConfig.{name} must be a positive int, got {v!r}.")
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads}); "
                             "pick e.g. n_heads=4 with d_model=64.")
        if self.pos == "rope" and (self.d_model // self.n_heads) % 2:
            raise ValueError("RoPE rotates pairs of features: the head size d_model // n_heads must be even.")
        for name, ok in _CHOICES.items():
            if getattr(self, name) not in ok:
                raise ValueError(f"GPTConfig.{name} must be one of {ok}, got {getattr(self, name)!r}.")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"GPTConfig.dropout must be in [0, 1), got {self.dropout!r}.")

    @property
    def head_dim(self) -> int:
        """Features per head, d_model // n_heads."""
        return self.d_model // self.n_heads

    @property
    def d_ff(self) -> int:
        """Hidden width of the MLP: mlp_ratio·d for GELU; 2/3 of that (rounded) for SwiGLU, as in Llama."""
        h = self.mlp_ratio * self.d_model
        return h if self.mlp == "gelu" else int(2 * h / 3)

    def to_json(self) -> str:
        """The config as a JSON string (stored next to pretrained weights)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "GPTConfig":
        """Re-create a config from :meth:`to_json`'s output."""
        return cls(**json.loads(text))

    def replace(self, **changes: Any) -> "GPTConfig":
        """A copy with some fields changed (validated again)."""
        d = asdict(self)
        unknown = set(changes) - set(d)
        if unknown:
            raise ValueError(f"Unknown GPTConfig fields {sorted(unknown)}; valid: {sorted(d)}.")
        d.update(changes)
        return GPTConfig(**d)


def count_params(config: GPTConfig) -> dict[str, int]:
    """Parameter count from the formula (≈ 12·d²·L + embeddings); matches ``build_gpt(config).count_params()``.

    Per layer: attention 4·d² + 4·d (q, k, v, out with biases); MLP 2·d·d_ff + d_ff + d for GELU
    (3·d·d_ff for SwiGLU, no biases); norms 2·2·d (LayerNorm: scale + shift) or 2·d (RMSNorm).
    With d_ff = 4d that is 12·d² + 13·d per GELU layer.
    """
    if not isinstance(config, GPTConfig):
        raise TypeError(f"count_params needs a GPTConfig, got {type(config).__name__}.")
    d, L, V, f = config.d_model, config.n_layers, config.vocab_size, config.d_ff
    norm = 2 * d if config.norm == "layer" else d
    attn = 4 * d * d + 4 * d
    mlp = 2 * d * f + f + d if config.mlp == "gelu" else 3 * d * f
    per_layer = attn + mlp + 2 * norm
    emb = V * d
    pos = config.context * d if config.pos == "learned" else 0
    head = 0 if config.tie_embeddings else d * V + V  # tied: the head reuses the embedding matrix
    total = L * per_layer + emb + pos + norm + head
    return {"per_layer": per_layer, "layers": L * per_layer, "token_embedding": emb, "position_embedding": pos,
            "final_norm": norm, "head": head, "total": total}
