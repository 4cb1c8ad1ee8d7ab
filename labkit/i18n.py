"""The learner's language for labkit's own words (quiz, progress): English or 简体中文.

The quiz bank carries its questions in both languages; this module holds the few words around
them (prompts, buttons, scores) so that ``labkit quiz --lang zh`` and ``lk.quiz.widget(...,
lang="zh")`` speak Chinese throughout. Introduced in 00_welcome (the quiz and progress widgets).

The default language is ``LABKIT_LANG`` (``en`` or ``zh``) when set, else ``zh`` when the
system locale (``LC_ALL``/``LC_MESSAGES``/``LANG``) starts with ``zh``, else ``en``.
"""
from __future__ import annotations

import os
import unicodedata

LANGS = ("en", "zh")

MESSAGES: dict[str, dict[str, str]] = {
    "answer_prompt": {"en": "Your answer (letter, or q to stop): ", "zh": "你的答案（输入字母，q 退出）："},
    "open_prompt": {"en": "Your answer (one line; q to stop): ", "zh": "你的答案（一行；q 退出）："},
    "one_letter": {"en": "Type one letter between A and {last}.", "zh": "请输入 A 到 {last} 之间的一个字母。"},
    "right": {"en": "✓ Right. ", "zh": "✓ 正确。"},
    "wrong": {"en": "✗ The answer is {letter}. ", "zh": "✗ 正确答案是 {letter}。"},
    "model_answer": {"en": "Model answer: ", "zh": "参考答案："},
    "why": {"en": "Why: ", "zh": "原因："},
    "covered_prompt": {"en": "Did your answer cover it? [y/n]: ", "zh": "你的答案覆盖了要点吗？[y/n]："},
    "score": {"en": "Score: {right}/{asked}", "zh": "得分：{right}/{asked}"},
    "answered": {"en": "({n} answered)", "zh": "（已答 {n} 题）"},
    "no_input": {"en": "no input: standard input is closed. Run `labkit quiz --topic {topic}` in an interactive terminal.",
                 "zh": "没有输入：标准输入已关闭。请在交互式终端中运行 `labkit quiz --topic {topic}`。"},
    "questions": {"en": "questions", "zh": "题"},
    "drill_hint": {"en": "Drill one with: labkit quiz --topic TOPIC [--lang zh] [-n 5]",
                   "zh": "练习某个主题：labkit quiz --topic 主题 [--lang zh] [-n 5]"},
    "check": {"en": "Check", "zh": "检查"},
    "pick_first": {"en": "Pick an option first.", "zh": "请先选择一个选项。"},
    "write_first": {"en": "Write your answer first…", "zh": "先写下你的答案……"},
    "show_answer": {"en": "Show model answer", "zh": "显示参考答案"},
    "covered": {"en": "I covered it", "zh": "我答到了"},
    "missed": {"en": "I missed it", "zh": "我没答到"},
    "easy": {"en": "easy", "zh": "简单"},
    "medium": {"en": "medium", "zh": "中等"},
    "hard": {"en": "hard", "zh": "困难"},
    "refresh": {"en": "Refresh", "zh": "刷新"},
    "notebook": {"en": "notebook", "zh": "笔记本"},
    "exercises": {"en": "exercises", "zh": "练习"},
    "weakest": {"en": "Weakest topics:", "zh": "最薄弱的主题："},
    "no_quiz_yet": {"en": "no quiz answers yet", "zh": "还没有答题记录"},
    "progress_title": {"en": "Progress (exercises passed per notebook)", "zh": "进度（每个笔记本已通过的练习）"},
    "quiz_accuracy": {"en": "Quiz accuracy by topic (weakest first)", "zh": "各主题答题正确率（最弱在前）"},
    "no_quiz_cli": {"en": "No quiz answers yet: try `labkit quiz --topic gradient_descent`.",
                    "zh": "还没有答题记录：试试 `labkit quiz --topic gradient_descent --lang zh`。"},
    "file": {"en": "(file: {path})", "zh": "（文件：{path}）"},
}


def default_lang() -> str:
    """``LABKIT_LANG`` if set to a known language, else ``zh`` for a Chinese locale, else ``en``."""
    env = os.environ.get("LABKIT_LANG", "").strip().lower()
    if env in LANGS:
        return env
    loc = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG") or ""
    return "zh" if loc.lower().startswith("zh") else "en"


def check_lang(lang: str | None) -> str:
    """``lang`` validated (``None`` means :func:`default_lang`); ``ValueError`` naming the choices."""
    if lang is None:
        return default_lang()
    if not isinstance(lang, str) or lang not in LANGS:
        raise ValueError(f"Unknown language {lang!r}; use one of {LANGS} (e.g. lang='zh').")
    return lang


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """labkit's own words for ``key`` in ``lang``, formatted with ``fmt``."""
    if key not in MESSAGES:
        raise ValueError(f"No message {key!r}; known keys: {', '.join(sorted(MESSAGES))}.")
    text = MESSAGES[key][check_lang(lang)]
    return text.format(**fmt) if fmt else text


def normalize_answer(raw: str) -> str:
    """A typed answer folded to plain upper-case ASCII where possible (full-width ``Ｂ`` → ``B``)."""
    if not isinstance(raw, str):
        raise TypeError(f"raw must be the typed text (str), got {type(raw).__name__}.")
    return unicodedata.normalize("NFKC", raw).strip().upper()
