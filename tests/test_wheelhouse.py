"""Offline installs: `make wheelhouse` then `WHEELHOUSE=dir make …` with the network switched off.

The network is really off: the install runs in a fresh network namespace (`unshare -n`, loopback
only), where even a DNS lookup fails — the test checks that first.

- test_makefile_offline_install (always): the course's own Makefile and workshop/ scripts on a
  small stand-in project (one dependency, one test extra): `make wheelhouse` downloads, then
  `make hub-deps` builds .venv (pip --no-index) and installs the npm proxy (npm --offline) with
  no network. Same recipe, same flags as the course; only the package list is small.
- test_full_course_offline (make test-all, LABKIT_FULL_WHEELHOUSE=1): the real course, ~3 GB of
  wheels (TensorFlow alone is ~600 MB), too slow for CI's budget on every run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.timeout(900)

PROBE = ("import socket,sys\ntry:\n    socket.create_connection(('pypi.org', 443), timeout=3)\n"
         "except OSError:\n    sys.exit(0)\nsys.exit('network is still up')")


def _offline(cmd: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``cmd`` in a new network namespace with only loopback up (and check the network is off)."""
    script = f"ip link set lo up 2>/dev/null; {sys.executable} -c \"{PROBE}\" && {cmd}"
    return subprocess.run(["unshare", "-n", "bash", "-c", script], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def _need_unshare():
    if not shutil.which("unshare") or not shutil.which("make"):
        pytest.skip("needs unshare (util-linux) and make")
    r = subprocess.run(["unshare", "-n", "true"], capture_output=True)
    if r.returncode != 0:
        pytest.skip("unshare -n is not permitted here (needs root or user namespaces): "
                    + r.stderr.decode(errors="replace").strip())


def _project(tmp: Path) -> Path:
    """A stand-in course: the real Makefile, workshop/ helpers and npm lock file, a tiny package list."""
    proj = tmp / "course"
    (proj / "workshop" / "node").mkdir(parents=True)
    shutil.copy(ROOT / "Makefile", proj)
    for f in ("wheelhouse.py",):
        shutil.copy(ROOT / "workshop" / f, proj / "workshop")
    for f in ("package.json", "package-lock.json"):
        shutil.copy(ROOT / "workshop" / "node" / f, proj / "workshop" / "node")
    (proj / "tinycourse").mkdir()
    (proj / "tinycourse" / "__init__.py").write_text("import iniconfig\nOK = True\n")
    (proj / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "tinycourse"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
        'dependencies = ["iniconfig>=2"]\n[project.optional-dependencies]\ntest = ["pluggy>=1"]\n'
        '[tool.setuptools.packages.find]\ninclude = ["tinycourse*"]\n')
    return proj


def test_makefile_offline_install(tmp_path):
    _need_unshare()
    if not shutil.which("npm"):
        pytest.skip("needs npm for the proxy part of the wheelhouse")
    proj = _project(tmp_path)
    wh = tmp_path / "wheelhouse"
    py = f"PYTHON={sys.executable}"
    r = subprocess.run(["make", "-s", "wheelhouse", f"WHEELHOUSE={wh}", "COURSE_SPEC=.[test]", py],
                       cwd=proj, capture_output=True, text=True, timeout=600)
    if r.returncode != 0 and ("Failed to establish" in r.stderr or "resolution" in r.stderr):
        pytest.skip("no network to fill the wheelhouse: " + r.stderr[-300:])
    assert r.returncode == 0, r.stdout + r.stderr
    assert list(wh.glob("iniconfig-*.whl")) and list(wh.glob("setuptools-*.whl")) and (wh / "npm-cache").is_dir()
    shutil.rmtree(proj / "workshop" / "node" / "node_modules", ignore_errors=True)
    # network off: the same Makefile builds .venv from the wheelhouse and installs the proxy from the npm cache
    r = _offline(f"make -s hub-deps WHEELHOUSE={wh} COURSE_SPEC=.[test] {py}", proj)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([str(proj / ".venv" / "bin" / "python"), "-c", "import tinycourse, pluggy; print(tinycourse.OK)"],
                       capture_output=True, text=True)
    assert r.stdout.strip() == "True", r.stderr
    assert (proj / "workshop" / "node" / "node_modules" / ".bin" / "configurable-http-proxy").exists()


@pytest.mark.skipif(os.environ.get("LABKIT_FULL_WHEELHOUSE") != "1",
                    reason="downloads the whole course (~3 GB); run by `make test-all`")
def test_full_course_offline(tmp_path):
    _need_unshare()
    wh = Path(os.environ.get("LABKIT_WHEELHOUSE_DIR", tmp_path / "wheelhouse"))
    r = subprocess.run(["make", "-s", "wheelhouse", f"WHEELHOUSE={wh}"], cwd=ROOT, capture_output=True, text=True,
                       timeout=3600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    r = _offline(f"make -s venv WHEELHOUSE={wh} && .venv/bin/python -c 'import labkit, tensorflow, keras, jupyterhub'",
                 clone, timeout=1800)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
