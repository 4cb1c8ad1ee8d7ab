"""The learner's progress file: checks passed and quiz answers (introduced in 00_welcome).

Stored as JSON in ``$LABKIT_HOME/progress.json`` (default ``~/.labkit``). Every write goes to
a temporary file in the same folder, is flushed to disk, then atomically replaces the old file,
so a kernel that dies mid-write leaves either the old or the new file — never half of one. Writes
hold an exclusive lock (``progress.json.lock``) and re-read the file first, so two kernels saving
at once both keep their records. Reading never changes a file: a damaged one is reported (where
it is, what is wrong) and moved aside only by the next write, which says where it went.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from .files import atomic_write_text

VERSION = 2

#: Version 2 renumbered the notebooks when the large-model track (07, 12, 15) was added.
#: Exercise ids recorded under version 1 are moved to their new notebook number on load.
RENUMBER_V2 = {"07": "08", "08": "09", "09": "10", "10": "11", "11": "13", "12": "14",
               "13": "16", "14": "17", "15": "18", "16": "19"}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a progress record of an older version up to :data:`VERSION`; no entry is dropped."""
    version = data.get("version", 1)
    if not isinstance(version, int) or version >= VERSION:
        return data
    if version < 2:
        checks = {}
        for ex_id, rec in data.get("checks", {}).items():
            nn, dot, rest = str(ex_id).partition(".")
            new_id = RENUMBER_V2.get(nn, nn) + dot + rest if dot else ex_id
            old = checks.get(new_id)
            if old is not None and isinstance(old, dict) and isinstance(rec, dict):
                # two old ids collapsed into one: keep the union of what was achieved
                rec = {**old, **rec, "passed": bool(old.get("passed") or rec.get("passed")),
                       "attempts": int(old.get("attempts", 0)) + int(rec.get("attempts", 0))}
            checks[new_id] = rec
        data["checks"] = checks
    data["version"] = VERSION
    return data


def home() -> Path:
    """Folder for labkit's per-user files (``LABKIT_HOME`` or ``~/.labkit``)."""
    return Path(os.environ.get("LABKIT_HOME") or Path.home() / ".labkit")


def path() -> Path:
    """Where the progress file lives."""
    return home() / "progress.json"


def _empty() -> dict[str, Any]:
    return {"version": VERSION, "checks": {}, "quiz": {}}


def _valid_check(rec: Any) -> bool:
    return (isinstance(rec, dict) and isinstance(rec.get("passed"), bool)
            and isinstance(rec.get("attempts", 0), int) and not isinstance(rec.get("attempts", 0), bool)
            and rec.get("attempts", 0) >= 0 and isinstance(rec.get("last", ""), str))


def _valid_quiz(rec: Any) -> bool:
    return (isinstance(rec, dict) and isinstance(rec.get("topic"), str)
            and all(isinstance(rec.get(k, 0), int) and not isinstance(rec.get(k, 0), bool) and rec.get(k, 0) >= 0
                    for k in ("right", "wrong")) and isinstance(rec.get("last", ""), str))


def validate(data: Any) -> tuple[dict[str, Any], list[str]]:
    """Keep the valid parts of a progress record; return it and a list of what was dropped."""
    if not isinstance(data, dict):
        raise ValueError(f"the file holds a JSON {type(data).__name__}, not a labkit progress table")
    dropped: list[str] = []
    out = _empty()
    for key, ok in (("checks", _valid_check), ("quiz", _valid_quiz)):
        part = data.get(key, {})
        if not isinstance(part, dict):
            dropped.append(f"'{key}' was a {type(part).__name__}, not a table")
            continue
        for k, rec in part.items():
            if ok(rec):
                out[key][str(k)] = rec
            else:
                dropped.append(f"{key} entry {str(k)[:40]!r} ({str(rec)[:40]})")
    version = data.get("version", 1)
    out["version"] = version if isinstance(version, int) and not isinstance(version, bool) else 1
    return out, dropped


def read() -> tuple[dict[str, Any], list[str], str | None]:
    """Read the progress file without changing it: (data, what was dropped, why it is unreadable or None)."""
    p = path()
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _empty(), [], None
    except (OSError, UnicodeDecodeError) as exc:
        return _empty(), [], f"cannot read it ({type(exc).__name__}: {exc})"
    try:
        data, dropped = validate(json.loads(raw))
    except ValueError as exc:  # JSONDecodeError is a ValueError
        return _empty(), [], f"it is not a labkit progress file ({str(exc)[:120]})"
    return migrate(data), dropped, None


def load() -> dict[str, Any]:
    """Read the progress file (never changes it); a missing or damaged file reads as empty progress."""
    data, _dropped, _damaged = read()
    return data


def problems() -> list[str]:
    """Plain sentences for the learner about a damaged or partly invalid progress file (read-only)."""
    data, dropped, damaged = read()
    p = path()
    if damaged:
        return [f"Your progress file {p} is damaged: {damaged}. It is left as it is; the next check or quiz "
                f"answer moves it aside to {p.stem}.damaged-<time>.json and starts a new file."]
    if dropped:
        return [f"Your progress file {p} has {len(dropped)} invalid entr{'y' if len(dropped) == 1 else 'ies'} "
                f"that will be dropped (a copy of the file is kept) on the next save: " + "; ".join(dropped[:5])]
    return []


class _Lock:
    """An exclusive lock on ``progress.json.lock`` (fcntl), so concurrent kernels never lose records."""

    def __init__(self, target: Path):
        self.lock_path = target.with_name(target.name + ".lock")
        self.fh = None

    def __enter__(self):
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.lock_path, "a+")
        try:
            import fcntl
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # Windows: msvcrt locks a byte range
            import msvcrt
            msvcrt.locking(self.fh.fileno(), msvcrt.LK_LOCK, 1)
        return self

    def __exit__(self, *exc):
        self.fh.close()  # closing releases the lock


def _merge(disk: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Union of two progress records: a pass is kept, counts take the larger, nothing is dropped."""
    out = {"version": VERSION, "checks": dict(disk["checks"]), "quiz": dict(disk["quiz"])}
    for ex_id, rec in new["checks"].items():
        old = out["checks"].get(ex_id)
        out["checks"][ex_id] = rec if old is None else {
            **old, **rec, "passed": bool(old["passed"] or rec["passed"]),
            "attempts": max(old.get("attempts", 0), rec.get("attempts", 0)),
            "last": max(old.get("last", ""), rec.get("last", ""))}
    for q_id, rec in new["quiz"].items():
        old = out["quiz"].get(q_id)
        out["quiz"][q_id] = rec if old is None else {
            **old, **rec, "right": max(old.get("right", 0), rec.get("right", 0)),
            "wrong": max(old.get("wrong", 0), rec.get("wrong", 0)), "last": max(old.get("last", ""), rec.get("last", ""))}
    return out


def _set_aside(p: Path, why: str) -> None:
    """Move a damaged file aside (only ever on a write) and tell the learner where it went."""
    backup = p.with_name(f"{p.stem}.damaged-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.json")
    try:
        os.replace(p, backup) if why == "damaged" else shutil.copy2(p, backup)
    except OSError as exc:
        print(f"labkit: could not keep a copy of your progress file {p}: {exc}", file=sys.stderr)
        return
    msg = (f"labkit: your progress file {p} was damaged; it was moved to {backup} and a new one started."
           if why == "damaged" else
           f"labkit: invalid entries were dropped from your progress file {p}; the original is kept as {backup}.")
    print(msg, file=sys.stderr)


def _update(change) -> Path:
    """Locked read–modify–write of the progress file: ``change(data)`` edits the freshest record."""
    p = path()
    with _Lock(p):
        data, dropped, damaged = read()
        if damaged and p.exists():
            _set_aside(p, "damaged")
        elif dropped:
            _set_aside(p, "dropped")
        change(data)
        data["version"] = VERSION
        return _write(p, data)


def _write(p: Path, data: dict[str, Any]) -> Path:
    return atomic_write_text(p, json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True), prefix=".progress-")


def save(data: dict[str, Any]) -> Path:
    """Merge ``data`` into the progress file under a lock, atomically (temp file + fsync + ``os.replace``)."""
    clean, dropped = validate(data)
    if dropped:
        raise ValueError(f"not a valid progress record: {'; '.join(dropped[:3])}; build it with load().")
    clean = migrate(clean)

    def merge(current: dict[str, Any]) -> None:
        merged = _merge(current, clean)
        current.clear()
        current.update(merged)
    return _update(merge)


def record_check(exercise_id: str, passed: bool) -> None:
    """Record one check attempt; a pass is remembered even if later attempts fail."""
    if not isinstance(exercise_id, str) or not exercise_id:
        raise TypeError(f"exercise_id must be a non-empty str like '01.sgd_step', got {exercise_id!r}.")

    def change(data: dict[str, Any]) -> None:
        rec = data["checks"].setdefault(exercise_id, {"passed": False, "attempts": 0})
        rec["attempts"] = rec.get("attempts", 0) + 1
        rec["passed"] = bool(rec["passed"] or passed)
        rec["last"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    _update(change)


def record_quiz(question_id: str, topic: str, correct: bool | None) -> None:
    """Record a quiz answer (``correct=None`` for a self-assessed open question not yet rated)."""
    if not isinstance(question_id, str) or not isinstance(topic, str):
        raise TypeError(f"question_id and topic must be str, got {question_id!r} and {topic!r}.")

    def change(data: dict[str, Any]) -> None:
        rec = data["quiz"].setdefault(question_id, {"topic": topic, "right": 0, "wrong": 0})
        if correct is True:
            rec["right"] = rec.get("right", 0) + 1
        elif correct is False:
            rec["wrong"] = rec.get("wrong", 0) + 1
        rec["last"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    _update(change)


#: How to list the course's exercises: ``labkit.check`` registers its ``all_exercises`` here when it
#: is imported (``import labkit`` always imports it), so progress never imports check back.
_EXERCISES: Any = None


def use_exercises(provider: Any) -> None:
    """Register the function that lists the course's exercises (called by ``labkit.check``)."""
    if not callable(provider):
        raise TypeError(f"use_exercises() needs a function returning the exercises, got {type(provider).__name__}.")
    global _EXERCISES
    _EXERCISES = provider


def summary() -> dict[str, Any]:
    """Completion per notebook (checks passed / exercises) and quiz accuracy per topic, weakest first."""
    data = load()
    per_nb: dict[str, dict[str, int]] = defaultdict(lambda: {"done": 0, "total": 0})
    for ex in (_EXERCISES() if _EXERCISES is not None else []):
        per_nb[ex.notebook]["total"] += 1
        if data["checks"].get(ex.id, {}).get("passed"):
            per_nb[ex.notebook]["done"] += 1
    topics: dict[str, dict[str, int]] = defaultdict(lambda: {"right": 0, "wrong": 0})
    for rec in data["quiz"].values():
        topics[rec["topic"]]["right"] += rec.get("right", 0)
        topics[rec["topic"]]["wrong"] += rec.get("wrong", 0)
    acc = {t: v["right"] / (v["right"] + v["wrong"]) for t, v in topics.items() if v["right"] + v["wrong"]}
    weakest = sorted(acc, key=lambda t: (acc[t], t))
    return {"notebooks": dict(sorted(per_nb.items())), "quiz_accuracy": acc, "weakest": weakest}


def report(lang: str | None = None) -> str:
    """A plain-text progress report (``labkit progress``), in the learner's language."""
    from .i18n import check_lang, t as _
    lang = check_lang(lang)
    s = summary()
    lines = [_("progress_title", lang)]
    for nb, v in s["notebooks"].items():
        bar = "█" * v["done"] + "░" * (v["total"] - v["done"])
        lines.append(f"  {nb}  {bar:<12} {v['done']}/{v['total']}")
    if s["quiz_accuracy"]:
        lines.append(_("quiz_accuracy", lang))
        for t in s["weakest"]:
            lines.append(f"  {t:<28} {s['quiz_accuracy'][t]:.0%}")
    else:
        lines.append(_("no_quiz_cli", lang))
    lines += problems()
    lines.append(_("file", lang, path=path()))
    return "\n".join(lines)


def widget(lang: str | None = None):
    """An ipywidgets view of progress with a refresh button (shown in 00_welcome), in ``lang``."""
    import html
    import ipywidgets as w
    from .i18n import check_lang, t as _
    lang = check_lang(lang)
    out = w.HTML()
    btn = w.Button(description=_("refresh", lang), icon="refresh")

    def render(_event=None):
        s = summary()
        rows = "".join(
            f"<tr><td>{nb}</td><td><progress value='{v['done']}' max='{max(v['total'], 1)}'></progress></td>"
            f"<td>{v['done']}/{v['total']}</td></tr>" for nb, v in s["notebooks"].items())
        weak = html.escape(", ".join(s["weakest"][:3]) or _("no_quiz_yet", lang))
        out.value = (f"<table><tr><th>{_('notebook', lang)}</th><th>{_('exercises', lang)}</th><th></th></tr>"
                     f"{rows}</table><p><b>{_('weakest', lang)}</b> {weak}</p>")
    btn.on_click(render)
    render()
    return w.VBox([btn, out])
