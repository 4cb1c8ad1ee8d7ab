"""Real-browser test: JupyterLab + headless Chromium (Debian's, driven by playwright).

Starts JupyterLab on 127.0.0.1 with a token on a copy of notebook 00, runs all cells, moves the
learning-rate slider and asserts that the plot and the text update. A screenshot is saved to
tests/artifacts/ on failure. Skipped where Chromium is absent, except when
LABKIT_REQUIRE_BROWSER=1 (CI), where a missing browser is a failure.
"""
from __future__ import annotations

import os
import secrets
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
REQUIRED = os.environ.get("LABKIT_REQUIRE_BROWSER") == "1"


def _need_browser():
    need("real-browser test", missing_browser(), REQUIRED)


@pytest.fixture
def lab(tmp_path):
    _need_browser()
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / "00_welcome.ipynb", root)
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--LabApp.news_url=None", "--LabApp.expose_app_in_browser=True",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--LabApp.app_settings_dir={ROOT / 'labkit' / 'lab_settings'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={k: v for k, v in dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "jcfg")).items()
                                 if k != "MPLBACKEND"})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("JupyterLab exited: " + (tmp_path / "lab.log").read_text()[-2000:])
                time.sleep(0.5)
        else:
            raise RuntimeError("JupyterLab did not start in 60 s")
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def test_run_notebook_and_move_slider(lab):
    from playwright.sync_api import sync_playwright
    base, token = lab
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/lab/tree/00_welcome.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session", timeout=60_000)
            page.wait_for_function("window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                                   ".status === 'idle'", timeout=60_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            text = page.locator(".widget-output pre", has_text="lr=0.10")
            text.first.wait_for(timeout=240_000)
            slider = page.locator(".widget-slider .noUi-handle").first
            slider.scroll_into_view_if_needed()
            out = page.locator(".widget-output").filter(has=page.locator("pre", has_text="after 25 steps")).first
            img_before = out.locator("img").first.get_attribute("src")
            slider.focus()
            for _ in range(45):
                page.keyboard.press("ArrowRight")
            page.locator(".widget-output pre", has_text="lr=0.55").first.wait_for(timeout=60_000)
            page.wait_for_timeout(500)
            out = page.locator(".widget-output").filter(has=page.locator("pre", has_text="lr=0.55")).first
            img_after = out.locator("img").first.get_attribute("src")
            assert img_before and img_after and img_before != img_after, "the plot did not change"
            assert "oscillates" in out.inner_text(), "the text did not update"
            # the whole notebook ran: the last cells' outputs (progress widget, quiz) are there
            page.wait_for_function("window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                                   ".status === 'idle'", timeout=240_000)
            assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
                                ).filter(has_text="Traceback").count() == 0
            assert page.locator(".widget-radio-box").count() > 0, "the quiz widget did not render"
            assert page.get_by_text("Would you like to get notified").count() == 0, "news pop-up shown"
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "browser-failure.png"), full_page=True)
            raise
        finally:
            browser.close()


def test_chinese_quiz_question_renders(lab, tmp_path):
    """简体中文 in the quiz widget: the question, its options and the widget's own words, in a CJK font."""
    import nbformat
    from playwright.sync_api import sync_playwright
    from labkit import quiz
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("fc-list") else ""
    if not fonts:
        msg = "no CJK font (apt-get install fonts-wqy-zenhei): Chinese would render as boxes"
        if REQUIRED:
            pytest.fail(msg)
        pytest.skip(msg)
    q = next(q for q in quiz.load("ml_workflow") if q.type == "mcq")
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell(
        "import labkit as lk\n"
        f"qs = [q for q in lk.quiz.load('ml_workflow') if q.id == {q.id!r}]\n"
        "box = lk.quiz.widget(qs, lang='zh', record=False)\nbox.children[1].selected_index = 0\nbox")]
    nbformat.write(nb, tmp_path / "course" / "zh_quiz.ipynb")
    base, token = lab
    import importlib.util
    import json
    if importlib.util.find_spec("jupyterlab_language_pack_zh_CN"):  # the [zh] extra: served by this JupyterLab
        zh_ui = json.loads(urllib.request.urlopen(f"{base}/lab/api/translations/zh_CN?token={token}", timeout=30)
                           .read())
        assert zh_ui.get("data") and not zh_ui.get("message"), zh_ui.get("message")
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        try:
            page.goto(f"{base}/lab/tree/zh_quiz.ipynb?token={token}")
            page.wait_for_function("window.jupyterapp && window.jupyterapp.shell.currentWidget"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                                   " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                                   ".status === 'idle'", timeout=120_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            zh = q.t("zh")
            page.get_by_text(zh["options"][0], exact=False).first.wait_for(timeout=180_000)
            assert page.get_by_text(zh["question"][:20], exact=False).count() > 0, "the Chinese question is missing"
            assert page.locator("button", has_text="检查").count() > 0, "the Check button is not in Chinese"
            assert page.get_by_text("得分", exact=False).count() > 0, "the score line is not in Chinese"
            # fc-list above found a CJK font for Chromium; the screenshot shows the glyphs (not boxes)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "zh-quiz.png"), full_page=True)
        except Exception:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "zh-quiz-failure.png"), full_page=True)
            raise
        finally:
            browser.close()
