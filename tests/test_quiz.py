import pytest

from labkit import quiz


def test_every_topic_has_a_valid_bilingual_bank():
    topics = quiz.topics()
    assert "ml_workflow" in topics
    for t in topics:
        qs = quiz.load(t)  # parsing validates every field
        assert len(qs) >= quiz.MIN_PER_TOPIC, f"{t}: {len(qs)} questions, need ≥ {quiz.MIN_PER_TOPIC}"
        assert len({q.id for q in qs}) == len(qs), f"{t}: duplicate ids"
        assert any(q.type == "open" for q in qs) and any(q.type == "mcq" for q in qs)
        for q in qs:
            assert q.t("zh")["question"] != q.t("en")["question"]


def test_all_content_notebook_topics_have_banks():
    import pathlib
    nbs = sorted(pathlib.Path(__file__).resolve().parent.parent.glob("notebooks/[0-9][0-9]_*.ipynb"))
    for p in nbs:
        nn = p.name[:2]
        if nn in quiz.TOPICS:
            assert quiz.TOPICS[nn] in quiz.topics(), f"{p.name} has no quiz bank {quiz.TOPICS[nn]}.toml"


def test_ids_unique_across_topics():
    ids = [q.id for q in quiz.load()]
    assert len(ids) == len(set(ids))


def test_mcq_scoring_by_index_not_eval():
    q = next(q for q in quiz.load("ml_workflow") if q.type == "mcq")
    assert q.is_correct(q.answer)
    assert not q.is_correct((q.answer + 1) % len(q.t("en")["options"]))
    with pytest.raises(ValueError):
        q.is_correct(99)
    with pytest.raises(TypeError):
        q.is_correct("__import__('os').system('echo hi')")


def test_bad_bank_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setattr(quiz, "BANK_DIR", tmp_path)
    (tmp_path / "x.toml").write_text('topic = "x"\ntitle = {en="X", zh="X"}\n[[questions]]\nid="x1"\ntype="mcq"\n'
                                     'difficulty="easy"\nsection="s"\nanswer=0\n[questions.en]\nquestion="q"\n'
                                     'options=["a","b"]\nexplanation="e"\n')
    with pytest.raises(ValueError, match="one explanation per option|zh"):
        quiz.load("x")
    with pytest.raises(ValueError, match="No quiz topic"):
        quiz.load("nope")


def test_terminal_drill(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path))
    qs = quiz.load("ml_workflow")
    answers = iter(["Z", "A", "my answer", "y"] * 50)
    said = []
    score = quiz.drill("ml_workflow", n=4, seed=1, ask=lambda _: next(answers), say=said.append)
    assert score["asked"] == 4 and score["right"] + score["wrong"] == 4
    assert any("Type one letter" in s for s in said) or all(q.type == "open" for q in qs[:4])


def test_widget_mcq_feedback(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path))
    mcqs = [q for q in quiz.load("ml_workflow") if q.type == "mcq"][:2]
    box = quiz.widget(mcqs, lang="zh")
    box.items[0].choose(mcqs[0].answer)
    assert box.results[mcqs[0].id] is True
    assert "✓" in box.items[0].children[-1].value


def test_sample_spreads_topics():
    qs = quiz.sample(n=min(6, len(quiz.topics()) * 2), seed=0)
    assert len(qs) >= 2 and len({q.topic for q in qs}) == min(len(quiz.topics()), len(qs))


def test_glossary_entries_bilingual():
    for term in quiz.glossary():
        assert term["en"] and term["zh"] and term["definition_en"] and term["definition_zh"]
