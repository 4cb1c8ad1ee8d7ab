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


# ------------------------------------------------------------- the learner's language (issue 17)
def test_drill_speaks_chinese_and_takes_fullwidth_letters(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path))
    q = next(q for q in quiz.load("ml_workflow") if q.type == "mcq")
    letter = chr(0xFF21 + q.answer)  # full-width Ａ, Ｂ… as a Chinese input method types it
    said, asked = [], []

    def ask(prompt):
        asked.append(prompt)
        return letter

    monkeypatch.setattr(quiz, "load", lambda topic=None: [q])  # a topic of one mcq
    score = quiz.drill("ml_workflow", lang="zh", ask=ask, say=said.append)
    assert score == {"right": 1, "wrong": 0, "asked": 1}
    assert asked and all("你的答案" in a for a in asked), asked
    text = "\n".join(said)
    assert "✓ 正确" in text and "得分：1/1" in text
    assert "Score" not in text and "The answer is" not in text and "Your answer" not in text


def test_drill_english_wrong_answer_words(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path))
    q = next(q for q in quiz.load("ml_workflow") if q.type == "mcq")
    monkeypatch.setattr(quiz, "load", lambda topic=None: [q])
    wrong = chr(65 + (q.answer + 1) % len(q.t("en")["options"]))
    said = []
    quiz.drill("ml_workflow", lang="en", ask=lambda _: wrong.lower(), say=said.append)
    assert f"The answer is {chr(65 + q.answer)}" in "\n".join(said) and "Score: 0/1" in said[-1]


def test_default_language_from_env(monkeypatch):
    from labkit import i18n
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LABKIT_LANG", "zh")
    assert i18n.default_lang() == "zh"
    monkeypatch.delenv("LABKIT_LANG")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert i18n.default_lang() == "zh"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n.default_lang() == "en"
    assert i18n.normalize_answer(" ｂ ") == "B"
    with pytest.raises(ValueError, match="one of"):
        i18n.t("check", "fr")
    # every message exists in every language
    for key, texts in i18n.MESSAGES.items():
        assert set(texts) == set(i18n.LANGS), key


def test_widgets_speak_chinese(monkeypatch, tmp_path):
    monkeypatch.setenv("LABKIT_HOME", str(tmp_path))
    from labkit import progress
    qs = quiz.load("ml_workflow")
    mcq = next(q for q in qs if q.type == "mcq")
    open_q = next(q for q in qs if q.type == "open")
    box = quiz.widget([mcq, open_q], lang="zh")
    assert "得分" in box.children[0].value and "Score" not in box.children[0].value
    box.items[0].choose(mcq.answer)
    assert "已答 1 题" in box.children[0].value
    descriptions = [c.description for c in box.items[0].children + box.items[1].children if hasattr(c, "description")]
    assert "检查" in descriptions and "显示参考答案" in descriptions
    # the exercise catalogue is not under test here: a fixed summary keeps this test on the words
    monkeypatch.setattr(progress, "summary", lambda: {"notebooks": {"00": {"done": 0, "total": 1}},
                                                      "quiz_accuracy": {}, "weakest": []})
    pw = progress.widget(lang="zh")
    assert pw.children[0].description == "刷新" and "最薄弱的主题" in pw.children[1].value
    assert "进度" in progress.report("zh")


def _cli(*args, env_extra=None):
    import os
    import subprocess
    import sys
    env = dict(os.environ, LABKIT_LANG="en", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "labkit", *args], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, env=env, timeout=120)


def test_python_m_labkit_and_closed_stdin(tmp_path):
    r = _cli("quiz", "--topic", "ml_workflow", "-n", "1", env_extra={"LABKIT_HOME": str(tmp_path)})
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    err = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(err) == 1 and "standard input is closed" in err[0], r.stderr
    r = _cli("quiz", "--topic", "ml_workflow", "-n", "1", "--lang", "zh", env_extra={"LABKIT_HOME": str(tmp_path)})
    assert "标准输入已关闭" in r.stderr and "Traceback" not in r.stderr


def test_quiz_list_into_a_closed_pipe():
    import os
    import subprocess
    import sys
    # `labkit quiz --list | head -1`: the reader leaves after one line; no traceback, exit 0
    p = subprocess.Popen([sys.executable, "-m", "labkit", "quiz", "--list"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, env=dict(os.environ, LABKIT_LANG="en"))
    first = p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(60) == 0 and first and "Traceback" not in err and "BrokenPipe" not in err, err
