"""The course server (workshop/jupyterhub_config.py) with two learners and an instructor, in a real browser.

Brings JupyterHub up on 127.0.0.1 (configurable-http-proxy from npm, FirstUseAuthenticator, the
course spawner, the idle culler), then drives headless Chromium through playwright:
  - alice and bob each log in (their first login sets their password) and get their own student copy;
  - alice solves exercise 00.standardize in her copy, saves and runs it: ✓ is recorded in HER
    progress file; bob's copy still has the stub and his progress has no such check;
  - the instructor logs in, sees both learners on the admin page, and grades both with
    workshop/grade_all.py (which runs `labkit grade`): a row for each; bob's stub errors, alice's runs.
Skipped when the hub extra (`pip install -e '.[hub]'`), the npm proxy (`make hub-deps`) or Chromium
is missing — except under LABKIT_REQUIRE_HUB=1 (CI), where a missing piece is a failure.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from browserkit import free_port, launch, missing_browser, need

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PROXY = ROOT / "workshop" / "node" / "node_modules" / ".bin" / "configurable-http-proxy"
REQUIRED = os.environ.get("LABKIT_REQUIRE_HUB") == "1"
PASSWORDS = {"alice": "alice-pass-1", "bob": "bob-pass-22", "teacher": "teacher-pass-3"}
SOLUTION = ("def standardize(X):\n    # alice-was-here\n    X = np.asarray(X, dtype=np.float64)\n"
            "    return (X - X.mean(axis=0)) / X.std(axis=0)\n\nlk.check(\"00.standardize\", standardize)")
pytestmark = pytest.mark.timeout(900)  # ~2 min on an idle 2-core machine; much more on a loaded one


def _need_hub():
    missing = [f"the {m} package (pip install -e '.[hub]')" for m in
               ("jupyterhub", "firstuseauthenticator", "jupyterhub_idle_culler")
               if importlib.util.find_spec(m) is None]
    if not PROXY.exists():
        missing.append("configurable-http-proxy (make hub-deps: npm install --prefix workshop/node)")
    need("hub test", missing + missing_browser(), REQUIRED)


@pytest.fixture
def hub(tmp_path):
    _need_hub()
    state = tmp_path / "state"
    ports = {k: str(free_port()) for k in ("LABKIT_HUB_PORT", "LABKIT_HUB_HUB_PORT", "LABKIT_HUB_PROXY_API_PORT")}
    env = dict(os.environ, LABKIT_HUB_STATE=str(state), LABKIT_HUB_USERS="alice,bob",
               LABKIT_HUB_INSTRUCTORS="teacher", LABKIT_HUB_TEST="1", LABKIT_LANG="en", **ports)
    env.pop("MPLBACKEND", None)
    log = open(tmp_path / "hub.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(ROOT / "workshop" / "jupyterhub_config.py")],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{ports['LABKIT_HUB_PORT']}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{base}/hub/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("JupyterHub exited:\n" + (tmp_path / "hub.log").read_text()[-3000:])
                time.sleep(0.5)
        else:
            raise RuntimeError("JupyterHub did not answer in 120 s:\n" + (tmp_path / "hub.log").read_text()[-3000:])
        yield {"base": base, "state": state, "proc": proc, "log": tmp_path / "hub.log", "tmp": tmp_path}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(8)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the proxy, the culler and single-user servers share the group
        except ProcessLookupError:
            pass
        log.close()


def _login(browser, base, user, next_url=""):
    ctx = browser.new_context(viewport={"width": 1300, "height": 900})
    page = ctx.new_page()
    page.goto(f"{base}/hub/login" + (f"?next={next_url}" if next_url else ""))
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORDS[user])
    page.click("#login_submit")
    return ctx, page


def _open_lab(page):
    """Wait for the learner's JupyterLab with their course/00_welcome.ipynb open."""
    page.wait_for_url("**/user/*/lab/**", timeout=240_000)
    page.wait_for_selector(".jp-Notebook", timeout=120_000)
    page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.content"
                           " && window.jupyterapp.shell.currentWidget.context"
                           " && window.jupyterapp.shell.currentWidget.context.isReady"
                           " && window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.length > 5",
                           timeout=120_000)


JS_CELLS = "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells.map(c => c.getSource())"


def _stub_index(cells):
    return next(i for i, s in enumerate(cells) if "def standardize" in s)


def test_two_learners_and_an_instructor(hub):
    from playwright.sync_api import sync_playwright
    base, homes = hub["base"], hub["state"] / "home"
    with sync_playwright() as p:
        browser = launch(p)
        page = None
        try:
            # ---- alice: first login sets her password, her own copy is written and opened
            ctx_a, page = _login(browser, base, "alice")
            _open_lab(page)
            assert "/user/alice/" in page.url
            cells = page.evaluate(JS_CELLS)
            i = _stub_index(cells)
            assert "NotImplementedError" in cells[i], "the learner copy should have the exercise stubbed"
            setup = next(k for k, s in enumerate(cells) if s.startswith("import labkit as lk"))
            # alice solves the exercise, saves, runs the setup cell and her cell
            page.evaluate("([i, src]) => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
                          ".getCell(i).setSource(src)", [i, SOLUTION])
            page.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_function("window.jupyterapp.shell.currentWidget.sessionContext.session"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                                   ".status === 'idle'", timeout=120_000)
            for k in (setup, i):
                page.evaluate("async (k) => { const nb = window.jupyterapp.shell.currentWidget;"
                              " nb.content.activeCellIndex = k;"
                              " await window.jupyterapp.commands.execute('notebook:run-cell'); }", k)
            page.locator(".jp-Cell").nth(i).locator(".jp-OutputArea-output", has_text="✓").first.wait_for(
                timeout=180_000)
            # ---- bob: his own copy, without alice's edit
            ctx_b, page = _login(browser, base, "bob")
            _open_lab(page)
            assert "/user/bob/" in page.url
            bob_cells = page.evaluate(JS_CELLS)
            assert "alice-was-here" not in "".join(bob_cells)
            assert "NotImplementedError" in bob_cells[_stub_index(bob_cells)]
            # ---- the instructor: straight to the admin page, which lists both learners and their servers
            ctx_t, page = _login(browser, base, "teacher", next_url="/hub/admin")
            page.wait_for_url("**/hub/admin**", timeout=120_000)
            page.get_by_text("alice", exact=True).first.wait_for(timeout=60_000)
            assert page.get_by_text("bob", exact=True).count() > 0
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            if page is not None:
                page.screenshot(path=str(ARTIFACTS / "hub-failure.png"), full_page=True)
            shutil.copy(hub["log"], ARTIFACTS / "hub.log")
            raise
        finally:
            browser.close()

    # files on the server: separate copies, alice's edit saved in hers only
    a_nb, b_nb = homes / "alice" / "course" / "00_welcome.ipynb", homes / "bob" / "course" / "00_welcome.ipynb"
    assert "alice-was-here" in a_nb.read_text() and "alice-was-here" not in b_nb.read_text()
    # progress: alice's check is in her LABKIT_HOME; bob's has no trace of it
    a_prog = json.loads((homes / "alice" / ".labkit" / "progress.json").read_text())
    assert a_prog["checks"]["00.standardize"]["passed"] is True
    b_file = homes / "bob" / ".labkit" / "progress.json"
    assert not b_file.exists() or "00.standardize" not in json.loads(b_file.read_text())["checks"]
    # a second login (a new spawn) keeps alice's edits: labkit student never overwrites them
    r = subprocess.run([sys.executable, "-m", "labkit", "student", "--out", str(homes / "alice" / "course"),
                        str(ROOT / "notebooks" / "00_welcome.ipynb")], capture_output=True, text=True, timeout=120)
    assert "skipped" in r.stdout and "alice-was-here" in a_nb.read_text()
    # the idle culler runs as a hub service
    import psutil
    kids = [" ".join(c.cmdline()) for c in psutil.Process(hub["proc"].pid).children(recursive=True)]
    assert any("jupyterhub_idle_culler" in k for k in kids), kids
    # the instructor grades both learners (what they run in a terminal on the server)
    out = hub["tmp"] / "grading"
    r = subprocess.run([sys.executable, str(ROOT / "workshop" / "grade_all.py"), "00", "--homes", str(homes),
                        "--skip", "teacher", "--out", str(out), "--timeout", "240"],
                       capture_output=True, text=True, timeout=400)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {row["learner"]: row for row in csv.DictReader(open(out / "grades.csv", encoding="utf-8"))
            if row["exercise"] == "00.standardize"}
    assert set(rows) == {"alice", "bob"}, rows
    assert rows["bob"]["score"] == "0" and "error" in rows["bob"]["status"], rows["bob"]  # his stub raised
    assert rows["alice"]["status"] == "ok", rows["alice"]  # her solved copy ran without an error
    assert rows["alice"]["score"] == "1", rows["alice"]     # … and her ✓ counts (not the notebook's demo ✗)
