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

    def crash(*a, **k):  # the new text is written but not yet on disk or renamed
        raise KeyboardInterrupt("kernel died")
    monkeypatch.setattr(progress.os, "fsync", crash)
    with pytest.raises(KeyboardInterrupt):
        progress.record_quiz("q", "cnn", True)
    assert progress.path().read_text() == before  # the old file is intact
    assert not [p for p in os.listdir(home) if p.endswith(".tmp")]  # no debris left


def test_damaged_file_is_reported_and_kept_aside_only_on_write(home, capsys):
    progress.path().parent.mkdir(parents=True, exist_ok=True)
    progress.path().write_text("{not json")
    assert progress.load()["checks"] == {}
    # the read-only report tells the learner and changes nothing
    rep = progress.report()
    assert "damaged" in rep and str(progress.path()) in rep
    assert progress.path().read_text() == "{not json" and not list(home.glob("progress.damaged-*.json"))
    from labkit import cli
    assert cli.main(["progress"]) == 0
    assert progress.path().read_text() == "{not json" and not list(home.glob("progress.damaged-*.json"))
    capsys.readouterr()
    # the next write moves it aside and says where
    progress.record_check("00.standardize", True)
    kept = list(home.glob("progress.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"
    err = capsys.readouterr().err
    assert str(kept[0]) in err
    assert progress.load()["checks"]["00.standardize"]["passed"]


def test_wrong_structure_keeps_valid_entries_and_says_what_was_dropped(home, capsys):
    bad = {"version": 2, "checks": {"00.standardize": {"passed": True, "attempts": 2},
                                    "01.sgd_step": "yes", "02.x": {"passed": "maybe"}},
           "quiz": ["not", "a", "table"]}
    progress.path().parent.mkdir(parents=True, exist_ok=True)
    progress.path().write_text(json.dumps(bad))
    data = progress.load()
    assert data["checks"] == {"00.standardize": {"passed": True, "attempts": 2}} and data["quiz"] == {}
    rep = progress.report()
    assert "3 invalid entries" in rep and "01.sgd_step" in rep
    s = progress.summary()  # no traceback
    assert s["notebooks"]["00"]["done"] == 1
    progress.record_quiz("q1", "cnn", True)  # saving works, and the original is kept
    assert "dropped" in capsys.readouterr().err
    assert json.loads(list(home.glob("progress.damaged-*.json"))[0].read_text()) == bad
    data = progress.load()
    assert data["checks"]["00.standardize"]["passed"] and data["quiz"]["q1"]["right"] == 1
    for wrong in ([1, 2], "text", 3):
        progress.path().write_text(json.dumps(wrong))
        assert progress.load()["checks"] == {} and "damaged" in progress.report()


def _writer(home, k, n):
    os.environ["LABKIT_HOME"] = home
    from labkit import progress as pr
    for i in range(n):
        pr.record_check(f"w{k}.ex{i}", i % 2 == 0)


def test_concurrent_writers_keep_every_record(home):
    import multiprocessing as mp
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(home), k, 50)) for k in range(6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    checks = progress.load()["checks"]
    assert len(checks) == 300
    assert sum(r["passed"] for r in checks.values()) == 150


def test_save_merges_instead_of_overwriting(home):
    stale = progress.load()
    progress.record_check("00.standardize", True)  # another kernel records meanwhile
    stale["quiz"]["q9"] = {"topic": "cnn", "right": 1, "wrong": 0}
    progress.save(stale)
    data = progress.load()
    assert data["checks"]["00.standardize"]["passed"] and data["quiz"]["q9"]["right"] == 1
    with pytest.raises(ValueError, match="not a valid progress record"):
        progress.save({"checks": {"a": 1}, "quiz": {}})


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


def test_atomic_write_text(tmp_path, monkeypatch):
    from labkit import files
    target = tmp_path / "sub" / "f.csv"
    assert files.atomic_write_text(target, "a,b\r\nc\n", newline="") == target
    assert target.read_bytes() == b"a,b\r\nc\n"                      # newline="": written as given
    files.atomic_write_text(target, "é\n", prefix=".x-")
    assert target.read_text(encoding="utf-8") == "é\n"

    def full(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(files.os, "replace", full)
    with pytest.raises(OSError, match="disk full"):
        files.atomic_write_text(target, "lost")
    assert target.read_text(encoding="utf-8") == "é\n" and sorted(p.name for p in target.parent.iterdir()) == ["f.csv"]
