"""Structural rules of the catalogue, checked without grading anything (`torchdrill validate`).

`solutions/` mirrors `exercises/` (the rustlings rule): every folder there belongs to an
exercise, every reference carries the stub's file name, and every known-wrong variant says in
its docstring which check catches it, so a reader (and `validate`) knows what it is for.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import tomllib
from pathlib import Path

from grader.catalogue import Exercise, solutions_dir
from grader.catalogue.hidden_checks import expected_checks

# what may sit in solutions/<slug>/ besides the reference files
SOLUTION_EXTRAS = {"test_hidden.py", "wrong", "alt", "partial", "data", "tools", "__pycache__",
                   "contract.toml", "equivalent_mutants.toml", "follow_ups.toml", "conftest.py"}
CAUGHT_BY = re.compile(r"Caught by:?(?P<text>.*?)(?:\n\s*\n|$)", re.DOTALL | re.IGNORECASE)   # to a blank line
CHECK_NAME = re.compile(r"\btest_[A-Za-z0-9_*]+(?:\[[^\]\s]+\])?")


def caught_by(variant: Path) -> list[str]:
    """The check function names a wrong variant's docstring names ("Caught by: test_a, test_b")."""
    try:
        text = variant.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError):
        return []
    try:
        doc = ast.get_docstring(ast.parse(text)) or ""
    except SyntaxError:
        doc = text.split('"""')[1] if text.count('"""') >= 2 else ""   # deliberately broken
    match = CAUGHT_BY.search(doc)
    return CHECK_NAME.findall(match["text"]) if match else []


ALLOWED_TO_FAIL = re.compile(r"Allowed to fail:(?P<text>.*?)(?:\n\s*\n|$)", re.DOTALL)


def allowed_to_fail(variant: Path) -> list[str]:
    """The checks a partial implementation's docstring allows to fail ("Missing: groups.
    Allowed to fail: test_groups, test_depthwise")."""
    try:
        doc = ast.get_docstring(ast.parse(variant.read_text(encoding="utf-8"))) or ""
    except (SyntaxError, UnicodeDecodeError, OSError):
        return []
    match = ALLOWED_TO_FAIL.search(doc)
    return CHECK_NAME.findall(match["text"]) if match else []


def check_function(check_id: str) -> str:
    """"test_hidden.py::test_same[3-4]" -> "test_same": the name docstrings and follow-ups use."""
    return check_id.split("::")[-1].split("[")[0]


def matches(named: str, check_id: str) -> bool:
    """Whether a name from a docstring ("test_groups", "test_random_*", "test_x[case]") names
    the check with this id ("test_hidden.py::test_random_groups[case]")."""
    name = check_id.split("::")[-1]
    if "*" in named:                  # a wildcard over function names ([ ] are not a class here)
        return fnmatch.fnmatchcase(name.split("[")[0], named.split("[")[0])
    return named in (name, name.split("[")[0])


def exercise_problems(ex: Exercise) -> list[str]:
    """What is missing or misplaced for one exercise; each problem says the fix."""
    problems = []
    if not ex.hidden_tests.is_file():
        problems.append(f"{ex.slug}: {ex.hidden_tests} is missing")
    for name in ex.files:
        if not (ex.solution_dir / name).is_file():
            problems.append(f"{ex.slug}: reference {ex.solution_dir / name} is missing")
    if ex.solution_dir.is_dir():
        for entry in sorted(ex.solution_dir.iterdir()):
            if entry.name in SOLUTION_EXTRAS or entry.name in ex.files:
                continue
            if entry.suffix == ".py":
                problems.append(f"{ex.slug}: {entry} is not named like the stub "
                                f"({', '.join(ex.files)}): rename it, or move it to alt/")
            else:
                problems.append(f"{ex.slug}: {entry} does not belong in solutions/{ex.slug}/ "
                                f"(allowed: the reference, {', '.join(sorted(SOLUTION_EXTRAS))})")
    if not ex.public_tests:
        problems.append(f"{ex.slug}: no public tests (test_*.py) in {ex.path}")
    if not ex.wrong_variants():
        problems.append(f"{ex.slug}: no known-wrong variants in {ex.solution_dir / 'wrong'}")
    known = [c["id"] for c in expected_checks(ex)]
    for variant in ex.partials():
        if not allowed_to_fail(variant):
            problems.append(f"{ex.slug}: {variant} does not say which checks may fail: add "
                            "'Missing: <feature>. Allowed to fail: test_a, test_b' to its docstring")
    for variant in ex.wrong_variants():
        named = caught_by(variant)
        if not named:
            problems.append(f"{ex.slug}: {variant} does not say which check catches it: add "
                            "'Caught by: test_name' to its docstring")
        for name in named:
            if known and not any(matches(name.split("[")[0], k) for k in known):
                problems.append(f"{ex.slug}: {variant} names '{name}', which is not a check in "
                                f"{ex.hidden_tests.name}")
    functions = {check_function(k) for k in known}
    problems += contract_problems(ex, functions)
    problems += follow_up_problems(ex, functions)
    return problems


def contract_problems(ex: Exercise, functions: set[str]) -> list[str]:
    """solutions/<slug>/contract.toml, row by row: the clause's check exists, its wrong/ variant
    exists and names that check in "Caught by", so validate (which runs a wrong variant's named
    checks) proves every row. "static:..." checks are the static pass's, not hidden checks."""
    path = ex.solution_dir / "contract.toml"
    if not path.is_file():
        return [f"{ex.slug}: {path} is missing: map every clause of the prompt to its check and "
                "wrong/ variant ([[clause]] text, check, wrong)"]
    try:
        rows = tomllib.loads(path.read_text(encoding="utf-8")).get("clause", [])
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [f"{ex.slug}: {path} is not valid TOML ({exc})"]
    problems = []
    for i, row in enumerate(rows):
        check, wrong = str(row.get("check", "")), row.get("wrong")
        where = f"{ex.slug}: contract.toml clause {i + 1} ({str(row.get('text', ''))[:40]!r})"
        function = check.split("[")[0]
        if not check.startswith("static:") and functions and function not in functions:
            problems.append(f"{where} names check '{check}', not a function in test_hidden.py")
        if not wrong:
            continue
        variant = ex.solution_dir / "wrong" / f"{wrong}.py"
        if not variant.is_file():
            problems.append(f"{where} names wrong/{wrong}.py, which does not exist")
        elif not check.startswith("static:") and not any(
                matches(n.split("[")[0], f"test_hidden.py::{function}") for n in caught_by(variant)):
            problems.append(f"{where}: wrong/{wrong}.py does not name {function} in 'Caught by:'; "
                            "name it there (if it always catches it) or map the clause to a check it names")
    return problems


def follow_up_problems(exercise: Exercise, check_names: set[str]) -> list[str]:
    """What `validate` reports about an exercise's follow-ups: too few, or naming a check or tag
    that does not exist (each problem says the fix)."""
    problems = []
    slug = exercise.slug
    if len(exercise.follow_ups) < 3:
        problems.append(f"{slug}: {len(exercise.follow_ups)} follow-up question(s); add at least 3 "
                        "[[follow_ups]] (check or tag, when, ask) to exercise.toml")
    for fu in exercise.follow_ups:
        if fu.check and check_names and fu.check not in check_names:
            problems.append(f"{slug}: follow-up names check '{fu.check}', which is not a function "
                            f"in {exercise.hidden_tests.name}")
        if fu.tag and fu.tag not in exercise.tags:
            problems.append(f"{slug}: follow-up names tag '{fu.tag}', not one of tags = "
                            f"{list(exercise.tags)}")
    return problems


def catalogue_problems(catalogue: dict[str, Exercise], root: Path | None = None) -> list[str]:
    """Folders under solutions/ that belong to no exercise."""
    folder = root or solutions_dir()
    if not folder.is_dir():
        return []
    return [f"{entry}: a folder under solutions/ with no exercise: add exercises/{entry.name}/ "
            "or remove it" for entry in sorted(folder.iterdir())
            if entry.is_dir() and entry.name not in catalogue and entry.name != "__pycache__"]
