"""labkit.distribute: logical devices, strategy choice, local workers that are always reaped, cost arithmetic."""
import json
import os
import subprocess
import sys
import textwrap
import time

import pytest

from labkit import distribute as D

SLEEPER = textwrap.dedent("""
    import json, os, subprocess, sys, time
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    print(json.dumps({"tf_config": json.loads(os.environ["TF_CONFIG"]), "child": child.pid,
                      "cuda": os.environ.get("CUDA_VISIBLE_DEVICES"), "args": sys.argv[1:]}), flush=True)
    print("not json", flush=True)
    if "--exit" in sys.argv:
        sys.exit(int(sys.argv[-1]))
    time.sleep(120)
""")


@pytest.fixture
def sleeper(tmp_path):
    p = tmp_path / "sleeper.py"
    p.write_text(SLEEPER)
    return p


def _ready(c):
    return all(c.records(i) for i in range(c.n_workers))


def test_free_ports_and_tf_config():
    ports = D.free_ports(3)
    assert len(set(ports)) == 3 and all(1024 <= p < 65536 for p in ports)
    cfg = D.tf_config(["127.0.0.1:1", "127.0.0.1:2"], 1)
    assert cfg == {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 1}}
    with pytest.raises(ValueError, match="positive"):
        D.free_ports(0)
    with pytest.raises(ValueError, match="host:port"):
        D.tf_config(["localhost"], 0)
    with pytest.raises(ValueError, match="index"):
        D.tf_config(["a:1", "b:2"], 2)


def test_cluster_runs_reports_and_reaps(sleeper, tmp_path):
    with D.local_cluster(sleeper, n_workers=2, args=["--x", 3], workdir=tmp_path / "run") as c:
        assert c.wait_for(_ready, timeout=20)
        recs = [c.records(i)[0] for i in range(2)]          # the non-JSON line is skipped
        procs = c.pids + [r["child"] for r in recs]
        assert [r["tf_config"]["task"]["index"] for r in recs] == [0, 1]
        assert recs[0]["tf_config"]["cluster"]["worker"] == c.addresses
        assert recs[0]["cuda"] == "" and recs[0]["args"] == ["--x", "3"]
        assert all(c.alive())
    assert not any(D.pid_alive(p) for p in procs)          # workers and their children are gone


def test_cluster_reaped_when_the_block_raises(sleeper):
    with pytest.raises(RuntimeError, match="boom"):
        with D.local_cluster(sleeper, n_workers=2) as c:
            assert c.wait_for(_ready, timeout=20)
            procs = c.pids + [c.records(i)[0]["child"] for i in range(2)]
            raise RuntimeError("boom")
    assert not any(D.pid_alive(p) for p in procs)


def test_kill_restart_and_exit_codes(sleeper):
    with D.local_cluster(sleeper, n_workers=2, args=["--exit", "3"]) as c:
        assert c.wait(timeout=20) == [3, 3]
        first = c.log_path(0)
        c.args = []                                          # next attempt: keep running
        c.start()
        assert c.attempt == 2 and c.log_path(0) != first and first.exists()
        assert c.wait_for(_ready, timeout=20)
        c.kill(1)
        assert c.alive() == [True, False]
        with pytest.raises(ValueError, match="between 0 and 1"):
            c.kill(2)


def test_wait_timeout_stops_workers(sleeper):
    with D.local_cluster(sleeper, n_workers=1) as c:
        with pytest.raises(TimeoutError, match="did not finish"):
            c.wait(timeout=0.5)
        assert not any(c.alive())


def test_reap_kills_leftovers(sleeper, tmp_path):
    c = D.Cluster(script=sleeper, args=[], workdir=tmp_path, n_workers=1).start()
    assert c.wait_for(_ready, timeout=20)
    assert D.reap() >= 1
    assert not any(c.alive()) or c.procs[0].wait(timeout=5) is not None
    assert not D.pid_alive(c.pids[0])


def test_local_cluster_bad_inputs(sleeper, tmp_path):
    with pytest.raises(FileNotFoundError, match="write it first"):
        with D.local_cluster(tmp_path / "missing.py"):
            pass
    with pytest.raises(ValueError, match="n_workers"):
        with D.local_cluster(sleeper, n_workers=0):
            pass
    with pytest.raises(TypeError, match="list of strings"):
        with D.local_cluster(sleeper, args="--steps 3"):
            pass


def test_cost_arithmetic():
    assert D.allreduce_time(1e9, 2, 1, 1e9) == 0
    assert D.allreduce_time(1e9, 2, 4, 1e9, 0.0) == pytest.approx(2 * 3 / 4 * 2.0)
    assert D.allreduce_time(0, 2, 4, 1e9, 1e-3) == pytest.approx(6e-3)
    assert D.pipeline_bubble(4, 8) == pytest.approx(3 / 11)
    assert D.pipeline_bubble(1, 5) == 0
    with pytest.raises(ValueError, match="n_devices"):
        D.allreduce_time(1, 2, 0, 1e9)
    with pytest.raises(ValueError, match="bandwidth"):
        D.allreduce_time(1, 2, 2, 0)
    with pytest.raises(ValueError, match="microbatches"):
        D.pipeline_bubble(2, 0)
    with pytest.raises(ValueError, match="between 1 and 64"):
        D.logical_devices(0)


def test_logical_devices_and_strategy_in_a_fresh_process():
    code = textwrap.dedent("""
        import json, sys
        sys.modules["keras"] = None                        # not needed here; halves TensorFlow's start-up
        from labkit import distribute as D
        devs = D.logical_devices(3)
        again = D.logical_devices(3)                       # re-running the setup cell is fine
        try:
            D.logical_devices(2)
            late = "no error"
        except RuntimeError as e:
            late = str(e)
        s = D.pick_strategy()
        one = D.pick_strategy(devices=[devs[0]])
        print(json.dumps({"devs": devs, "again": again, "late": late, "replicas": s.num_replicas_in_sync,
                          "kind": type(s).__name__, "one": type(one).__name__, "desc": D.describe(s)}))
    """)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("TF_CONFIG", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(r["devs"]) == 3 and r["again"] == r["devs"]
    assert "Restart the kernel" in r["late"]
    assert r["kind"] == "MirroredStrategy" and r["replicas"] == 3 and r["one"] == "OneDeviceStrategy"
    assert "3 replica(s)" in r["desc"]


@pytest.mark.parametrize("schedule", ["gpipe", "1f1b"])
@pytest.mark.parametrize("p,m", [(1, 1), (1, 5), (3, 1), (4, 4), (4, 8), (8, 3), (5, 16)])
def test_pipeline_schedule_matches_the_bubble_formula(schedule, p, m):
    ops = D.pipeline_schedule(p, m, schedule, t_fwd=1.0, t_bwd=2.0)
    assert len(ops) == 2 * p * m
    for s in range(p):  # a stage never runs two things at once
        mine = sorted((o[3], o[4]) for o in ops if o[0] == s)
        assert all(a[1] <= b[0] + 1e-12 for a, b in zip(mine, mine[1:]))
    st = D.schedule_stats(ops)
    assert st["makespan"] == pytest.approx((m + p - 1) * 3.0)
    assert st["bubble"] == pytest.approx(D.pipeline_bubble(p, m))
    expected = [m] * p if schedule == "gpipe" else [min(p - s, m) for s in range(p)]
    assert st["peak_in_flight"] == expected


def test_pipeline_schedule_rejects_bad_input():
    with pytest.raises(ValueError, match="schedule"):
        D.pipeline_schedule(2, 2, "interleaved")
    with pytest.raises(ValueError, match="stages"):
        D.pipeline_schedule(0, 2)
    with pytest.raises(ValueError, match="t_fwd"):
        D.pipeline_schedule(2, 2, t_fwd=0)
    with pytest.raises(ValueError, match="pipeline_schedule"):
        D.schedule_stats([])

