"""Zero on evidence, flag on mention: a forbidden name the run never reaches costs nothing (a
flag with file:line for the interviewer); the same call reached at run time zeroes the exercise;
so does an import of the grader that actually ran."""

from __future__ import annotations

import textwrap

from conftest import grade_json


def _grade(tmp_path, code):
    folder = tmp_path / "sub" / "tiny"
    folder.mkdir(parents=True)
    (folder / "tiny.py").write_text(textwrap.dedent(code))
    return grade_json(folder.parent, tmp_path, "--no-timing")["exercises"][0]


CORRECT_WITH_DEAD_FALLBACK = '''
    import torch

    def add(a, b):
        return a + b

    def relu(t, fallback=None):
        if fallback is not None:                 # never true while grading
            return torch.relu(t)
        return torch.where(t > 0, t, torch.zeros((), dtype=t.dtype))
'''


def test_a_mention_that_never_runs_costs_nothing(fixture_root, tmp_path):
    ex = _grade(tmp_path, CORRECT_WITH_DEAD_FALLBACK)
    assert ex["score"] == ex["max_score"] and not ex["zeroed"]
    mentions = [f for f in ex["flags"] if f["kind"] == "forbidden-mention"]
    assert mentions and mentions[0]["detail"] == "torch.relu at tiny.py:9"


def test_the_same_call_reached_at_run_time_zeroes(fixture_root, tmp_path):
    ex = _grade(tmp_path, CORRECT_WITH_DEAD_FALLBACK.replace("if fallback is not None:", "if True:"))
    assert ex["zeroed"] and ex["zeroed_by"] == ["forbidden-api"] and ex["score"] == 0.0


def test_an_import_of_the_grader_that_ran_zeroes(fixture_root, tmp_path):
    ex = _grade(tmp_path, '''
        try:
            import grader.harness
        except ImportError:
            pass

        def add(a, b):
            return a + b

        def relu(t):
            return t.clamp(min=0)
    ''')
    assert ex["zeroed"] and "grader-import" in ex["zeroed_by"]
    assert any(f["kind"] == "grader-mention" for f in ex["flags"])
