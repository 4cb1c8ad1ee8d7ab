"""labkit.llm: the course's GPT, matched against Keras layers (notebook 07; reused by 12 and 15)."""
import numpy as np
import pytest

import labkit as lk
from labkit import llm

keras = pytest.importorskip("keras")
from keras import ops  # noqa: E402


def _mha_pair(d=16, heads=4, seed=0):
    """Our attention and keras.layers.MultiHeadAttention with the same weights."""
    keras.utils.set_random_seed(seed)
    ours = llm.CausalSelfAttention(d, heads)
    ours.build((None, None, d))
    ref = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=d // heads)
    x = np.random.default_rng(seed).normal(size=(2, 7, d)).astype("float32")
    ref(x, x, use_causal_mask=True)
    ws = [np.random.default_rng(seed + 1).normal(0, 0.3, w.shape).astype("float32") for w in ref.get_weights()]
    ref.set_weights(ws)
    ours.set_weights(ws)  # query, key, value, output: kernel and bias each, same shapes and order
    return ours, ref, x


def test_attention_matches_keras_multihead_attention_causal():
    ours, ref, x = _mha_pair()
    got = ops.convert_to_numpy(ours(x))
    want = ops.convert_to_numpy(ref(x, x, use_causal_mask=True))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_attention_with_padding_mask_matches_keras():
    ours, ref, x = _mha_pair(seed=3)
    pad = np.ones((2, 7), bool)
    pad[1, 5:] = False
    got = ops.convert_to_numpy(ours(x, padding_mask=pad))
    want = ops.convert_to_numpy(ref(x, x, attention_mask=pad[:, None, :] & np.tril(np.ones((7, 7), bool))[None]))
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_attention_weights_are_causal_and_normalised():
    ours, _, x = _mha_pair()
    _, w = ours(x, return_attention=True)
    w = ops.convert_to_numpy(w)
    assert w.shape == (2, 4, 7, 7)
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-5)
    assert np.all(np.triu(np.ones((7, 7)), 1)[None, None] * w < 1e-7)


def test_causal_mask_with_cached_keys():
    m = ops.convert_to_numpy(llm.causal_mask(2, 5))
    assert m.tolist() == [[True, True, True, True, False], [True] * 5]
    np.testing.assert_array_equal(ops.convert_to_numpy(llm.causal_mask(4)), np.tril(np.ones((4, 4), bool)))


def test_rmsnorm_matches_keras():
    x = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")
    ours = llm.RMSNorm(epsilon=1e-6)
    ref = keras.layers.RMSNormalization(epsilon=1e-6)
    np.testing.assert_allclose(ops.convert_to_numpy(ours(x)), ops.convert_to_numpy(ref(x)), atol=1e-5)


def test_rope_relative_position_property():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(1, 1, 1, 16)).astype("float32")
    k = rng.normal(size=(1, 1, 1, 16)).astype("float32")

    def score(m, n):
        qm = ops.convert_to_numpy(llm.apply_rope(q, np.array([m])))
        kn = ops.convert_to_numpy(llm.apply_rope(k, np.array([n])))
        return float((qm * kn).sum())
    for m, n, s in [(5, 2, 10), (0, 0, 37), (3, 9, 100)]:
        assert abs(score(m, n) - score(m + s, n + s)) < 1e-4
    assert abs(score(5, 2) - score(5, 3)) > 1e-3  # but it does depend on the offset
    # a rotation: norms are kept
    r = ops.convert_to_numpy(llm.apply_rope(q, np.array([7])))
    assert abs(np.linalg.norm(r) - np.linalg.norm(q)) < 1e-4


def test_rope_at_position_zero_is_identity():
    x = np.random.default_rng(1).normal(size=(2, 1, 3, 8)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(llm.apply_rope(x, np.array([0]))), x, atol=1e-6)


@pytest.mark.parametrize("changes", [{}, {"norm": "rms"}, {"pos": "rope"}, {"mlp": "swiglu"},
                                     {"tie_embeddings": False}, {"n_layers": 3, "d_model": 48, "n_heads": 6}])
def test_param_count_formula_matches_keras(changes):
    cfg = llm.GPTConfig(vocab_size=50, context=32, d_model=32, n_layers=2, n_heads=4).replace(**changes)
    n = llm.count_params(cfg)
    assert llm.build_gpt(cfg).count_params() == n["total"]
    if cfg.mlp == "gelu" and cfg.norm == "layer":
        assert n["per_layer"] == 12 * cfg.d_model ** 2 + 13 * cfg.d_model


def test_config_validates():
    with pytest.raises(ValueError, match="divisible"):
        llm.GPTConfig(vocab_size=10, d_model=30, n_heads=4)
    with pytest.raises(ValueError, match="norm"):
        llm.GPTConfig(vocab_size=10, norm="batch")
    cfg = llm.GPTConfig(vocab_size=10)
    assert llm.GPTConfig.from_json(cfg.to_json()) == cfg


def test_gpt_is_causal_and_positions_work_past_the_input_shape():
    cfg = llm.GPTConfig(vocab_size=20, context=16, d_model=16, n_layers=2, n_heads=2)
    model = llm.build_gpt(cfg, seed=0)
    a = np.array([[1, 2, 3, 4, 5, 6]], "int32")
    b = a.copy()
    b[0, 4:] = [9, 9]
    la, lb = (ops.convert_to_numpy(model(v)) for v in (a, b))
    np.testing.assert_allclose(la[0, :4], lb[0, :4], atol=1e-6)   # the future does not leak
    assert np.abs(la[0, 4:] - lb[0, 4:]).max() > 1e-4
    maps = llm.attention_maps(model, a[0])
    assert maps.shape == (2, 2, 6, 6)


def test_lora_can_be_enabled_on_the_projections():
    cfg = llm.GPTConfig(vocab_size=20, context=8, d_model=16, n_layers=1, n_heads=2)
    model = llm.build_gpt(cfg, seed=0)
    x = np.array([[1, 2, 3]], "int32")
    before = ops.convert_to_numpy(model(x))
    attn = model.blocks[0].attn
    attn.query.enable_lora(2)
    attn.value.enable_lora(2)
    np.testing.assert_allclose(ops.convert_to_numpy(model(x)), before, atol=1e-6)  # B starts at zero
    assert attn.query.lora_kernel_a.shape[-1] == 2 and attn.query.lora_kernel_b.shape[0] == 2


def test_char_tokenizer_round_trip_and_errors():
    tok = llm.CharTokenizer.from_text("hello world")
    assert tok.decode(tok.encode("low hello")) == "low hello"
    assert tok.vocab_size == len(set("hello world"))
    with pytest.raises(ValueError, match="not in the vocabulary"):
        tok.encode("xyz")
    assert llm.CharTokenizer.from_json(tok.to_json()).chars == tok.chars


def test_merge_pair():
    assert llm.merge_pair([1, 2, 1, 2, 2], (1, 2), 9) == [9, 9, 2]
    assert llm.merge_pair([2, 2, 2], (2, 2), 7) == [7, 2]   # left to right, non-overlapping
    assert llm.merge_pair([], (1, 2), 3) == []


def test_bpe_round_trip_chinese_code_and_compression():
    text = lk.data.load("pydoc_corpus", max_chars=20_000).text
    tok = llm.train_bpe(text, 300)
    assert tok.vocab_size == 300
    for s in [text[:500], "def f(x):\n    return x ** 2  # 平方\n", "注意力机制 🙂", ""]:
        assert tok.decode(tok.encode(s)) == s
    ids = tok.encode(text)
    assert len(ids) < 0.75 * len(text.encode("utf-8"))   # merges compress the training text
    assert llm.BPETokenizer.from_json(tok.to_json()).encode(text[:300]) == tok.encode(text[:300])
    # the first merge is the most frequent pair of the training words
    words = {}
    for w in llm.tokenizer.WORD_RE.findall(text):
        words[tuple(w.encode())] = words.get(tuple(w.encode()), 0) + 1
    pairs = llm.count_pairs(words)
    assert pairs[tok.merges[0]] == max(pairs.values())


def test_top_k_and_top_p_on_known_distributions():
    logits = np.log(np.array([0.5, 0.3, 0.15, 0.05]))
    assert np.isfinite(llm.top_k_filter(logits, 2)).tolist() == [True, True, False, False]
    assert np.isfinite(llm.top_k_filter([1.0, 2.0, 2.0, 0.0], 2)).tolist() == [False, True, True, False]
    assert np.isfinite(llm.top_p_filter(logits, 0.5)).sum() == 1     # 0.5 reaches p already
    assert np.isfinite(llm.top_p_filter(logits, 0.6)).sum() == 2
    assert np.isfinite(llm.top_p_filter(logits, 0.81)).sum() == 3
    assert np.isfinite(llm.top_p_filter(logits, 1.0)).sum() == 4
    shuffled = logits[[2, 0, 3, 1]]
    assert np.isfinite(llm.top_p_filter(shuffled, 0.6)).tolist() == [False, True, False, True]
    batch = np.stack([logits, shuffled])
    assert np.isfinite(llm.top_k_filter(batch, 1)).sum(-1).tolist() == [1, 1]
    before = logits.copy()
    llm.top_p_filter(logits, 0.3)
    np.testing.assert_array_equal(logits, before)   # inputs are not changed
    with pytest.raises(ValueError):
        llm.top_p_filter(logits, 0.0)
    with pytest.raises(ValueError):
        llm.top_k_filter(logits, 0)


def test_sample_next_frequencies_and_greedy():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    rng = np.random.default_rng(0)
    draws = sample_many = llm.sample_next(np.tile(np.log(p), (20000, 1)), rng)
    freq = np.bincount(sample_many, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, p, atol=0.015)
    assert llm.sample_next(np.log(p), rng, temperature=0) == 0
    cold = llm.sample_next(np.tile(np.log(p), (5000, 1)), rng, temperature=0.25)
    assert (cold == 0).mean() > 0.85
    k2 = llm.sample_next(np.tile(np.log(p), (5000, 1)), rng, top_k=2)
    assert set(np.unique(k2)) == {0, 1}
    a = llm.sample_next(np.log(p), np.random.default_rng(5))
    assert a == llm.sample_next(np.log(p), np.random.default_rng(5))


def test_generate_is_seeded_and_crops_to_context():
    cfg = llm.GPTConfig(vocab_size=12, context=8, d_model=16, n_layers=1, n_heads=2)
    model = llm.build_gpt(cfg, seed=0)
    prompt = np.array([1, 2, 3], "int32")
    a = llm.generate(model, prompt, 10, seed=1, top_k=5)
    b = llm.generate(model, prompt, 10, seed=1, top_k=5)
    assert a.shape == (13,) and (a == b).all() and (a[:3] == prompt).all()
    g = llm.generate(model, prompt[None], 3, temperature=0)
    assert g.shape == (1, 6)
    with pytest.raises(ValueError, match="encode"):
        llm.generate(model, np.array([]), 3)


def test_generate_traced_step_matches_eager_and_sees_new_weights():
    cfg = llm.GPTConfig(vocab_size=12, context=8, d_model=16, n_layers=1, n_heads=2)
    model = llm.build_gpt(cfg, seed=0)
    prompt = np.array([[1, 2, 3], [4, 5, 6]], "int32")

    def eager_greedy(n):
        out = prompt.copy()
        for _ in range(n):
            nxt = np.asarray(model(out[:, -8:], training=False))[:, -1].argmax(-1)
            out = np.concatenate([out, nxt[:, None].astype("int32")], 1)
        return out
    assert (llm.generate(model, prompt, 9, temperature=0) == eager_greedy(9)).all()   # past the context too
    model.set_weights([w * 1.5 for w in model.get_weights()])                        # the traced step reads the new weights
    assert (llm.generate(model, prompt, 9, temperature=0) == eager_greedy(9)).all()


def test_lm_arrays_shift_by_one():
    X, Y = llm.lm_arrays(np.arange(10), 4, stride=3)
    assert X.tolist() == [[0, 1, 2, 3], [3, 4, 5, 6]]
    assert Y.tolist() == [[1, 2, 3, 4], [4, 5, 6, 7]]
    with pytest.raises(ValueError, match="context"):
        llm.lm_arrays(np.arange(3), 4)


def test_time_budget_stops_by_steps_and_save_load_is_reproducible(tmp_path):
    cfg = llm.GPTConfig(vocab_size=10, context=8, d_model=16, n_layers=1, n_heads=2)
    ids = np.random.default_rng(0).integers(0, 10, 400)
    model = llm.compile_lm(llm.build_gpt(cfg, seed=0))
    budget = llm.TimeBudget(max_steps=3)
    model.fit(llm.lm_batches(ids, 8, 4, repeat=True), epochs=2, steps_per_epoch=10, verbose=0, callbacks=[budget])
    assert budget.steps == 3
    tok = llm.CharTokenizer("0123456789")
    p1 = llm.save_weights(model, tmp_path / "a.npz", tok, meta={"x": 1})
    p2 = llm.save_weights(model, tmp_path / "b.npz", tok, meta={"x": 1})
    assert lk.data.sha256(p1) == lk.data.sha256(p2)      # same weights -> same bytes
    loaded, tok2, cfg2, meta = llm.load_weights(p1)
    assert cfg2 == cfg and tok2.chars == tok.chars and meta == {"x": 1}
    x = ids[:8][None].astype("int32")
    np.testing.assert_allclose(ops.convert_to_numpy(loaded(x)), ops.convert_to_numpy(model(x)), atol=2e-2)
    assert loaded.weights[0].dtype == "float32"


def test_load_pretrained_errors_are_clear(monkeypatch):
    with pytest.raises(ValueError, match="available"):
        llm.load_pretrained("gpt5")
    from labkit.llm import pretrained
    monkeypatch.setitem(pretrained.PRETRAINED, "tiny_gpt", {"file": "nope.npz", "sha256": "0" * 64})
    with pytest.raises(lk.data.DatasetError, match="make pretrained"):
        llm.load_pretrained("tiny_gpt")


def test_python_source_corpus_is_code_and_stable():
    a = lk.data.load("python_source", max_chars=200_000)
    b = lk.data.load("python_source", max_chars=200_000)
    assert a.sha256 == b.sha256 and a.text == b.text and len(a.text) == 200_000
    assert "def " in a.text and '"""' not in a.text[:20_000]   # code, docstrings removed
    assert a.modules and a.python.count(".") == 2


@pytest.mark.parametrize("name", ["tiny_gpt", "tiny_gpt_draft", "tiny_gpt_draft_distilled"])
def test_shipped_models_load_and_are_causal_lms(name):
    from labkit.llm import pretrained
    if not pretrained.PRETRAINED[name]["sha256"]:
        pytest.skip(f"{name} is not shipped yet (make pretrained)")
    model, tok, cfg = llm.load_pretrained(name)
    assert cfg.context >= 384 and model.count_params() == llm.count_params(cfg)["total"]
    info = llm.pretrained_info(name)
    assert info["val_loss_nats_per_char"] < {"tiny_gpt": 1.5, "tiny_gpt_draft": 2.05,   # as datasets/README.md states
                                             "tiny_gpt_draft_distilled": 1.8}[name]     # (unigram model: ≈ 3.2)
    ids = np.array(tok.encode("The for statement "))
    out = llm.generate(model, ids, 5, temperature=0)
    assert out.shape == (len(ids) + 5,) and (out[:len(ids)] == ids).all()


def test_train_for_learns_respects_its_caps_and_trains_only_trainable_variables():
    cfg = llm.GPTConfig(vocab_size=12, context=8, d_model=16, n_layers=1, n_heads=2)
    model = llm.build_gpt(cfg, seed=0)
    X = np.tile(np.arange(8, dtype=np.int32) % 12, (32, 1))            # a fixed pattern: easy to learn
    Y = (X + 1) % 12
    before = llm.evaluate_loss(model, X, Y)
    frozen = model.blocks[0]
    frozen.trainable = False
    w_frozen = [w.copy() for w in frozen.get_weights()]
    run = llm.train_for(model, X, Y, seconds=60, lr=1e-2, batch_size=8, max_steps=40)
    assert run["steps"] == 40 and len(run["losses"]) == 40 and run["warmup_s"] > 0
    assert llm.evaluate_loss(model, X, Y) < 0.5 * before
    assert all(np.array_equal(a, b) for a, b in zip(w_frozen, frozen.get_weights()))
    with pytest.raises(ValueError, match="batch_size"):
        llm.train_for(model, X, Y, seconds=1, batch_size=33)
    with pytest.raises(ValueError, match="seconds"):
        llm.train_for(model, X, Y, seconds=0)
    with pytest.raises(ValueError, match="matching"):
        llm.train_for(model, X, Y[:, :-1], seconds=1)


def test_the_distilled_draft_agrees_with_the_target_more_than_the_text_trained_one():
    distilled = llm.pretrained_info("tiny_gpt_draft_distilled")
    assert distilled["distilled_from"] == "tiny_gpt.npz" and distilled["greedy_agreement_with_target"] > 0.6
    assert distilled["val_loss_nats_per_char"] < llm.pretrained_info("tiny_gpt_draft")["val_loss_nats_per_char"]


def test_draft_agreement_and_the_figures_in_the_shipped_drafts_metadata():
    import importlib.util
    from pathlib import Path
    from labkit.llm import cache
    cfg = llm.GPTConfig(vocab_size=12, context=8, d_model=16, n_layers=1, n_heads=2)
    a, b = llm.build_gpt(cfg, seed=0), llm.build_gpt(cfg, seed=1)
    X = np.random.default_rng(0).integers(0, 12, (3, 8))
    assert cache.draft_agreement(a, a, X) == pytest.approx({"greedy_agreement": 1.0, "sampling_acceptance": 1.0})
    ab = cache.draft_agreement(a, b, X)
    assert 0 <= ab["greedy_agreement"] < 1 and 0 < ab["sampling_acceptance"] < 1
    assert ab == pytest.approx(cache.draft_agreement(b, a, X))           # both measures are symmetric
    with pytest.raises(ValueError, match="batch, T"):
        cache.draft_agreement(a, b, X[0])
    # the metadata of the distilled draft is what scripts/make_pretrained.py's agreement() measures now
    path = Path(__file__).resolve().parents[1] / "scripts" / "make_pretrained.py"
    spec = importlib.util.spec_from_file_location("make_pretrained", path)
    mp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mp)
    _, _, val_ids = mp.corpus()
    target, _, tcfg = llm.load_pretrained("tiny_gpt")
    got = mp.agreement(llm.load_pretrained("tiny_gpt_draft_distilled")[0], target, val_ids, tcfg.context)
    info = llm.pretrained_info("tiny_gpt_draft_distilled")
    for key in ("greedy_agreement_with_target", "expected_acceptance_sampling"):
        assert got[key] == pytest.approx(info[key], abs=0.005), key


def test_generate_caches_one_traced_step_per_model_and_lets_the_model_go():
    import gc
    from labkit.llm import sampling
    cfg = llm.GPTConfig(vocab_size=12, context=8, d_model=16, n_layers=1, n_heads=2)
    model = llm.build_gpt(cfg, seed=0)
    a = llm.generate(model, [[1, 2]], 3, temperature=0, seed=0)
    b = llm.generate(model, [[1, 2]], 3, temperature=0, seed=0)
    import weakref
    assert np.array_equal(a, b) and model in sampling._LAST_LOGITS
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None                               # the cache does not keep a deleted model alive
