"""Serving helpers: verified loading, a dynamic-batching HTTP server, a bounded load generator (notebook 14).

Standard library only (``http.server``, ``threading``, ``queue``), so that every moving part can be read:

* :func:`file_sha256` / :func:`load_verified` — refuse a model file whose sha256 is not the expected one,
  then load it with ``safe_mode=True`` (no arbitrary Python code from a ``.keras`` file);
* :class:`MicroBatcher` — requests queue up; a worker takes the first, waits at most ``max_wait_ms``
  for more (or until ``max_batch``), runs them as one batch and answers each request's future;
* :class:`ModelServer` — ``POST /predict`` on ``127.0.0.1`` at an ephemeral port, answered through a
  :class:`MicroBatcher`; a context manager that always shuts the server down. It holds up against
  bad clients: a read timeout frees the thread of a client that stops sending, at most
  ``max_connections`` are served at once (the next gets 503 and is closed), deeply nested JSON is
  a 400, an over-limit body closes the connection (its bytes are never read as a new request), and
  a model that returns the wrong number of rows fails that batch's requests at once;
* :func:`load_test` — a client with a bounded number of requests, a time limit and per-request timeouts;
* :func:`percentiles` — p50/p95/p99 of a list of latencies.
"""
from __future__ import annotations

import concurrent.futures
import http.client
import json
import os
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Sequence

import numpy as np

from .data import hash_file

__all__ = ["file_sha256", "load_verified", "percentiles", "MicroBatcher", "ModelServer", "load_test"]


# ------------------------------------------------------------------ artifacts
def file_sha256(path: str | os.PathLike) -> str:
    """The sha256 hex digest of a file, read in 1 MiB chunks."""
    if not os.path.isfile(path):
        raise ValueError(f"{path} is not a file; pass the path of a saved model such as model.keras.")
    return hash_file(path)


def load_verified(path: str | os.PathLike, expected_sha256: str, *, safe_mode: bool = True):
    """Load a ``.keras`` model only if its sha256 equals ``expected_sha256`` (``safe_mode`` on by default)."""
    import keras
    if not isinstance(expected_sha256, str) or len(expected_sha256) != 64:
        raise TypeError("expected_sha256 must be a 64-character hex digest, e.g. from file_sha256(path) "
                        "recorded when the model was released.")
    got = file_sha256(path)
    if got != expected_sha256.lower():
        raise ValueError(f"{os.path.basename(path)} has sha256 {got[:12]}… but {expected_sha256[:12]}… was expected: "
                         "the file was changed or corrupted. Do not load it; fetch the released artifact again.")
    return keras.saving.load_model(path, safe_mode=safe_mode)


def percentiles(latencies: Sequence[float], qs: Sequence[float] = (50, 95, 99)) -> dict[str, float]:
    """``{"p50": …, "p95": …, "p99": …}`` of ``latencies`` (linear interpolation, like ``np.percentile``)."""
    a = np.asarray(latencies, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"latencies must be a non-empty 1-D sequence, got shape {a.shape}.")
    if not np.isfinite(a).all():
        raise ValueError("latencies contain NaN/inf; drop failed requests before computing percentiles.")
    return {f"p{q:g}": float(np.percentile(a, q)) for q in qs}


# ------------------------------------------------------------------ dynamic batching
class MicroBatcher:
    """Group single requests into batches for ``predict`` (a function of a stacked batch → outputs).

    The worker thread takes the first waiting request, then collects more until ``max_batch``
    requests are in hand or ``max_wait_ms`` has passed since it took the first, runs ``predict``
    once, and resolves each request's ``Future``. ``max_batch=1`` turns batching off.
    ``batch_sizes`` records every batch run.
    """

    def __init__(self, predict: Callable[[np.ndarray], Any], max_batch: int = 32, max_wait_ms: float = 2.0):
        if not callable(predict):
            raise TypeError("predict must be a function taking a batch array, e.g. lambda X: model(X).numpy().")
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"max_batch must be a positive int, got {max_batch!r}.")
        if not 0 <= max_wait_ms <= 10_000:
            raise ValueError(f"max_wait_ms must be between 0 and 10000, got {max_wait_ms!r}.")
        self.predict, self.max_batch, self.max_wait = predict, max_batch, max_wait_ms / 1e3
        self.batch_sizes: list[int] = []
        self._q: queue.Queue = queue.Queue()
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="microbatcher", daemon=True)
        self._thread.start()

    def submit(self, x: Any) -> concurrent.futures.Future:
        """Queue one example; the returned future holds its output."""
        if self._closed.is_set():
            raise RuntimeError("this MicroBatcher is closed; create a new one.")
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._q.put((np.asarray(x, dtype=np.float32), fut))
        return fut

    def _loop(self) -> None:
        while True:
            first = self._q.get()
            if first is None:
                return
            items = [first]
            deadline = time.perf_counter() + self.max_wait
            stop = False
            while len(items) < self.max_batch:
                remaining = deadline - time.perf_counter()
                try:
                    item = self._q.get(timeout=remaining) if remaining > 0 else self._q.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                items.append(item)
            self._run(items)
            if stop:
                return

    def _run(self, items: list) -> None:
        try:
            out = np.asarray(self.predict(np.stack([x for x, _ in items])))
            if out.ndim == 0 or len(out) != len(items):
                raise ValueError(f"the model returned {0 if out.ndim == 0 else len(out)} row(s) for a batch of "
                                 f"{len(items)}; predict must return one output row per input row")
            for (_, fut), o in zip(items, out):
                fut.set_result(o)
        except Exception as exc:  # the model failed: every request of the batch gets the error
            for _, fut in items:
                if not fut.done():
                    fut.set_exception(exc)
        self.batch_sizes.append(len(items))

    def close(self, timeout: float = 5.0) -> None:
        """Finish the queued requests, stop the worker; requests left unanswered get an error."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._q.put(None)
        self._thread.join(timeout)
        while True:
            try:
                item = self._q.get_nowait()
            except queue.Empty:
                break
            if item is not None and not item[1].done():
                item[1].set_exception(RuntimeError("server shut down before this request ran"))


class _Handler(BaseHTTPRequestHandler):
    server_version = "labkit-serve/0.1"
    protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection for many requests
    disable_nagle_algorithm = True  # else headers and body in two packets meet delayed ACKs: +40 ms per request

    def log_message(self, *args: Any) -> None:  # keep notebooks quiet
        pass

    def setup(self) -> None:
        self.timeout = self.server.read_timeout  # a client that stops sending frees its thread after this
        super().setup()

    def _reply(self, code: int, payload: dict, close: bool = False) -> None:
        body = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:  # the rest of the request was not read: the connection cannot carry another one
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        if self.path == "/health":
            self._reply(200, {"status": "ok", "version": self.server.version})
        else:
            self._reply(404, {"error": f"unknown path {self.path}; use POST /predict or GET /health"})

    def do_POST(self) -> None:  # noqa: N802
        if self.path != "/predict":
            self._reply(404, {"error": f"unknown path {self.path}; use POST /predict"})
            return
        try:
            n = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._reply(411, {"error": "bad request: send a Content-Length header with the JSON body"}, close=True)
            return
        if not 0 <= n <= self.server.max_body:
            self._reply(413, {"error": f"bad request: a body of {n} bytes is outside 0..{self.server.max_body} "
                                       "bytes; send one example per request"}, close=True)
            return
        try:
            raw = self.rfile.read(n)
        except OSError:  # the client stopped sending (read timeout) or went away
            self.close_connection = True
            return
        if len(raw) != n:
            self.close_connection = True
            return
        try:
            doc = json.loads(raw)
            if not isinstance(doc, dict):
                raise TypeError('the body must be a JSON object like {"inputs": [...]}')
            x = np.asarray(doc["inputs"], dtype=np.float32)
            if x.shape != self.server.input_shape:
                raise ValueError(f"inputs must have shape {list(self.server.input_shape)}, got {list(x.shape)}")
            if not np.isfinite(x).all():
                raise ValueError("inputs must be finite numbers (no NaN/inf, nothing beyond float32's range)")
        except RecursionError:
            self._reply(400, {"error": "bad request: JSON nested too deeply; send a flat list of numbers"})
            return
        except (ValueError, KeyError, TypeError, OverflowError) as exc:
            self._reply(400, {"error": f"bad request: {str(exc)[:200]}"})
            return
        try:
            out = self.server.batcher.submit(x).result(timeout=self.server.request_timeout)
        except Exception as exc:  # timeout or model failure
            self._reply(503, {"error": f"{type(exc).__name__}: {exc}"})
            return
        self._reply(200, {"outputs": np.asarray(out).tolist(), "version": self.server.version})


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default listen backlog (5) drops connections under concurrent load
    daemon_threads = True
    max_connections = 64
    read_timeout = 10.0

    def server_activate(self) -> None:
        self._slots = threading.BoundedSemaphore(self.max_connections)
        super().server_activate()

    def process_request(self, request, client_address) -> None:
        """Serve each connection in a thread, at most ``max_connections`` at once; over the cap: 503, closed."""
        if not self._slots.acquire(blocking=False):
            try:
                request.settimeout(1.0)
                body = b'{"error": "too many connections; retry shortly"}'
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class ModelServer:
    """A dynamic-batching HTTP model server on 127.0.0.1 at an ephemeral port.

        with ModelServer(predict, input_shape=(64,), max_batch=32, max_wait_ms=2) as srv:
            stats = load_test(srv.url, X, concurrency=8, n_requests=300)

    Leaving the ``with`` block — normally or by an exception — always shuts the server and its
    batcher down. ``srv.batcher.batch_sizes`` tells how requests were grouped.
    """

    def __init__(self, predict: Callable[[np.ndarray], Any], input_shape: Sequence[int], *, max_batch: int = 32,
                 max_wait_ms: float = 2.0, version: str = "v1", request_timeout: float = 10.0,
                 read_timeout: float = 10.0, max_connections: int = 64):
        for name, v in (("request_timeout", request_timeout), ("read_timeout", read_timeout)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 3600:
                raise ValueError(f"{name} must be a number of seconds in (0, 3600], got {v!r}.")
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or not 1 <= max_connections <= 4096:
            raise ValueError(f"max_connections must be an int in 1..4096, got {max_connections!r}.")
        try:
            shape = tuple(int(d) for d in input_shape)
        except (TypeError, ValueError):
            raise TypeError(f"input_shape must be a sequence of positive ints like (64,), got {input_shape!r}.") from None
        if not shape or any(d < 1 for d in shape):
            raise ValueError(f"input_shape must be a non-empty sequence of positive ints like (64,), got {input_shape!r}.")
        self.read_timeout, self.max_connections = float(read_timeout), max_connections
        self.predict, self.input_shape = predict, shape
        self.max_batch, self.max_wait_ms, self.version = max_batch, max_wait_ms, version
        self.request_timeout = request_timeout
        self.httpd: ThreadingHTTPServer | None = None
        self.batcher: MicroBatcher | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` once started."""
        if self.httpd is None:
            raise RuntimeError("the server is not running; use `with ModelServer(...) as srv:`.")
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> "ModelServer":
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        self.batcher = MicroBatcher(self.predict, self.max_batch, self.max_wait_ms)
        try:
            cls = type("_BoundServer", (_Server,), {"max_connections": self.max_connections,
                                                     "read_timeout": self.read_timeout})
            httpd = cls(("127.0.0.1", 0), _Handler)
        except Exception:
            self.batcher.close()
            raise
        httpd.batcher, httpd.version, httpd.input_shape = self.batcher, self.version, self.input_shape
        httpd.request_timeout, httpd.max_body = self.request_timeout, 1 << 20
        self.httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="modelserver", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut down: stop accepting, close the socket, finish or fail queued requests."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self._thread.join(timeout=5)
        if self.batcher is not None:
            self.batcher.close()
        self.httpd = None

    def __enter__(self) -> "ModelServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# ------------------------------------------------------------------ client
def _post(conn: http.client.HTTPConnection, payload: bytes) -> dict:
    conn.request("POST", "/predict", body=payload, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read())
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {data.get('error')}")
    return data


def load_test(url: str, X: Any, *, concurrency: int = 4, n_requests: int = 200, time_limit_s: float = 5.0,
              timeout_s: float = 5.0) -> dict[str, Any]:
    """Send at most ``n_requests`` single-example requests from ``concurrency`` threads, for at most
    ``time_limit_s`` seconds. Returns latencies (ms, in completion order), throughput (requests/s),
    the outputs by example index, and the number of errors."""
    from urllib.parse import urlparse
    u = urlparse(url)
    if u.scheme != "http" or u.hostname not in ("127.0.0.1", "localhost"):
        raise ValueError(f"load_test only talks to a local server (http://127.0.0.1:PORT), got {url!r}.")
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 64:
        raise ValueError(f"concurrency must be an int between 1 and 64, got {concurrency!r}.")
    if isinstance(n_requests, bool) or not isinstance(n_requests, int) or not 1 <= n_requests <= 100_000:
        raise ValueError(f"n_requests must be an int between 1 and 100000, got {n_requests!r}.")
    if not 0 < time_limit_s <= 600:
        raise ValueError(f"time_limit_s must be in (0, 600], got {time_limit_s!r}.")
    X = np.asarray(X, dtype=np.float32)
    payloads = [json.dumps({"inputs": X[i % len(X)].tolist()}).encode() for i in range(min(n_requests, len(X)))]
    lock = threading.Lock()
    state = {"next": 0}
    latencies: list[float] = []
    outputs: dict[int, Any] = {}
    errors: list[str] = []
    t0 = time.perf_counter()
    stop_at = t0 + time_limit_s

    def worker() -> None:
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout_s)
        try:
            while True:
                with lock:
                    i = state["next"]
                    if i >= n_requests or time.perf_counter() >= stop_at:
                        return
                    state["next"] = i + 1
                if _one(conn, i):
                    continue
                conn.close()  # after an error, start a fresh connection
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout_s)
        finally:
            conn.close()

    def _one(conn: http.client.HTTPConnection, i: int) -> bool:
        ts = time.perf_counter()
        try:
            data = _post(conn, payloads[i % len(payloads)])
        except Exception as exc:  # count it, keep the test bounded
            with lock:
                errors.append(f"{type(exc).__name__}: {exc}")
            return False
        dt = (time.perf_counter() - ts) * 1e3
        with lock:
            latencies.append(dt)
            outputs[i] = data["outputs"]
        return True

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=time_limit_s + timeout_s + 1)
    elapsed = time.perf_counter() - t0
    return {"latencies_ms": np.asarray(latencies), "throughput": len(latencies) / elapsed, "elapsed_s": elapsed,
            "completed": len(latencies), "errors": len(errors), "error_messages": errors[:5], "outputs": outputs}
