"""Follow-up questions ("Ask next"): chosen from one candidate's results, interviewer eyes only.

The choice is a pure function of the exercise's [[follow_ups]] and the result (unit tests on
engine/follow_ups.py); end to end, an interviewer's report of a partly wrong submission asks
about the checks it failed, and the candidate's JSON and report never carry a question."""

import json

import pytest

from grader.catalogue import load_exercise
from grader.catalogue.lint import follow_up_problems
from grader.engine import follow_ups
from grader.errors import InputError

from conftest import FIXTURE_ROOT, SUBS, grade_json, invoke

TINY = FIXTURE_ROOT / "exercises" / "tiny"


def _result(**outcomes):
    """A graded result whose checks have these outcomes, e.g. test_relu_dtype="failed"."""
    checks = [{"id": f"test_hidden.py::{name}", "name": name, "outcome": outcome, "points": 1,
               "message": f"{name} says {outcome}"} for name, outcome in outcomes.items()]
    return {"status": "graded", "checks": checks}


ALL_PASS = dict(test_add_small="passed", test_add_any="passed", test_relu_values="passed",
                test_relu_dtype="passed")


# ----------------------------------------------------------------------------- the choice

def test_failures_are_probed_first_and_name_the_check():
    ex = load_exercise(TINY)
    picked = follow_ups.choose(ex, _result(**dict(ALL_PASS, test_relu_dtype="failed")))
    assert [q["because"] for q in picked] == ["test_relu_dtype failed", "test_add_any passed"]
    assert picked[0]["when"] == "failed" and "dtype" in picked[0]["ask"]
    assert picked[0]["check"] == "test_relu_dtype" and picked[0]["tag"] is None


def test_full_marks_get_the_deeper_questions_only():
    ex = load_exercise(TINY)
    picked = follow_ups.choose(ex, _result(**ALL_PASS))
    assert [q["when"] for q in picked] == ["passed", "passed"]
    assert picked[1]["because"] == "every check passed (fixture)"


def test_a_parametrised_check_counts_as_failed_when_any_case_failed():
    ex = load_exercise(TINY)
    result = _result(**ALL_PASS)
    result["checks"] += [{"id": "test_hidden.py::test_add_any[a]", "name": "x", "outcome": "failed",
                          "points": 1, "message": ""}]
    # no failed-probe names test_add_any, and its "passed" question needs every case passed;
    # the tag question "passed" needs a clean sheet: nothing applies
    assert follow_ups.choose(ex, result) == []


def test_nothing_to_ask_about_a_missing_exercise_or_a_check_that_never_ran():
    ex = load_exercise(TINY)
    assert follow_ups.choose(ex, {"status": "missing", "checks": []}) == []
    assert follow_ups.choose(ex, {"status": "error", "checks": []}) == []


def test_one_cause_for_every_failure_asks_nothing():
    """A syntax error or the untouched stub fails every check for one reason: no probe applies."""
    ex = load_exercise(TINY)
    same = {"status": "graded", "checks": [
        {"id": f"test_hidden.py::{n}", "name": n, "outcome": "failed", "points": 1,
         "message": "tiny.py has a syntax error at line 1" + (" (Falsifying example: x)" if i else "")}
        for i, n in enumerate(ALL_PASS)]}
    assert follow_ups.choose(ex, same) == []
    for c in same["checks"]:
        c["message"] = f"{c['name']}(...) raised NotImplementedError: write it"
    assert follow_ups.choose(ex, same) == []


def test_at_most_six_questions(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    for f in TINY.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    extra = "".join(f'\n[[follow_ups]]\ntag = "fixture"\nwhen = "failed"\nask = "question {i}?"\n'
                    for i in range(8))
    (folder / "exercise.toml").write_text((TINY / "exercise.toml").read_text() + extra)
    ex = load_exercise(folder)
    picked = follow_ups.choose(ex, _result(test_relu_values="failed", test_relu_dtype="failed"))
    assert len(picked) == follow_ups.MAX_QUESTIONS == 6
    assert all(q["when"] == "failed" for q in picked)


# ----------------------------------------------------------------------------- authoring errors

@pytest.mark.parametrize("entry, says", [
    ('check = "test_add_any"\ntag = "fixture"\nwhen = "failed"\nask = "q?"', "exactly one of"),
    ('check = "test_add_any"\nwhen = "sometimes"\nask = "q?"', 'when must be "failed" or "passed"'),
    ('check = "test_add_any"\nwhen = "failed"', "ask ="),
    ('check = "test_add_any"\nwhen = "failed"\nask = "q?"\nextra = 1', "check or tag, when and ask"),
])
def test_a_malformed_follow_up_is_one_clear_line(tmp_path, entry, says):
    folder = tmp_path / "tiny"
    folder.mkdir()
    for f in TINY.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    (folder / "exercise.toml").write_text((TINY / "exercise.toml").read_text()
                                          + f"\n[[follow_ups]]\n{entry}\n")
    with pytest.raises(InputError) as err:
        load_exercise(folder)
    assert says in str(err.value) and "\n" not in str(err.value)


def test_lint_names_unknown_checks_and_tags_and_too_few(tmp_path):
    folder = tmp_path / "tiny"
    folder.mkdir()
    for f in TINY.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    text = (TINY / "exercise.toml").read_text().split("[[follow_ups]]")[0]
    text += ('[[follow_ups]]\ncheck = "test_no_such"\nwhen = "failed"\nask = "q?"\n'
             '[[follow_ups]]\ntag = "nope"\nwhen = "passed"\nask = "q?"\n')
    (folder / "exercise.toml").write_text(text)
    ex = load_exercise(folder)
    problems = follow_up_problems(ex, {"test_add_any", "test_relu_dtype"})
    assert any("2 follow-up question(s)" in p for p in problems)
    assert any("'test_no_such'" in p for p in problems)
    assert any("tag 'nope'" in p for p in problems)
    assert follow_up_problems(load_exercise(TINY), {"test_add_small", "test_add_any",
                                                    "test_relu_values", "test_relu_dtype"}) == []


# ----------------------------------------------------------------------------- end to end

def test_interviewer_report_asks_about_the_failed_check_candidate_sees_none(fixture_root, tmp_path):
    for name in ("i", "c"):
        (tmp_path / name).mkdir()
    result = grade_json(SUBS / "partial", tmp_path / "i")            # relu loses float64
    asked = result["exercises"][0]["follow_ups"]
    assert asked and asked[0]["because"] == "test_relu_dtype failed"
    html = tmp_path / "i.html"
    assert invoke("report", tmp_path / "i" / "result.json", "--html", html).exit_code == 0
    page = html.read_text()
    assert "Ask next" in page and asked[0]["ask"].replace("'", "&#39;") in page
    assert "test_relu_dtype failed" in page

    candidate = grade_json(SUBS / "partial", tmp_path / "c", "--audience", "candidate")
    assert "follow_ups" not in candidate["exercises"][0]
    # an interviewer's JSON rendered for the candidate shows no question either
    out = tmp_path / "c.html"
    assert invoke("report", tmp_path / "i" / "result.json", "--html", out,
                  "--audience", "candidate").exit_code == 0
    text = out.read_text()
    assert "Ask next" not in text and asked[0]["ask"].split("'")[0] not in text
    assert json.loads((tmp_path / "c" / "result.json").read_text())["audience"] == "candidate"
