import json
import os

import pytest

from labkit import progress


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path))
    return tmp_path


def test_record_and_summary(home):
    progress.record_check("00.standardize", False)
    progress.record_check("00.standardize", True)
    progress.record_check("00.standardize", False)  # a pass is remembered
    progress.record_quiz("q1", "cnn", True)
    progress.record_quiz("q2", "rnn", False)
    s = progress.summary()
    assert s["notebooks"]["00"] == {"done": 1, "total": 1}
    assert s["weakest"][0] == "rnn"
    rep = progress.report()
    assert "00" in rep and "rnn" in rep


def test_atomic_write_survives_crash_mid_write(home, monkeypatch):
    progress.record_check("00.standardize", True)
    before = progress.path().read_text()

    def crash(*a, **k):
        raise KeyboardInterrupt("kernel died")
    monkeypatch.setattr(progress.json, "dump", crash)
    with pytest.raises(KeyboardInterrupt):
        progress.record_quiz("q", "cnn", True)
    assert progress.path().read_text() == before  # the old file is intact
    assert not [p for p in os.listdir(home) if p.endswith(".tmp")]  # no debris left


def test_damaged_file_is_kept_aside(home):
    progress.path().parent.mkdir(parents=True, exist_ok=True)
    progress.path().write_text("{not json")
    assert progress.load()["checks"] == {}
    assert list(home.glob("progress.damaged-*.json"))


def test_widget_renders(home):
    progress.record_check("00.standardize", True)
    w = progress.widget()
    assert "00" in w.children[1].value


def test_version1_progress_is_migrated_to_the_renumbered_notebooks(home):
    """Records made before the large-model track renumbered the notebooks keep every entry."""
    import json
    old = {"version": 1, "quiz": {"cnn-01": {"topic": "cnn", "right": 1, "wrong": 0}},
           "checks": {"00.standardize": {"passed": True, "attempts": 1},
                      "07.roc_auc_trapezoid": {"passed": True, "attempts": 3},
                      "11.fake_quant": {"passed": False, "attempts": 2},
                      "16.stable_softmax": {"passed": True, "attempts": 1}}}
    progress.path().parent.mkdir(parents=True, exist_ok=True)
    progress.path().write_text(json.dumps(old))
    data = progress.load()
    assert data["version"] == progress.VERSION
    assert set(data["checks"]) == {"00.standardize", "08.roc_auc_trapezoid", "13.fake_quant",
                                   "19.stable_softmax"}
    assert data["checks"]["08.roc_auc_trapezoid"] == {"passed": True, "attempts": 3}
    assert data["quiz"] == old["quiz"]
    # every migrated id names an exercise that exists now
    from labkit.check import all_exercises
    ids = {ex.id for ex in all_exercises()}
    assert set(data["checks"]) <= ids
    # the migration is saved with the next record, and is not applied twice
    progress.record_check("13.fake_quant", True)
    again = progress.load()
    assert again["checks"]["13.fake_quant"]["passed"] and "16.stable_softmax" not in again["checks"]
