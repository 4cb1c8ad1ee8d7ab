"""labkit.llm's from-scratch pieces matched against keras-hub, the Keras team's transformer library (issue 11).

What is compared, numerically, on seeded random inputs:

* RoPE (``llm.apply_rope``) against ``keras_hub.layers.RotaryEmbedding``: the same "rotate half"
  convention (feature i is paired with feature i + head_dim/2, as in GPT-NeoX and Llama), the same
  frequencies base^(−2i/head_dim), so the outputs agree with no permutation. The interleaved
  convention of the RoFormer paper and GPT-J (feature 2i paired with 2i+1) is the same rotation
  after a fixed permutation of the features; a test shows it.
* The KV cache (``llm.cache.cached_forward``) against ``keras_hub.layers.CachedMultiHeadAttention``:
  a twin of the GPT whose attention is keras-hub's cached layer (same weights) gives the same
  logits and the same key/value cache, on a prefill and on each cached decode step, and both agree
  with recomputing the whole sequence. (keras-hub's layer has no RoPE inside, so the model uses
  learned positions.)
* Sampling: greedy decoding driven by ``keras_hub.samplers.GreedySampler`` over our cached step
  gives the tokens of our ``generate(temperature=0)``. For top-k and top-p the random draw is not
  compared; the distribution each library would draw from is: keras-hub's ``keras.random.categorical``
  is replaced by a recorder, so its filtered support and renormalised probabilities are compared
  with ours. At exact ties the two differ by convention; the tests assert how.
* BPE: merges learned by ``llm.train_bpe`` loaded into ``keras_hub.tokenizers.BytePairTokenizer``
  (vocabulary and merges built here, nothing downloaded) give the same ids as ``llm.BPETokenizer``
  where the two pre-tokenisers split text alike; where they split differently, the test shows it.
"""
import numpy as np
import pytest

from labkit import llm
from labkit.llm import cache as kv

keras = pytest.importorskip("keras")
import keras_hub  # noqa: E402  (pinned in the test extra; on the TensorFlow backend)
import tensorflow as tf  # noqa: E402
from keras import ops  # noqa: E402


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


# ------------------------------------------------------------------ RoPE
@pytest.mark.parametrize("head_dim,start,base", [(8, 0, 10000.0), (16, 37, 10000.0), (32, 500, 500.0)])
def test_rope_matches_keras_hub_rotary_embedding(head_dim, start, base):
    t = 11
    x = np.random.default_rng(head_dim).normal(size=(2, t, 3, head_dim)).astype("float32")  # (B, T, heads, dh)
    pos = np.arange(t) + start
    ours = _np(llm.apply_rope(x, pos, base))
    ref = keras_hub.layers.RotaryEmbedding(max_wavelength=base)   # sequence_axis=1, feature_axis=-1
    theirs = _np(ref(x, start_index=start))
    # the exact rotation, in float64
    ang = pos[:, None] * base ** (-np.arange(0, head_dim, 2) / head_dim)
    cos, sin = np.cos(ang)[None, :, None], np.sin(ang)[None, :, None]
    x1, x2 = np.split(x.astype(np.float64), 2, axis=-1)
    exact = np.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos], axis=-1)
    # both libraries form the angle position × frequency in float32, so both err by about
    # position · 2⁻²³ · |x|: measured max |ours − theirs| 1.2e-7 at positions < 11, 4.5e-5 at 500–510
    tol = 1e-6 + 2e-7 * (start + t)
    assert np.abs(ours - theirs).max() < tol
    assert np.abs(ours - exact).max() < tol and np.abs(theirs - exact).max() < tol
    assert np.abs(ours - x).max() > 0.1 or start == 0             # a rotation actually happened


def test_rope_interleaved_convention_is_ours_after_a_permutation():
    """RoFormer/GPT-J rotate pairs (2i, 2i+1); we and keras-hub rotate (i, i + d/2): the same up to a permutation."""
    d, t = 8, 6
    x = np.random.default_rng(3).normal(size=(1, t, 2, d)).astype("float32")
    ang = np.arange(t)[:, None] * 10000.0 ** (-np.arange(0, d, 2) / d)          # (T, d/2)
    cos, sin = np.cos(ang)[None, :, None], np.sin(ang)[None, :, None]
    even, odd = x[..., 0::2], x[..., 1::2]
    inter = np.empty_like(x)
    inter[..., 0::2], inter[..., 1::2] = even * cos - odd * sin, even * sin + odd * cos
    perm = np.concatenate([np.arange(0, d, 2), np.arange(1, d, 2)])              # interleaved → half-split
    ours = _np(llm.apply_rope(x[..., perm], np.arange(t)))
    np.testing.assert_allclose(ours, inter[..., perm], atol=1e-5)
    theirs = _np(keras_hub.layers.RotaryEmbedding()(x[..., perm]))
    np.testing.assert_allclose(theirs, inter[..., perm], atol=1e-5)
    # without the permutation the conventions really differ
    assert np.abs(_np(llm.apply_rope(x, np.arange(t))) - inter).max() > 0.1


# ------------------------------------------------------------------ KV cache
def _gpt(seed=0, **changes):
    cfg = llm.GPTConfig(vocab_size=40, context=24, d_model=32, n_layers=2, n_heads=4).replace(**changes)
    model = llm.build_gpt(cfg, seed=seed)
    # larger random weights than the 0.02-std init, so that attention is far from uniform
    rng = np.random.default_rng(seed + 1)
    model.set_weights([w + rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
    return model


def _keras_hub_twin(model):
    """One ``CachedMultiHeadAttention`` per block, with that block's attention weights copied across."""
    c = model.gpt_config
    layers = []
    for blk in model.blocks:
        mha = keras_hub.layers.CachedMultiHeadAttention(num_heads=c.n_heads, key_dim=c.head_dim)
        mha.build((None, None, c.d_model), (None, None, c.d_model))
        mha.set_weights(blk.attn.get_weights())   # query, key, value, output: kernel and bias, same shapes
        layers.append(mha)
    return layers


def _twin_step(model, mhas, ids, cache, index):
    """The GPT's forward where every attention is keras-hub's cached layer; cache (layers, B, 2, S, H, dh)."""
    t, s = ids.shape[1], cache.shape[3]
    x = model.embed(ids, index)
    mask = (np.arange(s)[None, :] <= index + np.arange(t)[:, None])[None]       # (1, T, S)
    new = []
    for blk, mha, layer_cache in zip(model.blocks, mhas, cache):
        out, layer_cache = mha(blk.norm1(x), blk.norm1(x), attention_mask=mask, cache=layer_cache,
                               cache_update_index=index)
        x = x + out
        x = x + blk.mlp(blk.norm2(x))
        new.append(layer_cache)
    return _np(model.logits(x)), ops.stack(new)


def test_cached_decoding_matches_keras_hub_cached_multi_head_attention():
    model = _gpt()
    c = model.gpt_config
    mhas = _keras_hub_twin(model)
    ids = np.random.default_rng(5).integers(0, c.vocab_size, size=(2, 14)).astype("int32")
    full = _np(model(ids))                                           # recompute everything
    s = 16
    ours = kv.init_cache(model, batch=2, max_len=s)                  # (layers, 2, B, S, H, dh)
    theirs = ops.zeros((c.n_layers, 2, 2, s, c.n_heads, c.head_dim))  # per layer keras-hub's (B, 2, S, H, dh)
    t0 = 6
    steps = [(0, t0)] + [(i, i + 1) for i in range(t0, ids.shape[1])]  # a prefill, then 8 one-token steps
    worst = {"ours-full": 0.0, "theirs-full": 0.0, "ours-theirs": 0.0, "cache": 0.0}
    for a, b in steps:
        lo, ours = kv.cached_forward(model, ids[:, a:b], ours, a)
        lt, theirs = _twin_step(model, mhas, ids[:, a:b], theirs, a)
        lo = _np(lo)
        worst["ours-full"] = max(worst["ours-full"], np.abs(lo - full[:, a:b]).max())
        worst["theirs-full"] = max(worst["theirs-full"], np.abs(lt - full[:, a:b]).max())
        worst["ours-theirs"] = max(worst["ours-theirs"], np.abs(lo - lt).max())
        cache_diff = np.abs(np.transpose(_np(ours), (0, 2, 1, 3, 4, 5)) - _np(theirs)).max()
        worst["cache"] = max(worst["cache"], cache_diff)
    assert max(worst.values()) < 1e-4, worst                          # measured ≈ 1e-6 (logits of size ≈ 10)
    assert np.abs(full).max() > 1.0                                   # the comparison is not of near-zeros
    # slots past the last position were never written, in either cache
    assert not _np(ours)[:, :, :, ids.shape[1]:].any() and not _np(theirs)[:, :, :, ids.shape[1]:].any()


def test_single_layer_cache_update_matches_keras_hub():
    """Our attention layer, project + scatter + attend as cached_forward does it, against keras-hub's call."""
    d, heads, s = 16, 4, 9
    keras.utils.set_random_seed(2)
    ours = llm.CausalSelfAttention(d, heads)
    ours.build((None, None, d))
    ref = keras_hub.layers.CachedMultiHeadAttention(num_heads=heads, key_dim=d // heads)
    ref.build((None, None, d), (None, None, d))
    ws = [np.random.default_rng(7).normal(0, 0.4, w.shape).astype("float32") for w in ref.get_weights()]
    ref.set_weights(ws)
    ours.set_weights(ws)
    x = np.random.default_rng(8).normal(size=(3, s, d)).astype("float32")
    full = _np(ours(x))
    cache = ops.zeros((3, 2, s, heads, d // heads))
    keys, vals = np.zeros((3, s, heads, d // heads), "float32"), np.zeros((3, s, heads, d // heads), "float32")
    for i in range(s):
        step = x[:, i:i + 1]
        mask = (np.arange(s) <= i)[None, None]
        got_ref, cache = ref(step, step, attention_mask=mask, cache=cache, cache_update_index=i)
        q, k, v = ours.project(step, i)
        keys[:, i], vals[:, i] = _np(k)[:, 0], _np(v)[:, 0]
        got_ours, _ = ours.attend(q, keys, vals, ops.convert_to_tensor(mask[:, None]))
        np.testing.assert_allclose(_np(got_ref)[:, 0], full[:, i], atol=1e-5)
        np.testing.assert_allclose(_np(got_ours)[:, 0], full[:, i], atol=1e-5)
    np.testing.assert_allclose(_np(cache)[:, 0], keys, atol=1e-6)
    np.testing.assert_allclose(_np(cache)[:, 1], vals, atol=1e-6)


# ------------------------------------------------------------------ sampling
def test_greedy_sampler_over_our_cache_gives_our_greedy_tokens():
    model = _gpt(seed=3)
    prompt = np.array([[4, 9, 1, 30, 2]], "int32")
    n_new, t0 = 10, prompt.shape[1]
    max_len = t0 + n_new
    # keras-hub's generate loop: prefill the cache, then `next` re-reads token index-1 at position index-1
    _, cache = kv.cached_forward(model, prompt, kv.init_cache(model, 1, max_len), 0)

    def next_fn(tokens, cache, index):
        logits, cache = kv.cached_forward(model, tokens[:, index - 1:index], cache, index - 1)
        return logits[:, -1], None, cache

    padded = np.concatenate([prompt, np.zeros((1, n_new), "int32")], axis=1)
    theirs = _np(keras_hub.samplers.GreedySampler()(next_fn, tf.constant(padded), cache=cache, index=t0))
    ours = llm.generate(model, prompt, n_new, temperature=0)
    np.testing.assert_array_equal(ours, theirs)
    assert len(set(theirs[0, t0:].tolist())) > 1   # not one token repeated: a real sequence was compared


class _Recorder:
    """Stands in for ``keras.random`` inside a keras-hub sampler: records the logits it would draw from."""

    def __init__(self):
        self.logits = None

    def categorical(self, logits, num_samples, seed=None, dtype="int32"):
        self.logits = _np(logits).astype(np.float64)
        return ops.cast(ops.argmax(logits, axis=-1)[:, None], dtype)


def _their_distribution(sampler, module, logits, monkeypatch):
    """(B, V) probabilities keras-hub's sampler would draw from for these logits (0 outside its support)."""
    rec = _Recorder()
    probs = sampler.compute_probabilities(ops.convert_to_tensor(logits))   # softmax(logits / temperature)
    # the indices its ops.top_k puts the recorded logits in (same op, same input, same order)
    k = logits.shape[-1] if isinstance(sampler, keras_hub.samplers.TopPSampler) else sampler.k
    idx = _np(ops.top_k(probs, k=k, sorted=isinstance(sampler, keras_hub.samplers.TopPSampler))[1])
    with monkeypatch.context() as m:
        m.setattr(module, "random", rec)
        sampler.get_next_token(probs)
    out = np.zeros(logits.shape)
    kept = np.exp(rec.logits - rec.logits.max(axis=-1, keepdims=True))      # exp(−inf) = 0: outside the support
    np.put_along_axis(out, idx, kept / kept.sum(axis=-1, keepdims=True), axis=-1)
    return out


@pytest.mark.parametrize("k,temperature", [(1, 1.0), (5, 1.0), (17, 0.7), (40, 2.0)])
def test_top_k_support_matches_keras_hub(k, temperature, monkeypatch):
    from keras_hub.src.samplers import top_k_sampler
    logits = np.random.default_rng(k).normal(0, 3, size=(6, 50)).astype("float32")   # no ties (continuous)
    theirs = _their_distribution(keras_hub.samplers.TopKSampler(k=k, temperature=temperature), top_k_sampler,
                                 logits, monkeypatch)
    ours = llm.softmax(llm.top_k_filter(logits.astype(np.float64) / temperature, k))
    np.testing.assert_array_equal(ours > 0, theirs > 0)
    assert ((ours > 0).sum(axis=-1) == k).all()
    np.testing.assert_allclose(ours, theirs, atol=1e-6)               # the renormalised probabilities too


def test_top_p_support_matches_keras_hub(monkeypatch):
    from keras_hub.src.samplers import top_p_sampler
    rng = np.random.default_rng(11)
    compared = 0
    for p in (0.05, 0.3, 0.5, 0.8, 0.9, 0.95, 0.999):
        for temperature in (0.5, 1.0, 1.5):
            logits = rng.normal(0, 2, size=(8, 64)).astype("float32")
            z = logits.astype(np.float64) / temperature
            # leave out rows where the probability mass crosses p within float32 rounding of it
            probs = llm.softmax(z)
            cum = np.cumsum(np.sort(probs, axis=-1)[:, ::-1], axis=-1)
            clear = (np.abs(cum - p) > 1e-5).all(axis=-1)
            theirs = _their_distribution(keras_hub.samplers.TopPSampler(p=p, temperature=temperature),
                                         top_p_sampler, logits, monkeypatch)
            ours = llm.softmax(llm.top_p_filter(z, p))
            np.testing.assert_array_equal(ours[clear] > 0, theirs[clear] > 0)
            np.testing.assert_allclose(ours[clear], theirs[clear], atol=1e-6)
            compared += int(clear.sum())
    assert compared >= 160   # of 168 rows: the near-boundary rows left out are few


def test_tie_conventions_differ_from_keras_hub(monkeypatch):
    """At exact ties the libraries choose differently; both are documented here, neither is hidden."""
    from keras_hub.src.samplers import top_k_sampler, top_p_sampler
    # top-k: we keep every token tied with the k-th (3 tokens for k=2); keras-hub keeps exactly k
    tied = np.array([[2.0, 1.0, 1.0, -1.0]], "float32")
    ours = llm.top_k_filter(tied, 2)
    assert np.isfinite(ours).sum() == 3
    theirs = _their_distribution(keras_hub.samplers.TopKSampler(k=2), top_k_sampler, tied, monkeypatch)
    assert (theirs > 0).sum() == 2 and theirs[0, 0] > 0
    # top-p: with probabilities 1/2, 1/4, 1/8, 1/8 (exact in binary) and p = 1/2, the top token alone
    # reaches p. We keep a token while the mass ranked above it is < p: {0}. keras-hub keeps it while
    # that mass is <= p: {0, 1}. Nucleus sampling (Holtzman et al.) and Hugging Face's TopPLogitsWarper
    # keep the smallest set whose mass reaches p, as we do.
    probs = np.array([[0.5, 0.25, 0.125, 0.125]], "float32")
    ours = llm.top_p_filter(np.log(probs.astype(np.float64)), 0.5)
    assert np.isfinite(ours).tolist() == [[True, False, False, False]]
    rec, sampler = _Recorder(), keras_hub.samplers.TopPSampler(p=0.5)
    with monkeypatch.context() as m:
        m.setattr(top_p_sampler, "random", rec)
        sampler.get_next_token(ops.convert_to_tensor(probs))    # already sorted, so no index bookkeeping
    assert np.isfinite(rec.logits).tolist() == [[True, True, False, False]]


# ------------------------------------------------------------------ BPE
def _keras_hub_bpe(tok):
    """keras-hub's BytePairTokenizer with our merges: GPT-2's byte→character table, id r + 256 for merge r."""
    from keras_hub.src.tokenizers.byte_pair_tokenizer import bytes_to_unicode
    bs, cs = bytes_to_unicode()
    char = {b[0]: c for b, c in zip(bs, cs)}
    names = [char[i] for i in range(256)]
    for a, b in tok.merges:
        names.append(names[a] + names[b])
    assert len(set(names)) == len(names)          # every token string is distinct, so ids map one to one
    vocab = {n: i for i, n in enumerate(names)}
    merges = [f"{names[a]} {names[b]}" for a, b in tok.merges]
    return keras_hub.tokenizers.BytePairTokenizer(vocabulary=vocab, merges=merges)


def test_bpe_matches_keras_hub_byte_pair_tokenizer_where_pre_tokenisers_agree():
    corpus = ("the cat sat on the mat and the hat sat on the cat " * 4
              + "keras layers attend to tokens that the model has seen " * 3 + "naïve café 注意力 机制 ")
    ours = llm.train_bpe(corpus, 256 + 60)
    theirs = _keras_hub_bpe(ours)
    # no run of two or more whitespace characters: no merge of ours can cross one of our word
    # boundaries, so our word split and keras-hub's (none, see the next test) give the same ids
    for text in ["the cat sat on the mat", "attend to the tokens.", "hat, mat; cat (sat) that!",
                 "café naïve 注意力 机制", "unseen words like zebra quokka", "aaaa aaa", "x=1+22*333"]:
        ids = ours.encode(text)
        assert _np(theirs.tokenize(text)).tolist() == ids, text
        assert theirs.detokenize(ids) == text == ours.decode(ids)
    assert len(ours.encode("the cat sat on the mat")) < len("the cat sat on the mat".encode())


def test_keras_hub_bpe_does_not_pre_tokenise_in_eager_mode():
    """keras-hub 0.32.0's eager BytePairTokenizer (backed by Hugging Face ``tokenizers``) passes its Llama 3
    split pattern as a plain ``str``, which ``tokenizers.pre_tokenizers.Split`` takes as a literal string,
    not a regex (huggingface/tokenizers#1565): the whole input stays one piece, so merges may cross word
    boundaries. Ours splits into words first, as GPT-2 does. The two differ only after a run of
    whitespace: we keep "  " apart from the next word; keras-hub merges the last space into it.
    (Its other path, inside tf.function / tf.data, needs tensorflow-text, which the course does not install.)
    """
    from tokenizers import Regex
    from tokenizers import pre_tokenizers
    from keras_hub.src.tokenizers.byte_pair_tokenizer import SPLIT_PATTERN_TOKENIZERS
    text = "12345 the cat  ab"
    as_str = pre_tokenizers.Split(pattern=SPLIT_PATTERN_TOKENIZERS, behavior="isolated")
    assert [w for w, _ in as_str.pre_tokenize_str(text)] == [text]                    # no split at all
    as_regex = pre_tokenizers.Split(pattern=Regex(SPLIT_PATTERN_TOKENIZERS), behavior="isolated")
    assert [w for w, _ in as_regex.pre_tokenize_str(text)] == ["123", "45", " the", " cat", " ", " ab"]

    ours = llm.train_bpe("a b a b a b c", 256 + 3)           # merges " b", " a" (and " c"); never "  "
    theirs = _keras_hub_bpe(ours)
    sp, a, b, space_b = 32, 97, 98, ours.encode(" b")[0]
    assert space_b >= 256
    assert llm.tokenizer.WORD_RE.findall("a  b") == ["a", "  ", "b"]
    assert ours.encode("a  b") == [a, sp, sp, b]
    assert _np(theirs.tokenize("a  b")).tolist() == [a, sp, space_b]                 # " b" merged across
    assert theirs.detokenize([a, sp, space_b]) == "a  b" == ours.decode([a, sp, sp, b])
