"""labkit.memory: the one training-memory accounting (notebooks 10, 11, 12), FLOPs and scaling arithmetic."""
import math

import numpy as np
import pytest

from labkit import memory as M


def test_bytes_per_param_is_the_zero_paper_accounting():
    assert M.bytes_per_param("mixed_bfloat16", "adam") == {"weights": 2, "gradients": 2, "optimizer": 12, "total": 16}
    assert M.bytes_per_param("float32", "adam") == {"weights": 4, "gradients": 4, "optimizer": 8, "total": 16}
    assert M.bytes_per_param("mixed_float16", "sgd")["optimizer"] == 4  # the fp32 master weights
    assert M.bytes_per_param("float32", "sgd")["total"] == 8
    with pytest.raises(ValueError, match="precision"):
        M.bytes_per_param("float16")
    with pytest.raises(ValueError, match="optimizer"):
        M.bytes_per_param("float32", "adagrad")


def test_training_memory():
    f32 = M.training_memory(1000, 10, "float32", "adam")
    mix = M.training_memory(1000, 10, "mixed_bfloat16", "adam")
    assert f32["total"] - f32["activations"] == 16 * 1000 == mix["total"] - mix["activations"]
    assert f32["activations"] == 40 and mix["activations"] == 20
    assert mix["weights"] == 2000 and mix["optimizer"] == 12000
    assert M.training_memory(5, 0, "float32", "sgd")["total"] == 40
    with pytest.raises(ValueError, match="n_params"):
        M.training_memory(-1, 1)
    with pytest.raises(ValueError, match="n_activations"):
        M.training_memory(1, 1.5)


def test_zero_memory_stages():
    full = M.zero_memory(7e9, 8, 0)
    assert full["total"] == pytest.approx(112e9)
    assert M.zero_memory(7e9, 8, 1)["total"] == pytest.approx(7e9 * (4 + 12 / 8))
    assert M.zero_memory(7e9, 8, 2)["total"] == pytest.approx(7e9 * (2 + 14 / 8))
    assert M.zero_memory(7e9, 8, 3)["total"] == pytest.approx(14e9)
    for stage in range(4):  # one device: nothing to shard
        assert M.zero_memory(1e9, 1, stage) == M.zero_memory(1e9, 1, 0)
    # the stages only ever help, and the mixed-precision ZeRO-1 total agrees with training_memory
    totals = [M.zero_memory(1e9, 16, s)["total"] for s in range(4)]
    assert totals == sorted(totals, reverse=True)
    assert M.zero_memory(1000, 1, 0)["total"] == M.training_memory(1000, 0, "mixed_bfloat16")["total"]
    with pytest.raises(ValueError, match="stage"):
        M.zero_memory(1, 2, 4)
    with pytest.raises(ValueError, match="n_devices"):
        M.zero_memory(1, 0, 1)


def test_transformer_params_gpt2_small():
    # GPT-2 small: 124,439,808 parameters (tied embeddings, learned positions, biases, LayerNorm)
    assert M.transformer_params(50257, 768, 12, context=1024) == 124_439_808
    assert M.transformer_params(100, 8, 0, tied=False, bias=False, norm="rms") == 100 * 8 * 2 + 8
    with pytest.raises(ValueError, match="norm"):
        M.transformer_params(10, 8, 1, norm="batch")


def test_activation_bytes():
    # Korthikanti et al.: s·b·h·(34 + 5·a·s/h) bytes per layer
    assert M.activation_bytes(1, 2048, 4096, 32) == pytest.approx(2048 * 4096 * (34 + 5 * 32 * 2048 / 4096))
    plain = M.activation_bytes(4, 512, 256, 8, n_layers=12)
    ckpt = M.activation_bytes(4, 512, 256, 8, n_layers=12, checkpoint=True)
    assert ckpt < plain / 3
    assert M.activation_bytes(1, 8, 8, 1, bytes_per_value=4) == 2 * M.activation_bytes(1, 8, 8, 1)
    with pytest.raises(ValueError, match="bytes_per_value"):
        M.activation_bytes(1, 8, 8, 1, bytes_per_value=1)


def test_flops_and_mfu():
    assert M.training_flops(70e9, 1.4e12) == pytest.approx(5.88e23)
    assert M.flops_per_token(1e6) == 6e6
    assert M.flops_per_token(1e6, 2, 128, 64, training=False) == 2e6 + 2 * 2 * 128 * 64
    assert M.mfu(1e6, 1000, 1.0, 6e9) == pytest.approx(1.0)
    peak = M.cpu_peak_flops(cores=2)
    assert peak["flops"] > 0 and peak["flops_per_cycle"] in (8, 32, 64) and peak["cores"] == 2
    with pytest.raises(ValueError, match="step_time_s"):
        M.mfu(1, 1, 0, 1)


def test_chinchilla():
    out = M.chinchilla(5.88e23)
    assert out["params"] == pytest.approx(70e9, rel=1e-3) and out["tokens"] == pytest.approx(1.4e12, rel=1e-3)
    assert M.training_flops(out["params"], out["tokens"]) == pytest.approx(5.88e23)
    with pytest.raises(ValueError, match="tokens_per_param"):
        M.chinchilla(1e20, 0)


def test_fit_scaling_law_recovers_a_known_law():
    n = np.geomspace(1e4, 1e7, 8)
    loss = 1.5 + 30 * n ** -0.3
    fit = M.fit_scaling_law(n, loss, n_boot=20)
    assert fit["b"] == pytest.approx(0.3, abs=0.02) and fit["c"] == pytest.approx(1.5, abs=0.05)
    lo, hi = fit["b_range"]
    assert lo <= fit["b"] + 1e-9 and hi >= fit["b"] - 1e-9 and math.isfinite(lo)
    with pytest.raises(ValueError, match="at least 3"):
        M.fit_scaling_law([1, 2], [3, 2])


def test_shipped_scaling_sweep():
    sweep = M.load_sweep()
    assert set(sweep.tokens) == {M.SWEEP["short_tokens"], M.SWEEP["tokens"]}
    assert len(sweep) == 2 * len(M.SWEEP["sizes"])
    for tokens in set(sweep.tokens):
        part = sweep[sweep.tokens == tokens].sort_values("params")
        assert part.val_loss.iloc[-1] < part.val_loss.iloc[0]   # the largest model beats the smallest
    # the table's parameter counts follow the one formula
    for row in sweep.itertuples():
        assert row.params == M.transformer_params(103, row.d_model, row.n_layers, context=M.SWEEP["context"])
