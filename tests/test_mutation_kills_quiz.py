"""Tests that kill mutants of labkit/quiz.py which tests/test_quiz.py leaves alive (issue 15).

They run on a small synthetic bank (BANK_DIR patched), so every count and boundary is known.
"""
import pytest

from labkit import quiz

MCQ = """
[[questions]]
id = "{id}"
type = "mcq"
difficulty = "{diff}"
section = "s · {id}"
answer = {answer}
[questions.en]
question = "Q {id}?"
options = ["a", "b", "c"]
explanations = ["ea", "eb", "ec"]
explanation = "because {id}"
[questions.zh]
question = "问 {id}?"
options = ["甲", "乙", "丙"]
explanations = ["解甲", "解乙", "解丙"]
explanation = "因为 {id}"
"""
OPEN = """
[[questions]]
id = "{id}"
type = "open"
difficulty = "hard"
section = "s · {id}"
[questions.en]
question = "Explain {id}."
answer = "model answer {id}"
explanation = "why {id}"
[questions.zh]
question = "解释 {id}。"
answer = "参考答案 {id}"
explanation = "原因 {id}"
"""


def _bank(topic, body, title='{ en = "Title T", zh = "标题" }'):
    return f'topic = "{topic}"\ntitle = {title}\n' + body


@pytest.fixture
def bank(tmp_path, monkeypatch):
    monkeypatch.setattr(quiz, "BANK_DIR", tmp_path)
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path / "home"))
    (tmp_path / "tt.toml").write_text(_bank("tt", MCQ.format(id="m1", diff="easy", answer=0)
                                            + MCQ.format(id="m2", diff="medium", answer=2)
                                            + OPEN.format(id="o1")), encoding="utf-8")
    (tmp_path / "uu.toml").write_text(_bank("uu", MCQ.format(id="u1", diff="easy", answer=1)
                                            + MCQ.format(id="u2", diff="easy", answer=1)
                                            + MCQ.format(id="u3", diff="easy", answer=1)), encoding="utf-8")
    (tmp_path / "glossary.toml").write_text('[[terms]]\nen = "loss"\nzh = "损失"\n', encoding="utf-8")
    return tmp_path


def test_bank_is_parsed_field_by_field(bank):
    assert quiz.topics() == ["tt", "uu"]
    qs = quiz.load("tt")
    assert [q.id for q in qs] == ["m1", "m2", "o1"]
    m1, m2, o1 = qs
    assert (m1.topic, m1.type, m1.difficulty, m1.section, m1.answer) == ("tt", "mcq", "easy", "s · m1", 0)
    assert m2.answer == 2 and o1.answer is None and o1.type == "open" and o1.difficulty == "hard"
    assert m1.t("en")["options"] == ["a", "b", "c"] and m1.t("zh")["question"] == "问 m1?"
    assert o1.t("en")["answer"] == "model answer o1"
    assert [q.id for q in quiz.load()] == ["m1", "m2", "o1", "u1", "u2", "u3"]
    assert quiz.title("tt") == "Title T" and quiz.title("tt", "zh") == "标题" and quiz.title("tt", "fr") == "tt"
    assert quiz.glossary() == [{"en": "loss", "zh": "损失"}]
    with pytest.raises(ValueError, match="use one of"):
        m1.t("fr")


def test_is_correct_boundaries(bank):
    m1, m2, o1 = quiz.load("tt")
    assert m1.is_correct(0) and not m1.is_correct(1) and not m1.is_correct(2)
    assert m2.is_correct(2) and not m2.is_correct(0)
    for bad in (3, -1, 99):  # one past the last option, and negatives, are not options
        with pytest.raises(ValueError, match="between 0 and 2"):
            m1.is_correct(bad)
    for bad in (True, 1.0, "0", None):
        with pytest.raises(TypeError, match="option index"):
            m1.is_correct(bad)
    with pytest.raises(ValueError, match="open question"):
        o1.is_correct(0)


def test_missing_glossary_is_empty(bank):
    (bank / "glossary.toml").unlink()
    assert quiz.glossary() == []


def test_load_rejects_bad_topics(bank):
    with pytest.raises(TypeError, match="topic must be a string"):
        quiz.load(3)
    with pytest.raises(ValueError, match=r"No quiz topic 'nope'\. Topics: tt, uu\."):
        quiz.load("nope")


@pytest.mark.parametrize("body, message", [
    ("", "missing 'title'"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('id = "x"\n', ""), "missing 'id'"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('type = "mcq"\n', ""), "missing 'type'"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('difficulty = "easy"\n', ""), "missing 'difficulty'"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('section = "s · x"\n', ""), "missing 'section'"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('type = "mcq"', 'type = "essay"'), "type must be"),
    (MCQ.format(id="x", diff="extreme", answer=0), "difficulty must be one of"),
    (MCQ.format(id="x", diff="easy", answer=0).split("[questions.zh]")[0], r"missing the \[zh\] text"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('question = "Q x?"\n', ""), r"\[en\] needs 'question'"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('explanation = "because x"\n', ""), r"\[en\] needs 'question'"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('options = ["a", "b", "c"]', 'options = ["a"]'), "≥ 2 options"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('explanations = ["ea", "eb", "ec"]', 'explanations = ["ea"]'),
     r"one explanation per option \(3\)"),
    (OPEN.format(id="x").replace('answer = "model answer x"\n', ""), "needs a model 'answer'"),
    (MCQ.format(id="x", diff="easy", answer=3), "0-based index"),
    (MCQ.format(id="x", diff="easy", answer=-1), "0-based index"),
    (MCQ.format(id="x", diff="easy", answer="true"), "0-based index"),
    (MCQ.format(id="x", diff="easy", answer='"1"'), "0-based index"),
    (MCQ.format(id="x", diff="easy", answer=0).replace('options = ["甲", "乙", "丙"]', 'options = ["甲", "乙"]')
     .replace('explanations = ["解甲", "解乙", "解丙"]', 'explanations = ["解甲", "解乙"]'), "same number of options"),
])
def test_each_bank_rule_is_enforced(bank, body, message):
    text = _bank("bad", body) if body else 'topic = "bad"\n'
    (bank / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        quiz.load("bad")
    assert str(info.value).startswith("bad.toml")


def test_answer_at_the_last_option_is_valid(bank):
    (bank / "ok.toml").write_text(_bank("ok", MCQ.format(id="x", diff="easy", answer=2)), encoding="utf-8")
    assert quiz.load("ok")[0].answer == 2


def test_broken_toml_and_missing_topic(bank):
    (bank / "bad.toml").write_text("topic = ", encoding="utf-8")
    with pytest.raises(ValueError, match="bad.toml is not valid TOML"):
        quiz.load("bad")
    (bank / "bad.toml").write_text('title = { en = "x", zh = "x" }\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.toml: missing 'topic'"):
        quiz.load("bad")


def test_sample_spreads_evenly_and_validates_n(bank):
    qs = quiz.sample(n=4, seed=0)
    assert len(qs) == 4 and sorted(q.topic for q in qs) == ["tt", "tt", "uu", "uu"]
    assert len(quiz.sample(n=100, seed=0)) == 6 and len({q.id for q in quiz.sample(n=100, seed=0)}) == 6
    assert [q.id for q in quiz.sample(n=3, seed=5)] == [q.id for q in quiz.sample(n=3, seed=5)]
    assert {q.topic for q in quiz.sample(["uu"], n=2, seed=1)} == {"uu"} and len(quiz.sample(["uu"], n=1)) == 1
    for bad in (0, -1, True, 2.0, "3"):
        with pytest.raises(ValueError, match="positive int"):
            quiz.sample(n=bad)


def _drill(answers, **kw):
    said, it = [], iter(answers)
    score = quiz.drill("tt", lang="en", ask=lambda _: next(it), say=said.append, **kw)
    return score, said


def test_drill_counts_right_and_wrong(bank, monkeypatch):
    import labkit.progress
    recorded = []
    monkeypatch.setattr(labkit.progress, "record_quiz", lambda qid, topic, ok: recorded.append((qid, topic, ok)))
    # question order for seed=None is random: answer by question text
    order = [q.id for q in quiz.load("tt")]
    import random
    random.Random(3).shuffle(order)
    answers = {"m1": ["a"], "m2": ["Z", "b"], "o1": ["my answer", "n"]}  # right, wrong (after a retry), wrong
    score, said = _drill([a for qid in order for a in answers[qid]], seed=3)
    assert score == {"right": 1, "wrong": 2, "asked": 3}
    assert sorted(recorded) == [("m1", "tt", True), ("m2", "tt", False), ("o1", "tt", False)]
    assert said[0].startswith("\n[1/3] (") and any(s.startswith("  A. a") for s in said)
    assert any("C" in s for s in said if "one letter" in s.lower() or "letter" in s.lower())
    assert "1" in said[-1] and "3" in said[-1]


def test_drill_open_self_assessment_and_quit(bank, monkeypatch):
    import labkit.progress
    monkeypatch.setattr(labkit.progress, "record_quiz", lambda *a: None)
    order = [q.id for q in quiz.load("tt")]
    import random
    random.Random(4).shuffle(order)
    answers = {"m1": ["A"], "m2": ["C"], "o1": ["text", "y"]}
    score, _ = _drill([a for qid in order for a in answers[qid]], seed=4)
    assert score == {"right": 3, "wrong": 0, "asked": 3}
    answers = {"m1": ["A"], "m2": ["C"], "o1": ["text", "是"]}
    assert _drill([a for qid in order for a in answers[qid]], seed=4)[0]["right"] == 3
    first = order[0]
    score, _ = _drill(["q"] if first != "o1" else ["Q"], seed=4)
    assert score == {"right": 0, "wrong": 0, "asked": 1}
    score, said = _drill([a for qid in order[:2] for a in answers[qid]], seed=4, n=2)
    assert score["asked"] == 2 and said[0].startswith("\n[1/2]")


def test_widget_keeps_score(bank, monkeypatch):
    import labkit.progress
    recorded = []
    monkeypatch.setattr(labkit.progress, "record_quiz", lambda qid, topic, ok: recorded.append((qid, ok)))
    m1, m2, _ = quiz.load("tt")
    box = quiz.widget([m1, m2], lang="en")
    box.items[0].choose(0)
    box.items[1].choose(0)
    assert box.results == {"m1": True, "m2": False} and recorded == [("m1", True), ("m2", False)]
    assert "1" in box.children[0].value and "2" in box.children[0].value
    quiz.widget([m1], lang="en", record=False).items[0].choose(0)
    assert len(recorded) == 2
    assert len(quiz.widget("tt", lang="en", n=2).items) == 2


def _order(seed):
    import random
    order = [q.id for q in quiz.load("tt")]
    random.Random(seed).shuffle(order)
    return order


def test_drill_quits_at_an_mcq_and_at_an_open_question(bank, monkeypatch):
    import labkit.progress
    monkeypatch.setattr(labkit.progress, "record_quiz", lambda *a: None)
    seed_mcq_first = next(s for s in range(50) if _order(s)[0] != "o1")
    seed_open_first = next(s for s in range(50) if _order(s)[0] == "o1")
    assert _drill(["q"], seed=seed_mcq_first)[0] == {"right": 0, "wrong": 0, "asked": 1}
    assert _drill(["Q"], seed=seed_open_first)[0] == {"right": 0, "wrong": 0, "asked": 1}


def test_drill_rejects_a_letter_past_the_last_option_and_shows_every_explanation(bank, monkeypatch):
    import labkit.progress
    monkeypatch.setattr(labkit.progress, "record_quiz", lambda *a: None)
    seed = next(s for s in range(50) if _order(s)[0] == "m1")
    score, said = _drill(["D", "A", "q"], seed=seed)
    assert score == {"right": 1, "wrong": 0, "asked": 2}
    assert "Type one letter between A and C." in said
    assert "  A: ea" in said and "  C: ec" in said and "  D: ec" not in said
    seed = next(s for s in range(50) if _order(s)[0] == "o1")
    score, said = _drill(["my text", "n", "q"], seed=seed)
    assert any(s.endswith("model answer o1") for s in said) and any(s.endswith("why o1") for s in said)


def test_sample_with_uneven_topics(bank):
    (bank / "vv.toml").write_text(_bank("vv", MCQ.format(id="v1", diff="easy", answer=0)), encoding="utf-8")
    qs = quiz.sample(["vv", "tt"], n=4, seed=0)
    assert len(qs) == 4 and sum(q.topic == "vv" for q in qs) == 1


def test_question_widgets(bank, monkeypatch):
    import labkit.progress
    monkeypatch.setattr(labkit.progress, "record_quiz", lambda *a: None)
    m1, m2, o1 = quiz.load("tt")
    box = quiz.widget([m1, o1], lang="en")
    mcq = box.items[0]
    head, choice, btn, feedback = mcq.children
    mcq.choose(1)
    assert box.results == {"m1": False} and feedback.value.startswith("<b>✗</b> because m1")
    assert "<li>✓ ea</li><li>✗ eb</li><li>✗ ec</li>" in feedback.value
    assert "m1" in head.value and "s · m1" in head.value
    _, text, show, fb, buttons = box.items[1].children
    good, bad = buttons.children
    assert show.disabled and good.disabled and bad.disabled
    text.value = "ab"
    assert show.disabled
    text.value = "my answer"
    assert not show.disabled
    good.disabled = False  # (as after "show answer")
    good.click()
    assert box.results == {"m1": False, "o1": True} and good.disabled and bad.disabled


def test_check_without_a_pick_asks_for_one(bank):
    m1 = quiz.load("tt")[0]
    box = quiz.widget([m1], lang="en")
    _, _, btn, feedback = box.items[0].children
    btn.click()
    assert feedback.value == "Pick an option first." and box.results == {}


def test_show_answer_reveals_the_model_answer(bank):
    o1 = quiz.load("tt")[2]
    box = quiz.widget([o1], lang="en")
    _, text, show, fb, buttons = box.items[0].children
    text.value = "my answer"
    show.click()
    assert "model answer o1" in fb.value and "why o1" in fb.value and not buttons.children[0].disabled


def test_open_question_self_assessment_counts_once(bank, monkeypatch):
    """After the model answer, "I covered it" / "I missed it" records one result and locks both buttons."""
    import labkit.progress
    recorded = []
    monkeypatch.setattr(labkit.progress, "record_quiz", lambda qid, topic, ok: recorded.append((qid, ok)))
    o1 = quiz.load("tt")[2]
    for press, expected in (("missed", False), ("covered", True)):
        box = quiz.widget([o1], lang="en")
        _, text, show, fb, buttons = box.items[0].children
        good, bad = buttons.children
        text.value = "my answer"
        show.click()
        assert not good.disabled and not bad.disabled
        (bad if press == "missed" else good).click()
        assert box.results == {"o1": expected} and good.disabled and bad.disabled
        assert box.children[0].value.startswith(f"<b>Score: {int(expected)}/1</b>")
    assert recorded == [("o1", False), ("o1", True)]


def test_open_question_widget_speaks_chinese(bank):
    o1 = quiz.load("tt")[2]
    _, text, show, fb, buttons = quiz.widget([o1], lang="zh").items[0].children
    good, bad = buttons.children
    assert text.placeholder == "先写下你的答案……"
    assert (show.description, good.description, bad.description) == ("显示参考答案", "我答到了", "我没答到")
    text.value = "我的答案"
    show.click()
    assert fb.value.startswith("<b>参考答案：</b> 参考答案 o1<br><i>原因 o1</i>")


def test_widget_order_is_reproducible_per_seed(bank):
    def order(seed):
        box = quiz.widget("tt", lang="en", seed=seed)
        return [item.children[0].value.split("</b>")[0][3:] for item in box.items]
    assert order(0) == order(0)
    assert order(0) == _order(0)  # the same shuffle as the terminal drill with that seed
    assert len({tuple(order(s)) for s in range(8)}) > 1


def test_drill_ends_with_the_score_on_its_own_line(bank, monkeypatch):
    import labkit.progress
    monkeypatch.setattr(labkit.progress, "record_quiz", lambda *a: None)
    seed = next(s for s in range(50) if _order(s)[0] == "m1")
    score, said = _drill(["A"], seed=seed, n=1)
    assert said[-1] == "\nScore: 1/1"


def test_a_question_without_id_is_named_by_its_number(bank):
    body = MCQ.format(id="x", diff="easy", answer=0).replace('id = "x"\n', "")
    (bank / "ww.toml").write_text(_bank("ww", body), encoding="utf-8")
    with pytest.raises(ValueError, match=r"ww\.toml question 1 \(\?\)"):
        quiz.load("ww")
