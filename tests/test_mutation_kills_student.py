"""Tests that kill mutants of labkit/student.py which tests/test_student.py leaves alive (issue 15).

They use a small synthetic notebook (fast), so every stub, id and manifest entry is known.
"""
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from labkit import student

SOLVED = ("def scale(x):\n"
          "    ### BEGIN SOLUTION\n"
          "    return 2 * x\n"
          "    ### END SOLUTION\n"
          "lk.check('03.scale_up', scale)")


def _nb(path: Path, *cells) -> Path:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def nb(tmp_path):
    out = new_code_cell("print('hello')")
    out.outputs = [new_output("stream", name="stdout", text="hello\n")]
    out.execution_count = 3
    solved = new_code_cell(SOLVED)
    solved.metadata["nbgrader"] = {"solution": True, "grade_id": "x"}
    free = new_code_cell("def other(y):\n    ### BEGIN SOLUTION\n    return y\n    ### END SOLUTION\n")
    prose = new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION")
    return _nb(tmp_path / "src" / "03_demo.ipynb", out, solved, free, prose)


def test_student_version_stubs_each_solution_with_its_exercise_id(nb):
    out = nbformat.reads(student.student_version(nb), as_version=4)
    nbformat.validate(out)
    printed, solved, free, prose = out.cells
    assert printed.outputs == [] and printed.execution_count is None  # outputs cleared
    assert "return 2 * x" not in solved.source and "BEGIN SOLUTION" not in solved.source
    assert "# YOUR CODE HERE — run lk.hint('03.scale_up') for a hint" in solved.source
    assert ("raise NotImplementedError(\"Exercise 03.scale_up: replace this line with your solution; "
            "lk.hint('03.scale_up') gives a hint\")") in solved.source
    assert solved.source.endswith("lk.check('03.scale_up', scale)")
    assert "nbgrader" not in solved.metadata
    # a solution in a cell that checks nothing names no id, and never the internal placeholder
    assert "the exercise id" in free.source and student._GENERIC_ID not in free.source
    assert "return y" not in free.source
    assert "YOUR ANSWER HERE" in prose.source and "Because." not in prose.source


def test_the_stub_of_a_student_copy_runs_into_a_clear_cross(nb):
    solved = nbformat.reads(student.student_version(nb), as_version=4).cells[1]
    ns = {"lk": type("LK", (), {"check": staticmethod(lambda ex_id, fn: fn(1))})}
    with pytest.raises(NotImplementedError, match="Exercise 03.scale_up: replace this line"):
        exec(solved.source, ns)


def test_double_quoted_check_ids_are_found_too(tmp_path):
    src = _nb(tmp_path / "04_q.ipynb",
              new_code_cell(SOLVED.replace("lk.check('03.scale_up', scale)", 'lk.check( "04.dq_id", scale)')))
    cell = nbformat.reads(student.student_version(src), as_version=4).cells[0]
    assert "lk.hint('04.dq_id')" in cell.source


def test_student_version_rejects_missing_and_invalid_notebooks(tmp_path):
    with pytest.raises(ValueError, match="is not a notebook file; pass notebooks/NN_name.ipynb"):
        student.student_version(tmp_path / "nope.ipynb")
    with pytest.raises(ValueError, match="is not a notebook file"):
        student.student_version(tmp_path)  # a folder
    bad = tmp_path / "05_bad.ipynb"
    bad.write_text('{"cells": 3, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}')
    with pytest.raises(ValueError, match=r"is not a valid notebook \(.+\); restore it with `git checkout -- "):
        student.student_version(bad)
    empty = tmp_path / "06_empty.ipynb"
    empty.write_text("")
    with pytest.raises(ValueError, match="is not a valid notebook"):
        student.student_version(empty)


def test_manifest_records_the_hash_of_each_copy(nb, tmp_path):
    out = tmp_path / "student"
    (res,) = student.make(out, [nb])
    assert (res.path, res.action, res.backup, res.error) == (out / nb.name, "written", None, "")
    man = json.loads((out / student.MANIFEST).read_text(encoding="utf-8"))
    assert man == {nb.name: student._sha((out / nb.name).read_bytes())}
    assert not list(out.glob("*.tmp")) and not list(out.glob(".probe-*"))
    # a copy deleted by the learner is written again
    (out / nb.name).unlink()
    assert student.make(out, [nb])[0].action == "written"


def test_manifest_lost_but_copy_unchanged_is_recognised(nb, tmp_path):
    out = tmp_path / "student"
    student.make(out, [nb])
    (out / student.MANIFEST).unlink()
    assert student.make(out, [nb])[0].action == "unchanged"
    # the manifest is rebuilt, so a later edit is still protected and a force keeps a backup
    assert nb.name in json.loads((out / student.MANIFEST).read_text(encoding="utf-8"))


def test_a_changed_source_replaces_an_untouched_copy_without_a_backup(nb, tmp_path):
    out = tmp_path / "student"
    student.make(out, [nb])
    src = nbformat.read(nb, as_version=4)
    src.cells.append(new_markdown_cell("A new section from the instructor."))
    nbformat.write(src, nb)
    (res,) = student.make(out, [nb])
    assert res.action == "written" and res.backup is None
    assert "A new section" in (out / nb.name).read_text(encoding="utf-8")
    assert not list(out.glob("*.bak-*"))


def test_forced_replacements_never_overwrite_an_earlier_backup(nb, tmp_path, monkeypatch):
    out = tmp_path / "student"
    student.make(out, [nb])
    monkeypatch.setattr(student.time, "strftime", lambda fmt: "20260101-000000")  # same second every time
    backups = []
    for k in range(3):
        (out / nb.name).write_text(f"edit {k}", encoding="utf-8")
        (res,) = student.make(out, [nb], force=True)
        assert res.action == "replaced"
        backups.append(res.backup)
    assert [b.name for b in backups] == [f"{nb.name}.bak-20260101-000000", f"{nb.name}.bak-20260101-000000-1",
                                         f"{nb.name}.bak-20260101-000000-2"]
    assert [b.read_text(encoding="utf-8") for b in backups] == ["edit 0", "edit 1", "edit 2"]


def test_force_does_not_back_up_a_copy_the_learner_never_touched(nb, tmp_path):
    out = tmp_path / "student"
    student.make(out, [nb])
    assert student.make(out, [nb], force=True)[0].action == "unchanged"
    assert not list(out.glob("*.bak-*"))


@pytest.mark.parametrize("text", ["[1, 2]", '{"a.ipynb": 3}', '{"a.ipynb": "h", "b": null}', "{bad json"])
def test_a_damaged_manifest_stops_before_anything_is_written(nb, tmp_path, text):
    out = tmp_path / "student"
    out.mkdir()
    (out / student.MANIFEST).write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match="is damaged .*delete it and rerun"):
        student.make(out, [nb])
    assert not (out / nb.name).exists()


def test_manifest_with_valid_entries_is_read(tmp_path):
    p = tmp_path / "m.json"
    assert student._read_manifest(p) == {}
    p.write_text('{"a.ipynb": "abc"}', encoding="utf-8")
    assert student._read_manifest(p) == {"a.ipynb": "abc"}


def test_an_output_path_that_is_a_file_is_refused(nb, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        student.make(f, [nb])
    assert f.read_text() == "x"


def test_the_default_is_every_course_notebook(monkeypatch, tmp_path):
    seen = []
    monkeypatch.setattr(student, "student_version", lambda src: seen.append(Path(src).name) or "{}")
    res = student.make(tmp_path / "s")
    names = sorted(p.name for p in (student.ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert seen == names and [r.path.name for r in res] == names and len(names) >= 10
    monkeypatch.setattr(student, "ROOT", tmp_path / "empty")
    with pytest.raises(ValueError, match="No notebooks found"):
        student.make(tmp_path / "s2")


def test_one_bad_notebook_is_reported_and_the_others_written(nb, tmp_path):
    bad = tmp_path / "src" / "07_bad.ipynb"
    bad.write_text("{not json")
    out = tmp_path / "student"
    res = student.make(out, [bad, nb])
    assert [r.action for r in res] == ["error", "written"]
    assert res[0].path == out / bad.name and "not a valid notebook" in res[0].error
    assert json.loads((out / student.MANIFEST).read_text(encoding="utf-8")).keys() == {nb.name}


def test_unwritable_output_folder_is_named(nb, tmp_path):
    if os.geteuid() == 0:
        out = Path("/proc/labkit-student-test")
    else:
        out = tmp_path / "ro"
        out.mkdir()
        out.chmod(0o500)
    with pytest.raises(ValueError, match=f"cannot write to {out}"):
        student.make(out, [nb])


def test_default_folder_nested_folders_and_a_sorted_manifest(nb, tmp_path, monkeypatch):
    second = _nb(tmp_path / "src" / "01_first.ipynb", new_code_cell("x = 1"))
    monkeypatch.chdir(tmp_path)
    res = student.make(notebooks=[nb, second])  # the default folder is ./student
    assert [r.path for r in res] == [Path("student") / nb.name, Path("student") / second.name]
    text = (tmp_path / "student" / student.MANIFEST).read_text(encoding="utf-8")
    assert text.index(second.name) < text.index(nb.name) and "\n " in text  # sorted, one entry a line
    deep = tmp_path / "a" / "b" / "student"
    assert student.make(deep, [nb])[0].action == "written" and (deep / nb.name).exists()
    assert not [p for p in deep.iterdir() if p.name not in (nb.name, student.MANIFEST)]  # no probe left


def test_a_skipped_copy_is_named_so_the_learner_knows_which(nb, tmp_path):
    out = tmp_path / "student"
    student.make(out, [nb])
    (out / nb.name).write_text("my edits", encoding="utf-8")
    (res,) = student.make(out, [nb])
    assert (res.path, res.action, res.backup) == (out / nb.name, "skipped", None)


@pytest.mark.parametrize("exc,why", [(ValueError("first line " + "x" * 200 + "\nsecond line"), "first line " + "x" * 109),
                                     (OSError(), "OSError"), (ValueError("   "), "ValueError")])
def test_an_unreadable_notebook_is_named_with_the_first_line_of_the_reason(nb, monkeypatch, exc, why):
    def unreadable(*a, **k):
        raise exc
    monkeypatch.setattr(nbformat, "read", unreadable)
    with pytest.raises(ValueError) as info:
        student.student_version(nb)
    assert f"is not a valid notebook ({why}); restore it" in str(info.value)


def test_an_unchanged_copy_does_not_stop_the_notebooks_after_it(nb, tmp_path):
    out = tmp_path / "student"
    student.make(out, [nb])
    later = _nb(tmp_path / "src" / "04_later.ipynb", new_code_cell(SOLVED))
    first, second = student.make(out, [nb, later])
    assert (first.path, first.action) == (out / nb.name, "unchanged")
    assert (second.path, second.action) == (out / later.name, "written") and (out / later.name).exists()
    assert set(json.loads((out / student.MANIFEST).read_text(encoding="utf-8"))) == {nb.name, later.name}


def test_the_write_probe_runs_in_the_output_folder(nb, tmp_path, monkeypatch):
    """Root can write anywhere, so the probe's place is checked directly: it must test --out, not /tmp."""
    import tempfile
    seen, real = [], tempfile.mkstemp

    def recording(*a, **k):
        seen.append(k.get("dir"))
        return real(*a, **k)
    monkeypatch.setattr(student.tempfile, "mkstemp", recording)
    out = tmp_path / "student"
    student.make(out, [nb])
    assert seen and seen[0] == out and not list(out.glob(".probe-*"))
