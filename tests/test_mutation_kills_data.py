"""Tests that kill mutants of labkit/data.py which tests/test_data.py leaves alive (issue 15).

What a notebook relies on: each dataset's shapes, ranges and dtypes, that generated sets honour
their arguments exactly, that bad arguments are refused, and that files are checked by sha256.
"""
import gzip
import hashlib
import hmac
import io

import numpy as np
import pytest

from labkit import data


# ------------------------------------------------------------------ registry, hashes, status
def test_hash_file_reads_every_chunk_and_takes_any_hash(tmp_path):
    p = tmp_path / "f.bin"
    payload = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB chunk
    p.write_bytes(payload)
    assert data.sha256(p) == hashlib.sha256(payload).hexdigest() == data.hash_file(p)
    mac = hmac.new(b"key", digestmod="sha256")
    assert data.hash_file(p, mac) == hmac.new(b"key", payload, "sha256").hexdigest()
    assert data.hash_file(p, hashlib.md5()) == hashlib.md5(payload).hexdigest()


def test_verify_returns_the_path_of_a_good_file(tmp_path):
    p = tmp_path / "ok.txt"
    p.write_bytes(b"abc")
    assert data.verify(str(p), hashlib.sha256(b"abc").hexdigest()) == p
    with pytest.raises(data.DatasetError, match=r"ok\.txt is corrupted: sha256 [0-9a-f]{16}… but the registry "
                                                r"expects 0000000000000000…"):
        data.verify(p, "0" * 64)


def test_names_by_kind():
    assert data.names("online") == ["fashion_mnist", "mnist"]
    assert data.names("shipped") == ["mnist1d"]
    assert data.names("generated") == ["shapes", "sine_sequences", "spirals"]
    assert {"digits", "pydoc_corpus", "python_source"} <= set(data.names("bundled"))
    assert data.names() == sorted(data.REGISTRY) and data.names("nope") == []


def test_registry_entries_describe_themselves():
    e = data.get("mnist")
    assert e.kind == "online" and e.offline_alternative == "digits" and e.files == {"mnist.npz": data.MNIST_SHA256}
    assert data.get("fashion_mnist").offline_alternative == "shapes"
    assert data.get("spirals").description == "Interleaved 2-D spirals, one arm per class: a classic non-linear decision boundary."
    assert data.get("spirals").loader is data.spirals and data.get("mnist1d").files == {"mnist1d.npz": data.MNIST1D_SHA256}
    rows = data.info()
    assert [r["name"] for r in rows] == data.names()
    assert set(rows[0]) == {"name", "kind", "shape", "source", "license", "description"}
    wine = next(r for r in rows if r["name"] == "wine")
    assert wine["kind"] == "bundled" and wine["shape"].startswith("178 × 13") and wine["license"]


def test_unknown_names_suggest_close_ones_or_none():
    with pytest.raises(ValueError, match=r"Unknown dataset 'spiral'\. Did you mean 'spirals'") as e:
        data.get("spiral")
    assert "Available: breast_cancer, co2" in str(e.value)
    with pytest.raises(ValueError) as e:
        data.get("zzzzzzqqq")
    assert "Did you mean" not in str(e.value) and "Available:" in str(e.value)
    with pytest.raises(TypeError, match="got int; see lk.data.names"):
        data.get(3)


def test_status_of_online_and_broken_shipped_sets(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path))
    st = data.status()
    assert st["mnist"] == st["fashion_mnist"] == "not downloaded (optional)"
    assert st["digits"] == "ok" and st["spirals"] == "ok" and st["mnist1d"] == "ok"
    (tmp_path / "mnist.npz").write_bytes(b"x")
    for f in data.FASHION_FILES:
        if "t10k-images" not in f:
            (tmp_path / f).write_bytes(b"x")
    st = data.status()
    assert st["mnist"] == "cached" and st["fashion_mnist"] == "not downloaded (optional)"
    monkeypatch.setattr(data, "DATASETS_DIR", tmp_path / "nowhere")
    assert data.status()["mnist1d"].startswith("problem: ") and "missing" in data.status()["mnist1d"]


def test_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "c"))
    assert data.cache_dir() == tmp_path / "c"
    monkeypatch.delenv("LABKIT_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.cache_dir() == tmp_path / ".labkit" / "datasets"


# ------------------------------------------------------------------ argument checks
def test_int_and_float_arguments_are_checked_at_the_bounds():
    assert data._check_int("n", 5, 5, 5) == 5 and data._check_int("n", np.int64(3), 1, 4) == 3
    assert type(data._check_int("n", np.int64(3), 1, 4)) is int
    for bad in (True, 2.0, "3", None):
        with pytest.raises(TypeError, match="n must be an int"):
            data._check_int("n", bad, 0, 10)
    for bad in (-1, 11):
        with pytest.raises(ValueError, match="between 0 and 10"):
            data._check_int("n", bad, 0, 10)
    assert data._check_float("x", 0, 0.0, 1.0) == 0.0 and data._check_float("x", 1.0, 0.0, 1.0) == 1.0
    assert type(data._check_float("x", np.float32(0.5), 0.0, 1.0)) is float
    for bad in (False, "0.1", None):
        with pytest.raises(TypeError, match="x must be a number"):
            data._check_float("x", bad, 0.0, 1.0)
    for bad in (-0.01, 1.01, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite number between"):
            data._check_float("x", bad, 0.0, 1.0)


@pytest.mark.parametrize("name, kw", [
    ("spirals", {"n": 2, "classes": 3}), ("spirals", {"classes": 1}), ("spirals", {"classes": 21}),
    ("spirals", {"noise": -0.1}), ("spirals", {"turns": 101.0}), ("spirals", {"n": 1.5}),
    ("sine_sequences", {"n": 0}), ("sine_sequences", {"length": 1}), ("sine_sequences", {"noise": 11}),
    ("shapes", {"n": 0}), ("shapes", {"size": 15}), ("shapes", {"size": 257}), ("shapes", {"noise": 1.5}),
    ("shapes", {"clutter": 51}), ("shapes", {"clutter": -1}),
    ("pydoc_corpus", {"max_chars": 0}), ("python_source", {"max_chars": 0}),
])
def test_generated_sets_refuse_bad_arguments(name, kw):
    with pytest.raises((TypeError, ValueError)):
        data.load(name, **kw)


# ------------------------------------------------------------------ generated sets
@pytest.mark.parametrize("n, classes", [(600, 3), (7, 3), (10, 4), (5, 5), (11, 2)])
def test_spirals_has_exactly_n_rows_and_balanced_arms(n, classes):
    ds = data.spirals(n=n, classes=classes, seed=1)
    assert ds.X.shape == (n, 2) and ds.X.dtype == np.float32 and ds.y.dtype == np.int64
    counts = np.bincount(ds.y, minlength=classes)
    assert counts.sum() == n and counts.max() - counts.min() <= 1 and len(counts) == classes
    assert list(counts) == sorted(counts, reverse=True)  # the first n % classes arms get the extra row
    assert np.all(np.linalg.norm(ds.X, axis=1) <= 1.0 + 1e-6)  # radius runs from 0.05 to 1


def test_spirals_arguments_shape_the_arms():
    base = data.spirals(n=300, classes=3, noise=0.0, seed=0)
    radius = np.linalg.norm(base.X, axis=1)
    assert radius.min() == pytest.approx(0.05, abs=1e-6) and radius.max() == pytest.approx(1.0, abs=1e-6)
    order = np.argsort(radius)  # noise-free arms: angle = r·turns·2π + 2πk/classes
    angle = np.arctan2(base.X[:, 0], base.X[:, 1])
    r, k = radius[order], base.y[order]
    expected = r * 1.5 * 2 * np.pi + 2 * np.pi * k / 3
    assert np.allclose(np.angle(np.exp(1j * (angle[order] - expected))), 0, atol=1e-4)
    assert not np.allclose(data.spirals(n=300, classes=3, noise=0.0, turns=0.5, seed=0).X, base.X)
    noisy = data.spirals(n=300, classes=3, noise=0.5, seed=0)
    assert not np.allclose(noisy.X, base.X)
    assert set(np.unique(base.y)) == {0, 1, 2} and not np.array_equal(base.y, np.sort(base.y))  # shuffled


def test_sine_sequences_target_is_the_next_value():
    ds = data.sine_sequences(n=40, length=12, noise=0.0, seed=3)
    assert ds.X.shape == (40, 12) and ds.y.shape == (40,) and ds.clean.shape == (40, 13) and ds.freq.shape == (40,)
    assert ds.X.dtype == ds.y.dtype == ds.freq.dtype == ds.clean.dtype == np.float32
    np.testing.assert_allclose(ds.X, ds.clean[:, :12], atol=1e-6)
    np.testing.assert_allclose(ds.y, ds.clean[:, 12], atol=1e-6)
    assert ds.freq.min() >= 0.02 and ds.freq.max() <= 0.12
    # a pure sine of that frequency: x[t+1] = 2 cos(2πf) x[t] − x[t−1]
    c = np.cos(2 * np.pi * ds.freq)[:, None]
    np.testing.assert_allclose(ds.clean[:, 2:], 2 * c * ds.clean[:, 1:-1] - ds.clean[:, :-2], atol=1e-4)
    noisy = data.sine_sequences(n=2000, length=5, noise=0.3, seed=3)
    assert np.std(noisy.X - noisy.clean[:, :5]) == pytest.approx(0.3, rel=0.05)
    assert data.sine_sequences(n=1, length=2).X.shape == (1, 2)


def test_shapes_arguments_are_honoured():
    ds = data.shapes(n=24, size=20, noise=0.0, clutter=0, seed=2)
    assert ds.X.shape == (24, 20, 20, 1) and ds.X.dtype == np.float32 and ds.masks.dtype == bool
    assert ds.y.dtype == np.int64 and ds.target_names == ["circle", "square", "triangle"]
    for img, m in zip(ds.X[..., 0], ds.masks):
        assert m.any() and np.all(img[~m] == 0.0)  # no noise, no clutter: only the object is lit
        assert 0.7 <= img[m].min() and img[m].max() <= 1.0
    cluttered = data.shapes(n=24, size=20, noise=0.0, clutter=5, seed=2)
    assert any(np.any(img[~m] != 0) for img, m in zip(cluttered.X[..., 0], cluttered.masks))
    noisy = data.shapes(n=4, size=64, noise=0.3, clutter=0, seed=2)
    assert np.std(noisy.X[..., 0][~noisy.masks]) == pytest.approx(0.3, rel=0.05)


def test_shapes_masks_have_the_shape_of_their_class():
    ds = data.shapes(n=60, size=64, noise=0.0, clutter=0, seed=5)
    fill = {}
    for cls in range(3):
        ratios = []
        for m in ds.masks[ds.y == cls]:
            rows, cols = np.nonzero(m)
            box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
            ratios.append(m.sum() / box)
        fill[cls] = np.mean(ratios)
    # share of the bounding box covered: square ≈ 1, circle ≈ π/4, triangle ≈ 1/2
    assert fill[1] > 0.9 and 0.7 < fill[0] < 0.85 and 0.4 < fill[2] < 0.6
    for m in ds.masks[ds.y == 2]:  # upward triangle: the bottom row is wider than the top row
        rows = np.nonzero(m.any(1))[0]
        assert m[rows[-1]].sum() > m[rows[0]].sum()
    sizes = ds.masks.reshape(60, -1).sum(1)
    assert sizes.min() > 0.02 * 64 * 64 and sizes.max() < 0.25 * 64 * 64


# ------------------------------------------------------------------ bundled and shipped sets
def test_digits_are_scaled_images_with_labels():
    ds = data.load("digits")
    assert ds.X.shape == (1797, 64) and ds.images.shape == (1797, 8, 8) and ds.X.dtype == np.float32
    assert ds.X.min() == 0.0 and ds.X.max() == 1.0
    np.testing.assert_array_equal(ds.X[5], ds.images[5].ravel())
    assert ds.y.dtype == np.int64 and set(ds.y) == set(range(10)) and ds.target_names == [str(i) for i in range(10)]


@pytest.mark.parametrize("name, shape, classes", [("breast_cancer", (569, 30), 2), ("wine", (178, 13), 3)])
def test_tabular_sets(name, shape, classes):
    ds = data.load(name)
    assert ds.X.shape == shape and ds.X.dtype == np.float32 and ds.y.dtype == np.int64
    assert len(ds.feature_names) == shape[1] and len(ds.target_names) == classes == len(set(ds.y))
    assert ds.description == data.get(name).description


def test_lfw_faces_first():
    ds = data.load("lfw_subset")
    assert ds.X.shape == (200, 25, 25) and ds.X.dtype == np.float32 and ds.y.dtype == np.int64
    assert ds.y[:100].tolist() == [1] * 100 and ds.y[100:].tolist() == [0] * 100
    assert ds.target_names == ["non-face", "face"]


def test_sample_images_and_time_series():
    im = data.load("sample_images")
    assert im.X.shape == (2, 427, 640, 3) and im.X.dtype == np.uint8 and im.names == ["china", "flower"]
    assert len(im.images) == 2
    sun = data.load("sunspots")
    assert sun.X.shape == (309,) and sun.X.dtype == np.float32 and sun.years[0] == 1700 and sun.years[-1] == 2008
    co2 = data.load("co2")
    assert co2.X.shape == (2284,) and co2.X.dtype == np.float32 and not np.isnan(co2.X).any()
    assert len(co2.dates) == 2284 and 300 < co2.X.min() < co2.X.max() < 400


def test_mnist1d_arrays():
    ds = data.load("mnist1d")
    assert ds.X.shape == (4000, 40) and ds.X_test.shape == (1000, 40) and ds.y.shape == (4000,)
    assert ds.y_test.shape == (1000,) and ds.t.shape == (40,) and set(ds.y) == set(range(10))


def test_pydoc_corpus_prefix_and_vocab():
    full = data.load("pydoc_corpus")
    assert full.X is full.text and len(full.text) > 100_000 and full.vocab == sorted(set(full.text))
    from pydoc_data.topics import topics
    assert full.text.startswith(topics[sorted(topics)[0]].strip()[:50])
    short = data.load("pydoc_corpus", max_chars=1000)
    assert short.text == full.text[:1000] and short.vocab == sorted(set(short.text))
    assert data.load("pydoc_corpus", max_chars=len(full.text)).text == full.text
    with pytest.raises(ValueError):
        data.load("pydoc_corpus", max_chars=len(full.text) + 1)


def test_python_source_is_code_without_docstrings():
    ds = data.load("python_source", max_chars=20_000)
    assert len(ds.text) == 20_000 and ds.X is ds.text and ds.vocab == sorted(set(ds.text))
    first = next(m for m in data.PYTHON_SOURCE_MODULES if m in ds.modules)  # (frozen modules are skipped)
    assert ds.text.startswith(f"# module {first}\n") and ds.modules[0] == first
    assert ds.sha256 == hashlib.sha256(ds.text.encode("utf-8")).hexdigest()
    assert ds.python.count(".") == 2
    assert '"""' not in ds.text and "Command-line parsing library" not in ds.text  # argparse's docstring is gone
    assert 1 <= len(ds.modules) < len(data.PYTHON_SOURCE_MODULES)  # stops once it has enough text
    longer = data.load("python_source", max_chars=60_000)
    assert longer.text[:20_000] == ds.text and len(longer.modules) >= len(ds.modules)


def test_strip_docstrings_keeps_bodies_valid():
    import ast
    src = ('"""mod doc"""\nclass A:\n    """cls doc"""\n    def f(self):\n        """only a docstring"""\n'
           'async def g():\n    """g doc"""\n    return 1\ndef h():\n    x = "not a docstring"\n    return x\n'
           'def k():\n    42\n    return 0\n')
    out = ast.unparse(data._strip_docstrings(ast.parse(src)))
    assert "mod doc" not in out and "cls doc" not in out and "g doc" not in out and "only a" not in out
    assert "not a docstring" in out and "42" in out
    ns = {}
    exec(out, ns)
    assert ns["A"]().f() is None and ns["h"]() == "not a docstring"


# ------------------------------------------------------------------ optional online sets (no network)
class _Response(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


@pytest.fixture
def fake_net(monkeypatch, tmp_path):
    """A reachable host whose files are served from a dict (url → bytes)."""
    served, urls = {}, []
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(data.socket, "getaddrinfo", lambda host, port: [("ok",)])

    class Conn:
        def close(self):
            pass
    monkeypatch.setattr(data.socket, "create_connection", lambda addr, timeout: Conn())

    def urlopen(url, timeout):
        urls.append(url)
        return _Response(served[url])
    monkeypatch.setattr(data.urllib.request, "urlopen", urlopen)
    return served, urls


def test_a_download_is_verified_cached_and_reused(fake_net, monkeypatch):
    served, urls = fake_net
    payload = b"x" * (3 << 20)  # several 1 MiB chunks
    sha = hashlib.sha256(payload).hexdigest()
    url = "https://example.org/files/set.bin"
    served[url] = payload
    dest = data._online("demo", url, "set.bin", sha, "digits")
    assert dest == data.cache_dir() / "set.bin" and dest.read_bytes() == payload
    assert not dest.with_suffix(".part").exists() and urls == [url]
    monkeypatch.setattr(data.urllib.request, "urlopen", lambda *a, **k: pytest.fail("downloaded again"))
    assert data._online("demo", url, "set.bin", sha, "digits") == dest  # the cache is used, not the network


def test_a_bad_download_is_deleted(fake_net):
    served, _ = fake_net
    url = "https://example.org/files/bad.bin"
    served[url] = b"tampered"
    with pytest.raises(data.DatasetError, match=r"did not match its sha256; it was deleted.*lk\.data\.load\('shapes'\)"):
        data._online("demo", url, "bad.bin", "0" * 64, "shapes")
    assert not list(data.cache_dir().iterdir())


def test_offline_error_names_the_host_and_the_file_to_fetch(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_DATA", str(tmp_path))
    monkeypatch.setattr(data.socket, "getaddrinfo", lambda *a: [("ok",)])

    def refuse(addr, timeout):
        assert addr == ("storage.googleapis.com", 443) and timeout < 1
        raise OSError("connection refused")
    monkeypatch.setattr(data.socket, "create_connection", refuse)
    with pytest.raises(data.DatasetError) as e:
        data.load("mnist")
    msg = str(e.value)
    assert "storage.googleapis.com cannot be reached" in msg and str(tmp_path / "mnist.npz") in msg
    assert data.MNIST_SHA256[:16] in msg


def test_mnist_and_fashion_mnist_are_read_from_a_download(fake_net, monkeypatch):
    served, urls = fake_net
    x = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    buf = io.BytesIO()
    np.savez(buf, x_train=x, y_train=np.array([3, 4], np.uint8), x_test=x[:1], y_test=np.array([5], np.uint8))
    served[data._KERAS_DS + "mnist.npz"] = buf.getvalue()
    monkeypatch.setattr(data, "MNIST_SHA256", hashlib.sha256(buf.getvalue()).hexdigest())
    ds = data.load("mnist")
    assert ds.X.shape == (2, 28, 28) and ds.y.tolist() == [3, 4] and ds.X_test.shape == (1, 28, 28)
    assert ds.y_test.tolist() == [5]

    files = {}
    for fname in data.FASHION_FILES:
        n = 3 if fname.startswith("train") else 2
        if "labels" in fname:
            raw = b"\0" * 8 + bytes(range(n))
        else:
            raw = b"\0" * 16 + (np.arange(n * 28 * 28) % 251).astype(np.uint8).tobytes()
        files[fname] = gzip.compress(raw)
        served[data._KERAS_DS + "fashion-mnist/" + fname] = files[fname]
    monkeypatch.setattr(data, "FASHION_FILES", {f: hashlib.sha256(b).hexdigest() for f, b in files.items()})
    fm = data.load("fashion_mnist")
    assert fm.X.shape == (3, 28, 28) and fm.X_test.shape == (2, 28, 28)
    assert fm.y.tolist() == [0, 1, 2] and fm.y_test.tolist() == [0, 1] and fm.y.dtype == np.int64
    assert fm.X[0, 0, :3].tolist() == [0, 1, 2]  # the 16-byte image header is skipped
    assert (data.cache_dir() / "fashion-train-images-idx3-ubyte.gz").exists()


# ------------------------------------------------------------------ split
def test_split_stratifies_only_when_asked():
    y = np.array([0] * 90 + [1] * 10)
    X = np.arange(100)[:, None]
    for seed in range(5):
        _, _, _, yte = data.split(X, y, test_size=0.2, seed=seed)
        assert (yte == 1).sum() == 2
    counts = {int((data.split(X, y, test_size=0.2, seed=s, stratify=False)[3] == 1).sum()) for s in range(20)}
    assert counts != {2}


def test_split_follows_seed_and_test_size():
    X, y = np.arange(40)[:, None], np.arange(40) % 2
    a = data.split(X, y, test_size=0.25, seed=1)
    b = data.split(X, y, test_size=0.25, seed=1)
    c = data.split(X, y, test_size=0.25, seed=2)
    assert all(np.array_equal(u, v) for u, v in zip(a, b)) and not np.array_equal(a[1], c[1])
    assert len(a[1]) == 10 and len(a[0]) == 30
    assert len(data.split(list(range(10)), [0, 1] * 5, test_size=0.4)[1]) == 4  # lists are fine
    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(ValueError, match="test_size"):
            data.split(X, y, test_size=bad)


def test_suggestions_are_the_three_closest_names_and_loose_enough():
    with pytest.raises(ValueError) as e:
        data.get("minst")  # a typo: five names are close; the learner sees the best three
    assert "Did you mean 'mnist', 'mnist1d', 'sunspots'? Available:" in str(e.value)
    with pytest.raises(ValueError) as e:
        data.get("ss")  # a loose match still helps
    assert "Did you mean 'shapes', 'spirals', 'sunspots'? " in str(e.value)
    with pytest.raises(ValueError) as e:
        data.get("zzzzzzqqq")
    assert str(e.value).startswith("Unknown dataset 'zzzzzzqqq'. Available: breast_cancer, co2, ")


def test_the_download_contacts_the_right_host_and_port_with_short_timeouts(fake_net, monkeypatch):
    served, _ = fake_net
    seen = []
    monkeypatch.setattr(data.socket, "getaddrinfo", lambda host, port: seen.append(("dns", host, port)) or [1])

    class Conn:
        def close(self):
            seen.append(("closed",))
    monkeypatch.setattr(data.socket, "create_connection",
                        lambda addr, timeout: seen.append(("tcp", addr, timeout)) or Conn())
    real = data.urllib.request.urlopen
    monkeypatch.setattr(data.urllib.request, "urlopen",
                        lambda url, timeout: seen.append(("get", url, timeout)) or real(url, timeout=timeout))
    url = "https://files.example.org/a/b.bin"
    served[url] = b"data"
    data._online("demo", url, "nested/b.bin", hashlib.sha256(b"data").hexdigest(), "digits")
    assert seen == [("dns", "files.example.org", 443), ("tcp", ("files.example.org", 443), 0.8), ("closed",),
                    ("get", url, 5.0)]
    assert (data.cache_dir() / "nested" / "b.bin").read_bytes() == b"data"


def test_split_defaults_are_a_quarter_and_seed_0():
    X, y = np.arange(40)[:, None], np.arange(40) % 2
    a, b = data.split(X, y), data.split(X, y, test_size=0.25, seed=0)
    assert len(a[1]) == 10 and all(np.array_equal(u, v) for u, v in zip(a, b))
