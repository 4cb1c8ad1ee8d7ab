"""Distributed-training helpers (introduced in 11_distributed_training).

- ``logical_devices(n)``: split this machine's CPU into ``n`` logical devices, so that a laptop can
  run the same ``MirroredStrategy`` code as a multi-GPU server. Call it before TensorFlow
  initialises its devices (first thing in the setup cell).
- ``pick_strategy()``: the ``tf.distribute`` strategy that fits the hardware found.
- ``local_cluster(script, n_workers)``: start worker processes on 127.0.0.1, each with its own
  ``TF_CONFIG`` and free port, and always reap them — when the ``with`` block ends, when a cell
  fails, and when the kernel exits (``atexit``; on Linux also if the kernel is killed).
- ``allreduce_time`` and ``pipeline_bubble``: the cost arithmetic; ``pipeline_schedule`` simulates GPipe
  and 1F1B (notebook 12). Memory per device under ZeRO lives in ``labkit.memory`` (one accounting).

TensorFlow is imported inside the functions that need it.
"""
from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

__all__ = ["logical_devices", "pick_strategy", "describe", "free_ports", "tf_config", "Cluster", "local_cluster",
           "reap", "pid_alive", "allreduce_time", "pipeline_bubble", "pipeline_schedule", "schedule_stats", "INTERCONNECTS"]


# ------------------------------------------------------------------ devices and strategies
def logical_devices(n: int = 4) -> list[str]:
    """Split the CPU into ``n`` logical devices and return their names (idempotent for the same ``n``).

    Must run before TensorFlow initialises its devices, i.e. before ``lk.setup`` or any TF op.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 64:
        raise ValueError(f"n must be an int between 1 and 64, got {n!r}; e.g. logical_devices(4).")
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
    except RuntimeError:
        have = tf.config.list_logical_devices("CPU")
        if len(have) != n:
            raise RuntimeError(f"TensorFlow already initialised {len(have)} CPU device(s), so it cannot be split "
                               f"into {n} now. Restart the kernel and run the setup cell first "
                               "(logical_devices() must come before lk.setup() and any TensorFlow op).") from None
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def pick_strategy(devices: Sequence[str] | None = None):
    """The strategy for the hardware found: multi-worker if ``TF_CONFIG`` names a cluster, else
    ``MirroredStrategy`` over ≥ 2 GPUs, else over ≥ 2 logical CPUs (or ``devices``), else the default."""
    import tensorflow as tf
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}").get("cluster", {})
    if sum(len(v) for v in cluster.values()) > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    if devices is not None:
        devices = list(devices)
        if not devices:
            raise ValueError("devices is empty; pass e.g. ['/cpu:0', '/cpu:1'] or leave it out.")
        if len(devices) == 1:
            return tf.distribute.OneDeviceStrategy(devices[0])
        return tf.distribute.MirroredStrategy(devices, cross_device_ops=_cross_device_ops(devices))
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) >= 2:
        return tf.distribute.MirroredStrategy([g.name for g in gpus])
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    if len(cpus) >= 2:
        return tf.distribute.MirroredStrategy(cpus, cross_device_ops=tf.distribute.ReductionToOneDevice())
    return tf.distribute.get_strategy()


def _cross_device_ops(devices: Sequence[str]):
    import tensorflow as tf
    if all("GPU" in d.upper() for d in devices):
        return None  # NCCL all-reduce between real GPUs
    return tf.distribute.ReductionToOneDevice()


def describe(strategy: Any) -> str:
    """One line: the strategy's class, its number of replicas and their devices."""
    ext = getattr(strategy, "extended", None)
    devs = list(getattr(ext, "worker_devices", ()) or ())
    return (f"{type(strategy).__name__}: {strategy.num_replicas_in_sync} replica(s)"
            + (f" on {', '.join(d.split('device:')[-1] for d in devs)}" if devs else ""))


# ------------------------------------------------------------------ local worker processes
def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct TCP ports that are free on ``host`` right now."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}.")
    socks, ports = [], []
    try:
        for _ in range(n):  # keep them all bound until the end, so the OS hands out distinct ports
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def tf_config(workers: Sequence[str], index: int, task_type: str = "worker") -> dict[str, Any]:
    """The ``TF_CONFIG`` dict of task ``index`` in a cluster of ``workers`` (``"host:port"`` strings)."""
    workers = list(workers)
    if not workers or not all(isinstance(w, str) and ":" in w for w in workers):
        raise ValueError(f"workers must be 'host:port' strings, got {workers!r}.")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(workers):
        raise ValueError(f"index must be between 0 and {len(workers) - 1}, got {index!r}.")
    return {"cluster": {task_type: workers}, "task": {"type": task_type, "index": index}}


_LIVE: set[int] = set()  # process-group ids of workers started here and not yet reaped


def pid_alive(pid: int) -> bool:
    """Whether a process with this id still runs (zombies count as dead)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is left in process group ``pgid``."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the OS whether the group still exists
        try:
            os.killpg(pgid, 0)
            return True
        except (ProcessLookupError, PermissionError):
            return False
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":  # fields: state, ppid, pgrp, ...
            return True
    return False


def _wait_groups_gone(pgids: Sequence[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_group_alive(g) for g in pgids):
        time.sleep(0.02)


def reap(timeout: float = 3.0) -> int:
    """Terminate every worker process group still running from this kernel; returns how many there were."""
    groups = list(_LIVE)
    for g in groups:
        _kill_group(g, signal.SIGTERM)
    _wait_groups_gone(groups, timeout)
    for g in groups:
        _kill_group(g, signal.SIGKILL)
        _LIVE.discard(g)
    _wait_groups_gone(groups, 2.0)
    return len(groups)


atexit.register(reap)


_PRCTL: Any = None


def _death_signal_hook():
    """A pre-exec hook (Linux) asking the kernel to SIGKILL the worker when its parent dies; None elsewhere."""
    global _PRCTL
    if not sys.platform.startswith("linux"):
        return None
    if _PRCTL is None:  # load in the parent: the child must not import anything between fork and exec
        try:
            import ctypes
            _PRCTL = ctypes.CDLL(None, use_errno=True).prctl
        except (OSError, AttributeError):
            _PRCTL = False
    if not _PRCTL:
        return None
    prctl = _PRCTL

    def hook() -> None:
        prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    return hook


@dataclass
class Cluster:
    """Local worker processes of one job: ``procs[i]`` is task ``i``; logs live in ``workdir``."""
    script: Path
    args: list[str]
    workdir: Path
    n_workers: int
    env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    attempt: int = 0

    def start(self) -> "Cluster":
        """Start all workers on fresh free ports (a new attempt: logs ``worker{i}.attempt{k}.out/.err``)."""
        self.stop()
        self.attempt += 1
        self.addresses = [f"127.0.0.1:{p}" for p in free_ports(self.n_workers)]
        self.procs = []
        hook = _death_signal_hook()
        for i in range(self.n_workers):
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1",
                   "CUDA_VISIBLE_DEVICES": "", **self.env,
                   "TF_CONFIG": json.dumps(tf_config(self.addresses, i))}
            out = open(self.log_path(i, "out"), "w")
            err = open(self.log_path(i, "err"), "w")
            p = subprocess.Popen([sys.executable, str(self.script), *self.args], cwd=self.workdir, env=env,
                                 stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True,
                                 preexec_fn=hook)
            out.close()
            err.close()
            _LIVE.add(p.pid)  # start_new_session: the worker leads its own process group (pgid == pid)
            self.procs.append(p)
        return self

    def log_path(self, i: int, kind: str = "out", attempt: int | None = None) -> Path:
        """Where worker ``i`` writes its stdout (``kind='out'``) or stderr (``'err'``)."""
        return self.workdir / f"worker{i}.attempt{attempt or self.attempt}.{kind}"

    def log(self, i: int, kind: str = "out", attempt: int | None = None) -> str:
        """Worker ``i``'s stdout (or stderr) so far."""
        p = self.log_path(i, kind, attempt)
        return p.read_text(errors="replace") if p.exists() else ""

    def records(self, i: int, attempt: int | None = None) -> list[dict[str, Any]]:
        """The JSON lines worker ``i`` printed (other lines are skipped)."""
        out = []
        for line in self.log(i, "out", attempt).splitlines():
            with contextlib.suppress(ValueError):
                rec = json.loads(line)
                if isinstance(rec, dict):
                    out.append(rec)
        return out

    @property
    def pids(self) -> list[int]:
        """Process ids of the current workers."""
        return [p.pid for p in self.procs]

    def alive(self) -> list[bool]:
        """Which workers are still running."""
        return [p.poll() is None for p in self.procs]

    def wait_for(self, predicate, timeout: float = 60.0, poll: float = 0.05) -> bool:
        """Poll ``predicate(cluster)`` until it is true (→ True), all workers exited or ``timeout`` s passed (→ False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self):
                return True
            if not any(self.alive()):
                return bool(predicate(self))
            time.sleep(poll)
        return False

    def wait(self, timeout: float = 120.0) -> list[int]:
        """Wait for every worker to exit; returns the exit codes. ``TimeoutError`` (after reaping) if they hang."""
        deadline = time.monotonic() + timeout
        codes = []
        for i, p in enumerate(self.procs):
            try:
                codes.append(p.wait(timeout=max(0.0, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                tail = self.log(i, "err")[-800:]
                self.stop()
                raise TimeoutError(f"worker {i} did not finish within {timeout:.0f} s; all workers were stopped. "
                                   f"Its stderr ends with:\n{tail}") from None
            _LIVE.discard(p.pid)
        return codes

    def kill(self, i: int, sig: int = signal.SIGKILL) -> None:
        """Kill worker ``i`` (and anything it started) with ``sig`` — a crash, as far as the job can tell."""
        if not 0 <= i < len(self.procs):
            raise ValueError(f"worker index must be between 0 and {len(self.procs) - 1}, got {i}.")
        p = self.procs[i]
        _kill_group(p.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=5)
        if sig == signal.SIGKILL:
            _wait_groups_gone([p.pid], 2.0)
        if p.poll() is not None:
            _LIVE.discard(p.pid)

    def stop(self, timeout: float = 3.0) -> None:
        """Terminate every worker still running (SIGTERM, then SIGKILL after ``timeout`` s) and reap them."""
        live = [p for p in self.procs if p.poll() is None]
        for p in live:
            _kill_group(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for p in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
        for p in self.procs:
            _kill_group(p.pid, signal.SIGKILL)  # also any children a worker left behind
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=1)
            _LIVE.discard(p.pid)
        _wait_groups_gone([p.pid for p in self.procs], 2.0)


@contextlib.contextmanager
def local_cluster(script: str | os.PathLike, n_workers: int = 2, args: Sequence[str] = (),
                  workdir: str | os.PathLike | None = None, env: dict[str, str] | None = None) -> Iterator[Cluster]:
    """Run ``script`` as ``n_workers`` tasks on 127.0.0.1 (one ``TF_CONFIG`` each); always reap them on exit.

    ``with local_cluster("worker.py", 2, args=[...]) as cluster: cluster.wait()``. Workers run on the
    CPU (``CUDA_VISIBLE_DEVICES=""``) in their own process groups; ``cluster.start()`` restarts them all.
    """
    script = Path(script)
    if not script.is_file():
        raise FileNotFoundError(f"No worker script at {script}; write it first (e.g. Path(...).write_text(src)).")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or not 1 <= n_workers <= 16:
        raise ValueError(f"n_workers must be an int between 1 and 16, got {n_workers!r}.")
    if isinstance(args, (str, bytes)):
        raise TypeError("args must be a list of strings, e.g. ['--steps', '40'], not one string.")
    wd = Path(workdir) if workdir is not None else script.parent
    wd.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(script=script.resolve(), args=[str(a) for a in args], workdir=wd.resolve(),
                      n_workers=n_workers, env=dict(env or {}))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


# ------------------------------------------------------------------ cost arithmetic
#: rough per-direction bandwidth (bytes/s) and latency (s) of common links
INTERCONNECTS = {
    "NVLink 4 (H100, in a server)": (450e9, 5e-6),
    "InfiniBand NDR 400 Gb/s (between servers)": (50e9, 5e-6),
    "PCIe 4 x16": (25e9, 10e-6),
    "100 Gb Ethernet": (12.5e9, 20e-6),
    "10 Gb Ethernet": (1.25e9, 50e-6),
}


def allreduce_time(n_params: float, bytes_per_param: float, n_devices: int, bandwidth: float,
                   latency: float = 0.0) -> float:
    """Seconds for a ring all-reduce: 2(N−1)/N of the gradient bytes over the link, plus 2(N−1) latencies."""
    if isinstance(n_devices, bool) or not isinstance(n_devices, int) or n_devices < 1:
        raise ValueError(f"n_devices must be a positive int, got {n_devices!r}.")
    if not bandwidth > 0:
        raise ValueError(f"bandwidth must be > 0 bytes/s, got {bandwidth!r}.")
    n = n_devices
    return 2 * (n - 1) / n * n_params * bytes_per_param / bandwidth + 2 * (n - 1) * latency


def pipeline_bubble(stages: int, microbatches: int) -> float:
    """Fraction of a GPipe step that pipeline stages sit idle: (p − 1) / (m + p − 1)."""
    for name, v in (("stages", stages), ("microbatches", microbatches)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}.")
    return (stages - 1) / (microbatches + stages - 1)


def pipeline_schedule(stages: int, microbatches: int, schedule: str = "gpipe", t_fwd: float = 1.0,
                      t_bwd: float = 2.0) -> list[tuple[int, str, int, float, float]]:
    """Simulate one pipeline-parallel step → ``[(stage, "F" or "B", microbatch, start, end), ...]``.

    Introduced in 12_training_large_models. Each stage runs its operations in a fixed order, each as
    soon as the stage is free and its input is ready: F(s, i) needs F(s−1, i); B(s, i) needs B(s+1, i)
    (the last stage's B needs its own F). ``gpipe``: all forwards, then all backwards. ``1f1b``: stage
    s runs p−1−s warm-up forwards, then alternates one forward and one backward.
    """
    p, m = stages, microbatches
    for name, v in (("stages", p), ("microbatches", m)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive int, got {v!r}.")
    if schedule not in ("gpipe", "1f1b"):
        raise ValueError(f"schedule must be 'gpipe' or '1f1b', got {schedule!r}.")
    if not (t_fwd > 0 and t_bwd > 0):
        raise ValueError(f"t_fwd and t_bwd must be > 0, got {t_fwd!r}, {t_bwd!r}.")
    orders = []
    for s in range(p):
        if schedule == "gpipe":
            order = [("F", i) for i in range(m)] + [("B", i) for i in range(m)]
        else:
            warm = min(p - 1 - s, m)
            order = [("F", i) for i in range(warm)]
            f, b = warm, 0
            while b < m:
                if f < m:
                    order.append(("F", f))
                    f += 1
                order.append(("B", b))
                b += 1
        orders.append(order)
    done: dict[tuple[str, int, int], float] = {}
    free = [0.0] * p
    nxt = [0] * p
    out = []
    while any(nxt[s] < len(orders[s]) for s in range(p)):
        progressed = False
        for s in range(p):
            while nxt[s] < len(orders[s]):
                kind, i = orders[s][nxt[s]]
                dep = ("F", s - 1, i) if kind == "F" else (("F", s, i) if s == p - 1 else ("B", s + 1, i))
                if kind == "F" and s == 0:
                    ready = 0.0
                elif dep in done:
                    ready = done[dep]
                else:
                    break
                start = max(free[s], ready)
                end = start + (t_fwd if kind == "F" else t_bwd)
                done[(kind, s, i)] = end
                free[s] = end
                out.append((s, kind, i, start, end))
                nxt[s] += 1
                progressed = True
        if not progressed:  # cannot happen for these two schedules; guards against a bad order
            raise RuntimeError("pipeline schedule deadlocked")
    return sorted(out, key=lambda r: (r[0], r[3]))


def schedule_stats(ops: Sequence[tuple[int, str, int, float, float]]) -> dict[str, Any]:
    """Makespan, bubble (idle) fraction and peak in-flight micro-batches per stage of a simulated schedule.

    In flight: forwards done whose backward has not finished — the activations a stage must keep.
    """
    if not ops:
        raise ValueError("schedule_stats() needs the list that pipeline_schedule() returns.")
    p = max(o[0] for o in ops) + 1
    makespan = max(o[4] for o in ops)
    busy = sum(o[4] - o[3] for o in ops)
    peak = []
    for s in range(p):
        events = sorted([(o[3], +1) for o in ops if o[0] == s and o[1] == "F"] +
                        [(o[4], -1) for o in ops if o[0] == s and o[1] == "B"], key=lambda e: (e[0], e[1]))
        cur = best = 0
        for _, d in events:
            cur += d
            best = max(best, cur)
        peak.append(best)
    return {"makespan": makespan, "bubble": 1 - busy / (p * makespan), "peak_in_flight": peak}
