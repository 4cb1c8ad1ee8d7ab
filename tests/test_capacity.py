"""`make capacity`: the measurement (a tiny notebook with a known memory and CPU cost) and the table."""
import json

import nbformat
import pytest

from labkit import course

DATA = {"measured": "2026-12-06 22:40", "machine": "x86_64, 2 cores", "load_average_at_start": 0.3,
        "notebooks": {"00_welcome": {"peak_mb": 800, "cpu_s": 18.0, "wall_s": 11.0},
                      "05_cnn": {"peak_mb": 1500, "cpu_s": 60.0, "wall_s": 30.0}},
        "concurrent_notebook": "05_cnn",
        "concurrent": {"1": {"mean_wall_s": 30.0, "slowdown": 1.0}, "2": {"mean_wall_s": 45.0, "slowdown": 1.5}}}


def test_learners_per_server_follows_the_stated_assumptions():
    c = course.learners_per_server(DATA, 8, 32)
    # memory: (32 - 2) GB over (1500 MB peak + 250 MB server) per learner
    assert c["by_memory"] == int(30 * 1024 // 1750)
    # CPU: 8 cores × 70 % × 3600 s over 60 CPU-s × 4 runs an hour
    assert c["by_cpu"] == int(8 * 0.7 * 3600 // 240)
    assert c["learners"] == min(c["by_memory"], c["by_cpu"])
    big = course.learners_per_server(DATA, 16, 64)
    assert big["learners"] >= 2 * c["learners"] - 1
    with pytest.raises(ValueError, match="vcpu"):
        course.learners_per_server(DATA, 0, 32)
    with pytest.raises(ValueError, match="kept for the system"):
        course.learners_per_server(DATA, 8, 1)


def test_table_names_heaviest_first_and_states_assumptions():
    t = course.capacity_table(DATA)
    rows = [l for l in t.splitlines() if l.startswith("| 0")]
    assert rows[0].startswith("| 05_cnn")  # heaviest (CPU-seconds) first
    assert "8 vCPU / 32 GB" in t and "16 vCPU / 64 GB" in t and "Assumptions" in t and "idle" in t
    assert "loaded machine" in course.capacity_table(dict(DATA, load_average_at_start=9.0))


def test_measurement_sees_memory_and_cpu(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(
        "import time\nblock = bytearray(300 * 2**20)\nfor i in range(0, len(block), 4096): block[i] = 1\n"
        "t = time.process_time()\nwhile time.process_time() - t < 2.0: pass\ntime.sleep(1.0)")]
    path = tmp_path / "99_probe.ipynb"
    nbformat.write(nb, path)
    rec = course._run_measured([path], timeout=300)[0]
    assert rec["peak_mb"] >= 300, rec   # the kernel's 300 MB block is seen in the process tree
    assert rec["cpu_s"] >= 2.0, rec     # the kernel's busy loop is counted (children's CPU time)
    assert rec["wall_s"] >= 3.0, rec


def test_bad_arguments():
    with pytest.raises(ValueError, match="No notebook matches"):
        course.capacity(["zz"])
    with pytest.raises(ValueError, match="ns must be"):
        course.capacity(["00"], ns=(0,))
    with pytest.raises(TypeError, match="prefixes"):
        course.capacity("00")


def test_a_failure_in_the_concurrent_stage_keeps_the_notebooks_and_reuse_continues(tmp_path, monkeypatch):
    monkeypatch.setattr(course, "CAPACITY", tmp_path / "capacity.json")
    monkeypatch.setattr(course, "WORKSHOP_README", tmp_path / "README.md")
    measured = []

    def fake(paths, timeout=600):
        if len(paths) > 1:
            raise RuntimeError("a kernel stalled")
        measured.append(paths[0].stem)
        return [{"notebook": paths[0].stem, "wall_s": 10.0, "peak_mb": 900, "cpu_s": 9.0 + len(measured)}]
    monkeypatch.setattr(course, "_run_measured", fake)
    with pytest.raises(RuntimeError, match="stalled"):
        course.capacity(["00", "01"], ns=(2, 4), echo=lambda *_: None)
    saved = json.loads((tmp_path / "capacity.json").read_text())
    assert saved["partial"] and sorted(saved["notebooks"]) == sorted(measured) and len(measured) == 2

    monkeypatch.setattr(course, "_run_measured", lambda paths, timeout=600: [
        {"notebook": paths[0].stem, "wall_s": 12.0, "peak_mb": 950, "cpu_s": 11.0} for _ in paths])
    data = course.capacity(["00", "01"], ns=(1, 2), echo=lambda *_: None, reuse=True)
    assert data["notebooks"] == saved["notebooks"]            # kept, not measured again
    assert "partial" not in data and data["concurrent"]["2"]["slowdown"] == 1.0
    assert data["concurrent_notebook"] == max(saved["notebooks"].values(), key=lambda r: r["cpu_s"])["notebook"]
