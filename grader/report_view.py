"""Turns a result dict into what the HTML template shows, per audience.

Interviewer: everything. Candidate: check names and ids of hidden checks are replaced by a
numbered category, only the candidate-facing message is kept.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

OUTCOME_LABEL = {"passed": "passed", "failed": "failed", "error": "error", "timeout": "timed out",
                 "skipped": "skipped"}


def _pct(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score else 0.0


def score_bars_svg(exercises: list[dict]) -> Markup:
    """Horizontal bar per exercise: share of its points earned. Inline SVG, escaped text."""
    row, label_w, bar_w = 26, 190, 300
    height = row * len(exercises) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
             f'width="{label_w + bar_w + 70}" height="{height}" '
             f'aria-label="Score per exercise"><title>Score per exercise</title>']
    for i, ex in enumerate(exercises):
        y = 5 + i * row
        pct = _pct(ex["score"], ex["max_score"])
        colour = "#2e7d32" if pct >= 99.95 else "#f9a825" if pct > 0 else "#c62828"
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">{escape(ex["slug"][:28])}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="18" fill="#eee"/>'
                     f'<rect x="{label_w}" y="{y}" width="{bar_w * pct / 100:.1f}" height="18" '
                     f'fill="{colour}"><title>{escape(ex["slug"])}: {pct:.0f}%</title></rect>'
                     f'<text x="{label_w + bar_w + 6}" y="{y + 15}">{pct:.0f}%</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def timing_charts(ex: dict, environment: dict) -> list[Markup]:
    if not ex.get("timings"):
        return []
    try:
        from grader import charts
    except ImportError:
        return []
    return [Markup(svg) for svg in charts.timing_svgs(ex["timings"])]


def method_sentence(environment: dict) -> str:
    try:
        from grader import charts
        return charts.method_sentence(environment.get("device", "cpu"),
                                      environment.get("device_name", ""),
                                      environment.get("threads", 1))
    except (ImportError, AttributeError):
        return ""


def build_view(result: dict, audience: str) -> dict:
    candidate_view = audience == "candidate"
    exercises = []
    for ex in result["exercises"]:
        checks = []
        for n, c in enumerate(ex["checks"], 1):
            hidden_name = candidate_view and not c["id"].startswith("timing::")
            checks.append({
                "name": f"check {n}" if hidden_name else c["name"],
                "id": "" if candidate_view else c["id"],
                "outcome": c["outcome"], "label": OUTCOME_LABEL.get(c["outcome"], c["outcome"]),
                "points": c["points"], "message": c.get("message", ""),
            })
        exercises.append({
            **ex, "checks": checks, "pct": _pct(ex["score"], ex["max_score"]),
            "passed": sum(c["outcome"] == "passed" for c in checks),
            "charts": timing_charts(ex, result["environment"]),
        })
    graded = [e for e in exercises if e["max_score"]]
    ranked = sorted(graded, key=lambda e: e["pct"])
    flags = [(e["slug"], f) for e in exercises for f in e["flags"] if f["kind"] != "skipped"]
    return {
        "result": result, "audience": audience, "exercises": exercises,
        "pct": _pct(result["score"], result["max_score"]),
        "score_chart": score_bars_svg(exercises) if exercises else "",
        "strongest": [e["slug"] for e in ranked[::-1] if e["pct"] >= 80][:3],
        "weakest": [e["slug"] for e in ranked if e["pct"] < 50][:3],
        "flags": flags, "method": method_sentence(result["environment"]),
    }
