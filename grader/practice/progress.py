"""Skill profile per tag, spaced-repetition choice of the next exercise, and the progress table."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fsrs import Card, Rating, Scheduler

from grader.practice.history import History, Run, utc

# --- tuning -----------------------------------------------------------------------------------

DIFFICULTY_ORDER = {"easy": 0, "medium": 1, "hard": 2}

# A grade this many days older than a tag's latest grade counts half as much towards mastery:
# what the candidate can do now matters more than what they could not do a month ago.
MASTERY_HALF_LIFE_DAYS = 14.0

# The grader's timing pseudo-check; it measures speed, not correctness, so it is not a
# "hidden check passed" (grading.SPEED_CHECK, repeated here to keep torch out of the import).
SPEED_CHECK = "timing::speed"
FAILED_OUTCOMES = ("failed", "error", "timeout")

# FSRS is tuned for flash cards (learning steps of minutes). An exercise takes an hour or so:
# a failed one comes back tomorrow, not in ten minutes, and the schedule is deterministic.
SCHEDULER = Scheduler(learning_steps=(timedelta(days=1),), relearning_steps=(timedelta(days=1),),
                      enable_fuzzing=False)


# --- results handed to callers ------------------------------------------------------------------


@dataclass(frozen=True)
class TagStat:
    tag: str
    mastery: float                 # 0..1, recency-weighted fraction of hidden checks passed
    trend: float | None            # last grade's fraction minus the previous one's; None: < 2
    grades: int
    last: datetime | None
    exercises: tuple[str, ...]     # slugs carrying the tag, catalogue order

    @property
    def trend_arrow(self) -> str:
        if self.trend is None:
            return " "
        return "↑" if self.trend > 0.005 else "↓" if self.trend < -0.005 else "→"


@dataclass(frozen=True)
class ExerciseStat:
    slug: str
    title: str
    difficulty: str
    best: float | None             # fractions of the maximum score; None: never graded
    last: float | None
    grades: int
    checks: int                    # `torchdrill check` runs (public tests)
    hints_seen: int
    hints_total: int
    last_time: datetime | None


@dataclass(frozen=True)
class Review:
    slug: str
    due: datetime
    last_grade: Run


@dataclass(frozen=True)
class Suggestion:
    slug: str
    reason: str
    kind: str = "new"              # 'review' (due now) | 'new' | 'ahead' (nothing due yet)
    due: datetime | None = None


# --- catalogue and grades -------------------------------------------------------------------------


def _entries(catalogue: list[dict]) -> list[dict]:
    """Validate the catalogue dicts once, so later code can index them without checks."""
    entries = []
    for i, entry in enumerate(catalogue):
        slug = entry.get("slug") if isinstance(entry, dict) else None
        if not isinstance(slug, str) or not slug:
            raise ValueError(f"catalogue entry {i} has no slug")
        difficulty = entry.get("difficulty", "medium")
        if difficulty not in DIFFICULTY_ORDER:
            raise ValueError(f"{slug}: difficulty must be easy, medium or hard, not {difficulty!r}")
        hints = entry.get("hints", 0)
        entries.append({"slug": slug, "title": str(entry.get("title", slug)),
                        "difficulty": difficulty, "tags": tuple(entry.get("tags", ())),
                        "hints": len(hints) if isinstance(hints, (list, tuple)) else int(hints),
                        "order": i})
    return entries


def _known(entries: list[dict], slug: str) -> dict:
    for entry in entries:
        if entry["slug"] == slug:
            return entry
    raise ValueError(f"unknown exercise {slug!r}; `torchdrill list` shows the exercises")


def _grades_by_slug(history: History, entries: list[dict]) -> dict[str, list[Run]]:
    # Runs of exercises no longer in the catalogue (renamed, test fixtures) are left out.
    known = {e["slug"] for e in entries}
    grades: dict[str, list[Run]] = {}
    for run in history.runs(kind="grade"):
        if run.slug in known:
            grades.setdefault(run.slug, []).append(run)
    return grades


def grade_fraction(run: Run) -> float:
    """Fraction 0..1 of the hidden correctness checks a grade passed (skipped ones not counted)."""
    if run.max_score and not run.score:
        # A zeroing flag (forbidden API...) voids the passed checks; so does a crash at 0.
        return 0.0
    counted = [c for c in run.checks if c.check_id != SPEED_CHECK and c.outcome != "skipped"]
    if counted:
        return sum(c.outcome == "passed" for c in counted) / len(counted)
    return (run.score or 0.0) / run.max_score if run.max_score else 0.0


def rating_for(fraction: float) -> Rating:
    """Map a grade to an FSRS rating: under half passed Again, under 80% Hard, all Easy."""
    if fraction < 0.5:
        return Rating.Again
    if fraction < 0.8:
        return Rating.Hard
    return Rating.Good if fraction < 1.0 else Rating.Easy


def _score_fraction(run: Run) -> float:
    return (run.score or 0.0) / run.max_score if run.max_score else 0.0


# --- skill profile ------------------------------------------------------------------------------


def skill_profile(history: History, catalogue: list[dict]) -> list[TagStat]:
    """One TagStat per tag in the catalogue: tried tags weakest first, then untried by name."""
    entries = _entries(catalogue)
    grades = _grades_by_slug(history, entries)
    tags: dict[str, list[str]] = {}
    for entry in entries:
        for tag in entry["tags"]:
            tags.setdefault(tag, []).append(entry["slug"])
    stats = []
    for tag, slugs in tags.items():
        runs = sorted((r for s in slugs for r in grades.get(s, ())), key=lambda r: (r.time, r.id))
        if not runs:
            stats.append(TagStat(tag, 0.0, None, 0, None, tuple(slugs)))
            continue
        latest = runs[-1].time
        weights = [0.5 ** ((latest - r.time).total_seconds() / 86400 / MASTERY_HALF_LIFE_DAYS)
                   for r in runs]
        fractions = [grade_fraction(r) for r in runs]
        mastery = sum(w * f for w, f in zip(weights, fractions)) / sum(weights)
        trend = fractions[-1] - fractions[-2] if len(runs) > 1 else None
        stats.append(TagStat(tag, mastery, trend, len(runs), latest, tuple(slugs)))
    return sorted(stats, key=lambda t: (t.grades == 0, t.mastery if t.grades else 0.0, t.tag))


def exercise_stats(history: History, catalogue: list[dict],
                   slug: str | None = None) -> list[ExerciseStat]:
    """Per exercise (catalogue order, or just `slug`): best/last score, run counts, hints seen."""
    entries = _entries(catalogue)
    if slug is not None:
        entries = [_known(entries, slug)]
    out = []
    for entry in entries:
        runs = history.runs(slug=entry["slug"])
        grades = [r for r in runs if r.kind == "grade"]
        seen = [i for i in history.hints_seen(entry["slug"]) if i < entry["hints"]]
        scores = [_score_fraction(r) for r in grades]
        out.append(ExerciseStat(
            slug=entry["slug"], title=entry["title"], difficulty=entry["difficulty"],
            best=max(scores) if scores else None, last=scores[-1] if scores else None,
            grades=len(grades), checks=len(runs) - len(grades), hints_seen=len(seen),
            hints_total=entry["hints"], last_time=runs[-1].time if runs else None))
    return out


# --- spaced repetition -----------------------------------------------------------------------------


def review_schedule(history: History, catalogue: list[dict],
                    slug: str | None = None) -> list[Review]:
    """When each graded exercise is due again, soonest first, from its replayed grade history."""
    entries = _entries(catalogue)
    if slug is not None:
        entries = [_known(entries, slug)]
    grades = _grades_by_slug(history, entries)
    reviews = []
    for entry in entries:
        runs = grades.get(entry["slug"])
        if not runs:
            continue
        # A fixed card id (fsrs would otherwise take the clock and sleep 1 ms per card).
        card = Card(card_id=entry["order"] + 1, due=runs[0].time.astimezone(timezone.utc))
        for run in runs:
            card, _ = SCHEDULER.review_card(card, rating_for(grade_fraction(run)),
                                            review_datetime=run.time.astimezone(timezone.utc))
        reviews.append((card.due, entry["order"], Review(entry["slug"], card.due, runs[-1])))
    return [r for _, _, r in sorted(reviews, key=lambda t: t[:2])]


def next_exercise(history: History, catalogue: list[dict],
                  now: datetime | None = None) -> Suggestion:
    """The most overdue graded exercise; else the easiest new one; else the next review."""
    now = utc(now)
    entries = _entries(catalogue)
    if not entries:
        raise ValueError("the catalogue has no exercises")
    schedule = review_schedule(history, entries)
    due = [r for r in schedule if r.due <= now]
    if due:
        review = due[0]
        return Suggestion(review.slug, f"{review.slug}: {_what_happened(review.last_grade)} "
                          f"{_ago(now - review.last_grade.time)}, due again now", "review",
                          review.due)
    graded = {r.slug for r in schedule}
    new = sorted((e for e in entries if e["slug"] not in graded),
                 key=lambda e: (DIFFICULTY_ORDER[e["difficulty"]], e["order"]))
    if new:
        entry = new[0]
        return Suggestion(entry["slug"], f"new: {entry['slug']} ({entry['difficulty']}), "
                          "next in order of difficulty", "new")
    review = schedule[0]
    return Suggestion(review.slug, f"mastered everything due; next review of {review.slug} "
                      f"in {_span(review.due - now)}", "ahead", review.due)


def _what_happened(run: Run) -> str:
    failed = [c.name for c in run.checks if c.outcome in FAILED_OUTCOMES
              and c.check_id != SPEED_CHECK]
    if failed:
        more = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
        return f"failed '{failed[0]}'{more}"
    if grade_fraction(run) >= 1.0:
        return "passed every check"
    return f"scored {100 * _score_fraction(run):.0f}%"


def _span(delta: timedelta) -> str:
    """A duration the way people say it: '3 days', '5 hours', '1 minute'."""
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}" + ("s" if n != 1 else "")
    return "less than a minute"


def _ago(delta: timedelta) -> str:
    return "just now" if delta < timedelta(minutes=1) else f"{_span(delta)} ago"


# --- terminal output ----------------------------------------------------------------------------

_EIGHTHS = " ▏▎▍▌▋▊▉"


def _bar(fraction: float, width: int = 10) -> str:
    """A bar of block characters in eighths of a cell, padded with light shade to `width`."""
    eighths = round(max(0.0, min(1.0, fraction)) * width * 8)
    bar = "█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else "")
    return bar + "░" * (width - len(bar))


def _pct(fraction: float | None) -> str:
    return "—" if fraction is None else f"{100 * fraction:.0f}%"


def format_progress(profile: list[TagStat], history: History, catalogue: list[dict]) -> str:
    """The `torchdrill progress` text: a mastery bar per tag, then a row per exercise."""
    tried = [t for t in profile if t.grades]
    lines = []
    if tried:
        width = max(len(t.tag) for t in tried)
        lines.append("Skills, weakest first (recent hidden checks passed)")
        for t in tried:
            grades = f"{t.grades} grade" + ("s" if t.grades != 1 else "")
            lines.append(f"  {t.tag:<{width}}  {_bar(t.mastery)} {_pct(t.mastery):>4}  "
                         f"{t.trend_arrow}  {grades:<9}  last {t.last:%Y-%m-%d}")
    else:
        lines.append("No grades yet: `torchdrill grade` your work to see skills here.")
    untried = sorted(t.tag for t in profile if not t.grades)
    if untried:
        lines += ["", "Not tried yet:", textwrap.fill(", ".join(untried), width=88,
                                                     initial_indent="  ", subsequent_indent="  ",
                                                     break_on_hyphens=False)]
    stats = exercise_stats(history, catalogue)
    if stats:
        width = max(len("exercise"), *(len(s.slug) for s in stats))
        lines += ["", f"  {'exercise':<{width}}  {'best':>4}  {'last':>4}  grades  checks  hints"]
        for s in stats:
            lines.append(f"  {s.slug:<{width}}  {_pct(s.best):>4}  {_pct(s.last):>4}  "
                         f"{s.grades:>6}  {s.checks:>6}  {s.hints_seen} of {s.hints_total} "
                         "hints seen")
    return "\n".join(lines)
