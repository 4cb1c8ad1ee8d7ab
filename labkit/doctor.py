"""``labkit doctor``: what this machine has, and what that means for the course (notebook 00).

Reports versions, CPU features (``avx512_bf16``/``amx_bf16`` decide whether bfloat16 is fast on
CPU — notebook 10), GPUs, whether the network is reachable, which datasets are present and the
expected run time of each notebook. ``guard()`` is the first line of every notebook's setup
cell: it says what is missing before anything fails.
"""
from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import os
import platform
import socket
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
TIMINGS_FILE = NOTEBOOKS / "timings.json"

#: (distribution, import name) that every notebook may need
REQUIRED = [("tensorflow", "tensorflow"), ("keras", "keras"), ("numpy", "numpy"), ("matplotlib", "matplotlib"),
            ("scikit-learn", "sklearn"), ("ipywidgets", "ipywidgets"), ("shap", "shap"), ("lime", "lime"),
            ("ai-edge-litert", "ai_edge_litert"), ("statsmodels", "statsmodels"), ("scikit-image", "skimage"),
            ("mnist1d", "mnist1d"), ("dp-accounting", "dp_accounting"), ("tqdm", "tqdm")]

#: features that matter for the course, from /proc/cpuinfo
INTERESTING_FLAGS = ["avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile",
                     "asimd", "sve"]


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``; empty elsewhere)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model() -> str:
    """The CPU's model name, or the platform's processor string."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def bf16_fast() -> bool:
    """True when the CPU has native bfloat16 units (avx512_bf16 or AMX), so mixed_bfloat16 helps."""
    f = cpu_flags()
    return "avx512_bf16" in f or "amx_bf16" in f


def versions() -> dict[str, str]:
    """Installed versions of the course's packages (``missing`` where absent)."""
    out = {"python": platform.python_version()}
    for dist, _ in REQUIRED + [("jupyterlab", ""), ("nbval", ""), ("nbgrader", "")]:
        try:
            out[dist] = md.version(dist)
        except md.PackageNotFoundError:
            out[dist] = "missing"
    return out


def missing_packages() -> list[str]:
    """Required distributions that cannot be found."""
    miss = []
    for dist, mod in REQUIRED:
        try:
            md.version(dist)
        except md.PackageNotFoundError:
            miss.append(dist)
    return miss


def network(host: str = "pypi.org", port: int = 443, timeout: float = 1.0) -> bool:
    """Whether ``host`` can be reached (quick: at most ``timeout`` seconds)."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def gpus() -> list[str]:
    """Names of the GPUs TensorFlow can see."""
    import tensorflow as tf
    return [d.name for d in tf.config.list_physical_devices("GPU")]


def timings() -> dict[str, float]:
    """Measured CPU run time per notebook (seconds) from ``notebooks/timings.json`` (``make timings``)."""
    try:
        data = json.loads(TIMINGS_FILE.read_text())
        return {k: float(v["seconds"]) for k, v in data.get("notebooks", {}).items()}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def guard(min_python: tuple[int, int] = (3, 11)) -> None:
    """Fail early, with the fix, when the environment cannot run the course."""
    problems = []
    if sys.version_info[:2] < min_python:
        problems.append(f"Python {platform.python_version()} is too old (need ≥ {min_python[0]}.{min_python[1]})")
    miss = missing_packages()
    if miss:
        problems.append("missing packages: " + ", ".join(miss))
    try:
        import keras
        if int(keras.__version__.split(".")[0]) < 3:
            problems.append(f"Keras {keras.__version__} is Keras 2; the course needs Keras 3")
    except ImportError:
        pass
    if problems:
        raise RuntimeError("This kernel cannot run the course: " + "; ".join(problems) +
                           ". Fix: run `make lab` from the course folder (it builds .venv), or "
                           "`conda env create -f environment.yml`, and pick that kernel.")


def report(check_network: bool = True) -> dict[str, Any]:
    """Everything the doctor knows, as a dict."""
    from . import data
    flags = cpu_flags()
    return {
        "versions": versions(),
        "platform": f"{platform.system()} {platform.machine()}",
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "cpu_flags": {f: (f in flags) for f in INTERESTING_FLAGS},
        "bf16_fast": bf16_fast(),
        "gpus": gpus(),
        "network": {"datasets host": network("storage.googleapis.com"), "package index": network("pypi.org")}
        if check_network else None,
        "datasets": data.status(),
        "timings": timings(),
        "missing": missing_packages(),
    }


def format_report(r: dict[str, Any]) -> str:
    """The doctor's report as text."""
    v = r["versions"]
    lines = ["labkit doctor", "", "Versions"]
    lines += [f"  {k:<16} {val}" for k, val in v.items()]
    lines += ["", f"Machine  {r['platform']} · {r['cpu']} · {r['cores']} cores"]
    present = [f for f, ok in r["cpu_flags"].items() if ok]
    lines.append(f"  CPU features: {', '.join(present) or 'none of interest'}")
    if r["bf16_fast"]:
        lines.append("  bfloat16: native units present → mixed_bfloat16 can speed up convolutions (notebook 10)")
    else:
        lines.append("  bfloat16: no native units → mixed precision will not speed up this CPU (notebook 10)")
    if r["gpus"]:
        lines.append(f"  GPUs: {', '.join(r['gpus'])} → the 'large' profile (LABKIT_PROFILE=large) is practical")
    else:
        lines.append("  GPUs: none → every notebook runs its default CPU profile (≤ 60 s each)")
    if r["network"] is not None:
        state = ", ".join(f"{k} {'reachable' if ok else 'unreachable'}" for k, ok in r["network"].items())
        lines.append(f"  Network: {state} (the course needs none; only the optional mnist/fashion_mnist do)")
    lines += ["", "Datasets"]
    lines += [f"  {k:<16} {s}" for k, s in r["datasets"].items()]
    t = r["timings"]
    lines += ["", "Expected run time per notebook (measured on 2 CPU cores)"]
    if t:
        lines += [f"  {k:<32} {s:5.0f} s" for k, s in sorted(t.items())]
    else:
        lines.append("  not measured yet: run `make timings`")
    if r["missing"]:
        lines += ["", f"MISSING: {', '.join(r['missing'])} — run `make lab` to install them."]
    else:
        lines += ["", "All required packages are installed."]
    return "\n".join(lines)


def main(check_network: bool = True) -> int:
    """Print the report; exit status 1 when a required package is missing or a dataset fails verification."""
    r = report(check_network=check_network)
    print(format_report(r))
    bad = {k: s for k, s in r["datasets"].items() if str(s).startswith("problem")}
    for name, st in bad.items():
        print(f"labkit doctor: dataset {name!r} failed verification — {st}", file=sys.stderr)
    return 1 if r["missing"] or bad else 0
