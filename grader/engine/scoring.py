"""How a check is scored: points, weights, the zeroing rules and the speed share, in one place.

Every renderer (HTML, JUnit, CSV, leaderboard) reads what this module wrote into the result
(`score`, `zeroed`, `zeroed_by`); none of them re-derives it.

- An exercise's points minus its speed points are the correctness pool, split over its hidden
  checks by weight (`@pytest.mark.points(w)`, default 1).
- A passed check earns its share; anything else earns nothing.
- Speed points: the share of the first tier (by increasing max slowdown) whose max slowdown is
  at least the geometric mean of the per-case slowdowns (candidate / PyTorch, each clamped to
  [SLOWDOWN_FLOOR, SLOWDOWN_CAP] so that one case cannot decide the tier alone).
- A zeroing flag (ZEROING_FLAGS) sets the exercise's score to 0 whatever it earned.
- Points this machine cannot award (speed points with timing off, or needing a device it lacks)
  are "not measured here": the check is skipped with NOT_MEASURED in its message, and
  `gradable_max_score` (exercise and top level, only where it differs from max_score) leaves
  them out. max_score itself never changes.
"""

from __future__ import annotations

import math
import statistics

from grader.kinds import SPEED_CHECK, Flag, Outcome
from grader.timing import DEFAULT_TIERS, SLOWDOWN_CAP, SLOWDOWN_FLOOR

# Evidence that the score cannot be trusted: forbidden API use, reaching for the grader or the
# answers, forging the result channel, tampering with what the checks rely on, loading or
# running native code (which defeats every in-process defence).
ZEROING_FLAGS = frozenset({Flag.FORBIDDEN_API, Flag.GRADER_IMPORT, Flag.RESULT_FORGERY,
                           Flag.TAMPERING, Flag.NATIVE_CODE})


# ----------------------------------------------------------------------------- correctness

def weighted(checks: list[dict], points: float, speed_points: float = 0.0) -> list[dict]:
    """Split the correctness points (the exercise's points less its speed points) by weight."""
    pool = points - speed_points
    total = sum(c.get("weight", 1.0) for c in checks) or 1.0
    return [dict(c, points=round(pool * c.get("weight", 1.0) / total, 6)) for c in checks]


def zeroed_by(flags: list[dict]) -> list[str]:
    """The zeroing flag kinds present, sorted, each once."""
    return sorted({str(f.get("kind")) for f in flags if f.get("kind") in ZEROING_FLAGS})


def score_exercise(result: dict) -> None:
    """Set `score`, `zeroed` and `zeroed_by`: passed checks' points plus the speed points
    earned; zero when a zeroing flag is present."""
    score = sum(c["points"] for c in result["checks"]
                if c["outcome"] == Outcome.PASSED and c["id"] != SPEED_CHECK)
    score += result.get("_speed_points", 0.0)   # speed earns a share of its points
    kinds = zeroed_by(result["flags"])
    result["zeroed"], result["zeroed_by"] = bool(kinds), kinds
    result["score"] = 0.0 if kinds else round(min(score, result["max_score"]), 4)


# ------------------------------------------------------------------------- gradable here

NOT_MEASURED = "not measured here"


def not_measured(check: dict) -> bool:
    """A check this machine could not run at all (not the candidate's doing)."""
    return (check.get("outcome") == Outcome.SKIPPED
            and str(check.get("message", "")).startswith(NOT_MEASURED))


def gradable_max(exercise: dict) -> float:
    """The exercise's maximum less the points of checks not measured here."""
    lost = sum(float(c.get("points", 0.0)) for c in exercise.get("checks", ()) if not_measured(c))
    return round(max(0.0, float(exercise["max_score"]) - lost), 4)


def set_gradable(result: dict) -> None:
    """Add `gradable_max_score` to each exercise and the top of a result, where it differs."""
    total = 0.0
    for ex in result["exercises"]:
        ex.pop("gradable_max_score", None)
        here = gradable_max(ex)
        total += here
        if abs(here - ex["max_score"]) > 1e-9:
            ex["gradable_max_score"] = here
    result.pop("gradable_max_score", None)
    if abs(total - result["max_score"]) > 1e-9:
        result["gradable_max_score"] = round(total, 4)


def not_measured_note(result: dict) -> str:
    """'3 speed points need a CUDA GPU; 2 speed points not measured: timing off' ('' if none)."""
    why: dict[str, float] = {}
    for ex in result["exercises"]:
        for c in ex.get("checks", ()):
            if not_measured(c):
                text = str(c.get("message", ""))
                key = ("need a CUDA GPU" if "CUDA" in text else
                       "not measured: timing off" if "timing off" in text else "not measured here")
                why[key] = why.get(key, 0.0) + float(c.get("points", 0.0))
    return "; ".join(f"{points:g} speed point{'s' if points != 1 else ''} {key}"
                     .replace("speed point need", "speed point needs")
                     for key, points in why.items())


# ----------------------------------------------------------------------------------- speed

def slowdowns(rows, floor: float = SLOWDOWN_FLOOR, cap: float = SLOWDOWN_CAP) -> list[float]:
    """candidate_ms / reference_ms per row, clamped to [floor, cap]; inf for an unusable row."""
    out = []
    for row in rows:
        c, r = row.get("candidate_ms"), row.get("reference_ms")
        if row.get("error") or not c or not r or c <= 0 or r <= 0:
            out.append(math.inf)
        else:
            out.append(min(max(c / r, floor), cap))
    return out


def geomean_slowdown(rows, floor: float = SLOWDOWN_FLOOR, cap: float = SLOWDOWN_CAP) -> float:
    """Geometric mean of the clamped slowdowns; inf when a row has an error or no time."""
    values = slowdowns(rows, floor, cap)
    if not values or any(math.isinf(v) for v in values):
        return math.inf
    return math.exp(statistics.fmean(math.log(v) for v in values))


def speed_share(rows, tiers=DEFAULT_TIERS, *, floor: float = SLOWDOWN_FLOOR,
                cap: float = SLOWDOWN_CAP) -> float:
    """Share of the speed points: the share of the first tier (by increasing max slowdown)
    whose max slowdown is >= the geometric-mean slowdown; 0 beyond the last tier, with no rows,
    or when any row has an error."""
    mean = geomean_slowdown(rows, floor, cap)
    if math.isinf(mean):
        return 0.0
    for max_slowdown, share in sorted(tuple(t) for t in (tiers or ())):
        if mean <= max_slowdown * (1 + 1e-9):       # exp(log(x)) may round x up
            return float(share)
    return 0.0


def speed_points(rows, tiers, points: float) -> tuple[float, float]:
    """(share, points earned) for the timing rows of one exercise."""
    share = max(0.0, min(1.0, speed_share(rows, tiers)))
    return share, round(points * share, 4)


def _times(x: float) -> str:
    return f"{x:.2f}x" if x < 10 else f"{x:.0f}x"


def speed_message(rows, tiers, share: float) -> str:
    """The speed check's message in the prompt's terms (slowdowns against PyTorch): the
    measured slowdown per case, the tier it reached and what the next tier needs."""
    values = slowdowns(rows)
    mean = geomean_slowdown(rows)
    if math.isinf(mean):
        return f"earned {share:.0%} of the speed points"
    cases = ", ".join(f"{row.get('case', '?')} {_times(v)}" for row, v in zip(rows, values))
    where = (f"{_times(mean)} PyTorch's time (geometric mean of the cases: {cases})"
             if len(values) > 1 else f"{_times(mean)} PyTorch's time ({cases})")
    ordered = sorted(tuple(t) for t in (tiers or DEFAULT_TIERS))
    reached = next((t for t in ordered if mean <= t[0] * (1 + 1e-9)), None)
    if reached is None:
        return (f"{where}: slower than the last tier (within {_times(ordered[-1][0])}), "
                f"0% of the speed points")
    text = f"{where}: within the {_times(reached[0])} tier, {share:.0%} of the speed points"
    better = [t for t in ordered if t[0] < reached[0] and t[1] > reached[1]]
    if better:
        goal = better[-1]
        text += f"; {goal[1]:.0%} needs within {_times(goal[0])}"
    return text
