"""Notebook set-up: seeds, plot style, a one-line environment report (introduced in 00)."""
from __future__ import annotations

import os
import platform
import re
import sys
import tempfile
import warnings
from dataclasses import dataclass

#: Okabe–Ito palette: distinguishable with the common forms of colour blindness.
OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]

PROFILES = ("default", "large")


@dataclass(frozen=True)
class Config:
    """What ``setup`` decided: the seed, the run profile, and whether a GPU was found."""
    seed: int
    profile: str
    gpus: int


#: TensorFlow's start-up lines that say nothing is wrong on a machine without a GPU. They are
#: written by C++ (absl) straight to file descriptor 2, before and regardless of
#: TF_CPP_MIN_LOG_LEVEL, and JupyterLab shows them in red.
_BENIGN_TF_STDERR = re.compile(
    r"All log messages before absl::InitializeLog|cudart_stub\.cc|cpu_feature_guard\.cc|"
    r"To enable the following instructions|rebuild TensorFlow with the appropriate compiler flags|"
    r"failed call to cuInit|cuda_platform\.cc|cuda_executor\.cc|Unable to register cu(DNN|FFT|BLAS)|"
    r"computation placer already registered|oneDNN custom operations are on|TF_ENABLE_ONEDNN_OPTS")


def quiet_tensorflow() -> None:
    """Import TensorFlow and find its devices with its benign C++ start-up log kept off stderr.

    Called by ``import labkit`` inside a Jupyter kernel (introduced in 00_welcome), so a setup
    cell that imports labkit first prints nothing in red on a healthy machine. Lines that are not
    known start-up noise are passed on to stderr unchanged. Without TensorFlow it does nothing
    (``lk.doctor.guard()`` then says what to install).
    """
    if getattr(quiet_tensorflow, "done", False):
        return
    quiet_tensorflow.done = True  # type: ignore[attr-defined]
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            import tensorflow as tf
            tf.config.list_physical_devices()
        except Exception:  # a broken install is reported by doctor.guard(), not here
            pass
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        text = tmp.read().decode("utf-8", "replace")
    kept = [ln for ln in text.splitlines() if ln.strip() and not _BENIGN_TF_STDERR.search(ln)]
    if kept:
        print("\n".join(kept), file=sys.stderr)


def profile() -> str:
    """The run profile from ``LABKIT_PROFILE``: ``default`` (2-core CPU, ≤ 60 s) or ``large`` (GPU)."""
    p = os.environ.get("LABKIT_PROFILE", "default").strip().lower() or "default"
    if p not in PROFILES:
        raise ValueError(f"LABKIT_PROFILE={p!r} is unknown; use one of {PROFILES} (or unset it).")
    return p


def plot_style() -> None:
    """Apply the course's plot style: colour-blind-safe colours, readable sizes, viridis maps."""
    import matplotlib as mpl
    from cycler import cycler
    mpl.rcParams.update({
        "axes.prop_cycle": cycler(color=OKABE_ITO),
        "image.cmap": "viridis",
        "figure.figsize": (6.4, 4.0),
        "figure.dpi": 90,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.size": 10,
    })


def setup(seed: int = 0, *, gpu_helps: bool = False, quiet: bool = False) -> Config:
    """Seed everything, set the plot style, print a one-line environment summary.

    ``gpu_helps=True`` prints a warning (never an error) when no GPU is present, for the
    notebooks whose ``large`` profile wants one. Introduced in ``00_welcome``.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}; e.g. lk.setup(seed=0).")
    if seed < 0 or seed >= 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}; e.g. lk.setup(seed=0).")
    prof = profile()
    import keras
    import numpy as np
    import tensorflow as tf
    keras.utils.set_random_seed(seed)  # seeds Python, NumPy and TensorFlow together
    plot_style()
    gpus = len(tf.config.list_physical_devices("GPU"))
    if not quiet:
        from .doctor import cpu_flags
        flags = cpu_flags()
        bf16 = "avx512_bf16" if "avx512_bf16" in flags or "amx_bf16" in flags else "no bf16 units"
        dev = f"{gpus} GPU" if gpus else "CPU only"
        print(f"labkit · Python {platform.python_version()} · TF {tf.__version__} · Keras {keras.__version__}"
              f" · NumPy {np.__version__} · {os.cpu_count()} cores ({bf16}) · {dev} · seed {seed} · profile {prof}")
    if gpu_helps and not gpus:
        warnings.warn("No GPU found: this notebook runs its default (CPU) profile. With a GPU, "
                      "set LABKIT_PROFILE=large for the bigger run.", stacklevel=2)
    if prof == "large" and not gpus:
        warnings.warn("LABKIT_PROFILE=large without a GPU will be slow; unset it for the CPU profile.",
                      stacklevel=2)
    return Config(seed=seed, profile=prof, gpus=gpus)
