"""The ``labkit`` command: doctor, student, grade, quiz, progress, timings, plan, data."""
from __future__ import annotations

import argparse
import sys


def _doctor(a) -> int:
    from . import doctor
    return doctor.main(check_network=not a.offline)


def _student(a) -> int:
    from . import student
    results = student.make(a.out, a.notebooks or None, force=a.force)
    for r in results:
        extra = f" (your previous copy was kept as {r.backup.name})" if r.backup else ""
        if r.action == "error":
            print(f"labkit student: {r.error}", file=sys.stderr)
        elif r.action == "skipped":
            print(f"skipped  {r.path}: it has your edits — nothing overwritten (use --force to replace it; "
                  f"your copy would be kept as a .bak file)")
        else:
            print(f"{r.action:<8} {r.path}{extra}")
    return 1 if any(r.action == "error" for r in results) else 0


def _grade(a) -> int:
    from . import grade
    out = grade.grade(a.directory, a.out, timeout=a.timeout, sandbox=not a.no_sandbox)
    print(f"scores written to {out}")
    return 0


def _quiz(a) -> int:
    from . import quiz
    from .i18n import check_lang, t as _
    lang = check_lang(a.lang)
    try:
        if a.list or not a.topic:
            for t in quiz.topics():
                print(f"{t:<20} {len(quiz.load(t)):3d} {_('questions', lang)}  {quiz.title(t, lang)}")
            if not a.topic:
                print("\n" + _("drill_hint", lang))
            return 0
        quiz.drill(a.topic, lang=lang, n=a.n, seed=a.seed)
    except EOFError:
        print(f"\nlabkit quiz: {_('no_input', lang, topic=a.topic)}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `labkit quiz --list | head`: the reader left; stop quietly
        _silence_stdout()
    return 0


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot raise on a closed pipe."""
    import os
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _progress(a) -> int:
    from . import progress
    print(progress.report(a.lang))
    return 0


def _timings(a) -> int:
    from . import course
    course.measure(a.only or None)
    print(f"wrote {course.TIMINGS} and the README table")
    return 0


def _capacity(a) -> int:
    from . import course
    course.capacity(a.only or None, ns=tuple(a.n), concurrent=a.concurrent, reuse=a.reuse)
    print(f"wrote {course.CAPACITY} and the table in {course.WORKSHOP_README}")
    return 0


def _plan(a) -> int:
    from . import course
    print(course.plan())
    print(f"\n(wrote {course.PLAN})")
    return 0


def _data(a) -> int:
    from . import data
    for row in data.info():
        print(f"{row['name']:<16} {row['kind']:<10} {row['shape']:<36} {row['license']}")
    print()
    for name, st in data.status().items():
        print(f"{name:<16} {st}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labkit", description="Large-Model Engineering Lab helper.")
    sub = p.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("doctor", help="versions, CPU features, GPUs, network, datasets, run times")
    d.add_argument("--offline", action="store_true", help="skip the network check")
    d.set_defaults(fn=_doctor)
    s = sub.add_parser("student", help="write student copies (solutions stubbed, outputs cleared)")
    s.add_argument("--out", default="student", help="output folder (default: student)")
    s.add_argument("--force", action="store_true", help="replace copies you edited (they are kept as .bak files)")
    s.add_argument("notebooks", nargs="*", help="notebooks to convert (default: all)")
    s.set_defaults(fn=_student)
    g = sub.add_parser("grade", help="run submitted notebooks and write a CSV of scores")
    g.add_argument("directory")
    g.add_argument("--out", default="grades.csv")
    g.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per notebook (positive, finite)")
    g.add_argument("--no-sandbox", action="store_true",
                   help="run learner code with your full rights (only where neither bubblewrap nor unshare works)")
    g.set_defaults(fn=_grade)
    q = sub.add_parser("quiz", help="interview questions in the terminal")
    q.add_argument("--topic")
    q.add_argument("--lang", default=None, choices=["en", "zh"],
                   help="language of questions and prompts (default: LABKIT_LANG, else the locale)")
    q.add_argument("-n", type=int, default=None, help="number of questions")
    q.add_argument("--seed", type=int, default=None)
    q.add_argument("--list", action="store_true", help="list topics")
    q.set_defaults(fn=_quiz)
    pr = sub.add_parser("progress", help="exercises done per notebook and weakest quiz topics")
    pr.add_argument("--lang", default=None, choices=["en", "zh"], help="report language")
    pr.set_defaults(fn=_progress)
    t = sub.add_parser("timings", help="run notebooks headless and record their run times")
    t.add_argument("only", nargs="*", help="notebook prefixes, e.g. 01 05 (default: all)")
    t.set_defaults(fn=_timings)
    ca = sub.add_parser("capacity", help="memory and CPU per notebook, learners per server (instructors)")
    ca.add_argument("only", nargs="*", help="notebook prefixes, e.g. 00 02 (default: all)")
    ca.add_argument("--n", type=int, nargs="+", default=[1, 2, 4], help="learners at once (default 1 2 4)")
    ca.add_argument("--concurrent", default=None, help="notebook run N times at once (default: the heaviest)")
    ca.add_argument("--reuse", action="store_true",
                    help="continue an unfinished run: keep the notebooks workshop/capacity.json already has")
    ca.set_defaults(fn=_capacity)
    pl = sub.add_parser("plan", help="write the workshop plan from the measured timings")
    pl.set_defaults(fn=_plan)
    da = sub.add_parser("data", help="list datasets and verify shipped files")
    da.set_defaults(fn=_data)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except (ValueError, TypeError) as exc:
        print(f"labkit {args.cmd}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
