"""Interview questions: a bilingual bank in data files, quizzes as widgets or in a terminal.

The bank is ``labkit/quizbank/<topic>.toml`` (one file per notebook topic), plain data: no code,
and answers are compared by option index or self-assessed — never evaluated. Each question has
an id, a type (``mcq`` or ``open``), a difficulty, the notebook section that teaches it, and an
``en`` and a ``zh`` (简体中文) text. Multiple-choice questions explain every option; open
questions show the model answer after the learner has written theirs.

    lk.quiz.widget("gradient_descent")           # end of notebook 01
    labkit quiz --topic gradient_descent --lang zh   # terminal drill
"""
from __future__ import annotations

import random
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

BANK_DIR = Path(__file__).resolve().parent / "quizbank"
LANGS = ("en", "zh")
DIFFICULTIES = ("easy", "medium", "hard")
MIN_PER_TOPIC = 12

#: notebook → topic; the bank file of each topic is quizbank/<topic>.toml
TOPICS = {
    "00": "ml_workflow", "01": "gradient_descent", "02": "losses", "03": "regularization",
    "04": "data_pipelines", "05": "cnn", "06": "rnn", "07": "attention_transformers", "08": "evaluation",
    "09": "transfer_learning",
    "10": "mixed_precision", "11": "distributed", "12": "training_large_models", "13": "compression",
    "14": "deployment", "15": "serving_llms",
    "16": "explainability", "17": "privacy_security", "18": "drift",
}


@dataclass(frozen=True)
class Question:
    """One bank question; ``text[lang]`` holds question/options/explanations/answer text."""
    id: str
    topic: str
    type: str
    difficulty: str
    section: str
    text: dict[str, dict[str, Any]]
    answer: int | None = None  # index of the right option (mcq)

    def t(self, lang: str) -> dict[str, Any]:
        if lang not in LANGS:
            raise ValueError(f"Unknown language {lang!r}; use one of {LANGS}.")
        return self.text[lang]

    def is_correct(self, choice: int) -> bool:
        """Whether option ``choice`` (0-based) is the right one (mcq only)."""
        if self.type != "mcq":
            raise ValueError(f"{self.id} is an open question; it is self-assessed against the model answer.")
        if isinstance(choice, bool) or not isinstance(choice, int):
            raise TypeError(f"choice must be an option index (int), got {type(choice).__name__}.")
        if not 0 <= choice < len(self.text["en"]["options"]):
            raise ValueError(f"choice must be between 0 and {len(self.text['en']['options']) - 1}, got {choice}.")
        return choice == self.answer


def _fail(where: str, msg: str) -> None:
    raise ValueError(f"{where}: {msg}")


def _parse(path: Path) -> tuple[str, dict[str, str], list[Question]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path.name} is not valid TOML: {exc}") from None
    topic = data.get("topic") or _fail(path.name, "missing 'topic'")
    title = data.get("title") or _fail(path.name, "missing 'title' = {en=..., zh=...}")
    qs = []
    for i, q in enumerate(data.get("questions", [])):
        where = f"{path.name} question {i + 1} ({q.get('id', '?')})"
        for key in ("id", "type", "difficulty", "section"):
            if not q.get(key):
                _fail(where, f"missing {key!r}")
        if q["type"] not in ("mcq", "open"):
            _fail(where, "type must be 'mcq' or 'open'")
        if q["difficulty"] not in DIFFICULTIES:
            _fail(where, f"difficulty must be one of {DIFFICULTIES}")
        text = {}
        for lang in LANGS:
            t = q.get(lang) or _fail(where, f"missing the [{lang}] text")
            if not t.get("question") or not t.get("explanation"):
                _fail(where, f"[{lang}] needs 'question' and 'explanation'")
            if q["type"] == "mcq":
                opts, expl = t.get("options"), t.get("explanations")
                if not opts or len(opts) < 2:
                    _fail(where, f"[{lang}] an mcq needs ≥ 2 options")
                if not expl or len(expl) != len(opts):
                    _fail(where, f"[{lang}] needs one explanation per option ({len(opts)})")
            elif not t.get("answer"):
                _fail(where, f"[{lang}] an open question needs a model 'answer'")
            text[lang] = t
        answer = None
        if q["type"] == "mcq":
            answer = q.get("answer")
            if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(text["en"]["options"]):
                _fail(where, "'answer' must be the 0-based index of the right option")
            if len(text["en"]["options"]) != len(text["zh"]["options"]):
                _fail(where, "en and zh must have the same number of options")
        qs.append(Question(id=q["id"], topic=topic, type=q["type"], difficulty=q["difficulty"],
                           section=q["section"], text=text, answer=answer))
    return topic, title, qs


def topics() -> list[str]:
    """Topics that have a bank file."""
    return sorted(p.stem for p in BANK_DIR.glob("*.toml") if p.stem != "glossary")


def load(topic: str | None = None) -> list[Question]:
    """Questions of one topic (or of all topics); ``ValueError`` naming the topics if unknown."""
    if topic is not None and not isinstance(topic, str):
        raise TypeError(f"topic must be a string such as 'gradient_descent', got {type(topic).__name__}.")
    names = topics()
    if topic is not None and topic not in names:
        raise ValueError(f"No quiz topic {topic!r}. Topics: {', '.join(names) or '(none yet)'}.")
    out = []
    for name in ([topic] if topic else names):
        out.extend(_parse(BANK_DIR / f"{name}.toml")[2])
    return out


def title(topic: str, lang: str = "en") -> str:
    """A topic's display title."""
    return _parse(BANK_DIR / f"{topic}.toml")[1].get(lang, topic)


def glossary() -> list[dict[str, str]]:
    """The bilingual glossary: entries with ``en``, ``zh``, ``definition_en``, ``definition_zh``."""
    p = BANK_DIR / "glossary.toml"
    if not p.exists():
        return []
    return tomllib.loads(p.read_text(encoding="utf-8")).get("terms", [])


def sample(topics_: Sequence[str] | None = None, n: int = 10, seed: int | None = None) -> list[Question]:
    """``n`` questions drawn across ``topics_`` (all topics by default), spread evenly."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}.")
    rng = random.Random(seed)
    pools = {t: load(t) for t in (topics_ or topics())}
    for q in pools.values():
        rng.shuffle(q)
    out: list[Question] = []
    while len(out) < n and any(pools.values()):
        for t in list(pools):
            if pools[t] and len(out) < n:
                out.append(pools[t].pop())
    return out


# ------------------------------------------------------------------ terminal drill
def drill(topic: str, lang: str | None = None, n: int | None = None, seed: int | None = None,
          ask: Callable[[str], str] = input, say: Callable[[str], None] = print) -> dict[str, int]:
    """Ask questions in a terminal, in the learner's language; returns counts of right, wrong, asked.

    Full-width letters typed by Chinese input methods (``Ｂ``) count as ``B``. A closed standard
    input raises ``EOFError`` (the CLI turns it into a one-line message).
    """
    from .i18n import check_lang, normalize_answer, t as _
    lang = check_lang(lang)
    qs = load(topic)
    random.Random(seed).shuffle(qs)
    qs = qs[:n] if n else qs
    score = {"right": 0, "wrong": 0, "asked": 0}
    from . import progress
    for k, q in enumerate(qs, 1):
        tx = q.t(lang)
        say(f"\n[{k}/{len(qs)}] ({_(q.difficulty, lang)}) {tx['question']}")
        score["asked"] += 1
        if q.type == "mcq":
            for i, o in enumerate(tx["options"]):
                say(f"  {chr(65 + i)}. {o}")
            while True:
                raw = normalize_answer(ask(_("answer_prompt", lang)))
                if raw == "Q":
                    return score
                if len(raw) == 1 and 0 <= ord(raw) - 65 < len(tx["options"]):
                    break
                say(_("one_letter", lang, last=chr(64 + len(tx["options"]))))
            choice = ord(raw) - 65
            ok = q.is_correct(choice)
            say((_("right", lang) if ok else _("wrong", lang, letter=chr(65 + q.answer))) + tx["explanation"])
            for i, e in enumerate(tx["explanations"]):
                say(f"  {chr(65 + i)}: {e}")
        else:
            mine = normalize_answer(ask(_("open_prompt", lang)))
            if mine == "Q":
                return score
            say(_("model_answer", lang) + tx["answer"])
            say(_("why", lang) + tx["explanation"])
            rate = normalize_answer(ask(_("covered_prompt", lang)))
            ok = rate.startswith("Y") or rate.startswith("是")
        score["right" if ok else "wrong"] += 1
        progress.record_quiz(q.id, q.topic, ok)
    say("\n" + _("score", lang, right=score["right"], asked=score["asked"]))
    return score


# ------------------------------------------------------------------ notebook widget
def _question_widget(q: Question, lang: str, on_result: Callable[[Question, bool], None]):
    import html
    import ipywidgets as w
    from .i18n import t as _
    t = q.t(lang)
    head = w.HTML(f"<b>{html.escape(q.id)}</b> <i>({_(q.difficulty, lang)} · {html.escape(q.section)})</i><br>"
                  f"{html.escape(t['question'])}")
    feedback = w.HTML()
    if q.type == "mcq":
        choice = w.RadioButtons(options=[(o, i) for i, o in enumerate(t["options"])], value=None,
                                layout=w.Layout(width="auto"))
        btn = w.Button(description=_("check", lang), button_style="primary")

        def check(_button: Any = None) -> None:
            if choice.value is None:
                feedback.value = _("pick_first", lang)
                return
            ok = q.is_correct(choice.value)
            items = "".join(f"<li>{'✓' if i == q.answer else '✗'} {html.escape(e)}</li>"
                            for i, e in enumerate(t["explanations"]))
            feedback.value = (f"<b>{'✓' if ok else '✗'}</b> {html.escape(t['explanation'])}<ul>{items}</ul>")
            on_result(q, ok)
        btn.on_click(check)
        box = w.VBox([head, choice, btn, feedback])
        box.choose = lambda i: (setattr(choice, "value", i), check())  # for tests
        return box
    mine = w.Textarea(placeholder=_("write_first", lang),
                      layout=w.Layout(width="95%", height="80px"))
    show = w.Button(description=_("show_answer", lang), disabled=True)
    good = w.Button(description=_("covered", lang), disabled=True)
    bad = w.Button(description=_("missed", lang), disabled=True)
    mine.observe(lambda ch: setattr(show, "disabled", len(ch["new"].strip()) < 3), names="value")

    def reveal(_button: Any = None) -> None:
        feedback.value = (f"<b>{html.escape(_('model_answer', lang))}</b> {html.escape(t['answer'])}<br>"
                          f"<i>{html.escape(t['explanation'])}</i>")
        good.disabled = bad.disabled = False
    show.on_click(reveal)
    good.on_click(lambda _: (on_result(q, True), setattr(good, "disabled", True), setattr(bad, "disabled", True)))
    bad.on_click(lambda _: (on_result(q, False), setattr(good, "disabled", True), setattr(bad, "disabled", True)))
    return w.VBox([head, mine, show, feedback, w.HBox([good, bad])])


def widget(topic: str | Sequence[Question], lang: str | None = None, n: int | None = None, seed: int | None = 0,
           record: bool = True):
    """An ipywidgets quiz over a topic's questions (or a given list), with a running score, in ``lang``."""
    import ipywidgets as w
    from .i18n import check_lang, t as _
    lang = check_lang(lang)
    qs = load(topic) if isinstance(topic, str) else list(topic)
    if isinstance(topic, str):
        random.Random(seed).shuffle(qs)
    qs = qs[:n] if n else qs
    score = w.HTML()
    results: dict[str, bool] = {}

    def on_result(q: Question, ok: bool) -> None:
        results[q.id] = ok
        score.value = (f"<b>{_('score', lang, right=sum(results.values()), asked=len(qs))}</b> "
                       f"{_('answered', lang, n=len(results))}")
        if record:
            from . import progress
            progress.record_quiz(q.id, q.topic, ok)

    items = [_question_widget(q, lang, on_result) for q in qs]
    acc = w.Accordion(children=items, titles=tuple(f"{i + 1}. {q.t(lang)['question'][:70]}" for i, q in enumerate(qs)))
    box = w.VBox([score, acc])
    box.results = results  # type: ignore[attr-defined]
    box.items = items  # type: ignore[attr-defined]
    score.value = f"<b>{_('score', lang, right=0, asked=len(qs))}</b>"
    return box
