"""Which interview follow-up questions a candidate's results call for (the "Ask next" section).

Each exercise's exercise.toml carries `[[follow_ups]]`: a question tied to one hidden check (by
function name) or to one of the exercise's tags, asked when that check failed (probe the
misconception) or passed (go deeper). From one candidate's results we pick at most
MAX_QUESTIONS, probes of failures first (they say the most about this candidate), each naming
the check that prompted it. Interviewer audience only: the candidate's JSON, report and kit
never carry them (grading.grade_all attaches them only for the interviewer).
"""

from __future__ import annotations

from grader.catalogue import Exercise
from grader.catalogue.lint import check_function
from grader.kinds import SPEED_CHECK, Outcome, Status

MAX_QUESTIONS = 6


def _correctness_checks(result: dict) -> list[dict]:
    return [c for c in result.get("checks", []) if c.get("id") != SPEED_CHECK]


def _prompted_by(follow_up, checks: list[dict]) -> str | None:
    """Why this question applies to these results (None: it does not)."""
    failed = [c for c in checks if c["outcome"] not in (Outcome.PASSED, Outcome.SKIPPED)]
    if follow_up.check:
        named = [c for c in checks if check_function(c["id"]) == follow_up.check]
        if not named:
            return None                     # the check did not run (exercise missing, crashed)
        if follow_up.when == "failed":
            bad = [c for c in named if c in failed]
            return f"{follow_up.check} failed" if bad else None
        good = all(c["outcome"] == Outcome.PASSED for c in named)
        return f"{follow_up.check} passed" if good else None
    if not checks:
        return None
    if follow_up.when == "failed":          # a tag question: any correctness check failed
        return f"{check_function(failed[0]['id'])} failed ({follow_up.tag})" if failed else None
    return f"every check passed ({follow_up.tag})" if not failed else None


def _one_cause(checks: list[dict]) -> bool:
    """Every check failed with the same message (a syntax error, an import error, the stub's
    NotImplementedError): the failures share one cause and probe no particular idea."""
    if not checks or any(c["outcome"] in (Outcome.PASSED, Outcome.SKIPPED) for c in checks):
        return False
    # Hypothesis appends each check's own falsifying example: compare what comes before it
    messages = {str(c.get("message", "")).split(" (Falsifying")[0] for c in checks}
    return len(messages) == 1 or all("NotImplementedError" in m for m in messages)


def choose(exercise: Exercise, result: dict) -> list[dict]:
    """At most MAX_QUESTIONS follow-ups for one exercise's result, failures' probes first."""
    if result.get("status") != Status.GRADED:
        return []                           # missing, crashed, timed out: the checks say nothing
    checks = _correctness_checks(result)
    if _one_cause(checks):
        return []                           # a syntax error or an untouched stub, not a misconception
    picked = []
    for when in ("failed", "passed"):
        for follow_up in exercise.follow_ups:
            if follow_up.when != when:
                continue
            because = _prompted_by(follow_up, checks)
            if because:
                picked.append({"ask": follow_up.ask, "when": when, "because": because,
                               "check": follow_up.check or None, "tag": follow_up.tag or None})
    return picked[:MAX_QUESTIONS]
