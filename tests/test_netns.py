"""Local workers (TensorFlow servers included) in a private loopback-only network namespace:
they reach each other on 127.0.0.1, and their ports are not reachable from outside it."""
import json
import os
import socket
import subprocess
import sys
import textwrap

import psutil
import pytest

from labkit import distribute, netns

pytestmark = pytest.mark.skipif(not netns.available(), reason="no network namespaces on this machine")


def _listening_ports():
    return {c.laddr.port for c in psutil.net_connections("inet") if c.status == psutil.CONN_LISTEN}


def test_workers_share_a_private_loopback():
    server = textwrap.dedent("""
        import labkit.netns as n; n.enter_from_env()
        import socket
        s = socket.socket(); s.bind(("0.0.0.0", 0)); s.listen()   # all interfaces, like TensorFlow's servers
        print(s.getsockname()[1], [name for _, name in socket.if_nameindex()], flush=True)
        c, _ = s.accept(); c.sendall(b"hi"); c.close()
    """)
    with netns.loopback_namespace() as ns:
        env = {**os.environ, **ns.env}
        srv = subprocess.Popen([sys.executable, "-c", server], env=env, stdout=subprocess.PIPE, text=True)
        try:
            port_s, ifaces = srv.stdout.readline().split(" ", 1)
            port = int(port_s)
            assert ifaces.strip() == "['lo']"                     # the namespace has nothing but loopback
            assert port not in _listening_ports()                 # the host lists no such listener…
            with pytest.raises(OSError):                          # …and cannot connect to it
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
            client = subprocess.run(
                [sys.executable, "-c", "import labkit.netns as n; n.enter_from_env()\nimport socket\n"
                 f"print(socket.create_connection(('127.0.0.1', {port}), timeout=5).recv(2).decode())"],
                env=env, capture_output=True, text=True, timeout=60)
            assert client.stdout.strip() == "hi", client.stderr      # another worker in it can
        finally:
            srv.kill()
            srv.wait()
    assert ns.holder.poll() is not None                               # the holder is gone with the block


WORKER = textwrap.dedent("""
    import labkit.netns as n; n.enter_from_env()
    import json, os, socket, time
    import psutil
    import tensorflow as tf
    cfg = json.loads(os.environ["TF_CONFIG"])
    server = tf.distribute.Server(tf.train.ClusterSpec(cfg["cluster"]), job_name="worker",
                                  task_index=cfg["task"]["index"], protocol="grpc", start=True)
    port = int(cfg["cluster"]["worker"][cfg["task"]["index"]].split(":")[1])
    listen = sorted({c.laddr.ip for c in psutil.net_connections("inet")
                     if c.status == psutil.CONN_LISTEN and c.laddr.port == port})
    print(json.dumps({"port": port, "listen": listen, "ifaces": [n for _, n in socket.if_nameindex()]}), flush=True)
    time.sleep(120)
""")


def test_tensorflow_server_listens_only_inside_the_namespace(tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    with netns.loopback_namespace() as ns, distribute.local_cluster(script, 1, env=ns.env) as cluster:
        assert cluster.wait_for(lambda c: c.records(0), timeout=240), cluster.log(0, "err")[-2000:]
        rec = cluster.records(0)[0]
        # inside: TensorFlow binds every interface, as the issue found — but the only one is loopback
        assert rec["listen"] and set(rec["listen"]) <= {"0.0.0.0", "::", "127.0.0.1", "::1"}
        assert rec["ifaces"] == ["lo"]
        # outside, while the worker runs: no listening socket on its port, no connection
        assert cluster.alive() == [True]
        assert rec["port"] not in _listening_ports()
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", rec["port"]), timeout=2).close()


def test_enter_checks_its_argument():
    with pytest.raises(ValueError, match="pid"):
        netns.enter(0)
    assert netns.enter_from_env() is False or os.environ.get(netns.ENV)
