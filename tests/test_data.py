import time

import numpy as np
import pytest

import labkit as lk
from labkit import data


@pytest.mark.parametrize("name", data.names("bundled") + data.names("shipped") + data.names("generated"))
def test_offline_sets_load(name):
    ds = data.load(name)
    assert ds.X is not None and len(ds.X) > 0
    if "y" in ds:
        assert len(ds.y) == len(ds.X)
    entry = data.get(name)
    assert entry.source and entry.license and entry.shape and entry.description


def test_shapes_masks_match_objects():
    ds = data.load("shapes", n=30, seed=3)
    assert ds.X.shape == (30, 32, 32, 1) and ds.masks.shape == (30, 32, 32)
    inside = np.mean([ds.X[i, ..., 0][ds.masks[i]].mean() for i in range(30)])
    outside = np.mean([ds.X[i, ..., 0][~ds.masks[i]].mean() for i in range(30)])
    assert inside > outside + 0.5
    assert set(np.unique(ds.y)) <= {0, 1, 2}


def test_generated_sets_are_deterministic():
    a, b = data.load("spirals", seed=1), data.load("spirals", seed=1)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, data.load("spirals", seed=2).X)


def test_shipped_file_hash_is_verified(tmp_path, monkeypatch):
    bad = tmp_path / "mnist1d.npz"
    bad.write_bytes(b"corrupted")
    monkeypatch.setattr(data, "DATASETS_DIR", tmp_path)
    with pytest.raises(data.DatasetError, match="corrupted.*git checkout"):
        data.load("mnist1d")
    bad.unlink()
    with pytest.raises(data.DatasetError, match="missing"):
        data.load("mnist1d")


def test_online_sets_fail_fast_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path))

    def no_network(*a, **k):
        raise OSError("Name or service not known")
    monkeypatch.setattr(data.socket, "getaddrinfo", no_network)
    for name, alt in [("mnist", "digits"), ("fashion_mnist", "shapes")]:
        t0 = time.perf_counter()
        with pytest.raises(data.DatasetError, match=f"lk.data.load\\('{alt}'\\)"):
            data.load(name)
        assert time.perf_counter() - t0 < 1.0


def test_online_cache_is_checked(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path))
    (tmp_path / "mnist.npz").write_bytes(b"not mnist")
    with pytest.raises(data.DatasetError, match="corrupted"):
        data.load("mnist")


def test_unknown_name():
    with pytest.raises(ValueError, match="Did you mean 'digits'"):
        data.load("digit")
    with pytest.raises(TypeError):
        data.get(5)


def test_info_and_status():
    rows = data.info()
    assert {r["name"] for r in rows} >= {"digits", "mnist1d", "shapes", "pydoc_corpus"}
    st = data.status()
    assert st["mnist1d"] == "ok"


def test_split_is_stratified():
    ds = data.load("wine")
    Xtr, Xte, ytr, yte = data.split(ds.X, ds.y, test_size=0.3, seed=0)
    assert len(Xte) == pytest.approx(0.3 * len(ds.X), abs=1)
    assert np.allclose(np.bincount(yte) / len(yte), np.bincount(ds.y) / len(ds.y), atol=0.05)
    with pytest.raises(ValueError, match="same length"):
        data.split(ds.X, ds.y[:-1])
