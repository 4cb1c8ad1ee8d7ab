"""labkit.compress: quantization arithmetic, pruning masks and schedule, distillation, TFLite round trip."""
import numpy as np
import pytest

from labkit import compress as C


# ------------------------------------------------------------------ quantization
def test_quant_params_contain_zero_exactly():
    s, z = C.quant_params(0.5, 3.0, 8)          # all-positive range is widened to [0, 3]
    assert z == 0 and s == pytest.approx(3.0 / 255)
    s, z = C.quant_params(-1.0, 1.0, 8)
    assert C.dequantize(C.quantize(0.0, s, z), s, z) == 0.0


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_fake_quant_error_is_at_most_half_a_step(bits):
    x = np.random.default_rng(bits).normal(0.3, 1.0, 1000)
    s, _ = C.quant_params(x.min(), x.max(), bits)
    err = np.abs(C.fake_quant(x, bits) - x)
    assert err.max() <= s / 2 + 1e-12
    assert len(np.unique(C.fake_quant(x, bits))) <= 2 ** bits


def test_quantize_clips_to_the_integer_range():
    q = C.quantize(np.array([-100.0, 100.0]), 0.1, 10, 4)
    assert q.tolist() == [0, 15]


@pytest.mark.parametrize("bad, exc", [(1, ValueError), (17, ValueError), (8.0, TypeError), (True, TypeError)])
def test_bad_bits(bad, exc):
    with pytest.raises(exc, match="bits"):
        C.fake_quant(np.ones(3), bad)


def test_bad_scale_and_empty():
    with pytest.raises(ValueError, match="scale must be positive"):
        C.quantize([1.0], 0.0, 0)
    with pytest.raises(ValueError, match="non-empty"):
        C.fake_quant(np.array([]), 8)
    with pytest.raises(ValueError, match="finite"):
        C.quant_params(-np.inf, 1.0)


# ------------------------------------------------------------------ pruning
def test_magnitude_mask_prunes_smallest_magnitudes():
    w = np.array([[0.5, -2.0], [0.1, -0.05]])
    m = C.magnitude_mask(w, 0.5)
    assert m.tolist() == [[1, 1], [0, 0]]
    assert C.magnitude_mask(w, 0.0).sum() == 4


@pytest.mark.parametrize("bad", [1.0, -0.1, 2])
def test_magnitude_mask_bad_sparsity(bad):
    with pytest.raises(ValueError, match="sparsity must be in"):
        C.magnitude_mask(np.ones(4), bad)
    with pytest.raises(TypeError):
        C.magnitude_mask(np.ones(4), "0.5")


def test_polynomial_schedule():
    assert C.polynomial_sparsity(0, 0, 100, 0.0, 0.8) == 0.0
    assert C.polynomial_sparsity(100, 0, 100, 0.0, 0.8) == pytest.approx(0.8)
    assert C.polynomial_sparsity(500, 0, 100, 0.0, 0.8) == pytest.approx(0.8)
    mid = C.polynomial_sparsity(50, 0, 100, 0.0, 0.8)
    assert mid == pytest.approx(0.8 * (1 - 0.5 ** 3)) and mid > 0.4   # fast at first
    with pytest.raises(ValueError, match="end_step"):
        C.polynomial_sparsity(0, 10, 10)
    with pytest.raises(ValueError, match="initial <= final"):
        C.polynomial_sparsity(0, 0, 10, 0.9, 0.5)


def test_gzip_size_shrinks_with_sparsity():
    w = np.random.default_rng(0).normal(0, 1, 20_000).astype(np.float32)
    pruned = w * C.magnitude_mask(w, 0.9)
    assert C.gzip_size([w]) / C.gzip_size([pruned]) > 4
    with pytest.raises(ValueError, match="non-empty"):
        C.gzip_size([])


def test_latency_and_accuracy_inputs():
    assert C.latency_ms(lambda: None, repeats=5, warmup=0) >= 0
    with pytest.raises(ValueError, match="repeats"):
        C.latency_ms(lambda: None, repeats=0)
    with pytest.raises(TypeError, match="zero-argument"):
        C.latency_ms(42)
    assert C.accuracy(np.eye(3), [0, 1, 0]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="logits"):
        C.accuracy(np.ones(3), [0, 1, 2])


# ------------------------------------------------------------------ Keras pieces
def test_pruning_callback_reaches_target_and_keeps_zeros():
    import keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(64, activation="relu", name="hidden"),
                              keras.layers.Dense(3, name="out")])
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    X = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    y = np.arange(64) % 3
    cb = C.MagnitudePruning(final_sparsity=0.75, begin_step=0, end_step=6, frequency=2, min_size=500)
    model.fit(X, y, batch_size=8, epochs=2, verbose=0, callbacks=[cb])
    sp = C.sparsity(model)
    hidden, out = (next(v for k, v in sp.items() if k.endswith(n)) for n in ("hidden", "out"))
    assert hidden == pytest.approx(0.75) and out == 0.0        # hidden: 512 weights; output: 192 < min_size
    with pytest.raises(ValueError, match="frequency"):
        C.MagnitudePruning(frequency=0)
    with pytest.raises(ValueError, match="min_size"):
        C.prunable_kernels(model, min_size=10**9)
    with pytest.raises(TypeError, match="Keras model"):
        C.sparsity(np.ones(3))


def test_distillation_loss_and_roles():
    import keras
    z = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    assert float(C.distillation_loss(z, z, 3.0)) == pytest.approx(0.0, abs=1e-6)
    assert float(C.distillation_loss(z, 2 * z, 3.0)) > 0
    with pytest.raises(ValueError, match="temperature"):
        C.distillation_loss(z, z, 0.0)
    big, small = C.teacher_model(), C.student_model(hidden=8)
    with pytest.raises(ValueError, match="swap"):
        C.Distiller(big, small)
    with pytest.raises(ValueError, match="alpha"):
        C.Distiller(small, big, alpha=1.5)
    assert big.count_params() > 10 * small.count_params()
    keras.utils.set_random_seed(0)
    d = C.Distiller(small, big, temperature=2.0)
    d.compile(optimizer="adam")
    h = d.fit(np.random.default_rng(1).normal(size=(32, 40)).astype("float32"), np.arange(32) % 10,
              batch_size=16, epochs=1, verbose=0)
    assert np.isfinite(h.history["loss"][-1]) and not big.trainable


def test_tflite_round_trip_and_errors():
    import keras
    keras.utils.set_random_seed(0)
    model = C.student_model(hidden=16)
    X = np.random.default_rng(0).normal(size=(50, 40)).astype("float32")
    ref = model(X).numpy()
    f32 = C.TFLiteModel(C.tflite_convert(model, "float32"))
    np.testing.assert_allclose(f32(X), ref, atol=1e-5)
    i8 = C.TFLiteModel(C.tflite_convert(model, "int8", representative=X))
    assert i8.input_dtype == np.int8 and i8.size < f32.size
    assert np.mean(i8(X).argmax(1) == ref.argmax(1)) > 0.8
    with pytest.raises(ValueError, match="representative"):
        C.tflite_convert(model, "int8")
    with pytest.raises(ValueError, match="mode must be one of"):
        C.tflite_convert(model, "int4")
    with pytest.raises(TypeError, match="flatbuffer bytes"):
        C.TFLiteModel("model.tflite")
    with pytest.raises(ValueError, match="dimensions"):
        f32(X[0])
