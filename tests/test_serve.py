"""labkit.serve: verified loading, percentiles, the micro-batcher, the local server and its bounded client."""
import http.client
import json
import socket
import threading
import time

import numpy as np
import pytest

from labkit import serve


def _double(X):
    return np.asarray(X) * 2.0


# ------------------------------------------------------------------ artifacts and percentiles
def test_file_sha256_and_load_verified(tmp_path):
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "m.keras"
    model.save(path)
    digest = serve.file_sha256(path)
    assert len(digest) == 64
    loaded = serve.load_verified(path, digest)
    np.testing.assert_allclose(loaded(np.ones((1, 3))), model(np.ones((1, 3))))
    with pytest.raises(ValueError, match="was expected"):
        serve.load_verified(path, "0" * 64)
    with pytest.raises(TypeError, match="64-character"):
        serve.load_verified(path, "abc")
    with pytest.raises(ValueError, match="not a file"):
        serve.file_sha256(tmp_path / "missing.keras")


def test_percentiles_match_numpy_and_reject_bad_input():
    lat = np.random.default_rng(0).lognormal(size=99)
    p = serve.percentiles(lat)
    assert list(p) == ["p50", "p95", "p99"]
    assert p["p99"] == pytest.approx(np.percentile(lat, 99))
    for bad in ([], [[1.0, 2.0]], [1.0, float("nan")]):
        with pytest.raises(ValueError):
            serve.percentiles(bad)


# ------------------------------------------------------------------ micro-batcher
def test_microbatcher_groups_concurrent_requests():
    b = serve.MicroBatcher(_double, max_batch=8, max_wait_ms=50)
    try:
        futs = [b.submit(np.full(2, i, np.float32)) for i in range(8)]
        outs = [f.result(timeout=5) for f in futs]
    finally:
        b.close()
    assert [o.tolist() for o in outs] == [[2.0 * i] * 2 for i in range(8)]
    assert b.batch_sizes[0] > 1 and sum(b.batch_sizes) == 8 and max(b.batch_sizes) <= 8


def test_microbatcher_without_batching_and_errors():
    b = serve.MicroBatcher(_double, max_batch=1, max_wait_ms=0)
    try:
        assert [b.submit(np.ones(1)).result(timeout=5).item() for _ in range(3)] == [2.0] * 3
    finally:
        b.close()
    assert b.batch_sizes == [1, 1, 1]
    with pytest.raises(RuntimeError, match="closed"):
        b.submit(np.ones(1))

    def broken(X):
        raise ArithmeticError("model exploded")
    b = serve.MicroBatcher(broken, max_batch=4, max_wait_ms=1)
    try:
        with pytest.raises(ArithmeticError, match="exploded"):
            b.submit(np.ones(1)).result(timeout=5)
    finally:
        b.close()


@pytest.mark.parametrize("kw, exc", [({"predict": 3}, TypeError), ({"max_batch": 0}, ValueError),
                                     ({"max_wait_ms": -1}, ValueError), ({"max_batch": True}, ValueError)])
def test_microbatcher_bad_arguments(kw, exc):
    args = {"predict": _double, **kw}
    with pytest.raises(exc):
        serve.MicroBatcher(**args)


# ------------------------------------------------------------------ server and client
def test_server_round_trip_and_shutdown():
    X = np.arange(40, dtype=np.float32).reshape(10, 4)
    with serve.ModelServer(_double, input_shape=(4,), max_batch=8, max_wait_ms=2, version="t1") as srv:
        url = srv.url
        assert url.startswith("http://127.0.0.1:")
        res = serve.load_test(url, X, concurrency=4, n_requests=30, time_limit_s=10)
        port = srv.httpd.server_address[1]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/health")
        assert json.loads(conn.getresponse().read()) == {"status": "ok", "version": "t1"}
        conn.request("POST", "/predict", body=json.dumps({"inputs": [1, 2]}))
        r = conn.getresponse()
        assert r.status == 400 and "shape" in json.loads(r.read())["error"]
        conn.request("POST", "/nope", body=b"{}")
        r = conn.getresponse()
        assert r.status == 404 and r.read()
        conn.close()
    assert res["completed"] == 30 and res["errors"] == 0 and res["throughput"] > 0
    for i, out in res["outputs"].items():
        assert out == (2 * X[i % len(X)]).tolist()
    assert srv.httpd is None
    with pytest.raises(OSError):                       # the port is closed after the with-block
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_server_shuts_down_on_failure():
    with pytest.raises(KeyError):
        with serve.ModelServer(_double, input_shape=(2,)) as srv:
            port = srv.httpd.server_address[1]
            raise KeyError("the test failed half-way")
    assert srv.httpd is None and srv.batcher._closed.is_set()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    assert not any(t.name == "modelserver" and t.is_alive() for t in threading.enumerate())


def test_load_test_is_bounded_and_checks_arguments():
    def slow(X):
        time.sleep(0.05)
        return X
    with serve.ModelServer(slow, input_shape=(1,), max_batch=1) as srv:
        t0 = time.perf_counter()
        res = serve.load_test(srv.url, np.ones((5, 1)), concurrency=1, n_requests=1000, time_limit_s=0.3)
        assert time.perf_counter() - t0 < 3 and res["completed"] < 1000
        with pytest.raises(ValueError, match="local server"):
            serve.load_test("http://example.com:80", np.ones((1, 1)))
        with pytest.raises(ValueError, match="concurrency"):
            serve.load_test(srv.url, np.ones((1, 1)), concurrency=0)
        with pytest.raises(ValueError, match="n_requests"):
            serve.load_test(srv.url, np.ones((1, 1)), n_requests=0)
        with pytest.raises(ValueError, match="time_limit_s"):
            serve.load_test(srv.url, np.ones((1, 1)), time_limit_s=0)
    with pytest.raises(RuntimeError, match="not running"):
        srv.url
