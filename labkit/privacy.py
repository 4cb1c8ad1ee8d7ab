"""Privacy and security helpers (introduced in 17_privacy_security).

- DP-SGD pieces: per-example clipping and the privacy budget ε from ``dp-accounting``.
- Federated learning: splitting data over clients (IID or by label) and FedAvg aggregation.
- Adversarial examples: the fast gradient sign method.
- Membership inference: the loss-threshold attack's AUC and its true-positive rate at a low
  false-positive rate.
- Model integrity: SHA-256 digests and HMAC signatures of model files, verified before loading.

    eps = lk.privacy.dp_epsilon(noise_multiplier=1.0, sample_rate=128 / 1347, steps=105, delta=1e-5)
    sig = lk.privacy.sign_file("model.keras", key)
    model = lk.privacy.load_verified("model.keras", key, sig, keras.models.load_model)
"""
from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any, Callable, Sequence

import numpy as np

from .data import hash_file

__all__ = ["clip_per_example", "dp_epsilon", "split_clients", "fedavg", "fgsm", "membership_auc",
           "tpr_at_fpr", "file_digest", "sign_file", "verify_file", "load_verified"]


# ------------------------------------------------------------------ differential privacy
def clip_per_example(grads: Sequence[np.ndarray], l2_norm_clip: float) -> list[np.ndarray]:
    """Scale each example's gradient (across all tensors) to L2 norm ≤ ``l2_norm_clip``.

    ``grads`` is one array per model variable, each of shape ``(batch, *variable_shape)``.
    """
    if not l2_norm_clip > 0:
        raise ValueError(f"l2_norm_clip must be > 0, got {l2_norm_clip}.")
    grads = [np.asarray(g, dtype=np.float64) for g in grads]
    if not grads:
        raise ValueError("grads is empty: pass one per-example gradient array per variable.")
    if grads[0].ndim == 0:
        raise ValueError("each gradient array needs a leading batch axis, shape (batch, ...); got a scalar.")
    for g in grads:
        if not np.isfinite(g).all():
            raise ValueError("a per-example gradient contains NaN or inf; the loss diverged — lower the learning rate.")
    b = grads[0].shape[0]
    if any(g.ndim == 0 or g.shape[0] != b for g in grads):
        raise ValueError("every gradient array needs the same leading batch axis, shape (batch, ...).")
    sq = sum((g.reshape(b, -1) ** 2).sum(axis=1) for g in grads)
    scale = np.minimum(1.0, l2_norm_clip / np.maximum(np.sqrt(sq), 1e-12))
    return [g * scale.reshape((b,) + (1,) * (g.ndim - 1)) for g in grads]


def dp_epsilon(noise_multiplier: float, sample_rate: float, steps: int, delta: float = 1e-5,
               accountant: str = "rdp") -> float:
    """ε of DP-SGD: ``steps`` Poisson-subsampled Gaussian mechanisms, from dp-accounting (RDP or PLD)."""
    import dp_accounting
    if not noise_multiplier > 0:
        raise ValueError(f"noise_multiplier must be > 0 (0 means no privacy, ε = ∞), got {noise_multiplier}.")
    if not noise_multiplier <= 1e4:
        raise ValueError(f"noise_multiplier must be a finite number ≤ 10000 (DP-SGD uses 0.5–5), got {noise_multiplier}.")
    if not 0 < sample_rate <= 1:
        raise ValueError(f"sample_rate is batch_size / dataset_size, in (0, 1]; got {sample_rate}.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}.")
    if not 0 < delta < 1:
        raise ValueError(f"delta must be in (0, 1), typically < 1/dataset_size; got {delta}.")
    event = dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(sample_rate, dp_accounting.GaussianDpEvent(noise_multiplier)),
        int(steps))
    if accountant == "rdp":
        from dp_accounting.rdp import rdp_privacy_accountant as rdp
        # orders below 1.7 often fail to converge for small noise and never give the best bound there
        acc = rdp.RdpAccountant(orders=[o for o in rdp.DEFAULT_RDP_ORDERS if o >= 1.7])
    elif accountant == "pld":
        acc = dp_accounting.pld.PLDAccountant()
    else:
        raise ValueError(f"accountant must be 'rdp' or 'pld', got {accountant!r}.")
    acc.compose(event)
    return float(acc.get_epsilon(delta))


# ------------------------------------------------------------------ federated learning
def split_clients(y: np.ndarray, n_clients: int, *, iid: bool = True, shards_per_client: int = 2,
                  seed: int = 0) -> list[np.ndarray]:
    """Index arrays, one per client, of equal size: a random split (IID) or label-sorted shards (non-IID)."""
    y = np.asarray(y)
    if isinstance(n_clients, bool) or not isinstance(n_clients, (int, np.integer)) or n_clients < 1:
        raise ValueError(f"n_clients must be a positive int, got {n_clients!r}.")
    rng = np.random.default_rng(seed)
    if iid:
        per = len(y) // n_clients
        if per == 0:
            raise ValueError(f"{len(y)} examples cannot fill {n_clients} clients.")
        return list(rng.permutation(len(y))[: per * n_clients].reshape(n_clients, per))
    n_shards = n_clients * shards_per_client
    per = len(y) // n_shards
    if per == 0:
        raise ValueError(f"{len(y)} examples cannot fill {n_shards} shards; use fewer clients or shards.")
    order = np.argsort(y, kind="stable")[: per * n_shards].reshape(n_shards, per)   # shards of one or two labels
    assign = rng.permutation(n_shards).reshape(n_clients, shards_per_client)
    return [np.concatenate([order[s] for s in shards]) for shards in assign]


def fedavg(client_weights: Sequence[Sequence[np.ndarray]], client_sizes: Sequence[float]) -> list[np.ndarray]:
    """FedAvg's server step: the average of the clients' weight lists, weighted by their example counts."""
    if len(client_weights) == 0 or len(client_weights) != len(client_sizes):
        raise ValueError(f"need one weight list per client and one size per client, got {len(client_weights)} "
                         f"and {len(client_sizes)}.")
    sizes = np.asarray(client_sizes, dtype=np.float64)
    if (sizes < 0).any() or sizes.sum() <= 0:
        raise ValueError("client_sizes must be ≥ 0 and not all zero.")
    n_vars = len(client_weights[0])
    if any(len(w) != n_vars for w in client_weights):
        raise ValueError("every client must send the same list of weight arrays (model.get_weights()).")
    p = sizes / sizes.sum()
    return [sum(pk * np.asarray(w[i], dtype=np.float64) for pk, w in zip(p, client_weights))
            for i in range(n_vars)]


def fedavg_round(global_weights: Sequence[np.ndarray], client_weights: Sequence[Sequence[np.ndarray]],
                 client_sizes: Sequence[float], arrived: Sequence[bool], server_lr: float = 1.0) -> list[np.ndarray]:
    """One FedAvg server update with stragglers (introduced in 17_privacy_security).

    Only clients that ``arrived`` in time count; their updates Δw_k = w_k − w are averaged with
    weights n_k / Σ_arrived n and applied with ``server_lr``: w + η·Σ p_k Δw_k. When no client with
    data arrived, the global weights come back unchanged (as new arrays). ``server_lr=1`` with every
    client arrived is :func:`fedavg`.
    """
    k = len(client_weights)
    if k == 0 or not (k == len(client_sizes) == len(arrived)):
        raise ValueError(f"need one weight list, one size and one arrived flag per client; got {k}, "
                         f"{len(client_sizes)} and {len(arrived)}.")
    sizes = np.asarray(client_sizes, dtype=np.float64)
    if not np.all(np.isfinite(sizes)) or (sizes < 0).any():
        raise ValueError("client_sizes must be finite and ≥ 0.")
    if not np.isfinite(server_lr) or server_lr <= 0:
        raise ValueError(f"server_lr must be a positive finite number, got {server_lr!r}.")
    if any(len(w) != len(global_weights) for w in client_weights):
        raise ValueError("every client must send the same list of weight arrays as the global model.")
    use = [i for i in range(k) if bool(arrived[i]) and sizes[i] > 0]
    glob = [np.asarray(g, dtype=np.float64) for g in global_weights]
    if not use:
        return [g.copy() for g in glob]
    p = sizes[use] / sizes[use].sum()
    return [g + server_lr * sum(pk * (np.asarray(client_weights[i][v], dtype=np.float64) - g)
                                for pk, i in zip(p, use))
            for v, g in enumerate(glob)]


# ------------------------------------------------------------------ adversarial examples
def fgsm(grad_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray, eps: float,
         clip: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Fast gradient sign method: x + ε·sign(∇ₓ loss), kept in the valid input range ``clip``."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.floating, np.integer)) \
            or not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be a finite number ≥ 0 (e.g. 8/255), got {eps!r}.")
    x = np.asarray(x)
    if x.dtype.kind not in "fiu" or not np.isfinite(x).all():
        raise ValueError("x must be an array of finite numbers (inputs in the clip range).")
    if np.asarray(y).dtype.kind == "f" and not np.isfinite(np.asarray(y)).all():
        raise ValueError("y contains NaN or inf; pass the true labels.")
    g = np.asarray(grad_fn(x, y))
    if g.shape != x.shape:
        raise ValueError(f"grad_fn returned shape {g.shape} for inputs of shape {x.shape}.")
    return np.clip(x + eps * np.sign(g), clip[0], clip[1])


def pgd(grad_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray, eps: float,
        alpha: float, steps: int, rng: np.random.Generator, clip: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """L∞ projected gradient ascent from a random start in the ε-ball (introduced in 17_privacy_security).

    Start at x + U(−ε, ε) drawn from ``rng`` (kept in ``clip``); then ``steps`` times: step
    α·sign(∇ₓ loss), project back into the ε-ball around the ORIGINAL x and into the valid range.
    """
    if not (np.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a finite number ≥ 0, got {eps!r}.")
    if not (np.isfinite(alpha) and alpha > 0):
        raise ValueError(f"alpha (the step size) must be a positive finite number, got {alpha!r}.")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator (np.random.default_rng(seed)), got {type(rng).__name__}.")
    x0 = np.asarray(x)
    x_adv = np.clip(x0 + rng.uniform(-eps, eps, x0.shape), clip[0], clip[1])
    for _ in range(int(steps)):
        g = np.asarray(grad_fn(x_adv, y))
        if g.shape != x0.shape:
            raise ValueError(f"grad_fn returned shape {g.shape} for inputs of shape {x0.shape}.")
        x_adv = np.clip(np.clip(x_adv + alpha * np.sign(g), x0 - eps, x0 + eps), clip[0], clip[1])
    return x_adv


# ------------------------------------------------------------------ membership inference
def _scores(member_scores: Any, nonmember_scores: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        m = np.asarray(member_scores, dtype=np.float64).ravel()
        n = np.asarray(nonmember_scores, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise TypeError("scores must be arrays of numbers (e.g. −loss per example).") from None
    if m.size == 0 or n.size == 0:
        raise ValueError("need at least one member and one non-member score.")
    if not (np.isfinite(m).all() and np.isfinite(n).all()):
        raise ValueError("scores contain NaN or inf (a loss of inf?); clip the losses or drop those examples.")
    return m, n


def membership_auc(member_scores: np.ndarray, nonmember_scores: np.ndarray) -> float:
    """AUC of an attack that calls 'member' when the score is high (use −loss as the score)."""
    m, n = _scores(member_scores, nonmember_scores)
    from scipy.stats import rankdata
    r = rankdata(np.r_[m, n])                                  # ties get average ranks
    return float((r[: m.size].sum() - m.size * (m.size + 1) / 2) / (m.size * n.size))


def tpr_at_fpr(member_scores: np.ndarray, nonmember_scores: np.ndarray, fpr: float = 0.05) -> float:
    """Share of members caught when the threshold lets only ``fpr`` of non-members through."""
    if not 0 < fpr < 1:
        raise ValueError(f"fpr must be in (0, 1), got {fpr}.")
    m, n = _scores(member_scores, nonmember_scores)
    thr = np.quantile(n, 1 - fpr)
    return float(np.mean(m > thr))


# ------------------------------------------------------------------ model integrity
def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file, hex — detects corruption, not an attacker who can also replace the digest."""
    return hash_file(path)


def _key(key: bytes) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) < 16:
        raise TypeError("key must be bytes of length ≥ 16, e.g. secrets.token_bytes(32); keep it out of the repo.")
    return bytes(key)


def sign_file(path: str | os.PathLike, key: bytes) -> str:
    """HMAC-SHA256 of a file's bytes under a secret key, hex."""
    return hash_file(path, hmac.new(_key(key), digestmod=hashlib.sha256))


def verify_file(path: str | os.PathLike, key: bytes, signature: str) -> bool:
    """Whether ``signature`` is the file's HMAC under ``key`` (constant-time comparison)."""
    if not isinstance(signature, str):
        raise TypeError(f"signature must be the hex string sign_file returned, got {type(signature).__name__}.")
    return hmac.compare_digest(sign_file(path, key), signature)


def load_verified(path: str | os.PathLike, key: bytes, signature: str, loader: Callable[[str], Any]) -> Any:
    """Verify the file's HMAC, then ``loader(path)``; a ``ValueError`` (nothing loaded) if it was altered."""
    if not verify_file(path, key, signature):
        raise ValueError(f"{os.fspath(path)!r} does not match its signature: the file was modified or the "
                         "signature/key is wrong. Refusing to load it; fetch the model again from a trusted source.")
    return loader(os.fspath(path))
