"""Test-wide settings: a private labkit home, strict checks, no GUI backend.

Set at import time so that the Jupyter kernels nbval starts inherit them too.
"""
import os
import tempfile

os.environ["LABKIT_HOME"] = os.environ.get("LABKIT_TEST_HOME") or tempfile.mkdtemp(prefix="labkit-test-home-")
os.environ["LABKIT_STRICT"] = "1"          # a ✗ in a notebook is a test failure
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")  # as labkit sets it: CPU peak-memory stats
