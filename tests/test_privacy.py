"""labkit.privacy: clipping, ε accounting, client splits, FedAvg, FGSM, membership scores, file signing."""
import secrets
import tempfile
from pathlib import Path

import numpy as np
import pytest

from labkit import privacy


def test_clip_per_example_uses_one_norm_per_example_across_tensors():
    g = [np.array([[3.0, 0.0], [0.3, 0.0]]), np.array([[4.0], [0.4]])]      # norms 5 and 0.5
    out = privacy.clip_per_example(g, 1.0)
    np.testing.assert_allclose(out[0], [[0.6, 0.0], [0.3, 0.0]])
    np.testing.assert_allclose(out[1], [[0.8], [0.4]])


def test_clip_per_example_bad_input():
    with pytest.raises(ValueError, match="l2_norm_clip"):
        privacy.clip_per_example([np.ones((2, 2))], 0.0)
    with pytest.raises(ValueError, match="batch"):
        privacy.clip_per_example([np.ones((2, 2)), np.ones((3,))], 1.0)
    with pytest.raises(ValueError, match="empty"):
        privacy.clip_per_example([], 1.0)


def test_dp_epsilon_decreases_with_noise_and_pld_is_tighter():
    e1 = privacy.dp_epsilon(1.0, 0.1, 100, 1e-5)
    e2 = privacy.dp_epsilon(2.0, 0.1, 100, 1e-5)
    assert e2 < e1
    assert privacy.dp_epsilon(1.0, 0.1, 100, 1e-5, accountant="pld") <= e1 + 1e-6
    with pytest.raises(ValueError, match="noise_multiplier"):
        privacy.dp_epsilon(0.0, 0.1, 100)
    with pytest.raises(ValueError, match="sample_rate"):
        privacy.dp_epsilon(1.0, 1.5, 100)
    with pytest.raises(ValueError, match="steps"):
        privacy.dp_epsilon(1.0, 0.1, 0)
    with pytest.raises(ValueError, match="accountant"):
        privacy.dp_epsilon(1.0, 0.1, 10, accountant="moments")


def test_split_clients():
    y = np.repeat(np.arange(10), 20)
    iid = privacy.split_clients(y, 5, iid=True)
    assert len(iid) == 5 and all(len(c) == 40 for c in iid)
    assert len(np.unique(np.concatenate(iid))) == 200
    non = privacy.split_clients(y, 5, iid=False, shards_per_client=2)
    assert all(len(np.unique(y[c])) <= 2 for c in non)
    assert max(len(np.unique(y[c])) for c in iid) > 5
    with pytest.raises(ValueError):
        privacy.split_clients(y, 0)
    with pytest.raises(ValueError, match="shards"):
        privacy.split_clients(y[:5], 5, iid=False)


def test_fedavg():
    a = [np.array([1.0, 1.0]), np.array(2.0)]
    b = [np.array([3.0, 5.0]), np.array(4.0)]
    out = privacy.fedavg([a, b], [1, 3])
    np.testing.assert_allclose(out[0], [2.5, 4.0])
    np.testing.assert_allclose(out[1], 3.5)
    with pytest.raises(ValueError):
        privacy.fedavg([a, b], [1])
    with pytest.raises(ValueError):
        privacy.fedavg([a, b[:1]], [1, 1])
    with pytest.raises(ValueError):
        privacy.fedavg([a, b], [0, 0])


def test_fgsm():
    x = np.array([[0.0, 0.5, 1.0]])
    out = privacy.fgsm(lambda x, y: np.array([[1.0, -2.0, 3.0]]), x, None, 0.1)
    np.testing.assert_allclose(out, [[0.1, 0.4, 1.0]])
    with pytest.raises(ValueError):
        privacy.fgsm(lambda x, y: x, x, None, -0.1)
    with pytest.raises(ValueError, match="shape"):
        privacy.fgsm(lambda x, y: x[0], x, None, 0.1)


def test_membership_scores():
    from sklearn.metrics import roc_auc_score
    rng = np.random.default_rng(0)
    m, n = rng.normal(1, 1, 200), rng.normal(0, 1, 300)
    auc = privacy.membership_auc(m, n)
    assert auc == pytest.approx(roc_auc_score(np.r_[np.ones(200), np.zeros(300)], np.r_[m, n]))
    assert privacy.membership_auc(np.ones(3), np.ones(4)) == 0.5
    assert 0 <= privacy.tpr_at_fpr(m, n, 0.05) <= 1
    with pytest.raises(ValueError):
        privacy.membership_auc([], n)
    with pytest.raises(ValueError):
        privacy.tpr_at_fpr(m, n, 0.0)


def test_sign_verify_and_reject_tampered_file():
    key = secrets.token_bytes(32)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "model.bin"
        p.write_bytes(b"weights" * 100)
        sig = privacy.sign_file(p, key)
        assert privacy.verify_file(p, key, sig)
        assert privacy.load_verified(p, key, sig, lambda path: Path(path).read_bytes())[:7] == b"weights"
        assert len(privacy.file_digest(p)) == 64
        data = bytearray(p.read_bytes())
        data[10] ^= 1
        p.write_bytes(bytes(data))
        assert not privacy.verify_file(p, key, sig)
        with pytest.raises(ValueError, match="Refusing to load"):
            privacy.load_verified(p, key, sig, lambda path: 1 / 0)
        assert not privacy.verify_file(p, secrets.token_bytes(32), privacy.sign_file(p, key))
    with pytest.raises(TypeError, match="key"):
        privacy.sign_file(__file__, b"short")
    with pytest.raises(TypeError, match="signature"):
        privacy.verify_file(__file__, key, b"abc")
