"""The parent's own list of an exercise's hidden checks, read with `ast` (no import, no torch).

The child reports the collected checks before any candidate code runs; this static list is the
fallback when it never gets that far (missing submission, crash at start-up), so every expected
check is still scored, as failed.
"""

from __future__ import annotations

import ast
from functools import lru_cache

from grader.catalogue import Exercise


@lru_cache(maxsize=None)
def _parse(path: str, mtime: float) -> tuple[dict, ...]:
    tree = ast.parse(open(path, encoding="utf-8").read(), filename=path)
    checks = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            doc = ast.get_docstring(node) or ""
            name = doc.strip().splitlines()[0].strip() if doc.strip() else \
                node.name.removeprefix("test_").replace("_", " ")
            checks.append({"id": f"test_hidden.py::{node.name}", "name": name,
                           "weight": _points_marker(node)})
    return tuple(checks)


def _points_marker(node) -> float:
    for dec in node.decorator_list:
        if (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)
                and dec.func.attr == "points" and dec.args
                and isinstance(dec.args[0], ast.Constant)
                and isinstance(dec.args[0].value, (int, float))):
            return float(dec.args[0].value)
    return 1.0


def expected_checks(exercise: Exercise) -> list[dict]:
    path = exercise.hidden_tests
    if not path.is_file():
        return []
    return [dict(c) for c in _parse(str(path), path.stat().st_mtime)]
