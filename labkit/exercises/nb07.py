"""Exercises of 07_attention_transformers: attention with a mask, the causal mask, a BPE merge step
and encoding, and the parameter count of a GPT."""
from collections import Counter

import numpy as np

from ..check import function_exercise

SECTION_ATTN = "07 · Scaled dot-product attention"
SECTION_MASK = "07 · Masks"
SECTION_BPE = "07 · Tokenization"
SECTION_BLOCK = "07 · The transformer block"


# ---------------------------------------------------------------- 1. scaled dot-product attention
def _softmax(z, axis=-1):
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def attention(q, k, v, mask=None):
    """Reference: softmax(q kᵀ / √d_k, masked where mask is False) v; q (..., Tq, d_k), k (..., Tk, d_k)."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    return _softmax(scores) @ v


def _attn_case(rng, batch, tq, tk, dk, dv, masked, scale=1.0, label=""):
    q = rng.normal(0, scale, (batch, tq, dk))
    k = rng.normal(0, scale, (batch, tk, dk))
    v = rng.normal(size=(batch, tk, dv))
    mask = None
    if masked == "causal":
        mask = np.arange(tk)[None, :] <= np.arange(tq)[:, None] + (tk - tq)
    elif masked == "padding":
        keep = np.ones((batch, 1, tk), bool)
        for b in range(batch):
            keep[b, 0, rng.integers(1, tk + 1):] = False   # each sequence keeps >= 1 key
        mask = np.broadcast_to(keep, (batch, tq, tk)).copy()
    return {"args": (q, k, v, mask), "label": label}


def _attn_cases():
    rng = np.random.default_rng(7)
    return [_attn_case(rng, 1, 4, 4, 8, 8, "causal", label="(causal, d_k = 8)"),
            _attn_case(rng, 2, 3, 5, 4, 6, None, label="(no mask, d_v ≠ d_k)"),
            _attn_case(rng, 2, 5, 5, 16, 3, "padding", label="(padding mask)"),
            _attn_case(rng, 1, 3, 3, 4, 4, "causal", scale=30.0, label="(large scores: needs a stable softmax)")]


def _attn_random(rng):
    out = []
    for masked in ("causal", "padding", None):
        tq = int(rng.integers(2, 7))
        tk = tq if masked != None else int(rng.integers(2, 8))  # noqa: E711
        if masked == "causal":
            tk = tq + int(rng.integers(0, 3))
        dk, dv = int(rng.choice([2, 4, 8, 16])), int(rng.integers(1, 6))
        dv = dv + 1 if dv == dk else dv
        out.append(_attn_case(rng, int(rng.integers(1, 4)), tq, tk, dk, dv, masked,
                              scale=float(rng.uniform(0.5, 3.0)), label=f"(random, {masked or 'no'} mask)"))
    out.append(_attn_case(rng, 1, 3, 3, 8, 3, "causal", scale=40.0, label="(random, large scores)"))
    return out


def _attn_no_scale(q, k, v, mask=None):
    s = np.asarray(q) @ np.swapaxes(k, -1, -2)
    return _softmax(np.where(mask, s, -np.inf) if mask is not None else s) @ v


def _attn_scale_d(q, k, v, mask=None):
    s = np.asarray(q) @ np.swapaxes(k, -1, -2) / q.shape[-1]
    return _softmax(np.where(mask, s, -np.inf) if mask is not None else s) @ v


def _attn_scale_dv(q, k, v, mask=None):
    s = np.asarray(q) @ np.swapaxes(k, -1, -2) / np.sqrt(np.shape(v)[-1])
    return _softmax(np.where(mask, s, -np.inf) if mask is not None else s) @ v


def _attn_wrong_axis(q, k, v, mask=None):
    s = np.asarray(q) @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    s = np.where(mask, s, -1e9) if mask is not None else s
    return _softmax(s, axis=-2) @ v


def _attn_unstable(q, k, v, mask=None):
    s = np.asarray(q) @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(s)
    if mask is not None:
        e = np.where(mask, e, 0.0)
    with np.errstate(all="ignore"):
        return e / e.sum(-1, keepdims=True) @ v


def _attn_ignores_mask(q, k, v, mask=None):
    return attention(q, k, v, None)


def _attn_inverted_mask(q, k, v, mask=None):
    if mask is None:
        return attention(q, k, v)
    s = np.asarray(q) @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    return _softmax(np.where(mask, -1e9, s)) @ v


def _attn_mask_after_softmax(q, k, v, mask=None):
    w = _softmax(np.asarray(q) @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]))
    return (w * mask if mask is not None else w) @ v


def _attn_in_place(q, k, v, mask=None):
    q /= np.sqrt(q.shape[-1])       # changes the caller's array
    s = q @ np.swapaxes(k, -1, -2)
    return _softmax(np.where(mask, s, -np.inf) if mask is not None else s) @ v


function_exercise(
    "07.attention",
    title="scaled dot-product attention with a mask",
    reference=attention,
    cases=_attn_cases,
    random_cases=_attn_random,
    atol=1e-6, rtol=1e-6,
    hints=[
        "Scores compare every query with every key: q @ kᵀ over the last two axes (np.swapaxes(k, -1, -2)), "
        "shape (..., Tq, Tk), divided by √d_k where d_k = q.shape[-1] (not d_v).",
        "Where mask is False the score becomes −inf BEFORE the softmax, so those weights are exactly 0 and the "
        "rest still sum to 1. Softmax over the KEYS (last axis), subtracting the row maximum first.",
        "s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1]); if mask is not None: s = np.where(mask, s, -np.inf); "
        "s = s - s.max(-1, keepdims=True); w = np.exp(s); w /= w.sum(-1, keepdims=True); return w @ v",
    ],
    wrong={
        "normalisation: no 1/√d_k scaling": _attn_no_scale,
        "normalisation: divides by d_k instead of √d_k": _attn_scale_d,
        "other: scales by √d_v (the value size)": _attn_scale_dv,
        "wrong_axis: softmax over the queries": _attn_wrong_axis,
        "unstable: exp without subtracting the maximum": _attn_unstable,
        "ignored_argument: ignores the mask": _attn_ignores_mask,
        "sign: masks the allowed positions instead of the forbidden ones": _attn_inverted_mask,
        "other: zeroes masked weights after the softmax (rows no longer sum to 1)": _attn_mask_after_softmax,
        "mutation: scales q in place": _attn_in_place,
    },
    section=SECTION_ATTN,
)


# ---------------------------------------------------------------- 2. the causal mask (with a cache and a window)
def causal_mask(n_queries, n_keys, window=None):
    """Reference: bool (n_queries, n_keys); the queries are the LAST n_queries positions of n_keys.

    Query i sits at absolute position p = i + n_keys − n_queries and may see key j when j ≤ p and,
    with a sliding ``window``, also p − j < window.
    """
    p = np.arange(n_queries)[:, None] + (n_keys - n_queries)
    j = np.arange(n_keys)[None, :]
    m = j <= p
    if window is not None:
        m &= (p - j) < window
    return m


def _mask_cases():
    return [{"args": (4, 4), "label": "(square, no window)"},
            {"args": (2, 6), "label": "(2 new queries after 4 cached keys)"},
            {"args": (1, 5), "label": "(one new token: decoding with a KV cache)"},
            {"args": (6, 6, 3), "label": "(sliding window of 3)"},
            {"args": (3, 7, 2), "label": "(cached keys and a window of 2)"}]


def _mask_random(rng):
    out = []
    for _ in range(4):
        t = int(rng.integers(1, 9))
        s = t + int(rng.integers(0, 7))
        window = None if rng.random() < 0.3 else int(rng.integers(1, s + 2))
        out.append({"args": (t, s) if window is None else (t, s, window), "label": "(random)"})
    out.append({"args": (5, 9, 2), "label": "(random, window)"})
    return out


def _mask_no_diagonal(n_queries, n_keys, window=None):
    m = causal_mask(n_queries, n_keys, window)
    p = np.arange(n_queries) + (n_keys - n_queries)
    m[np.arange(n_queries), p] = False
    return m


def _mask_future(n_queries, n_keys, window=None):
    p = np.arange(n_queries)[:, None] + (n_keys - n_queries)
    return np.arange(n_keys)[None, :] >= p


def _mask_no_offset(n_queries, n_keys, window=None):
    p = np.arange(n_queries)[:, None]
    j = np.arange(n_keys)[None, :]
    m = j <= p
    if window is not None:
        m &= (p - j) < window
    return m


def _mask_no_window(n_queries, n_keys, window=None):
    return causal_mask(n_queries, n_keys)


def _mask_window_plus_one(n_queries, n_keys, window=None):
    return causal_mask(n_queries, n_keys, None if window is None else window + 1)


def _mask_transposed(n_queries, n_keys, window=None):
    return causal_mask(n_keys, n_queries, window).T


def _mask_float(n_queries, n_keys, window=None):
    return np.where(causal_mask(n_queries, n_keys, window), 0.0, -np.inf)   # an additive mask, not a boolean


function_exercise(
    "07.causal_mask",
    title="the causal mask (with cached keys and a sliding window)",
    reference=causal_mask,
    cases=_mask_cases,
    random_cases=_mask_random,
    hints=[
        "Without a cache (n_queries == n_keys) it is the lower triangle, diagonal included: a token sees itself "
        "and the past. With cached keys, the queries are the LAST n_queries positions, so query i sits at "
        "absolute position p = i + n_keys − n_queries.",
        "Key j is visible when j <= p; a sliding window of w keeps only the w most recent keys: p − j < w. "
        "Return a boolean array of shape (n_queries, n_keys).",
        "p = np.arange(n_queries)[:, None] + (n_keys - n_queries); j = np.arange(n_keys)[None, :]; "
        "m = j <= p; if window is not None: m &= (p - j) < window; return m",
    ],
    wrong={
        "off_by_one: excludes the diagonal (a token cannot see itself)": _mask_no_diagonal,
        "sign: looks at the future instead of the past": _mask_future,
        "ignored_argument: ignores the cached keys (queries start at position 0)": _mask_no_offset,
        "ignored_argument: ignores the window": _mask_no_window,
        "boundary: the window keeps one key too many": _mask_window_plus_one,
        "wrong_axis: rows and columns swapped": _mask_transposed,
        "other: an additive 0/−inf float mask instead of booleans": _mask_float,
    },
    section=SECTION_MASK,
)


# ---------------------------------------------------------------- 3. one BPE merge step
def bpe_step(ids, new_id):
    """Reference: the most frequent adjacent pair (ties: the pair that appears first) merged left to right.

    Returns (new ids as a list, the merged pair as a tuple); ``ids`` is not changed.
    """
    counts = Counter(zip(ids, ids[1:]))
    best_n = max(counts.values())
    pair = next(p for p in zip(ids, ids[1:]) if counts[p] == best_n)
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out, pair


def _bpe_cases():
    return [{"args": ([1, 2, 3, 1, 2, 4], 9), "label": "(one clear winner)"},
            {"args": ([5, 5, 5, 5, 1], 7), "label": "(a run: merge left to right, without overlaps)"},
            {"args": ([3, 4, 1, 2, 3, 4, 1, 2], 10), "label": "(a tie: the pair seen first wins)"},
            {"args": (list(b"the cat sat on the mat"), 256), "label": "(bytes of real text)"},
            {"args": ([1, 2, 1, 3, 4, 3, 4, 2], 5), "label": "(the last and first ids are not a pair)"}]


def _bpe_random(rng):
    out = []
    for _ in range(4):
        n = int(rng.integers(3, 30))
        alphabet = int(rng.integers(2, 6))
        ids = [int(x) for x in rng.integers(0, alphabet, n)]
        out.append({"args": (ids, int(rng.integers(100, 300))), "label": "(random)"})
    # a tie where the first-seen pair is not the smallest one
    a, b = int(rng.integers(20, 40)), int(rng.integers(0, 10))
    out.append({"args": ([a, a + 1, b, b + 1, a, a + 1, b, b + 1], 99), "label": "(random tie)"})
    out.append({"args": ([b] * int(rng.integers(3, 8)), 98), "label": "(random run)"})
    A, B, C, D = (int(x) for x in rng.permutation(50)[:4])
    out.append({"args": ([A, B, A, C, D, C, D, B], 97), "label": "(random, ends that are not a pair)"})
    # every call: an ODD run (3, 5, 7 or 9) of one id between distinct ids, so (r, r) is the pair merged
    # and left-to-right ([r, r, r] → [new, r]) differs from right-to-left ([r, new]) whatever else was drawn
    r = int(rng.integers(0, 60))
    others = [int(x) for x in rng.permutation(np.arange(60, 120))[:8]]
    cut = int(rng.integers(0, 5))
    run = [r] * int(rng.choice([3, 5, 7, 9]))
    out.append({"args": (others[:cut] + run + others[cut:cut + int(rng.integers(0, 4))], int(rng.integers(200, 300))),
                "label": "(random: an odd run of one id inside distinct ids)"})
    return out


def _merge(ids, pair, new_id, reverse=False):
    if reverse:
        merged, _ = _merge_ltr(list(ids)[::-1], (pair[1], pair[0]), new_id)
        return merged[::-1]
    return _merge_ltr(ids, pair, new_id)[0]


def _merge_ltr(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == tuple(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out, pair


def _bpe_tie_smallest(ids, new_id):
    counts = Counter(zip(ids, ids[1:]))
    best_n = max(counts.values())
    pair = min(p for p in counts if counts[p] == best_n)
    return _merge(ids, pair, new_id), pair


def _bpe_tie_last(ids, new_id):
    counts = Counter(zip(ids, ids[1:]))
    best_n = max(counts.values())
    pair = [p for p in zip(ids, ids[1:]) if counts[p] == best_n][-1]
    return _merge(ids, pair, new_id), pair


def _bpe_right_to_left(ids, new_id):
    _, pair = bpe_step(ids, new_id)
    return _merge(ids, pair, new_id, reverse=True), pair


def _bpe_first_only(ids, new_id):
    _, pair = bpe_step(ids, new_id)
    i = next(i for i in range(len(ids) - 1) if (ids[i], ids[i + 1]) == pair)
    return list(ids[:i]) + [new_id] + list(ids[i + 2:]), pair


def _bpe_own_id(ids, new_id):
    merged, pair = bpe_step(ids, max(ids) + 1)
    return merged, pair


def _bpe_wraps(ids, new_id):
    counts = Counter(zip(ids, list(ids[1:]) + list(ids[:1])))   # also counts (last, first)
    best_n = max(counts.values())
    pair = next(p for p in zip(ids, list(ids[1:]) + list(ids[:1])) if counts[p] == best_n)
    return _merge(ids, pair, new_id), pair


def _bpe_overlapping(ids, new_id):
    _, pair = bpe_step(ids, new_id)
    out, i = [], 0
    while i < len(ids):   # replaces every position that starts the pair, overlaps included
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
        elif not (i > 0 and (ids[i - 1], ids[i]) == pair):
            out.append(ids[i])
        i += 1
    return out, pair


def _bpe_in_place(ids, new_id):
    merged, pair = bpe_step(ids, new_id)
    ids[:] = merged
    return merged, pair


function_exercise(
    "07.bpe_step",
    title="one byte-pair-encoding merge step",
    reference=bpe_step,
    cases=_bpe_cases,
    random_cases=_bpe_random,
    hints=[
        "Count adjacent pairs with collections.Counter(zip(ids, ids[1:])). The winner has the highest count; "
        "among equal counts take the pair that occurs FIRST in ids (scan zip(ids, ids[1:]) in order).",
        "Merge in one left-to-right pass into a NEW list: at position i, if (ids[i], ids[i+1]) is the pair, "
        "emit new_id and jump by 2, otherwise emit ids[i] and move by 1. So [5, 5, 5] becomes [new, 5].",
        "counts = Counter(zip(ids, ids[1:])); n = max(counts.values()); pair = next(p for p in zip(ids, ids[1:]) "
        "if counts[p] == n); then the while loop above; return out, pair",
    ],
    wrong={
        "boundary: ties go to the smallest pair": _bpe_tie_smallest,
        "boundary: ties go to the pair seen last": _bpe_tie_last,
        "off_by_one: merges right to left ([5, 5, 5] → [5, new])": _bpe_right_to_left,
        "other: merges only the first occurrence": _bpe_first_only,
        "ignored_argument: uses max(ids) + 1 instead of new_id": _bpe_own_id,
        "off_by_one: counts a pair wrapping from the last id to the first": _bpe_wraps,
        "other: overlapping merges": _bpe_overlapping,
        "mutation: overwrites ids in place": _bpe_in_place,
    },
    section=SECTION_BPE,
)


# ---------------------------------------------------------------- 4. parameter count of a GPT
def gpt_params(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    """Reference: parameters of lk.llm's GPT (LayerNorm, GELU MLP, learned positions, biases everywhere)."""
    d, f = d_model, mlp_ratio * d_model
    attn = 4 * d * d + 4 * d                       # q, k, v, out projections with biases
    mlp = d * f + f + f * d + d                    # two dense layers with biases
    norms = 2 * (2 * d)                            # two LayerNorms (scale and shift)
    per_layer = attn + mlp + norms
    embeddings = vocab_size * d + context * d
    head = 0 if tie_embeddings else d * vocab_size + vocab_size
    return n_layers * per_layer + embeddings + 2 * d + head   # + the final LayerNorm


def _params_cases():
    return [{"args": (103, 384, 128, 4), "label": "(the shipped tiny GPT)"},
            {"args": (50257, 1024, 768, 12), "kwargs": {"tie_embeddings": True}, "label": "(GPT-2 small sizes)"},
            {"args": (1000, 64, 32, 2, 2, False), "label": "(untied head, mlp_ratio 2)"}]


def _params_random(rng):
    out = []
    for _ in range(4):
        out.append({"args": (int(rng.integers(2, 5000)), int(rng.integers(1, 2048)), int(rng.integers(1, 64)) * 8,
                             int(rng.integers(1, 13)), int(rng.integers(1, 9)), bool(rng.random() < 0.5)),
                    "label": "(random)"})
    return out


def _p_12d2(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    return 12 * d_model ** 2 * n_layers + vocab_size * d_model + context * d_model


def _p_always_tied(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    return gpt_params(vocab_size, context, d_model, n_layers, mlp_ratio, True)


def _p_ratio4(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    return gpt_params(vocab_size, context, d_model, n_layers, 4, tie_embeddings)


def _p_no_final_norm(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    return gpt_params(vocab_size, context, d_model, n_layers, mlp_ratio, tie_embeddings) - 2 * d_model


def _p_norm_scale_only(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    return gpt_params(vocab_size, context, d_model, n_layers, mlp_ratio, tie_embeddings) - (2 * n_layers + 1) * d_model


def _p_no_positions(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    return gpt_params(vocab_size, context, d_model, n_layers, mlp_ratio, tie_embeddings) - context * d_model


def _p_head_no_bias(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    extra = 0 if tie_embeddings else -vocab_size
    return gpt_params(vocab_size, context, d_model, n_layers, mlp_ratio, tie_embeddings) + extra


def _p_one_norm(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    return gpt_params(vocab_size, context, d_model, n_layers, mlp_ratio, tie_embeddings) - 2 * d_model * n_layers


def _p_float(vocab_size, context, d_model, n_layers, mlp_ratio=4, tie_embeddings=True):
    return gpt_params(vocab_size, context, d_model, n_layers, mlp_ratio, tie_embeddings) / 1e6  # in millions


function_exercise(
    "07.gpt_params",
    title="the parameter count of a GPT",
    reference=gpt_params,
    cases=_params_cases,
    random_cases=_params_random,
    atol=0, rtol=0,
    hints=[
        "Per layer: attention has four d×d projections (q, k, v, out), each with a bias of d; the MLP is "
        "d → mlp_ratio·d → d with biases; each of the two LayerNorms has a scale and a shift (2·d).",
        "Outside the layers: the token embedding (vocab_size·d), the learned positions (context·d), the final "
        "LayerNorm (2·d), and — only when tie_embeddings is False — an output layer d·vocab_size + vocab_size.",
        "f = mlp_ratio*d; per_layer = 4*d*d + 4*d + 2*d*f + f + d + 4*d; "
        "return n_layers*per_layer + vocab_size*d + context*d + 2*d + (0 if tie_embeddings else d*vocab_size + vocab_size)",
    ],
    wrong={
        "other: 12·d²·L + embeddings only (no biases or norms)": _p_12d2,
        "ignored_argument: always counts a tied head": _p_always_tied,
        "ignored_argument: mlp_ratio fixed at 4": _p_ratio4,
        "off_by_one: forgets the final norm": _p_no_final_norm,
        "normalisation: LayerNorm counted with a scale only": _p_norm_scale_only,
        "other: forgets the position embeddings": _p_no_positions,
        "other: untied head without a bias": _p_head_no_bias,
        "off_by_one: one norm per layer instead of two": _p_one_norm,
        "other: returns millions instead of a count": _p_float,
    },
    section=SECTION_BLOCK,
)
