"""The learner's progress file: checks passed and quiz answers (introduced in 00_welcome).

Stored as JSON in ``$LABKIT_HOME/progress.json`` (default ``~/.labkit``). Every write goes to
a temporary file in the same folder, is flushed to disk, then atomically replaces the old file,
so a kernel that dies mid-write leaves either the old or the new file — never half of one.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

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


def load() -> dict[str, Any]:
    """Read the progress file; a missing file is empty progress, a damaged one is set aside."""
    p = path()
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or "checks" not in data or "quiz" not in data:
            raise ValueError("not a labkit progress file")
        return migrate(data)
    except FileNotFoundError:
        return _empty()
    except (ValueError, OSError):
        # keep the damaged file for inspection rather than overwriting the learner's record
        backup = p.with_suffix(f".damaged-{int(time.time())}.json")
        try:
            p.rename(backup)
        except OSError:
            pass
        return _empty()


def save(data: dict[str, Any]) -> Path:
    """Write progress atomically (temp file + fsync + ``os.replace``)."""
    p = path()
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".progress-", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, ensure_ascii=False, sort_keys=True)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return p


def record_check(exercise_id: str, passed: bool) -> None:
    """Record one check attempt; a pass is remembered even if later attempts fail."""
    data = load()
    rec = data["checks"].setdefault(exercise_id, {"passed": False, "attempts": 0})
    rec["attempts"] += 1
    rec["passed"] = bool(rec["passed"] or passed)
    rec["last"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    save(data)


def record_quiz(question_id: str, topic: str, correct: bool | None) -> None:
    """Record a quiz answer (``correct=None`` for a self-assessed open question not yet rated)."""
    data = load()
    rec = data["quiz"].setdefault(question_id, {"topic": topic, "right": 0, "wrong": 0})
    if correct is True:
        rec["right"] += 1
    elif correct is False:
        rec["wrong"] += 1
    rec["last"] = time.strftime("%Y-%m-%dT%H:%M:%S")
    save(data)


def summary() -> dict[str, Any]:
    """Completion per notebook (checks passed / exercises) and quiz accuracy per topic, weakest first."""
    from .check import all_exercises
    data = load()
    per_nb: dict[str, dict[str, int]] = defaultdict(lambda: {"done": 0, "total": 0})
    for ex in all_exercises():
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
