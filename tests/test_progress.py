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
