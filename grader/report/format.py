"""How numbers and states read in every report: points, percentages, labels."""

from __future__ import annotations

from grader.kinds import Outcome, Status

OUTCOME_LABEL = {Outcome.PASSED: "passed", Outcome.FAILED: "failed", Outcome.ERROR: "error",
                 Outcome.TIMEOUT: "timed out", Outcome.SKIPPED: "skipped"}
STATUS_LABEL = {Status.GRADED: "graded", Status.MISSING: "not attempted", Status.ERROR: "error",
                Status.TIMEOUT: "timed out"}


def pct(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score else 0.0


def points(x) -> str:
    """2.608696 -> "2.61", 4.0 -> "4": readable, never misleadingly rounded to a whole point."""
    text = f"{float(x):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
