"""A private loopback-only network for local worker processes (introduced in 11_distributed_training).

TensorFlow's gRPC servers (``MultiWorkerMirroredStrategy``, ``tf.distribute.Server``) listen on
every interface, whatever host ``TF_CONFIG`` names. Started inside :func:`loopback_namespace`,
workers share a fresh Linux network namespace whose only interface is its own loopback: they
reach each other on 127.0.0.1, and nothing outside — not the LAN, not even other processes on
this machine — can reach their ports. Unprivileged users get it through a user namespace
(no root needed); where the kernel forbids that, :func:`available` is False and the workers
run as before (say so in the notebook).

    with lk.netns.loopback_namespace() as ns, lk.distribute.local_cluster(script, 2, env=ns.env) as c:
        ...                      # the worker script's first lines: import labkit.netns; labkit.netns.enter_from_env()
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import sys
from typing import Iterator

__all__ = ["available", "loopback_namespace", "enter", "enter_from_env", "Namespace", "ENV"]

#: environment variable naming the namespace holder's pid (set by :attr:`Namespace.env`)
ENV = "LABKIT_NETNS_PID"
CLONE_NEWNET, CLONE_NEWUSER = 0x40000000, 0x10000000

# the holder: new (user +) network namespace, loopback up, then wait until the parent closes stdin
_HOLDER = r"""
import ctypes, fcntl, os, socket, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(1, 9)  # PR_SET_PDEATHSIG = SIGKILL: never outlive the notebook
root = os.geteuid() == 0
uid, gid = os.geteuid(), os.getegid()
flags = 0x40000000 | (0 if root else 0x10000000)
if libc.unshare(flags) != 0:
    sys.stdout.write("error: unshare: " + os.strerror(ctypes.get_errno()) + "\n"); sys.stdout.flush(); sys.exit(1)
if not root:
    with open("/proc/self/setgroups", "w") as f: f.write("deny")
    with open("/proc/self/uid_map", "w") as f: f.write(f"{uid} {uid} 1")
    with open("/proc/self/gid_map", "w") as f: f.write(f"{gid} {gid} 1")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
req = struct.pack("16sH", b"lo", 0)
cur = struct.unpack("16sH", fcntl.ioctl(s, 0x8913, req)[:18])[1]          # SIOCGIFFLAGS
fcntl.ioctl(s, 0x8914, struct.pack("16sH", b"lo", cur | 0x1))              # SIOCSIFFLAGS |= IFF_UP
sys.stdout.write("ready\n"); sys.stdout.flush()
sys.stdin.read()  # until the parent closes the pipe
"""


class Namespace:
    """A running loopback-only network namespace: pass :attr:`env` to the workers."""

    def __init__(self, holder: subprocess.Popen):
        self.holder = holder
        self.pid = holder.pid

    @property
    def env(self) -> dict[str, str]:
        """Environment for worker processes: they join this namespace in :func:`enter_from_env`."""
        return {ENV: str(self.pid)}

    def close(self) -> None:
        """Stop the holder; the namespace disappears with its last process."""
        if self.holder.poll() is None:
            with contextlib.suppress(OSError):
                self.holder.stdin.close()
            try:
                self.holder.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.holder.kill()
                self.holder.wait()


def _start() -> Namespace:
    p = subprocess.Popen([sys.executable, "-c", _HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if line != "ready":
        err = (line + " " + (p.stderr.read() if p.poll() is not None else "")).strip()
        with contextlib.suppress(OSError):
            p.kill()
        p.wait()
        raise OSError(f"could not create a private network namespace: {err[-300:] or 'unknown error'}")
    return Namespace(p)


def available() -> bool:
    """Whether this machine lets us create a private network namespace (Linux, root or user namespaces)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        _start().close()
        return True
    except OSError:
        return False


@contextlib.contextmanager
def loopback_namespace() -> Iterator[Namespace]:
    """A fresh network namespace with only a loopback interface, for the duration of the ``with`` block."""
    if not sys.platform.startswith("linux"):
        raise OSError("network namespaces need Linux; run the workers without one (they listen on all interfaces).")
    ns = _start()
    try:
        yield ns
    finally:
        ns.close()


def enter(pid: int) -> None:
    """Move this process into the namespace held by ``pid`` (call first thing, before importing TensorFlow)."""
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        raise ValueError(f"pid must be a positive int (Namespace.pid), got {pid!r}.")
    libc = ctypes.CDLL(None, use_errno=True)
    kinds = [("net", CLONE_NEWNET)] if os.geteuid() == 0 else [("user", CLONE_NEWUSER), ("net", CLONE_NEWNET)]
    for name, flag in kinds:
        try:
            fd = os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY)
        except OSError as exc:
            raise OSError(f"namespace holder {pid} is gone ({exc.strerror}); start workers inside "
                          "`with lk.netns.loopback_namespace() as ns:`.") from None
        try:
            if libc.setns(fd, flag) != 0:
                err = ctypes.get_errno()
                raise OSError(err, f"setns({name}) failed: {os.strerror(err)} — call enter() before any thread "
                                   "starts (before importing TensorFlow)")
        finally:
            os.close(fd)


def enter_from_env() -> bool:
    """Join the namespace named by ``$LABKIT_NETNS_PID`` if set; True when joined."""
    pid = os.environ.get(ENV)
    if not pid:
        return False
    enter(int(pid))
    return True
