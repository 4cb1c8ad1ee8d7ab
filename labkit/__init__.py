"""labkit — the small shared toolkit of the Large-Model Engineering Lab.

Notebooks start with::

    import labkit as lk
    lk.setup(seed=0)

One module per concern: ``data``, ``train``, ``plots``, ``widgets``, ``check``, ``quiz``,
``progress``, ``doctor``, ``cli`` and the topic modules added by later notebooks (``llm`` is
the course's small transformer, shared by notebooks 07, 12 and 15). Course machinery (check,
progress, quiz, student, grade) never imports topic modules. Heavy modules (TensorFlow) are imported
lazily so that ``import labkit`` and the ``labkit`` command stay fast.
"""
from __future__ import annotations

import importlib
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's C++ start-up chatter
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")  # peak-memory stats on CPU (precision, memory)

__version__ = "0.1.0"

from .core import setup, profile, Config  # noqa: E402
from . import check  # noqa: E402  (callable module: lk.check("01.sgd_step", fn))
from .check import hint  # noqa: E402

if "ipykernel" in sys.modules:  # in a notebook: import TensorFlow now, without its red start-up log
    from .core import quiet_tensorflow
    quiet_tensorflow()

_LAZY = {"data", "train", "plots", "widgets", "quiz", "progress", "doctor", "cli", "course",
         "precision", "distribute", "compress", "explain", "privacy", "student", "grade",
         "exercises", "drift", "serve", "llm", "memory", "timing", "netns"}


def __getattr__(name: str):
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'labkit' has no attribute {name!r}")


__all__ = ["setup", "profile", "Config", "check", "hint", "__version__", *sorted(_LAZY)]
