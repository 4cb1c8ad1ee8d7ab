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


# ------------------------------------------------------------------ hostile clients
def _raw(port, data, timeout=5):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    return s


def _read_all(s):
    chunks = []
    try:
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    except socket.timeout:
        pass
    return b"".join(chunks)


def test_stalled_clients_time_out_and_connections_are_capped():
    with serve.ModelServer(_double, input_shape=(2,), read_timeout=0.5, max_connections=2) as srv:
        port = srv.httpd.server_address[1]
        # two clients that never finish their headers hold both slots…
        stalled = [_raw(port, b"POST /predict HTTP/1.1\r\nContent-Len") for _ in range(2)]
        time.sleep(0.2)
        # …so a third is refused at once with 503 and closed, not queued forever
        third = _raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = _read_all(third)
        assert reply.startswith(b"HTTP/1.1 503") and b"too many connections" in reply
        # the read timeout frees the slots: the stalled connections are closed by the server
        for s in stalled:
            s.settimeout(5)
            assert _read_all(s) in (b"",) or b"408" in _read_all(s)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/health")
        assert conn.getresponse().status == 200
        conn.close()
        # a body that never arrives: the thread is freed after the read timeout, too
        s = _raw(port, b"POST /predict HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"in")
        t0 = time.perf_counter()
        assert _read_all(s) == b"" and time.perf_counter() - t0 < 4
    with pytest.raises(ValueError, match="read_timeout"):
        serve.ModelServer(_double, input_shape=(2,), read_timeout=0)
    with pytest.raises(ValueError, match="max_connections"):
        serve.ModelServer(_double, input_shape=(2,), max_connections=0)
    with pytest.raises(ValueError, match="input_shape"):
        serve.ModelServer(_double, input_shape=())


def test_model_returning_fewer_rows_fails_the_batch_at_once():
    def short(X):
        return np.asarray(X)[:1] * 2  # drops every row but the first
    b = serve.MicroBatcher(short, max_batch=4, max_wait_ms=200)
    try:
        futs = [b.submit(np.ones(2)) for _ in range(3)]
        t0 = time.perf_counter()
        for f in futs:
            with pytest.raises(ValueError, match="returned 1 row"):
                f.result(timeout=5)
        assert time.perf_counter() - t0 < 2  # not a request_timeout later
    finally:
        b.close()
    with serve.ModelServer(lambda X: np.float32(1.0), input_shape=(2,), request_timeout=30) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.httpd.server_address[1], timeout=10)
        t0 = time.perf_counter()
        conn.request("POST", "/predict", body=json.dumps({"inputs": [1, 2]}))
        r = conn.getresponse()
        assert r.status == 503 and "one output row per input" in json.loads(r.read())["error"]
        assert time.perf_counter() - t0 < 5
        conn.close()


def test_deeply_nested_json_is_a_400():
    with serve.ModelServer(_double, input_shape=(2,)) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.httpd.server_address[1], timeout=10)
        deep = b'{"inputs": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        conn.request("POST", "/predict", body=deep)
        r = conn.getresponse()
        assert r.status == 400 and "nested" in json.loads(r.read())["error"]
        for body in (b"[1, 2]", b"null", b'{"inputs": "ab"}', b'{"inputs": [1e999, 1]}', b"\xff\xfe"):
            conn.request("POST", "/predict", body=body)
            r = conn.getresponse()
            assert r.status in (400,), body
            r.read()
        conn.request("GET", "/health")  # the connection still works after each 400
        assert conn.getresponse().status == 200
        conn.close()


def test_over_limit_body_closes_the_connection():
    with serve.ModelServer(_double, input_shape=(2,)) as srv:
        port = srv.httpd.server_address[1]
        limit = srv.httpd.max_body
        smuggled = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        s = _raw(port, b"POST /predict HTTP/1.1\r\nContent-Length: " + str(limit + 1).encode() + b"\r\n\r\n" + smuggled)
        reply = _read_all(s)
        assert reply.startswith(b"HTTP/1.1 413") and b"Connection: close" in reply
        assert reply.count(b"HTTP/1.1") == 1  # the body was not read as a second request
        s = _raw(port, b"POST /predict HTTP/1.1\r\nContent-Length: -5\r\n\r\n")
        assert _read_all(s).startswith(b"HTTP/1.1 413")
        s = _raw(port, b"POST /predict HTTP/1.1\r\n\r\n" + smuggled)
        reply = _read_all(s)
        assert reply.startswith(b"HTTP/1.1 411") and reply.count(b"HTTP/1.1") == 1
