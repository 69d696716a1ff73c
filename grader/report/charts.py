"""Charts for the HTML report: pure functions from timing rows to inline SVG strings.

Each chart is self-contained (no script, no external font or stylesheet), accessible
(`role="img"`, `aria-label`, a <title> and <desc>, a <title> tooltip on every bar) and safe to
inline: every piece of text passes through `html.escape`. Rows are the result JSON's `timings`
items (see grader/timing/); missing, zero or None values are drawn as "n/a", never a crash.

    time_chart(rows)      candidate vs PyTorch median time per case (grouped horizontal bars, ms)
    gflops_chart(rows)    candidate vs PyTorch GFLOP/s per case
    speedup_chart(rows)   PyTorch time / candidate time per case, log scale, the 1x line marked
    timing_svgs(rows)     the charts worth showing for these rows, most telling first
    score_bars_svg(exs)   the share of its points each exercise earned (the report's headline)
"""

from __future__ import annotations

import html
import math

from grader.report.format import STATUS_LABEL, points

WIDTH = 640
BAR_H = 14
GAP = 10
TOP = 34
RIGHT = 70
COLORS = {"candidate": "#3b6fb6", "reference": "#a0a0a0", "faster": "#2e8b57",
          "slower": "#c0504d", "axis": "#444444", "grid": "#dddddd"}
LABEL_CHARS = 24


def _esc(value) -> str:
    return html.escape(str(value), quote=True)


def _num(value) -> float | None:
    """A finite positive float, or None (None, 0, negative, NaN, inf, junk)."""
    if isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) and x > 0 else None


def _fmt(x: float | None, unit: str = "") -> str:
    if x is None:
        return "n/a"
    if x >= 100:
        text = f"{x:,.0f}"
    elif x >= 10:
        text = f"{x:.1f}"
    elif x >= 0.01:
        text = f"{x:.2f}"
    else:
        text = f"{x:.2g}"
    return f"{text}{unit}"


def _label(name) -> str:
    text = str(name)
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"


def _svg(title: str, desc: str, height: int, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_esc(title)}" '
        f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" '
        f'font-family="sans-serif" font-size="12">'
        f"<title>{_esc(title)}</title><desc>{_esc(desc)}</desc>"
        + "".join(body) + "</svg>"
    )


def _empty(title: str) -> str:
    return _svg(title, "No timing data.", 40,
                [f'<text x="8" y="24" fill="{COLORS["axis"]}">No timing data</text>'])


def _left(rows) -> int:
    longest = max((len(_label(r.get("case", ""))) for r in rows), default=4)
    return 16 + 7 * max(longest, 4)


def _legend(items) -> list[str]:
    out, x = [], 8
    for text, color in items:
        out.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{color}"/>'
                   f'<text x="{x + 16}" y="18">{_esc(text)}</text>')
        x += 28 + 7 * len(text)
    return out


def _grouped(title: str, desc: str, rows, series, unit: str) -> str:
    """Grouped horizontal bars: for each row, one bar per (label, key, color) in series."""
    rows = list(rows or [])
    values = [_num(r.get(key)) for r in rows for _, key, _ in series]
    peak = max((v for v in values if v is not None), default=None)
    if not rows or peak is None:
        return _empty(title)
    left = _left(rows)
    span = WIDTH - left - RIGHT
    group_h = len(series) * BAR_H + GAP
    height = TOP + len(rows) * group_h + 8
    body = _legend([(label, color) for label, _, color in series])
    body.append(f'<line x1="{left}" y1="{TOP - 4}" x2="{left}" y2="{height - 6}" '
                f'stroke="{COLORS["axis"]}"/>')
    for i, row in enumerate(rows):
        y0 = TOP + i * group_h
        name = row.get("case", f"case {i + 1}")
        body.append(f'<text x="{left - 6}" y="{y0 + len(series) * BAR_H / 2 + 4:.1f}" '
                    f'text-anchor="end"><title>{_esc(name)}</title>{_esc(_label(name))}</text>')
        for j, (label, key, color) in enumerate(series):
            v = _num(row.get(key))
            y = y0 + j * BAR_H
            tip = f"{name}: {label} {_fmt(v, ' ' + unit)}"
            if v is None:
                body.append(f'<text x="{left + 4}" y="{y + 11}" fill="{COLORS["axis"]}">'
                            f"<title>{_esc(tip)}</title>n/a</text>")
                continue
            w = max(span * v / peak, 1.0)
            body.append(f'<rect x="{left}" y="{y + 1}" width="{w:.1f}" height="{BAR_H - 2}" '
                        f'fill="{color}"><title>{_esc(tip)}</title></rect>'
                        f'<text x="{left + w + 4:.1f}" y="{y + 11}">{_esc(_fmt(v))}</text>')
    return _svg(title, desc, height, body)


def time_chart(rows) -> str:
    """Median time per case, candidate vs PyTorch, in milliseconds (shorter is better)."""
    return _grouped(
        "Median time per case, milliseconds (shorter is better)",
        "For each timing case, the candidate's median time and PyTorch's, in milliseconds.",
        rows, [("your kernel", "candidate_ms", COLORS["candidate"]),
               ("PyTorch", "reference_ms", COLORS["reference"])], "ms")


def gflops_chart(rows) -> str:
    """Throughput per case, candidate vs PyTorch, in GFLOP/s (longer is better)."""
    return _grouped(
        "Throughput per case, GFLOP/s (longer is better)",
        "For each timing case, the candidate's and PyTorch's floating-point throughput.",
        rows, [("your kernel", "gflops", COLORS["candidate"]),
               ("PyTorch", "reference_gflops", COLORS["reference"])], "GFLOP/s")


def speedup_chart(rows) -> str:
    """PyTorch time / candidate time per case on a log scale around the marked 1x line:
    bars to the right are faster than PyTorch, to the left slower."""
    title = "Speed-up over PyTorch per case (right of 1x: faster)"
    rows = list(rows or [])
    values = [_num(r.get("speedup")) for r in rows]
    known = [v for v in values if v is not None]
    if not rows or not known:
        return _empty(title)
    reach = max(2.0, max(max(v, 1 / v) for v in known) * 1.25)   # symmetric, >= 0.5x..2x
    left = _left(rows)
    span = WIDTH - left - RIGHT
    mid = left + span / 2
    scale = (span / 2) / math.log(reach)
    row_h = BAR_H + GAP
    height = TOP + len(rows) * row_h + 22
    body = _legend([("faster than PyTorch", COLORS["faster"]),
                    ("slower than PyTorch", COLORS["slower"])])
    for tick in (0.1, 0.5, 2.0, 10.0):
        if 1 / reach <= tick <= reach:
            x = mid + math.log(tick) * scale
            body.append(f'<line x1="{x:.1f}" y1="{TOP - 4}" x2="{x:.1f}" y2="{height - 20}" '
                        f'stroke="{COLORS["grid"]}"/><text x="{x:.1f}" y="{height - 6}" '
                        f'text-anchor="middle" fill="{COLORS["axis"]}">{_esc(_fmt(tick))}×</text>')
    for i, (row, v) in enumerate(zip(rows, values)):
        y = TOP + i * row_h
        name = row.get("case", f"case {i + 1}")
        body.append(f'<text x="{left - 6}" y="{y + 11}" text-anchor="end">'
                    f"<title>{_esc(name)}</title>{_esc(_label(name))}</text>")
        if v is None:
            body.append(f'<text x="{mid + 4:.1f}" y="{y + 11}" fill="{COLORS["axis"]}">'
                        f"<title>{_esc(name)}: no speed-up measured</title>n/a</text>")
            continue
        x = mid + math.log(v) * scale
        x0, w = (mid, x - mid) if v >= 1 else (x, mid - x)
        color = COLORS["faster"] if v >= 1 else COLORS["slower"]
        flag = " (suspicious)" if row.get("suspicious") else ""
        tip = f"{name}: {_fmt(v)}× PyTorch's speed{flag}"
        text_x, anchor, fill = (x0 + w + 4, "start", "") if v >= 1 else (x0 - 4, "end", "")
        if v < 1 and x0 - left < 44:      # no room left of a long bar: write inside it
            text_x, anchor, fill = x0 + 4, "start", ' fill="#fff"'
        body.append(f'<rect x="{x0:.1f}" y="{y + 1}" width="{max(w, 1.0):.1f}" '
                    f'height="{BAR_H - 2}" fill="{color}"><title>{_esc(tip)}</title></rect>'
                    f'<text x="{text_x:.1f}" y="{y + 11}" text-anchor="{anchor}"{fill}>'
                    f"{_esc(_fmt(v) + '×' + ('!' if flag else ''))}</text>")
    body.append(f'<line class="one-x" x1="{mid:.1f}" y1="{TOP - 6}" x2="{mid:.1f}" '
                f'y2="{height - 20}" stroke="{COLORS["axis"]}" stroke-width="2">'
                f"<title>1× = as fast as PyTorch</title></line>"
                f'<text x="{mid:.1f}" y="{height - 6}" text-anchor="middle" '
                f'font-weight="bold">1×</text>')
    return _svg(title, "Speed-up is PyTorch's median time divided by the candidate's; the "
                "axis is logarithmic and the bold line marks 1x (equal speed).", height, body)


def timing_svgs(rows) -> list[str]:
    """Speed-up, time, and GFLOP/s (only when some row has a GFLOP/s figure)."""
    rows = list(rows or [])
    out = [speedup_chart(rows), time_chart(rows)]
    if any(_num(r.get("gflops")) or _num(r.get("reference_gflops")) for r in rows):
        out.append(gflops_chart(rows))
    return out


def score_bars_svg(exercises: list[dict]) -> str:
    """Horizontal bar per exercise: share of its points earned, with points and status in
    words (never colour alone). Inline SVG, scales to its box, every text escaped."""
    row, label_w, bar_w, right = 28, 170, 300, 150
    width = label_w + bar_w + right
    height = row * len(exercises) + 8
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'aria-label="Score per exercise"><title>Score per exercise</title>'
             f'<desc>One bar per exercise: the share of its points the submission earned.</desc>']
    for tick in (0, 50, 100):
        x = label_w + bar_w * tick / 100
        parts.append(f'<line x1="{x:.1f}" y1="2" x2="{x:.1f}" y2="{height - 4}" '
                     f'stroke="#d0d0d0" stroke-dasharray="2,3"/>')
    for i, ex in enumerate(exercises):
        y = 5 + i * row
        pct = ex["pct"]
        colour = ("#2e7d32" if pct >= 99.95 else "#9e9d24" if pct >= 50
                  else "#ef6c00" if pct > 0 else "#c62828")
        note = "" if ex["status"] == "graded" else f" · {STATUS_LABEL.get(ex['status'], ex['status'])}"
        if ex.get("zeroed"):
            note += " · flagged"
        label = ex["slug"] if len(ex["slug"]) <= 24 else ex["slug"][:23] + "…"
        tip = f'{ex["title"]}: {points(ex["score"])} of {points(ex["max_score"])} points ({pct:.0f}%){note}'
        parts.append(
            f'<a href="#ex-{_esc(ex["slug"])}"><text x="{label_w - 8}" y="{y + 14}" '
            f'text-anchor="end">{_esc(label)}</text></a>'
            f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="18" rx="3" fill="#ececec"/>'
            f'<rect x="{label_w}" y="{y}" width="{max(bar_w * pct / 100, 0):.1f}" height="18" '
            f'rx="3" fill="{colour}"><title>{_esc(tip)}</title></rect>'
            f'<text x="{label_w + bar_w + 8}" y="{y + 14}"><tspan font-weight="600">{pct:.0f}%'
            f'</tspan> {points(ex["score"])}/{points(ex["max_score"])}{_esc(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)
