import subprocess
import sys

import pytest

import labkit as lk
from labkit import cli, doctor


def test_report_has_everything():
    r = doctor.report(check_network=False)
    assert r["versions"]["tensorflow"].startswith("2.")
    assert "avx512_bf16" in r["cpu_flags"] and isinstance(r["bf16_fast"], bool)
    assert r["datasets"]["digits"] == "ok" and not r["missing"]
    text = doctor.format_report(r)
    assert "bfloat16" in text and "Datasets" in text and "run time" in text


def test_guard_passes_here_and_names_the_fix(monkeypatch):
    doctor.guard()
    monkeypatch.setattr(doctor, "missing_packages", lambda: ["shap"])
    with pytest.raises(RuntimeError, match="make lab"):
        doctor.guard()


def test_setup_seeds_and_validates(capsys):
    import numpy as np
    cfg = lk.setup(seed=3)
    a = np.random.rand()
    lk.setup(seed=3, quiet=True)
    assert a == np.random.rand() and cfg.seed == 3 and cfg.profile == "default"
    assert "Keras 3" in capsys.readouterr().out
    with pytest.raises(TypeError):
        lk.setup(seed="0")
    with pytest.raises(ValueError):
        lk.setup(seed=-1)


def test_profile_env(monkeypatch):
    monkeypatch.setenv("LABKIT_PROFILE", "huge")
    with pytest.raises(ValueError, match="LABKIT_PROFILE"):
        lk.profile()


def test_cli_doctor_runs_as_a_command():
    out = subprocess.run([sys.executable, "-m", "labkit.cli", "doctor", "--offline"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "labkit doctor" in out.stdout


def test_cli_quiz_list_and_data(capsys):
    assert cli.main(["quiz", "--list"]) == 0
    assert "ml_workflow" in capsys.readouterr().out
    assert cli.main(["data"]) == 0
    assert "mnist1d" in capsys.readouterr().out


def test_cli_errors_are_clear(capsys):
    assert cli.main(["quiz", "--topic", "nope"]) == 2
    assert "No quiz topic" in capsys.readouterr().err


def test_plan_lists_notebooks_and_exercises(tmp_path, monkeypatch):
    from labkit import course
    monkeypatch.setattr(course, "PLAN", tmp_path / "plan.md")
    text = course.plan()
    assert "Half day" in text and "Day 1" in text and "00.standardize" in text


def test_syllabus_table():
    from labkit import course
    t = course.syllabus_table()
    assert "00_welcome.ipynb" in t and "Welcome" in t


def test_readme_has_commands_and_every_notebook():
    from labkit import course
    text = course.README.read_text(encoding="utf-8")
    for must in ("make lab", "make test", "conda env create -f environment.yml", "GPU"):
        assert must in text
    for p in course.notebooks():
        assert f"`{p.name}`" in text, f"README's syllabus lacks {p.name}: run `make timings`"


def test_widgets_live_redraws():
    import ipywidgets as w
    from labkit import widgets
    calls = []
    box = widgets.live(lambda lr: calls.append(lr) or f"lr={lr}", lr=w.FloatSlider(value=0.1, min=0, max=1))
    box.children[0].value = 0.5
    assert calls == [0.1, 0.5]
    with pytest.raises(TypeError, match="ipywidgets"):
        widgets.live(lambda x: None, x=3)
    with pytest.raises(ValueError):
        widgets.live(lambda: None)


def test_doctor_fails_when_a_dataset_fails_verification(monkeypatch, capsys):
    from labkit import data
    monkeypatch.setattr(data, "status", lambda: {"digits": "ok", "mnist1d": "problem: checksum mismatch"})
    assert doctor.main(check_network=False) == 1
    assert "mnist1d" in capsys.readouterr().err
    monkeypatch.setattr(data, "status", lambda: {"digits": "ok"})
    assert doctor.main(check_network=False) == 0
