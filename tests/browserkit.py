"""Shared by the real-browser tests (test_browser.py, test_hub.py): find Chromium, skip or fail
clearly when a piece is missing, launch it the way this machine needs, pick free local ports."""
from __future__ import annotations

import shutil
import socket

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
#: flags Chromium needs here (root, no GPU, no network beyond the test's own servers)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-dev-shm-usage", "--no-first-run", "--disable-sync"]


def missing_browser() -> list[str]:
    """What a real-browser test lacks: Debian's chromium and the playwright package."""
    import importlib.util
    missing = [] if CHROMIUM else ["Debian's chromium (apt-get install chromium)"]
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package")
    return missing


def need(what: str, missing: list[str], required: bool) -> None:
    """Skip the test (or fail it, when the environment says it is required) if anything is missing."""
    if missing:
        msg = f"{what} needs " + ", ".join(missing)
        if required:
            pytest.fail(msg)
        pytest.skip(msg)


def launch(p):
    """Headless Debian Chromium through a ``sync_playwright()`` handle."""
    return p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
