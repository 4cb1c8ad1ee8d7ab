"""Tests that kill mutants of labkit/progress.py which tests/test_progress.py leaves alive (issue 15).

Each asserts something a learner or instructor relies on: what is stored in progress.json, what
`labkit progress` and the widget show, and which damaged records are refused or kept.
"""
import json
import re
from types import SimpleNamespace

import pytest

from labkit import progress


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def exercises(monkeypatch):
    """A known list of exercises: two in notebook 00, one in 01, one in 10."""
    exs = [SimpleNamespace(id=i, notebook=i[:2]) for i in ("00.a", "00.b", "01.c", "10.d")]
    monkeypatch.setattr(progress, "_EXERCISES", lambda: exs)
    return exs


def _write(home, data):
    (home / "progress.json").write_text(json.dumps(data), encoding="utf-8")


def test_home_and_path_follow_labkit_home(home, monkeypatch):
    assert progress.home() == home and progress.path() == home / "progress.json"
    monkeypatch.delenv("LABKIT_HOME")
    monkeypatch.setenv("HOME", str(home / "h"))
    assert progress.path() == home / "h" / ".labkit" / "progress.json"


def test_attempts_counted_and_stored_with_a_timestamp(home):
    for passed in (False, False, True, False):
        progress.record_check("00.a", passed)
    rec = json.loads((home / "progress.json").read_text(encoding="utf-8"))["checks"]["00.a"]
    assert rec["attempts"] == 4 and rec["passed"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", rec["last"])
    stored = json.loads((home / "progress.json").read_text(encoding="utf-8"))
    assert stored["version"] == progress.VERSION and stored["quiz"] == {}
    progress.record_check("00.never", False)
    never = progress.load()["checks"]["00.never"]
    assert never["passed"] is False and never["attempts"] == 1


def test_quiz_right_wrong_and_unrated_answers_are_counted(home):
    progress.record_quiz("q1", "cnn", True)
    progress.record_quiz("q1", "cnn", True)
    progress.record_quiz("q1", "cnn", False)
    progress.record_quiz("q1", "cnn", None)  # an open question not rated yet: neither right nor wrong
    progress.record_quiz("q2", "rnn", None)
    q = progress.load()["quiz"]
    assert (q["q1"]["right"], q["q1"]["wrong"], q["q1"]["topic"]) == (2, 1, "cnn")
    assert (q["q2"]["right"], q["q2"]["wrong"]) == (0, 0)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", q["q2"]["last"])


def test_record_rejects_bad_ids(home):
    for bad in ("", None, 3):
        with pytest.raises(TypeError, match="non-empty str"):
            progress.record_check(bad, True)
    for args in ((1, "cnn", True), ("q", None, True)):
        with pytest.raises(TypeError, match="must be str"):
            progress.record_quiz(*args)
    assert not (home / "progress.json").exists()
    with pytest.raises(TypeError, match="function"):
        progress.use_exercises([1, 2])


def test_summary_counts_done_and_total_per_notebook(home, exercises):
    progress.record_check("00.a", True)
    progress.record_check("00.b", False)
    progress.record_check("10.d", True)
    progress.record_check("99.unknown", True)  # not an exercise of the course: not counted
    s = progress.summary()
    assert s["notebooks"] == {"00": {"done": 1, "total": 2}, "01": {"done": 0, "total": 1},
                              "10": {"done": 1, "total": 1}}
    assert list(s["notebooks"]) == ["00", "01", "10"]


def test_quiz_accuracy_per_topic_weakest_first(home):
    for qid, topic, answers in (("a1", "attention", [True, True, True, False]),  # 0.75
                                ("a2", "attention", [True]),                     # topic: 4/5 = 0.8
                                ("c1", "cnn", [True, False]),                    # 0.5
                                ("r1", "rnn", [False]),                          # 0.0
                                ("b1", "bayes", [True, False]),                  # 0.5, ties cnn
                                ("o1", "open_only", [None])):                    # never rated: no accuracy
        for a in answers:
            progress.record_quiz(qid, topic, a)
    s = progress.summary()
    assert s["quiz_accuracy"] == pytest.approx({"attention": 0.8, "cnn": 0.5, "rnn": 0.0, "bayes": 0.5})
    assert s["weakest"] == ["rnn", "bayes", "cnn", "attention"]  # ties in alphabetical order


def test_report_shows_bars_counts_and_percentages(home, exercises):
    progress.record_check("00.a", True)
    progress.record_quiz("c1", "cnn", True)
    progress.record_quiz("c1", "cnn", False)
    progress.record_quiz("c1", "cnn", False)
    progress.record_quiz("r1", "rnn", True)
    lines = progress.report("en").splitlines()
    assert lines[0] == "Progress (exercises passed per notebook)"
    assert "  00  █░" + " " * 10 + " 1/2" in lines
    assert "  01  ░" + " " * 11 + " 0/1" in lines
    assert "Quiz accuracy by topic (weakest first)" in lines
    i = lines.index("Quiz accuracy by topic (weakest first)")
    assert lines[i + 1] == f"  {'cnn':<28} 33%" and lines[i + 2] == f"  {'rnn':<28} 100%"
    assert lines[-1] == f"(file: {progress.path()})"
    zh = progress.report("zh")
    assert "各主题答题正确率" in zh and "（文件：" in zh


def test_report_without_quiz_answers_suggests_a_quiz(home, exercises):
    rep = progress.report("en")
    assert "No quiz answers yet" in rep and "Quiz accuracy" not in rep
    assert "0/2" in rep and "0/1" in rep


def test_widget_shows_bars_weakest_topics_and_refreshes(home, exercises):
    progress.record_check("00.a", True)
    w = progress.widget("en")
    btn, out = w.children
    assert btn.description == "Refresh"
    assert "<progress value='1' max='2'>" in out.value and "1/2" in out.value
    assert "no quiz answers yet" in out.value
    for qid, topic, ok in (("x", "x<b>", False), ("y", "y", True), ("z", "z", False), ("w", "w", False)):
        progress.record_quiz(qid, topic, ok)
    progress.record_check("00.b", True)
    btn.click()  # the learner presses Refresh
    assert "<progress value='2' max='2'>" in out.value and "2/2" in out.value
    weak = out.value.split("Weakest topics:</b>")[1]
    assert weak.strip() == "w, x&lt;b&gt;, z</p>"  # the three weakest, HTML-escaped
    assert "<b>x<b>" not in out.value


def test_widget_of_an_empty_notebook_list_never_divides_by_zero(home, monkeypatch):
    monkeypatch.setattr(progress, "_EXERCISES", lambda: [])
    assert "<table>" in progress.widget("zh").children[1].value


@pytest.mark.parametrize("rec", [
    {"passed": 1},                                  # passed must be a bool
    {"passed": True, "attempts": True},             # attempts must be an int, not a bool
    {"passed": True, "attempts": -1},               # never negative
    {"passed": True, "attempts": "3"},
    {"passed": True, "last": 5},                    # last is a timestamp string
    "passed",
])
def test_invalid_check_records_are_dropped(home, rec):
    _write(home, {"version": 2, "checks": {"00.a": rec, "00.b": {"passed": True, "attempts": 0, "last": ""}},
                  "quiz": {}})
    data, dropped, damaged = progress.read()
    assert damaged is None and list(data["checks"]) == ["00.b"] and len(dropped) == 1 and "00.a" in dropped[0]


@pytest.mark.parametrize("rec", [
    {"topic": 3, "right": 1},
    {"topic": "cnn", "right": -1},
    {"topic": "cnn", "wrong": False},
    {"topic": "cnn", "right": 1.5},
    {"topic": "cnn", "last": None},
    ["cnn"],
])
def test_invalid_quiz_records_are_dropped(home, rec):
    _write(home, {"version": 2, "checks": {}, "quiz": {"bad": rec, "ok": {"topic": "cnn", "right": 0, "wrong": 0,
                                                                          "last": ""}}})
    data, dropped, _ = progress.read()
    assert list(data["quiz"]) == ["ok"] and len(dropped) == 1 and "bad" in dropped[0]


def test_problems_name_the_count_in_words(home):
    _write(home, {"version": 2, "checks": {"a": 1}, "quiz": {}})
    (msg,) = progress.problems()
    assert "has 1 invalid entry that" in msg
    _write(home, {"version": 2, "checks": {"a": 1, "b": 2}, "quiz": {}})
    assert "has 2 invalid entries that" in progress.problems()[0]
    _write(home, {"version": 2, "checks": {}, "quiz": {}})
    assert progress.problems() == []


def test_version_field_is_kept_or_defaults_to_1(home):
    assert progress.validate({"version": 2})[0]["version"] == 2
    assert progress.validate({"version": True})[0]["version"] == 1  # a bool is not a version
    assert progress.validate({"version": "2"})[0]["version"] == 1
    assert progress.validate({})[0]["version"] == 1
    with pytest.raises(ValueError, match="JSON list"):
        progress.validate([])
    assert progress.validate({"checks": [], "quiz": {}})[1] == ["'checks' was a list, not a table"]


def test_unreadable_file_is_reported_not_raised(home):
    (home / "progress.json").write_bytes(b"\xff\xfe\x00not utf-8")
    data, dropped, damaged = progress.read()
    assert data == progress._empty() and dropped == [] and damaged.startswith("cannot read it (UnicodeDecodeError")
    (home / "progress.json").unlink()
    (home / "progress.json").mkdir()  # a folder where the file should be: OSError
    assert progress.read()[2].startswith("cannot read it (IsADirectoryError")


def test_migrate_collapses_renumbered_ids_keeping_the_union():
    """v1 ids 07.x and an already-renumbered 08.x collapse into one record: a pass is kept, attempts add up."""
    old = {"version": 1, "quiz": {},
           "checks": {"07.x": {"passed": True, "attempts": 2}, "08.x": {"passed": False, "attempts": 3},
                      "noid": {"passed": True, "attempts": 1}, "05.y": {"passed": False, "attempts": 1}}}
    new = progress.migrate(old)
    assert new["version"] == 2
    # 07.x → 08.x, and the old 08.x → 09.x; nothing collapses here
    assert new["checks"]["08.x"] == {"passed": True, "attempts": 2}
    assert new["checks"]["09.x"] == {"passed": False, "attempts": 3}
    assert new["checks"]["noid"] == {"passed": True, "attempts": 1} and new["checks"]["05.y"]["attempts"] == 1
    both = progress.migrate({"checks": {"10.z": {"passed": False, "attempts": 2},   # → 11.z
                                        "11.z": {"passed": True, "attempts": 1, "last": "t"}}})  # → 13.z
    assert set(both["checks"]) == {"11.z", "13.z"}
    # two v1 ids that land on the same new id
    dup = {"version": 1, "checks": {}}
    dup["checks"]["07.k"] = {"passed": True, "attempts": 2}
    renum = dict(progress.RENUMBER_V2)
    try:
        progress.RENUMBER_V2["06"] = "08"
        dup["checks"]["06.k"] = {"passed": False, "attempts": 5}
        merged = progress.migrate(dup)
    finally:
        progress.RENUMBER_V2.clear()
        progress.RENUMBER_V2.update(renum)
    assert merged["checks"] == {"08.k": {"passed": True, "attempts": 7}}


def test_migrate_leaves_current_and_unknown_versions_alone():
    cur = {"version": 2, "checks": {"07.x": {"passed": True}}}
    assert progress.migrate(cur)["checks"] == {"07.x": {"passed": True}}
    odd = {"version": "one", "checks": {"07.x": {"passed": True}}}
    assert progress.migrate(odd) == {"version": "one", "checks": {"07.x": {"passed": True}}}
    future = {"version": 3, "checks": {"07.x": {"passed": True}}}
    assert progress.migrate(future)["version"] == 3 and "07.x" in future["checks"]


def test_save_merges_counts_by_taking_the_larger(home):
    progress.record_check("00.a", False)
    progress.record_check("00.a", False)
    progress.record_check("00.a", False)   # disk: 3 attempts, not passed
    progress.record_quiz("q", "cnn", True)  # disk: right 1, wrong 0
    stale = {"version": 2, "checks": {"00.a": {"passed": True, "attempts": 1, "last": "0000"}},
             "quiz": {"q": {"topic": "cnn", "right": 0, "wrong": 4, "last": "9999"}}}
    progress.save(stale)
    data = progress.load()
    a, q = data["checks"]["00.a"], data["quiz"]["q"]
    assert a["passed"] is True and a["attempts"] == 3 and a["last"] != "0000"  # the later timestamp wins
    assert (q["right"], q["wrong"], q["last"]) == (1, 4, "9999")
    stored = json.loads((home / "progress.json").read_text(encoding="utf-8"))
    assert stored["version"] == progress.VERSION


def test_save_migrates_an_old_record_before_merging(home):
    progress.save({"version": 1, "checks": {"07.x": {"passed": True, "attempts": 1}}, "quiz": {}})
    assert set(progress.load()["checks"]) == {"08.x"}


def test_a_damaged_file_is_moved_aside_but_an_invalid_entry_only_copied(home, capsys):
    (home / "progress.json").write_text("{oops", encoding="utf-8")
    progress.record_check("00.a", True)
    kept = list(home.glob("progress.damaged-*.json"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == "{oops"
    assert "was damaged; it was moved to" in capsys.readouterr().err
    assert progress.load()["checks"]["00.a"]["passed"]
    for k in kept:
        k.unlink()
    _write(home, {"version": 2, "checks": {"00.a": {"passed": True, "attempts": 1}, "bad": 7}, "quiz": {}})
    progress.record_check("00.b", True)
    (copy,) = list(home.glob("progress.damaged-*.json"))
    assert "bad" in json.loads(copy.read_text(encoding="utf-8"))["checks"]
    assert "invalid entries were dropped" in capsys.readouterr().err
    assert set(progress.load()["checks"]) == {"00.a", "00.b"}


def test_set_aside_failure_is_reported_and_does_not_lose_the_file(home, monkeypatch, capsys):
    (home / "progress.json").write_text("{oops", encoding="utf-8")

    def refuse(*a, **k):
        raise OSError("read-only")
    monkeypatch.setattr(progress.os, "replace", refuse)
    progress._set_aside(home / "progress.json", "damaged")
    assert "could not keep a copy" in capsys.readouterr().err
    assert (home / "progress.json").read_text(encoding="utf-8") == "{oops"


def test_written_file_is_sorted_readable_json(home):
    progress.record_quiz("zz", "cnn", True)
    progress.record_check("00.a", True)
    text = (home / "progress.json").read_text(encoding="utf-8")
    assert text.index('"checks"') < text.index('"quiz"') < text.index('"version"')
    assert "\n " in text  # indented for a person reading it
    progress.record_quiz("q-中文", "注意力", True)
    assert "注意力" in (home / "progress.json").read_text(encoding="utf-8")  # not \\u escapes


def test_records_with_missing_counts_count_from_zero(home):
    """A valid record may leave out counts (an older labkit wrote them lazily): they count from 0."""
    _write(home, {"version": 2, "checks": {"00.a": {"passed": False}},
                  "quiz": {"q": {"topic": "cnn"}, "r": {"topic": "cnn", "right": 1}}})
    assert progress.summary()["quiz_accuracy"] == {"cnn": 1.0}
    progress.record_quiz("q", "cnn", False)
    progress.record_quiz("r", "cnn", True)
    progress.record_check("00.a", False)
    data = progress.load()
    assert data["quiz"]["q"]["wrong"] == 1 and data["quiz"]["r"]["right"] == 2
    assert data["checks"]["00.a"]["attempts"] == 1
    _write(home, {"version": 2, "checks": {}, "quiz": {"q": {"topic": "cnn", "right": 3}}})
    progress.record_quiz("q", "cnn", True)
    assert progress.load()["quiz"]["q"]["right"] == 4
    _write(home, {"version": 2, "checks": {}, "quiz": {"q": {"topic": "cnn", "wrong": 2}}})
    progress.record_quiz("q", "cnn", True)
    q = progress.load()["quiz"]["q"]
    assert (q["right"], q["wrong"]) == (1, 2)


def test_merge_keeps_the_larger_side_each_way(home):
    progress.record_check("00.a", True)
    progress.record_quiz("q", "cnn", False)
    progress.record_quiz("q", "cnn", False)
    progress.record_quiz("q", "cnn", True)  # disk: right 1, wrong 2, pass
    disk = progress.load()
    progress.save({"version": 2, "checks": {"00.a": {"passed": False, "attempts": 0}},
                   "quiz": {"q": {"topic": "cnn", "right": 0, "wrong": 0}}})
    after = progress.load()
    assert after["checks"]["00.a"]["passed"] is True and after["checks"]["00.a"]["attempts"] == 1
    assert after["checks"]["00.a"]["last"] == disk["checks"]["00.a"]["last"]
    assert (after["quiz"]["q"]["right"], after["quiz"]["q"]["wrong"]) == (1, 2)
    assert after["quiz"]["q"]["last"] == disk["quiz"]["q"]["last"]
    # records without counts or time on the new side keep the disk's
    progress.save({"version": 2, "checks": {"00.a": {"passed": True}}, "quiz": {"q": {"topic": "cnn"}}})
    again = progress.load()
    assert again["checks"]["00.a"]["attempts"] == 1 and again["checks"]["00.a"]["last"] == disk["checks"]["00.a"]["last"]
    assert (again["quiz"]["q"]["right"], again["quiz"]["q"]["wrong"]) == (1, 2)
    # and the other way round: disk records without counts
    _write(home, {"version": 2, "checks": {"00.b": {"passed": False}}, "quiz": {"p": {"topic": "rnn"}}})
    progress.save({"version": 2, "checks": {"00.b": {"passed": False, "attempts": 0}},
                   "quiz": {"p": {"topic": "rnn", "right": 0, "wrong": 0}}})
    d = progress.load()
    assert d["checks"]["00.b"]["attempts"] == 0 and (d["quiz"]["p"]["right"], d["quiz"]["p"]["wrong"]) == (0, 0)


def test_migrated_collapse_keeps_a_later_pass_and_counts_missing_attempts_as_zero(monkeypatch):
    monkeypatch.setitem(progress.RENUMBER_V2, "06", "08")
    merged = progress.migrate({"version": 1, "checks": {"07.k": {"passed": False},
                                                        "06.k": {"passed": True, "attempts": 2}}})
    assert merged["checks"]["08.k"] == {"passed": True, "attempts": 2}
    merged = progress.migrate({"version": 1, "checks": {"07.k": {"passed": False, "attempts": 3},
                                                        "06.k": {"passed": False}}})
    assert merged["checks"]["08.k"]["attempts"] == 3
    assert progress.migrate({"version": 1, "quiz": {}}) == {"version": 2, "quiz": {}, "checks": {}}


def test_a_fresh_learner_has_empty_current_progress(home):
    assert progress.load() == {"version": progress.VERSION, "checks": {}, "quiz": {}}


def test_progress_folder_is_created_however_deep(home, monkeypatch):
    deep = home / "a" / "b" / "c"
    monkeypatch.setenv("LABKIT_HOME", str(deep))
    progress.record_check("00.a", True)
    assert progress.load()["checks"]["00.a"]["passed"] and (deep / "progress.json").exists()


def test_backup_name_says_when(home, capsys):
    (home / "progress.json").write_text("{oops", encoding="utf-8")
    progress.record_check("00.a", True)
    (kept,) = home.glob("progress.damaged-*.json")
    assert re.fullmatch(r"progress\.damaged-\d{8}-\d{6}-\d+\.json", kept.name)


def test_report_and_widget_speak_chinese(home, exercises):
    progress.record_quiz("q", "cnn", True)
    assert progress.report("zh").splitlines()[0] == "进度（每个笔记本已通过的练习）"
    box = progress.widget("zh")
    assert box.children[0].description == "刷新"
    assert "<th>笔记本</th><th>练习</th>" in box.children[1].value and "<b>最薄弱的主题：</b> cnn" in box.children[1].value


def test_merge_takes_the_newer_side_when_it_is_larger(home):
    """A save from a kernel that did more (more answers, a later time) wins field by field."""
    _write(home, {"version": 2, "checks": {"00.a": {"passed": False, "attempts": 0, "last": "2026-01-01T00:00:00"}},
                  "quiz": {"q": {"topic": "cnn", "right": 0, "wrong": 0, "last": "2026-01-01T00:00:00"}}})
    progress.save({"version": 2, "checks": {"00.a": {"passed": False, "last": "2026-02-01T00:00:00"}},
                   "quiz": {"q": {"topic": "cnn", "right": 2, "last": "2026-02-01T00:00:00"}}})
    d = progress.load()
    assert d["checks"]["00.a"]["attempts"] == 0 and d["checks"]["00.a"]["last"] == "2026-02-01T00:00:00"
    assert (d["quiz"]["q"]["right"], d["quiz"]["q"]["wrong"]) == (2, 0) and d["quiz"]["q"]["last"] == "2026-02-01T00:00:00"
