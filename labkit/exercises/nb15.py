"""Exercises of 15_serving_llms: a KV-cache decode step, top-p filtering, the speculative
accept/reject rule, a LoRA forward pass with merge, and group-wise int4 quantization."""
import numpy as np

from ..check import function_exercise

SECTION_KV = "15 · KV cache"
SECTION_S = "15 · Sampling"
SECTION_SD = "15 · Speculative decoding"
SECTION_L = "15 · LoRA"
SECTION_Q = "15 · Weight-only quantization"


def _softmax(z, axis=-1):
    z = z - np.max(z, axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------------ 1. one decode step with a KV cache
def decode_step(x, Wq, Wk, Wv, Wo, K, V, pos):
    """Reference: one token's multi-head attention with a KV cache.

    x (d,) is the new token's (normed) hidden state at position ``pos``; Wq/Wk/Wv (d, H, dh);
    Wo (H, dh, d); K, V (max_len, H, dh) hold the keys/values of positions 0 … pos−1 (slots from
    pos on hold stale values). Returns (y (d,), K_new, V_new): the caches with slot ``pos``
    written, and y = Σ_h softmax(q_h·K_h[:pos+1]ᵀ/√dh) V_h[:pos+1] projected by Wo.
    """
    q = np.einsum("d,dhk->hk", x, Wq)
    k = np.einsum("d,dhk->hk", x, Wk)
    v = np.einsum("d,dhk->hk", x, Wv)
    K2, V2 = K.copy(), V.copy()
    K2[pos], V2[pos] = k, v
    dh = Wq.shape[-1]
    scores = np.einsum("hk,shk->hs", q, K2[:pos + 1]) / np.sqrt(dh)
    w = _softmax(scores, axis=-1)
    out = np.einsum("hs,shk->hk", w, V2[:pos + 1])
    return np.einsum("hk,hkd->d", out, Wo), K2, V2


def _kv_case(rng, d, H, dh, max_len, pos, scale=1.0):
    r = lambda *s: (rng.standard_normal(s) * scale)
    K, V = r(max_len, H, dh), r(max_len, H, dh)
    K[pos:] = rng.standard_normal((max_len - pos, H, dh)) * 5  # stale slots: garbage that must stay hidden
    return (r(d), r(d, H, dh) / np.sqrt(d), r(d, H, dh) / np.sqrt(d), r(d, H, dh) / np.sqrt(d),
            r(H, dh, d) / np.sqrt(H * dh), K, V, pos)


def _kv_cases():
    rng = np.random.default_rng(150)
    return [
        {"args": _kv_case(rng, 8, 2, 4, 6, 3), "label": "(d=8, 2 heads, position 3 of 6)"},
        {"args": _kv_case(rng, 8, 2, 4, 6, 0), "label": "(the first token, pos 0)"},
        {"args": _kv_case(rng, 6, 1, 6, 5, 4), "label": "(one head, the last slot)"},
        {"args": _kv_case(rng, 16, 4, 4, 10, 7, scale=3.0), "label": "(4 heads, large activations)"},
    ]


def _kv_random(rng):
    out = []
    for _ in range(3):
        H, dh = int(rng.integers(1, 5)), int(rng.choice([2, 4, 8]))
        d, max_len = int(rng.integers(4, 17)), int(rng.integers(2, 12))
        pos = int(rng.integers(0, max_len))
        out.append({"args": _kv_case(rng, d, H, dh, max_len, pos, scale=float(rng.choice([0.3, 1.0, 4.0]))),
                    "label": f"(d={d}, H={H}, dh={dh}, max_len={max_len}, pos={pos})"})
    return out


def _kv_excludes_self(x, Wq, Wk, Wv, Wo, K, V, pos):  # attends to 0 … pos−1 only (the new key is not seen)
    y, K2, V2 = decode_step(x, Wq, Wk, Wv, Wo, K, V, pos)
    if pos == 0:
        return np.zeros_like(y), K2, V2
    q = np.einsum("d,dhk->hk", x, Wq)
    w = _softmax(np.einsum("hk,shk->hs", q, K2[:pos]) / np.sqrt(Wq.shape[-1]))
    return np.einsum("hk,hkd->d", np.einsum("hs,shk->hk", w, V2[:pos]), Wo), K2, V2


def _kv_no_mask(x, Wq, Wk, Wv, Wo, K, V, pos):  # attends over the whole buffer, stale slots included
    q, k, v = (np.einsum("d,dhk->hk", x, W) for W in (Wq, Wk, Wv))
    K2, V2 = K.copy(), V.copy()
    K2[pos], V2[pos] = k, v
    w = _softmax(np.einsum("hk,shk->hs", q, K2) / np.sqrt(Wq.shape[-1]))
    return np.einsum("hk,hkd->d", np.einsum("hs,shk->hk", w, V2), Wo), K2, V2


def _kv_no_scale(x, Wq, Wk, Wv, Wo, K, V, pos):  # forgets the 1/√dh
    q, k, v = (np.einsum("d,dhk->hk", x, W) for W in (Wq, Wk, Wv))
    K2, V2 = K.copy(), V.copy()
    K2[pos], V2[pos] = k, v
    w = _softmax(np.einsum("hk,shk->hs", q, K2[:pos + 1]))
    return np.einsum("hk,hkd->d", np.einsum("hs,shk->hk", w, V2[:pos + 1]), Wo), K2, V2


def _kv_softmax_heads(x, Wq, Wk, Wv, Wo, K, V, pos):  # softmax over the heads axis instead of the keys
    q, k, v = (np.einsum("d,dhk->hk", x, W) for W in (Wq, Wk, Wv))
    K2, V2 = K.copy(), V.copy()
    K2[pos], V2[pos] = k, v
    w = _softmax(np.einsum("hk,shk->hs", q, K2[:pos + 1]) / np.sqrt(Wq.shape[-1]), axis=0)
    return np.einsum("hk,hkd->d", np.einsum("hs,shk->hk", w, V2[:pos + 1]), Wo), K2, V2


def _kv_in_place(x, Wq, Wk, Wv, Wo, K, V, pos):  # writes into the caches it was given
    K[pos], V[pos] = np.einsum("d,dhk->hk", x, Wk), np.einsum("d,dhk->hk", x, Wv)
    y = decode_step(x, Wq, Wk, Wv, Wo, K, V, pos)[0]
    return y, K, V


def _kv_stale_write(x, Wq, Wk, Wv, Wo, K, V, pos):  # appends at pos + 1 (counts positions from 1)
    y = decode_step(x, Wq, Wk, Wv, Wo, K, V, pos)[0]
    K2, V2 = K.copy(), V.copy()
    p = min(pos + 1, len(K) - 1)
    K2[p], V2[p] = np.einsum("d,dhk->hk", x, Wk), np.einsum("d,dhk->hk", x, Wv)
    return y, K2, V2


def _kv_unstable(x, Wq, Wk, Wv, Wo, K, V, pos):  # softmax without subtracting the max: overflows on large scores
    q, k, v = (np.einsum("d,dhk->hk", x, W) for W in (Wq, Wk, Wv))
    K2, V2 = K.copy(), V.copy()
    K2[pos], V2[pos] = k, v
    s = np.einsum("hk,shk->hs", q, K2[:pos + 1]) / np.sqrt(Wq.shape[-1])
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(s.astype(np.float16))
        w = (e / e.sum(-1, keepdims=True)).astype(np.float64)
    return np.einsum("hk,hkd->d", np.einsum("hs,shk->hk", w, V2[:pos + 1]), Wo), K2, V2


function_exercise(
    "15.decode_step",
    title="one decode step with a KV cache",
    reference=decode_step,
    cases=_kv_cases,
    random_cases=_kv_random,
    hints=[
        "Project the new token once: q, k, v = einsum('d,dhk->hk', x, W) for each of Wq, Wk, Wv. Write k and v "
        "into slot `pos` of copies of K and V (never into the caches you were given).",
        "The new query attends to slots 0 … pos inclusive (itself too) and never to the stale slots after pos: "
        "scores = einsum('hk,shk->hs', q, K[:pos+1]) / sqrt(dh), a softmax over the last axis (the keys).",
        "w = softmax(scores, axis=-1) (subtract the max first); out = einsum('hs,shk->hk', w, V[:pos+1]); "
        "y = einsum('hk,hkd->d', out, Wo); return y, K_new, V_new.",
    ],
    wrong={
        "off_by_one: attends to positions 0 … pos−1 and misses the new token's own key": _kv_excludes_self,
        "boundary: no mask, attends to the stale slots after pos too": _kv_no_mask,
        "normalisation: forgets to divide the scores by √dh": _kv_no_scale,
        "wrong_axis: softmax over the heads instead of over the keys": _kv_softmax_heads,
        "mutation: writes k and v into the caches it was given": _kv_in_place,
        "other: writes the new key and value into slot pos + 1": _kv_stale_write,
        "unstable: exp of the raw scores in float16, overflows on large activations": _kv_unstable,
    },
    atol=1e-6, rtol=1e-6,
    section=SECTION_KV,
)


# ------------------------------------------------------------------ 2. top-p filtering
def top_p_filter(logits, p):
    """Reference: keep the smallest set of most probable tokens whose total probability reaches ``p``.

    Along the last axis: token i is kept when the probability of the tokens *strictly* more
    probable than it is below ``p`` (so the token that crosses p is kept, and tokens tied with
    it too); the others become -inf. Kept logits are returned unchanged (a new array).
    """
    logits = np.asarray(logits, dtype=np.float64)
    probs = _softmax(logits, axis=-1)
    above = (probs[..., None, :] * (probs[..., None, :] > probs[..., :, None])).sum(-1)  # mass strictly above i
    return np.where(above < p, logits, -np.inf)


def _tp_cases():
    return [
        {"args": (np.log(np.array([0.5, 0.2, 0.2, 0.1])), 0.6), "label": "(p crosses inside a tie)"},
        {"args": (np.log(np.array([0.1, 0.6, 0.3])), 0.6), "label": "(the top token alone reaches p exactly)"},
        {"args": (np.array([2.0, 1.0, 0.5, -1.0, 3.0]), 0.9), "label": "(unsorted logits)"},
        {"args": (np.array([[1.0, 2.0, 3.0], [3.0, 0.0, 0.0]]), 0.5), "label": "(a batch of two rows)"},
        {"args": (np.array([0.0, 0.0, 0.0, 0.0]), 0.3), "label": "(all tied: all kept)"},
        {"args": (np.array([5.0, 1.0, 0.0]), 1.0), "label": "(p = 1 keeps every token)"},
    ]


def _tp_random(rng):
    out = []
    for _ in range(3):
        shape = (int(rng.integers(1, 4)), int(rng.integers(3, 30)))
        z = rng.standard_normal(shape) * float(rng.choice([0.5, 2.0, 8.0])) + float(rng.normal(0, 50))
        out.append({"args": (z, float(rng.uniform(0.05, 0.99))), "label": f"(logits {shape})"})
    return out


def _tp_excludes_crossing(logits, p):  # keeps only tokens whose cumulative probability is <= p
    logits = np.asarray(logits, float)
    probs = _softmax(logits)
    order = np.argsort(-probs, axis=-1, kind="stable")
    cum = np.take_along_axis(probs, order, -1).cumsum(-1)
    keep_sorted = cum <= p
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, -1)
    return np.where(keep, logits, -np.inf)


def _tp_sort_ties(logits, p):  # cumulative sum in sorted order: of two tied tokens only the first is kept
    logits = np.asarray(logits, float)
    probs = _softmax(logits)
    order = np.argsort(-probs, axis=-1, kind="stable")
    cum = np.take_along_axis(probs, order, -1).cumsum(-1)
    keep_sorted = (cum - np.take_along_axis(probs, order, -1)) < p
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, -1)
    return np.where(keep, logits, -np.inf)


def _tp_unnormalised(logits, p):  # treats exp(logits) as probabilities without dividing by their sum
    logits = np.asarray(logits, float)
    e = np.exp(logits - np.max(logits, -1, keepdims=True))
    above = (e[..., None, :] * (e[..., None, :] > e[..., :, None])).sum(-1)
    return np.where(above < p, logits, -np.inf)


def _tp_wrong_axis(logits, p):  # softmax over the batch axis
    logits = np.asarray(logits, float)
    ax = 0 if logits.ndim > 1 else -1
    probs = _softmax(logits, axis=ax)
    above = (probs[..., None, :] * (probs[..., None, :] > probs[..., :, None])).sum(-1)
    return np.where(above < p, logits, -np.inf)


def _tp_in_place(logits, p):  # writes -inf into the array it was given
    keep = np.isfinite(top_p_filter(logits, p))
    logits[~keep] = -np.inf
    return logits


def _tp_fixed_p(logits, p):  # ignores p: always 0.9
    return top_p_filter(logits, 0.9)


def _tp_renormalised(logits, p):  # returns renormalised probabilities instead of filtered logits
    f = top_p_filter(logits, p)
    return _softmax(f)


def _tp_zero_not_inf(logits, p):  # sets removed logits to 0 instead of −inf (they keep probability)
    f = top_p_filter(logits, p)
    return np.where(np.isfinite(f), f, 0.0)


function_exercise(
    "15.top_p_filter",
    title="top-p (nucleus) filtering",
    reference=top_p_filter,
    cases=_tp_cases,
    random_cases=_tp_random,
    hints=[
        "Work on probabilities: probs = softmax(logits) along the last axis (subtract the max first). The nucleus "
        "is the smallest set of most-probable tokens whose total reaches p: the token that crosses p is IN.",
        "A rule that needs no sorting and treats ties fairly: keep token i when the mass of tokens strictly more "
        "probable than i is < p. Compute it with a broadcast comparison probs[..., None, :] > probs[..., :, None].",
        "above = (probs[..., None, :] * (probs[..., None, :] > probs[..., :, None])).sum(-1); "
        "return np.where(above < p, logits, -np.inf) (a new array; kept logits unchanged).",
    ],
    wrong={
        "off_by_one: keeps only tokens whose cumulative probability is <= p, dropping the one that crosses p":
            _tp_excludes_crossing,
        "boundary: cumulative sum in sorted order, so of tokens tied at the boundary only the first survives":
            _tp_sort_ties,
        "normalisation: uses exp(logits) as probabilities without dividing by their sum": _tp_unnormalised,
        "wrong_axis: softmax over the batch axis": _tp_wrong_axis,
        "mutation: writes −inf into the logits it was given": _tp_in_place,
        "ignored_argument: ignores p (always 0.9)": _tp_fixed_p,
        "other: returns renormalised probabilities instead of filtered logits": _tp_renormalised,
        "other: removed tokens set to 0 instead of −inf, so they can still be sampled": _tp_zero_not_inf,
    },
    atol=1e-9, rtol=0.0,  # rtol 0: with rtol > 0 an expected −inf would tolerate any value
    section=SECTION_S,
)


# ------------------------------------------------------------------ 3. speculative accept/reject
def speculative_accept(p, q, x, rng):
    """Reference: verify one draft token ``x`` ~ q against the target's distribution p.

    Draw u = rng.random(); accept x (return it) when u < min(1, p[x] / q[x]). Otherwise draw
    the replacement with rng.choice(len(p), p=r) from the residual r = max(p − q, 0) / Σ max(p − q, 0).
    The emitted token is then distributed exactly as p.
    """
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    u = rng.random()
    if u < min(1.0, p[x] / q[x]):
        return int(x)
    r = np.maximum(p - q, 0.0)
    return int(rng.choice(len(p), p=r / r.sum()))


def _dist(rng, n, conc):
    return rng.dirichlet(np.full(n, conc))


def _sa_cases():
    rng = np.random.default_rng(151)
    out = []
    p = np.array([0.5, 0.3, 0.2])
    q = np.array([0.2, 0.2, 0.6])
    for seed in range(6):  # the same token against several seeds: accept some, reject others
        out.append({"args": (p, q, 2, np.random.default_rng(seed)), "label": f"(p/q = 1/3 at x, rng seed {seed})"})
    out.append({"args": (p, q, 0, np.random.default_rng(7)), "label": "(p ≥ q at x: always accepted)"})
    p2, q2 = _dist(rng, 6, 0.5), _dist(rng, 6, 0.5)
    for seed in (11, 12, 13, 14):
        out.append({"args": (p2, q2, int(np.argmax(q2 - p2)), np.random.default_rng(seed)),
                    "label": f"(6 tokens, x where the draft is most over-confident, seed {seed})"})
    return out


def _sa_random(rng):
    out = []
    for _ in range(8):
        n = int(rng.integers(2, 12))
        p, q = _dist(rng, n, float(rng.choice([0.3, 1.0]))), _dist(rng, n, float(rng.choice([0.3, 1.0])))
        x = int(np.argmax(q - p)) if rng.random() < 0.7 else int(rng.integers(n))
        out.append({"args": (p, q, x, np.random.default_rng(int(rng.integers(2**31)))),
                    "label": f"({n} tokens, x={x})"})
    return out


def _sa_inverted(p, q, x, rng):  # accepts with min(1, q/p)
    p, q = np.asarray(p, float), np.asarray(q, float)
    if rng.random() < min(1.0, q[x] / p[x]):
        return int(x)
    r = np.maximum(p - q, 0.0)
    return int(rng.choice(len(p), p=r / r.sum()))


def _sa_unnormalised(p, q, x, rng):  # residual not renormalised: inverse-CDF on max(p − q, 0)
    p, q = np.asarray(p, float), np.asarray(q, float)
    if rng.random() < min(1.0, p[x] / q[x]):
        return int(x)
    r = np.maximum(p - q, 0.0)
    return int(min(np.searchsorted(np.cumsum(r), rng.random()), len(p) - 1))


def _sa_resample_p(p, q, x, rng):  # on rejection samples from p itself, ignoring what the draft covered
    p, q = np.asarray(p, float), np.asarray(q, float)
    if rng.random() < min(1.0, p[x] / q[x]):
        return int(x)
    return int(rng.choice(len(p), p=p))


def _sa_global_rng(p, q, x, rng):  # uses NumPy's global generator instead of the rng it was given
    p, q = np.asarray(p, float), np.asarray(q, float)
    if np.random.random() < min(1.0, p[x] / q[x]):
        return int(x)
    r = np.maximum(p - q, 0.0)
    return int(np.random.choice(len(p), p=r / r.sum()))


def _sa_sign(p, q, x, rng):  # residual max(q − p, 0): the wrong way round
    p, q = np.asarray(p, float), np.asarray(q, float)
    if rng.random() < min(1.0, p[x] / q[x]):
        return int(x)
    r = np.maximum(q - p, 0.0)
    return int(rng.choice(len(p), p=r / r.sum()))


def _sa_in_place(p, q, x, rng):  # computes the residual in the target's array
    u = rng.random()
    if u < min(1.0, p[x] / q[x]):
        return int(x)
    p -= q
    np.maximum(p, 0.0, out=p)
    p /= p.sum()
    return int(rng.choice(len(p), p=p))


def _sa_none_on_reject(p, q, x, rng):  # returns None when it rejects (the caller must resample)
    if rng.random() < min(1.0, p[x] / q[x]):
        return int(x)
    return None


def _sa_argmax(p, q, x, rng):  # on rejection takes the most probable residual token instead of sampling
    p, q = np.asarray(p, float), np.asarray(q, float)
    if rng.random() < min(1.0, p[x] / q[x]):
        return int(x)
    return int(np.argmax(np.maximum(p - q, 0.0)))


function_exercise(
    "15.speculative_accept",
    title="the speculative-decoding accept/reject rule",
    reference=speculative_accept,
    cases=_sa_cases,
    random_cases=_sa_random,
    hints=[
        "The draft proposed x with probability q[x]; the target would have given p[x]. Accept x with probability "
        "min(1, p[x]/q[x]): draw u = rng.random() (the generator you were given, exactly once) and accept if u < it.",
        "On a rejection, sample from the residual r = max(p − q, 0), renormalised so it sums to 1: the mass the "
        "draft under-proposed. Use rng.choice(len(p), p=r / r.sum()).",
        "u = rng.random(); if u < min(1, p[x]/q[x]): return x; r = np.maximum(p - q, 0); "
        "return int(rng.choice(len(p), p=r / r.sum())).",
    ],
    wrong={
        "other: accepts with min(1, q/p), the ratio inverted": _sa_inverted,
        "normalisation: samples the residual max(p − q, 0) without renormalising it": _sa_unnormalised,
        "ignored_argument: on rejection samples from p, ignoring q": _sa_resample_p,
        "global_rng: uses np.random instead of the rng it was given": _sa_global_rng,
        "sign: residual max(q − p, 0)": _sa_sign,
        "mutation: builds the residual inside the p it was given": _sa_in_place,
        "returns_none: returns None on a rejection": _sa_none_on_reject,
        "other: on a rejection takes the argmax of the residual instead of sampling": _sa_argmax,
    },
    section=SECTION_SD,
)


# ------------------------------------------------------------------ 4. LoRA forward + merge
def lora_forward_merge(x, W, b, A, B, alpha):
    """Reference: y = x W + b + (alpha/r)·(x A) B with r = A.shape[1], and the merged W' = W + (alpha/r)·A B.

    Returns (y, W_merged); W is not modified. x (n, d_in), W (d_in, d_out), b (d_out,),
    A (d_in, r), B (r, d_out).
    """
    r = A.shape[1]
    s = alpha / r
    return x @ W + b + s * ((x @ A) @ B), W + s * (A @ B)


def _lora_case(rng, n, d_in, d_out, r, alpha, zero_b=False):
    B = np.zeros((r, d_out)) if zero_b else rng.standard_normal((r, d_out)) * 0.5
    return (rng.standard_normal((n, d_in)), rng.standard_normal((d_in, d_out)) / np.sqrt(d_in),
            rng.standard_normal(d_out), rng.standard_normal((d_in, r)), B, alpha)


def _lora_cases():
    rng = np.random.default_rng(152)
    return [
        {"args": _lora_case(rng, 3, 6, 4, 2, 4.0), "label": "(r=2, alpha=4)"},
        {"args": _lora_case(rng, 2, 5, 5, 1, 1.0), "label": "(square W, r=1, alpha=1)"},
        {"args": _lora_case(rng, 4, 8, 3, 4, 16.0), "label": "(r=4, alpha=16)"},
        {"args": _lora_case(rng, 2, 4, 6, 3, 3.0, zero_b=True), "label": "(B = 0 at initialisation)"},
    ]


def _lora_random(rng):
    out = []
    for _ in range(3):
        d_in, d_out = int(rng.integers(2, 12)), int(rng.integers(2, 12))
        r = int(rng.integers(1, min(d_in, d_out) + 1))
        alpha = float(rng.choice([1.0, 2.0, 8.0, 32.0]))
        out.append({"args": _lora_case(rng, int(rng.integers(1, 5)), d_in, d_out, r, alpha),
                    "label": f"(d_in={d_in}, d_out={d_out}, r={r}, alpha={alpha})"})
    return out


def _lora_alpha_only(x, W, b, A, B, alpha):  # scales by alpha, not alpha / r
    return x @ W + b + alpha * (x @ A @ B), W + alpha * (A @ B)


def _lora_r_from_din(x, W, b, A, B, alpha):  # takes r from the wrong axis of A (d_in)
    s = alpha / A.shape[0]
    return x @ W + b + s * (x @ A @ B), W + s * (A @ B)


def _lora_merge_sign(x, W, b, A, B, alpha):  # merges with a minus sign
    s = alpha / A.shape[1]
    return x @ W + b + s * (x @ A @ B), W - s * (A @ B)


def _lora_in_place(x, W, b, A, B, alpha):  # merges into the W it was given
    s = alpha / A.shape[1]
    y = x @ W + b + s * (x @ A @ B)
    W += s * (A @ B)
    return y, W


def _lora_no_bias(x, W, b, A, B, alpha):  # ignores the bias
    s = alpha / A.shape[1]
    return x @ W + s * (x @ A @ B), W + s * (A @ B)


def _lora_forward_without_adapter(x, W, b, A, B, alpha):  # the forward pass forgets the adapter
    s = alpha / A.shape[1]
    return x @ W + b, W + s * (A @ B)


def _lora_r_plus_one(x, W, b, A, B, alpha):  # divides by r + 1
    s = alpha / (A.shape[1] + 1)
    return x @ W + b + s * (x @ A @ B), W + s * (A @ B)


function_exercise(
    "15.lora_forward_merge",
    title="a LoRA forward pass and the merged weight",
    reference=lora_forward_merge,
    cases=_lora_cases,
    random_cases=_lora_random,
    hints=[
        "The adapter adds (alpha / r)·(x A) B to the frozen layer's x W + b, where r is the rank: the number of "
        "columns of A (A is d_in × r, B is r × d_out).",
        "Merging folds the same update into the weight: W' = W + (alpha / r)·A B, so x W' + b equals the adapted "
        "forward pass. Return a new W' (W + ..., not W += ...).",
        "s = alpha / A.shape[1]; return x @ W + b + s * ((x @ A) @ B), W + s * (A @ B)",
    ],
    wrong={
        "normalisation: scales by alpha instead of alpha / r": _lora_alpha_only,
        "wrong_axis: takes r = A.shape[0] (d_in) instead of A.shape[1]": _lora_r_from_din,
        "sign: merges W − (alpha/r)·A B": _lora_merge_sign,
        "mutation: merges into the W it was given (W += ...)": _lora_in_place,
        "ignored_argument: ignores the bias b": _lora_no_bias,
        "other: the forward pass leaves the adapter out": _lora_forward_without_adapter,
        "off_by_one: divides by r + 1": _lora_r_plus_one,
    },
    atol=1e-9, rtol=1e-9,
    section=SECTION_L,
)


# ------------------------------------------------------------------ 5. group-wise int4 quantization
def quantize_groupwise(W, group, bits=4):
    """Reference: symmetric weight-only quantization with one scale per ``group`` input rows and output column.

    W is (d_in, d_out) with d_in divisible by ``group``. For each group g and column j:
    scale = max|W[g·group:(g+1)·group, j]| / (2^(bits−1) − 1) (1.0 where the group is all zero),
    q = round(W / scale) as int8 in [−2^(bits−1), 2^(bits−1) − 1]. Returns (q, scales (d_in/group, d_out)).
    """
    W = np.asarray(W, dtype=np.float64)
    d_in, d_out = W.shape
    qmax = 2 ** (bits - 1) - 1
    Wg = W.reshape(d_in // group, group, d_out)
    amax = np.abs(Wg).max(axis=1)                          # (groups, d_out)
    scale = np.where(amax > 0, amax / qmax, 1.0)
    q = np.clip(np.round(Wg / scale[:, None, :]), -qmax - 1, qmax).astype(np.int8)
    return q.reshape(d_in, d_out), scale


def _qg_cases():
    rng = np.random.default_rng(153)
    W = rng.standard_normal((8, 3))
    W[0, 0] = 6.0  # an outlier: it should only coarsen its own group
    Z = rng.standard_normal((8, 2))
    Z[:4, 1] = 0.0  # an all-zero group
    return [
        {"args": (W, 4), "label": "(8 × 3, groups of 4, an outlier)"},
        {"args": (rng.standard_normal((6, 4)), 2), "label": "(groups of 2)"},
        {"args": (rng.standard_normal((4, 5)) * 1e-3, 4, 4), "label": "(one group per column: per-channel)"},
        {"args": (Z, 4), "label": "(an all-zero group)"},
        {"args": (rng.standard_normal((8, 2)), 4, 8), "label": "(8 bits)"},
        {"args": (rng.standard_normal((6, 3)), 3, 3), "label": "(3 bits, groups of 3)"},
    ]


def _qg_random(rng):
    out = []
    for _ in range(3):
        group = int(rng.choice([2, 4, 8]))
        d_in, d_out = group * int(rng.integers(1, 5)), int(rng.integers(1, 7))
        bits = int(rng.choice([2, 3, 4, 8]))
        W = rng.standard_normal((d_in, d_out)) * float(rng.choice([1e-2, 1.0, 30.0]))
        out.append({"args": (W, group, bits), "label": f"({d_in} × {d_out}, group {group}, {bits} bits)"})
    return out


def _qg_per_channel(W, group, bits=4):  # ignores group: one scale per output column
    q, s = quantize_groupwise(W, W.shape[0], bits)
    return q, np.repeat(s, W.shape[0] // group, axis=0)


def _qg_wrong_axis(W, group, bits=4):  # groups along the output axis (rows of W.T)
    W = np.asarray(W, float)
    qmax = 2 ** (bits - 1) - 1
    Wg = W.reshape(W.shape[0] // group, group, -1)
    amax = np.abs(Wg).max(axis=(1,), keepdims=False).max(axis=-1, keepdims=True) * np.ones((1, W.shape[1]))
    scale = np.where(amax > 0, amax / qmax, 1.0)
    q = np.clip(np.round(Wg / scale[:, None, :]), -qmax - 1, qmax).astype(np.int8)
    return q.reshape(W.shape), scale


def _qg_levels_2pow(W, group, bits=4):  # divides max|w| by 2^(bits−1) (8 for int4): the largest level goes unused
    W = np.asarray(W, float)
    qmax = 2 ** (bits - 1)
    Wg = W.reshape(W.shape[0] // group, group, -1)
    amax = np.abs(Wg).max(axis=1)
    scale = np.where(amax > 0, amax / qmax, 1.0)
    q = np.clip(np.round(Wg / scale[:, None, :]), -qmax, qmax - 1).astype(np.int8)
    return q.reshape(W.shape), scale


def _qg_zero_group(W, group, bits=4):  # divides by a zero scale in an all-zero group
    W = np.asarray(W, float)
    qmax = 2 ** (bits - 1) - 1
    Wg = W.reshape(W.shape[0] // group, group, -1)
    scale = np.abs(Wg).max(axis=1) / qmax
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.round(Wg / scale[:, None, :])
    return np.nan_to_num(q, nan=-128).astype(np.int8).reshape(W.shape), scale


def _qg_floor(W, group, bits=4):  # truncates toward zero instead of rounding to nearest
    W = np.asarray(W, float)
    qmax = 2 ** (bits - 1) - 1
    Wg = W.reshape(W.shape[0] // group, group, -1)
    amax = np.abs(Wg).max(axis=1)
    scale = np.where(amax > 0, amax / qmax, 1.0)
    return np.trunc(Wg / scale[:, None, :]).astype(np.int8).reshape(W.shape), scale


def _qg_fixed_bits(W, group, bits=4):  # ignores bits: always int4
    return quantize_groupwise(W, group, 4)


def _qg_in_place(W, group, bits=4):  # scales the W it was given in place
    q, s = quantize_groupwise(W, group, bits)
    W /= np.repeat(s, group, axis=0)
    return q, s


def _qg_mean_abs(W, group, bits=4):  # scale from the mean |w| (clips the outliers)
    W = np.asarray(W, float)
    qmax = 2 ** (bits - 1) - 1
    Wg = W.reshape(W.shape[0] // group, group, -1)
    amax = np.abs(Wg).mean(axis=1) * 2
    scale = np.where(amax > 0, amax / qmax, 1.0)
    q = np.clip(np.round(Wg / scale[:, None, :]), -qmax - 1, qmax).astype(np.int8)
    return q.reshape(W.shape), scale


function_exercise(
    "15.quantize_groupwise",
    title="group-wise int4 weight quantization",
    reference=quantize_groupwise,
    cases=_qg_cases,
    random_cases=_qg_random,
    hints=[
        "Reshape W (d_in, d_out) to (d_in/group, group, d_out): each [g, :, j] slice is one group of `group` "
        "consecutive input rows in output column j, and gets its own scale.",
        "Symmetric quantization: scale = max|w| over the group / (2^(bits−1) − 1) (7 for int4), and 1.0 for an "
        "all-zero group (no division by zero). q = round(w / scale), clipped to [−2^(bits−1), 2^(bits−1) − 1].",
        "Wg = W.reshape(d_in // group, group, d_out); amax = abs(Wg).max(axis=1); scale = np.where(amax > 0, "
        "amax / qmax, 1.0); q = clip(round(Wg / scale[:, None, :]), -qmax-1, qmax).astype(int8).reshape(W.shape)",
    ],
    wrong={
        "ignored_argument: ignores group (one scale per column, repeated)": _qg_per_channel,
        "wrong_axis: one scale per group of rows shared by every column": _qg_wrong_axis,
        "off_by_one: divides max|w| by 2^(bits−1) instead of 2^(bits−1) − 1": _qg_levels_2pow,
        "unstable: divides by a zero scale in an all-zero group": _qg_zero_group,
        "other: truncates toward zero instead of rounding": _qg_floor,
        "ignored_argument: ignores bits (always 4)": _qg_fixed_bits,
        "mutation: scales the W it was given in place": _qg_in_place,
        "boundary: scale from twice the mean |w|, clipping the group's largest weights": _qg_mean_abs,
    },
    atol=1e-9, rtol=1e-9,
    section=SECTION_Q,
)
