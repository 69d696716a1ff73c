"""Skill profile, spaced-repetition choice, progress text and the progress HTML page."""

import importlib.util
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fsrs import Rating

from grader.practice.history import open_history
from grader.practice.progress import (exercise_stats, format_progress, grade_fraction,
                                      next_exercise, rating_for, review_schedule, skill_profile)

NOW = datetime(2024, 5, 10, 12, 0, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)

CATALOGUE = [
    {"slug": "conv2d", "title": "2-D convolution", "difficulty": "medium",
     "tags": ["convolution", "groups"], "hints": 3},
    {"slug": "conv-output-shape", "title": "Output shape", "difficulty": "easy",
     "tags": ["convolution", "shapes"], "hints": 3},
    {"slug": "conv2d-backward", "title": "Backward", "difficulty": "hard",
     "tags": ["convolution", "autograd"], "hints": 3},
    {"slug": "conv2d-fix", "title": "Fix the bug", "difficulty": "easy",
     "tags": ["convolution", "debugging"], "hints": 2},
    {"slug": "separable-conv", "title": "Separable", "difficulty": "medium",
     "tags": ["convolution", "efficiency"], "hints": 3},
]
SLUGS = [e["slug"] for e in CATALOGUE]


# --- helpers ----------------------------------------------------------------------------------


def exercise(slug, outcomes, points=1.0):
    checks = [{"id": f"test_hidden.py::test_{i}", "name": name, "outcome": outcome,
               "points": points, "message": ""} for i, (name, outcome) in enumerate(outcomes.items())]
    return {"slug": slug, "title": slug, "status": "graded",
            "score": sum(points for c in checks if c["outcome"] == "passed"),
            "max_score": points * len(checks), "checks": checks, "flags": [], "timings": []}


def grade(hist, when, slug, passed, total=4, failed_name="groups"):
    """Record a grade of slug at `when` with `passed` of `total` checks passing."""
    names = [failed_name] + [f"check {i}" for i in range(1, total)]
    outcomes = {n: ("passed" if i >= total - passed else "failed") for i, n in enumerate(names)}
    hist.record_grade({"schema": 1, "exercises": [exercise(slug, outcomes)]}, "/work", now=when)


@pytest.fixture
def hist(tmp_path):
    h = open_history(tmp_path / "history.sqlite3")
    yield h
    h.close()


def load_progress_html():
    """grader.report.progress_html, also while grader/report.py is still a plain module."""
    try:
        from grader.report import progress_html
        return progress_html
    except ImportError:
        path = Path(__file__).resolve().parents[1] / "grader" / "report" / "progress_html.py"
        spec = importlib.util.spec_from_file_location("progress_html_under_test", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


# --- grades and ratings -------------------------------------------------------------------------


def test_grade_fraction_and_rating(hist):
    grade(hist, NOW, "conv2d", passed=3)
    [run] = hist.runs()
    assert grade_fraction(run) == 0.75
    assert [rating_for(f) for f in (0.0, 0.49, 0.5, 0.79, 0.8, 0.99, 1.0)] == [
        Rating.Again, Rating.Again, Rating.Hard, Rating.Hard, Rating.Good, Rating.Good,
        Rating.Easy]


def test_speed_and_skipped_checks_do_not_count_and_zeroed_scores_do(hist):
    ex = exercise("conv2d", {"a": "passed", "b": "skipped"})
    ex["checks"].append({"id": "timing::speed", "name": "speed", "outcome": "failed",
                         "points": 1.0, "message": ""})
    zeroed = exercise("conv2d-fix", {"a": "passed", "b": "passed"})
    zeroed["score"] = 0.0                                    # forbidden API: score voided
    hist.record_grade({"schema": 1, "exercises": [ex, zeroed]}, "/work", now=NOW)
    first, second = hist.runs()
    assert grade_fraction(first) == 1.0
    assert grade_fraction(second) == 0.0


# --- skill profile --------------------------------------------------------------------------------


def test_skill_profile_weights_recent_grades_and_shows_the_trend(hist):
    grade(hist, NOW - 3 * DAY, "conv2d", passed=1)
    grade(hist, NOW, "conv2d", passed=4)
    grade(hist, NOW - DAY, "conv-output-shape", passed=4)
    profile = {t.tag: t for t in skill_profile(hist, CATALOGUE)}
    groups = profile["groups"]
    assert groups.grades == 2 and groups.last == NOW
    assert groups.trend == pytest.approx(0.75) and groups.trend_arrow == "↑"
    old = 0.5 ** (3 / 14)
    assert groups.mastery == pytest.approx((old * 0.25 + 1.0) / (old + 1.0))
    assert profile["shapes"].mastery == 1.0 and profile["shapes"].trend is None
    assert profile["convolution"].grades == 3
    assert profile["autograd"].grades == 0 and profile["autograd"].mastery == 0.0
    order = [t.tag for t in skill_profile(hist, CATALOGUE)]
    assert order[:3] == ["groups", "convolution", "shapes"]            # weakest first
    assert order[3:] == sorted(order[3:])                              # untried by name


# --- spaced repetition ----------------------------------------------------------------------------


def test_new_exercises_come_in_order_of_difficulty(hist):
    first = next_exercise(hist, CATALOGUE, now=NOW)
    assert (first.slug, first.kind) == ("conv-output-shape", "new")
    assert first.reason == "new: conv-output-shape (easy), next in order of difficulty"
    grade(hist, NOW, "conv-output-shape", passed=4)
    assert next_exercise(hist, CATALOGUE, now=NOW).slug == "conv2d-fix"
    grade(hist, NOW, "conv2d-fix", passed=4)
    assert next_exercise(hist, CATALOGUE, now=NOW).slug == "conv2d"    # medium, catalogue order
    grade(hist, NOW, "conv2d", passed=4)
    grade(hist, NOW, "separable-conv", passed=4)
    assert next_exercise(hist, CATALOGUE, now=NOW).slug == "conv2d-backward"


def test_a_failed_exercise_comes_before_a_mastered_one(hist):
    grade(hist, NOW - 3 * DAY, "conv-output-shape", passed=4)
    grade(hist, NOW - 3 * DAY, "conv2d", passed=1, failed_name="groups")
    pick = next_exercise(hist, CATALOGUE, now=NOW)
    assert (pick.slug, pick.kind) == ("conv2d", "review")
    assert pick.reason == "conv2d: failed 'groups' and 2 more 3 days ago, due again now"
    schedule = review_schedule(hist, CATALOGUE)
    assert [r.slug for r in schedule] == ["conv2d", "conv-output-shape"]
    assert schedule[1].due > NOW                                        # mastered: not due yet


def test_when_nothing_is_due_the_next_review_is_named(hist):
    for slug in SLUGS:
        grade(hist, NOW - DAY, slug, passed=4)
    pick = next_exercise(hist, CATALOGUE, now=NOW)
    assert pick.kind == "ahead" and pick.slug == "conv2d"               # tie: catalogue order
    assert pick.reason == "mastered everything due; next review of conv2d in 7 days"
    later = next_exercise(hist, CATALOGUE, now=NOW + 10 * DAY)
    assert later.kind == "review" and "passed every check 11 days ago" in later.reason


def test_history_of_exercises_outside_the_catalogue_is_ignored(hist):
    grade(hist, NOW - 5 * DAY, "tiny", passed=0)
    assert next_exercise(hist, CATALOGUE, now=NOW).kind == "new"
    assert all(t.grades == 0 for t in skill_profile(hist, CATALOGUE))


def test_unknown_slug_and_bad_catalogue_raise_value_error(hist):
    for call in (lambda: exercise_stats(hist, CATALOGUE, slug="nope"),
                 lambda: review_schedule(hist, CATALOGUE, slug="nope")):
        with pytest.raises(ValueError) as err:
            call()
        assert "'nope'" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError, match="difficulty"):
        next_exercise(hist, [{"slug": "x", "difficulty": "brutal"}], now=NOW)
    with pytest.raises(ValueError):
        next_exercise(hist, [], now=NOW)


# --- terminal text ---------------------------------------------------------------------------------


def test_format_progress_shows_bars_trend_and_hints(hist):
    grade(hist, NOW - DAY, "conv2d", passed=4)
    grade(hist, NOW, "conv2d", passed=2)
    hist.record_check("conv2d", "/work", passed=True, now=NOW)
    hist.mark_hint("conv2d", 0, now=NOW)
    hist.mark_hint("conv2d", 1, now=NOW)
    text = format_progress(skill_profile(hist, CATALOGUE), hist, CATALOGUE)
    groups = next(line for line in text.splitlines() if line.strip().startswith("groups"))
    assert "█" in groups and "↓" in groups and "2 grades" in groups
    row = next(line for line in text.splitlines() if line.strip().startswith("conv2d "))
    assert "100%" in row and "50%" in row and "2 of 3 hints seen" in row
    assert row.split()[3:5] == ["2", "1"]                               # grades, checks
    assert "Not tried yet:" in text and "autograd" in text
    [stat] = exercise_stats(hist, CATALOGUE, slug="conv2d")
    assert (stat.best, stat.last, stat.grades, stat.checks, stat.hints_seen) == \
        (1.0, 0.5, 2, 1, 2)


def test_format_progress_without_grades(hist):
    text = format_progress(skill_profile(hist, CATALOGUE), hist, CATALOGUE)
    assert "No grades yet" in text and "0 of 2 hints seen" in text


# --- HTML page --------------------------------------------------------------------------------------


class _TagBalance(HTMLParser):
    """Fails on a closing tag that does not match the open one (void elements aside)."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(tag)


def _parse(page: str) -> ET.Element:
    assert page.startswith("<!DOCTYPE html>")
    checker = _TagBalance()
    checker.feed(page)
    assert checker.errors == [] and checker.stack == []
    return ET.fromstring(page.removeprefix("<!DOCTYPE html>"))


def test_html_is_well_formed_self_contained_and_escaped(hist):
    nasty = "x<y>&\"z"
    catalogue = CATALOGUE + [{"slug": nasty, "title": "<b>bold</b> title", "difficulty": "easy",
                              "tags": ["<tag>"], "hints": 1}]
    grade(hist, NOW - 2 * DAY, "conv2d", passed=2)
    grade(hist, NOW, "conv2d", passed=4)
    grade(hist, NOW - DAY, nasty, passed=1, failed_name="<script>alert(1)</script>")
    hist.mark_hint(nasty, 0, now=NOW)
    page = load_progress_html().render_progress_html(hist, catalogue)
    root = _parse(page)
    svg = "{http://www.w3.org/2000/svg}"
    charts = root.findall(f".//{svg}svg")
    assert len(charts) == 2                                  # score over time, mastery bars
    assert len(charts[0].findall(f".//{svg}circle")) == 3
    assert len(charts[0].findall(f".//{svg}polyline")) == 1  # conv2d has two points
    assert "<script" not in page and "<b>" not in page and "<tag>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "x&lt;y&gt;&amp;&quot;z" in page
    assert "1 of 1 hints seen" in page and "2 of 3 hints seen" not in page
    for external in ("src=", "href=", "<link", "url(", "@import"):
        assert external not in page


def test_html_without_grades_is_still_a_page(hist):
    page = load_progress_html().render_progress_html(hist, CATALOGUE)
    root = _parse(page)
    assert "No grades yet" in page and root.find(".//table") is not None
