"""labkit.precision: format limits, rounding, loss scaling, policies, memory (notebook 10)."""
import math

import numpy as np
import pytest

from labkit import precision as P


@pytest.mark.parametrize("name", list(P.FORMATS))
def test_format_limits_match_ml_dtypes(name):
    import ml_dtypes
    fi = ml_dtypes.finfo(P.numpy_dtype(name))
    info = P.format_info(name)
    assert info["eps"] == float(fi.eps)
    assert info["max"] == float(fi.max)
    assert info["min_normal"] == float(fi.smallest_normal)
    assert info["min_subnormal"] == float(fi.smallest_subnormal)
    assert info["bits"] == np.dtype(P.numpy_dtype(name)).itemsize * 8


def test_round_to_edges():
    assert P.round_to(65519, "float16") == 65504
    assert np.isinf(P.round_to(65520, "float16"))
    assert P.round_to(2e-8, "float16") == 0
    assert P.round_to(1 + 2 ** -9, "bfloat16") == 1
    assert np.isnan(P.round_to(500, "float8_e4m3fn"))
    np.testing.assert_array_equal(P.round_to([0.5, 0.25], "float32"), [0.5, 0.25])


def test_bits():
    assert P.bits(1.0, "float32") == ("0", "01111111", "0" * 23)
    assert P.bits(-2.0, "bfloat16") == ("1", "10000000", "0000000")
    s, e, m = P.bits(0.1, "float16")
    assert len(e) == 5 and len(m) == 10
    with pytest.raises(TypeError, match="one number"):
        P.bits(np.array([1.0, 2.0]), "float16")


def test_unknown_format():
    with pytest.raises(ValueError, match="Unknown format"):
        P.format_info("float12")
    with pytest.raises(TypeError, match="bfloat16"):
        P.round_to(1.0, 16)


def test_update_loss_scale_rule():
    assert P.update_loss_scale(1024.0, 3, False, 4) == (512.0, 0, False)
    assert P.update_loss_scale(1024.0, 2, True, 4) == (1024.0, 3, True)
    assert P.update_loss_scale(1024.0, 3, True, 4) == (2048.0, 0, True)


def test_dynamic_loss_scaler_trace():
    s = P.DynamicLossScaler(initial_scale=8.0, growth_interval=2)
    applied = [s.update(f) for f in [False, True, True, True, False]]
    assert applied == [False, True, True, True, False]
    assert s.history == [8.0, 4.0, 4.0, 8.0, 8.0]
    assert s.scale == 4.0 and s.skipped == 2
    assert s.unscale([np.array([8.0]), None])[0][0] == 2.0
    with pytest.raises(ValueError, match="growth_interval"):
        P.DynamicLossScaler(growth_interval=0)
    with pytest.raises(ValueError, match="initial_scale"):
        P.DynamicLossScaler(initial_scale=-1)


def test_layer_policies():
    assert P.layer_policies(["conv2d", "relu", "dense", "softmax"], "gpu_fp16") == \
        ["mixed_float16", "mixed_float16", "mixed_float16", "float32"]
    assert P.layer_policies(["dense", "softmax", "dense"], "cpu_bf16") == ["mixed_bfloat16", "float32", "float32"]
    assert P.layer_policies(["dense", "dense"], "cpu") == ["float32", "float32"]
    with pytest.raises(ValueError, match="hardware"):
        P.layer_policies(["dense"], "gpu_fp8")
    with pytest.raises(TypeError, match="list"):
        P.layer_policies("dense", "cpu")


def test_time_steps_interleaves_and_caps():
    calls = []
    best = P.time_steps({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, repeats=3,
                        max_repeats={"b": 1})
    assert calls == ["a", "b", "a", "a"]
    assert set(best) == {"a", "b"} and all(v >= 0 and math.isfinite(v) for v in best.values())
    with pytest.raises(ValueError, match="repeats"):
        P.time_steps({"a": lambda: None}, repeats=0)



def test_time_steps_waits_for_nested_results():
    waited = []

    class Fake:
        def numpy(self):
            waited.append(1)
            return 0

    P.time_steps({"a": lambda: (Fake(), [Fake()], {"x": Fake()})}, repeats=2)
    assert len(waited) == 6


def test_policy_context_restores():
    import keras
    before = keras.mixed_precision.dtype_policy().name
    with P.policy("mixed_bfloat16"):
        assert keras.mixed_precision.dtype_policy().name == "mixed_bfloat16"
    assert keras.mixed_precision.dtype_policy().name == before


def test_peak_memory_and_hardware():
    import tensorflow as tf
    assert P.hardware() in P.HARDWARE
    peak = P.peak_memory(lambda: tf.reduce_sum(tf.ones((256, 1024))))
    assert peak >= 256 * 1024 * 4
