"""One self-contained HTML page of a candidate's progress: score over time, mastery, hints."""

from __future__ import annotations

from datetime import datetime, timedelta
from html import escape

from grader.practice.history import History
from grader.practice.progress import exercise_stats, grade_fraction, skill_profile

# Everything is inline (CSS, SVG, no scripts, no fonts or images from elsewhere) so the page
# can be mailed or opened offline. The markup is also well-formed XML, which keeps the SVG
# valid and lets tests parse the whole page with xml.etree.

# Colour-blind-friendly palette (Okabe-Ito plus darker extras); cycles past 12 exercises.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9",
           "#F0E442", "#000000", "#8C564B", "#7F7F7F", "#17BECF", "#BCBD22")

# --- page ---------------------------------------------------------------------------------------

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 60rem;
       padding: 0 1rem; color: #1b1b1b; background: #fff; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .6rem; border-bottom: 1px solid #ddd; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
svg text { font: 12px system-ui, sans-serif; fill: currentColor; }
.axis { stroke: #999; } .grid { stroke: #e3e3e3; }
.muted { color: #666; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .35em; }
@media (prefers-color-scheme: dark) {
  body { color: #e8e8e8; background: #161616; } th, td { border-color: #333; }
  .grid { stroke: #2e2e2e; } .muted { color: #aaa; }
}
"""


def render_progress_html(history: History, catalogue: list[dict]) -> str:
    """The whole page as one string; every catalogue or history string in it is escaped."""
    profile = skill_profile(history, catalogue)
    stats = exercise_stats(history, catalogue)
    titles = {s.slug: s.title for s in stats}
    grades = [r for r in history.runs(kind="grade") if r.slug in titles]
    series: dict[str, list] = {}
    for run in grades:
        series.setdefault(run.slug, []).append(run)
    colours = {slug: PALETTE[i % len(PALETTE)] for i, slug in enumerate(series)}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"/>',
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>',
        "<title>torchdrill progress</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>torchdrill progress</h1>",
        f'<p class="muted">{len(grades)} grade(s) of {len(series)} exercise(s); '
        f"history in {escape(str(history.path))}</p>",
        "<h2>Score over time</h2>",
        _score_chart(series, colours) if series else
        '<p class="muted">No grades yet: run <code>torchdrill grade</code> on your work.</p>',
        "<h2>Mastery per tag</h2>",
        _mastery_bars([t for t in profile if t.grades]),
        _untried([t.tag for t in profile if not t.grades]),
        "<h2>Exercises</h2>",
        _exercise_table(stats, colours, series),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"


# --- score over time (line chart) --------------------------------------------------------------

CHART_W, CHART_H = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 16, 36


def _score_chart(series: dict[str, list], colours: dict[str, str]) -> str:
    times = [r.time for runs in series.values() for r in runs]
    start, end = min(times), max(times)
    if end - start < timedelta(days=1):
        # One day of grades (or one grade) would divide by zero or fill the width with minutes.
        start, end = start - timedelta(hours=12), end + timedelta(hours=12)
    margin = (end - start) * 0.04        # keeps the first and last points off the plot's edge
    start, end = start - margin, end + margin
    span = (end - start).total_seconds()
    plot_w, plot_h = CHART_W - LEFT - RIGHT, CHART_H - TOP - BOTTOM

    def x(moment: datetime) -> float:
        return LEFT + plot_w * (moment - start).total_seconds() / span

    def y(fraction: float) -> float:
        return TOP + plot_h * (1.0 - fraction)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" '
           f'width="100%" role="img" aria-label="Score over time, percent of maximum">',
           "<title>Score over time (% of maximum score)</title>"]
    # Stroke colours are attributes, not only CSS, so the SVG also reads right on its own
    # (copied out of the page); the page's CSS still overrides them for dark mode.
    for pct in (0, 25, 50, 75, 100):            # horizontal grid with % labels
        yy = y(pct / 100)
        out.append(f'<line class="grid" stroke="#e3e3e3" x1="{LEFT}" y1="{yy:.1f}" '
                   f'x2="{CHART_W - RIGHT}" y2="{yy:.1f}"/><text x="{LEFT - 6}" '
                   f'y="{yy + 4:.1f}" text-anchor="end">{pct}%</text>')
    for day in _day_ticks(start, end):           # midnight UTC ticks, at most about 7 labels
        out.append(f'<line class="grid" stroke="#e3e3e3" x1="{x(day):.1f}" y1="{TOP}" '
                   f'x2="{x(day):.1f}" y2="{TOP + plot_h}"/><text x="{x(day):.1f}" '
                   f'y="{CHART_H - BOTTOM + 18}" text-anchor="middle">{day:%Y-%m-%d}</text>')
    out.append(f'<line class="axis" stroke="#999" x1="{LEFT}" y1="{TOP + plot_h}" '
               f'x2="{CHART_W - RIGHT}" y2="{TOP + plot_h}"/>')
    for slug, runs in series.items():
        colour = colours[slug]
        points = " ".join(f"{x(r.time):.1f},{y(_pct_of_max(r)):.1f}" for r in runs)
        out.append(f'<g><title>{escape(slug)}</title>')
        if len(runs) > 1:
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" '
                       'stroke-width="2"/>')
        for r in runs:   # a <title> per point is the browser's own tooltip: no script needed
            out.append(f'<circle cx="{x(r.time):.1f}" cy="{y(_pct_of_max(r)):.1f}" r="4" '
                       f'fill="{colour}"><title>{escape(_point_label(r))}</title></circle>')
        out.append("</g>")
    out.append("</svg>")
    legend = " ".join(f'<span><span class="swatch" style="background:{colours[s]}"></span>'
                      f"{escape(s)}</span>" for s in series)
    return "\n".join(out) + f"\n<p>{legend}</p>"


def _day_ticks(start: datetime, end: datetime, most: int = 7) -> list[datetime]:
    first = start.replace(hour=0, minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(days=1)
    days = max(0, (end - first).days)
    step = max(1, -(-(days + 1) // most))       # ceiling division: labels never crowd
    return [first + timedelta(days=d) for d in range(0, days + 1, step)
            if first + timedelta(days=d) <= end]


def _pct_of_max(run) -> float:
    return max(0.0, min(1.0, (run.score or 0.0) / run.max_score)) if run.max_score else 0.0


def _point_label(run) -> str:
    failed = [c.name for c in run.checks if c.outcome in ("failed", "error", "timeout")]
    label = (f"{run.slug} {run.time:%Y-%m-%d %H:%M} UTC: {run.score:g} / {run.max_score:g} "
             f"({100 * _pct_of_max(run):.0f}%)")
    return label + (f"; failed: {', '.join(failed)}" if failed else "")


# --- mastery per tag (horizontal bars) -----------------------------------------------------------

BAR_LABEL_W, BAR_W, BAR_ROW = 200, 420, 24


def _mastery_bars(tags: list) -> str:
    if not tags:
        return '<p class="muted">No tag has a grade yet.</p>'
    height = BAR_ROW * len(tags) + 8
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 '
           f'{BAR_LABEL_W + BAR_W + 140} {height}" width="100%" role="img" '
           'aria-label="Mastery per tag">', "<title>Mastery per tag</title>"]
    for i, t in enumerate(tags):
        top = 4 + i * BAR_ROW
        trend = {"↑": " rising", "↓": " falling", "→": " steady"}.get(t.trend_arrow, "")
        out.append(
            f'<g><title>{escape(t.tag)}: {100 * t.mastery:.0f}% over {t.grades} grade(s)'
            f"{trend}</title>"
            f'<text x="{BAR_LABEL_W - 8}" y="{top + 15}" text-anchor="end">{escape(t.tag)}</text>'
            f'<rect x="{BAR_LABEL_W}" y="{top + 3}" width="{BAR_W}" height="16" fill="#8884"/>'
            f'<rect x="{BAR_LABEL_W}" y="{top + 3}" width="{BAR_W * t.mastery:.1f}" height="16" '
            f'fill="{_mastery_colour(t.mastery)}"/>'
            f'<text x="{BAR_LABEL_W + BAR_W + 8}" y="{top + 15}">{100 * t.mastery:.0f}% '
            f"{escape(t.trend_arrow.strip())}</text></g>")
    out.append("</svg>")
    return "\n".join(out)


def _mastery_colour(mastery: float) -> str:
    return "#009E73" if mastery >= 0.8 else "#E69F00" if mastery >= 0.5 else "#D55E00"


def _untried(tags: list[str]) -> str:
    if not tags:
        return ""
    return f'<p class="muted">Not tried yet: {escape(", ".join(sorted(tags)))}</p>'


# --- exercises and hints (table) ------------------------------------------------------------------


def _exercise_table(stats: list, colours: dict[str, str], series: dict[str, list]) -> str:
    rows = ["<table><thead><tr><th>Exercise</th><th>Difficulty</th><th>Best</th><th>Last</th>"
            "<th>Grades</th><th>Checks</th><th>Hints seen</th><th>Last failed checks</th>"
            "</tr></thead><tbody>"]
    for s in stats:
        swatch = (f'<span class="swatch" style="background:{colours[s.slug]}"></span>'
                  if s.slug in colours else "")
        last_run = series.get(s.slug, [None])[-1]
        failed = ([c.name for c in last_run.checks if c.outcome in ("failed", "error", "timeout")]
                  if last_run is not None and grade_fraction(last_run) < 1.0 else [])
        rows.append(
            f"<tr><td>{swatch}<strong>{escape(s.slug)}</strong><br/>"
            f'<span class="muted">{escape(s.title)}</span></td>'
            f"<td>{escape(s.difficulty)}</td><td class=\"num\">{_pct(s.best)}</td>"
            f'<td class="num">{_pct(s.last)}</td><td class="num">{s.grades}</td>'
            f'<td class="num">{s.checks}</td>'
            f"<td>{s.hints_seen} of {s.hints_total} hints seen</td>"
            f"<td>{escape(', '.join(failed)) or '—'}</td></tr>")
    rows.append("</tbody></table>")
    return "\n".join(rows)


def _pct(fraction: float | None) -> str:
    return "—" if fraction is None else f"{100 * fraction:.0f}%"
