"""Mutation testing of the hidden checks: the generator (catalogue/mutants.py), the runner
(engine/mutation.py) and `torchdrill validate --mutants`, on a small source and on a copy of the
tiny fixture catalogue (two grades, run in parallel)."""

import ast
import json
import shutil

import pytest

from conftest import FIXTURE_ROOT, invoke
from grader.catalogue.mutants import OPERATORS, generate
from grader.engine.mutation import spread

SOURCE = '''"""Module docstring."""
import math

SCALE = 2


def f(x, y, t, k=SCALE):
    """Function docstring."""
    a = x[1, 2] + t[-1]
    b = -y * 3 // 2 / 4
    if a < b and a >= 0 or a == b:
        a += 1
    z = g(x, y) if True else None
    print(f"{a + 1}")
    return a, b, z
'''


def by_description(mutants):
    return {m.description: m for m in mutants}


def test_each_operator_makes_what_it_says():
    mutants = by_description(generate(SOURCE))
    expect = {
        "line 9: '+' -> '-'": "a = x[1, 2] - t[-1]",
        "line 10: '*' -> '/'": "b = -y / 3 // 2 / 4",
        "line 10: '//' -> '/'": "b = -y * 3 / 2 / 4",
        "line 10: '/' -> '*'": "b = -y * 3 // 2 * 4",
        "line 10: '/' -> '//'": "b = -y * 3 // 2 // 4",
        "line 11: '<' -> '<='": "if a <= b and a >= 0 or a == b:",
        "line 11: '>=' -> '>'": "if a < b and a > 0 or a == b:",
        "line 11: '==' -> '!='": "if a < b and a >= 0 or a != b:",
        "line 11: 'and' -> 'or'": "if (a < b or a >= 0) or a == b:",
        "line 11: 'or' -> 'and'": "if (a < b and a >= 0) and a == b:",
        "line 12: '+' -> '-'": "a -= 1",
        "line 12: 1 -> 0": "a += 0",
        "line 12: 1 -> 2": "a += 2",
        "line 11: 0 -> 1": "a >= 1",
        "line 13: True -> False": "if False else None",
        "line 10: '-y' -> 'y'": "b = y * 3 // 2 / 4",
        "line 13: swapped arguments 1 and 2 of 'g(x, y)'": "z = g(y, x)",
        "line 9: swapped indices 1 and 2 of 'x[1, 2]'": "x[2, 1]",
        "line 9: index -1 -> 1 in 't[-1]'": "t[1]",
        "line 12: dropped 'a += 1'": "pass",
    }
    for description, fragment in expect.items():
        assert description in mutants, (description, sorted(mutants))
        assert fragment in mutants[description].source, (description, mutants[description].source)
    assert {m.operator for m in mutants.values()} == set(OPERATORS)


def test_what_is_never_mutated():
    mutants = generate(SOURCE)
    drops = [m.description for m in mutants if m.operator == "drop"]
    # docstrings, imports, returns, the def itself and SCALE (read at import: a default value)
    assert not any("docstring" in d.lower() or "import" in d or "return" in d
                   or "def " in d or "SCALE" in d for d in drops), drops
    # nothing inside the f-string: a changed message is not a changed behaviour
    assert not any(m.line == 14 and m.operator != "drop" for m in mutants)
    original = ast.unparse(ast.parse(SOURCE))
    for m in mutants:
        compile(m.source, m.id, "exec")
        assert m.source != original, m.id
    assert len({m.source for m in mutants}) == len(mutants)


def test_ids_are_stable_unique_and_ordered():
    first, second = generate(SOURCE), generate(SOURCE)
    assert [(m.id, m.description, m.source) for m in first] == \
        [(m.id, m.description, m.source) for m in second]
    assert len({m.id for m in first}) == len(first)
    # nested operators starting at one column get their own ids (they point at the operator)
    ids = {m.description: m.id for m in first}
    assert ids["line 10: '*' -> '/'"] != ids["line 10: '//' -> '/'"]
    assert ids["line 9: '+' -> '-'"] == "arith:9:15:0"
    assert [m.line for m in first] == sorted(m.line for m in first)


def test_spread_is_even_and_deterministic():
    assert spread(list(range(10)), 3) == [0, 3, 6]
    assert spread(list(range(4)), None) == [0, 1, 2, 3]
    assert spread(list(range(4)), 9) == [0, 1, 2, 3]


@pytest.fixture
def mutant_root(tmp_path, monkeypatch):
    """The tiny catalogue with a helper no check calls (its mutants survive), one mutant marked
    equivalent and one mark for a mutant the generator no longer makes."""
    root = tmp_path / "catalogue"
    shutil.copytree(FIXTURE_ROOT, root)
    solution = root / "solutions" / "tiny"
    (solution / "tiny.py").write_text((solution / "tiny.py").read_text()
                                      + "\n\ndef unused(x):\n    return x * 3\n")
    (solution / "equivalent_mutants.toml").write_text(
        '[[mutant]]\nid = "constant:6:23:0"\nreason = "the test says so"\n\n'
        '[[mutant]]\nid = "arith:99:1:0"\nreason = "a line that is gone"\n')
    monkeypatch.setenv("TORCHDRILL_ROOT", str(root))
    return root


def test_validate_mutants_end_to_end(mutant_root, tmp_path):
    out = tmp_path / "mutants.json"
    # 5 generated, 1 marked equivalent; --limit 2 spreads over the other 4: the add mutant
    # (killed) and unused's 3 -> 2 (survives, no check calls it)
    res = invoke("validate", "--mutants", "tiny", "--limit", "2", "-j", "2",
                 "--isolation", "process", "--json", out)
    assert res.exit_code == 1, res.output
    assert "tiny: 5 generated (2 graded, --limit 2), 1 killed, 1 survived, 1 equivalent: " \
           "50.0%" in res.output
    assert "survived constant:10:15:0: line 10: 3 -> 2" in res.output
    assert "stale equivalent mark arith:99:1:0" in res.output
    report = json.loads(out.read_text())["reports"][0]
    killed, = report["killed"]
    assert killed["description"] == "line 2: '+' -> '-'"
    assert "test_hidden.py::test_add_small" in killed["killed_by"]
    assert "test_hidden.py::test_relu_values" not in killed["killed_by"]
    assert report["survived"][0]["killed_by"] == []
    assert report["equivalent"] == [{"id": "constant:6:23:0", "description": "line 6: 0 -> 1",
                                     "reason": "the test says so"}]
    assert report["stale"] == [{"id": "arith:99:1:0", "reason": "a line that is gone"}]
    assert report["score"] == 0.5 and not report["passed"]


def test_an_equivalent_mark_needs_a_reason(mutant_root):
    (mutant_root / "solutions" / "tiny" / "equivalent_mutants.toml").write_text(
        '[[mutant]]\nid = "constant:6:23:0"\n')
    res = invoke("validate", "--mutants", "tiny")
    assert res.exit_code == 2 and "non-empty reason" in res.output


def test_json_and_limit_need_mutants(fixture_root):
    res = invoke("validate", "tiny", "--limit", "3")
    assert res.exit_code == 2 and "--mutants" in res.output
