"""pyproject.toml and environment.yml must list the same packages with the same ranges."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _pyproject() -> dict[str, str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    specs = data["project"]["dependencies"] + [s for extra in data["project"]["optional-dependencies"].values()
                                               for s in extra]  # test, hub, zh: all mirrored
    return {re.split(r"[<>=!~ ]", s, maxsplit=1)[0].lower(): s.replace(" ", "") for s in specs}


def _env_lines() -> list[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "- pip:")
    return [l for l in lines[start + 1:] if l.strip().startswith("- ")]


def test_every_env_line_says_why():
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.strip().startswith("- ") and line.strip() != "- pip:":
            assert "#" in line, f"environment.yml line has no reason comment: {line.strip()!r}"


def test_environment_matches_pyproject():
    env = {}
    for line in _env_lines():
        spec = line.split("#")[0].strip()[2:].strip()
        if spec.startswith("-e"):
            continue
        env[re.split(r"[<>=!~ ]", spec, maxsplit=1)[0].lower()] = spec.replace(" ", "")
    py = _pyproject()
    assert set(env) == set(py), f"only in environment.yml: {set(env) - set(py)}; only in pyproject: {set(py) - set(env)}"
    for name in py:
        assert env[name] == py[name], f"{name}: pyproject says {py[name]!r}, environment.yml says {env[name]!r}"


def test_env_installs_labkit_and_python_311():
    text = (ROOT / "environment.yml").read_text()
    assert "- -e ." in text and "python=3.11" in text and "conda-forge" in text


def test_no_two_labkit_modules_import_each_other():
    """Course machinery stays layered: no pair of labkit modules imports each other (even inside functions)."""
    import ast
    import itertools
    root = Path(__file__).resolve().parent.parent / "labkit"
    deps = {}
    for f in root.glob("*.py"):
        found = set()
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                found.update([node.module.split(".")[0]] if node.module else [a.name for a in node.names])
        deps[f.stem] = found
    cycles = [(a, b) for a, b in itertools.combinations(sorted(deps), 2) if b in deps[a] and a in deps[b]]
    assert not cycles, f"labkit modules that import each other: {cycles}"
