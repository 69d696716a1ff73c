"""The interviewer's "Timeline" section: a time-boxed kit's checked log (the result's `timeline`,
grader/practice/timebox.py) in words and as an inline SVG strip. Reads, never re-derives.

The candidate's view never gets it: the section is interviewer-only, like the code. Every text
passes through `html.escape` (the SVG) or jinja2's autoescape (the rest).
"""

from __future__ import annotations

import math

from markupsafe import Markup

from grader.practice.watch import fmt_duration
from grader.report.charts import COLORS, _esc

WIDTH, HEIGHT, LEFT, RIGHT = 640, 86, 16, 24
LANE_Y = 44                      # the time axis; runs above it, first passes and edits below
CHAIN_TEXT = {"intact": "chain intact", "broken": "chain broken",
              "absent": "no log"}


def _num(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _point(p) -> tuple[float, str] | None:
    if not isinstance(p, dict) or _num(p.get("at_s")) is None:
        return None
    return _num(p["at_s"]), str(p.get("time", ""))


def timeline_svg(tl: dict) -> str:
    """Start, every logged run (filled when some exercise passed), first passes, the last edit
    and the box's end, on one time axis; the span past the box is shaded."""
    box, elapsed = _num(tl.get("time_box_s")), _num(tl.get("elapsed_s")) or 0.0
    marks = [m for m in tl.get("run_marks") or [] if isinstance(m, dict) and _num(m.get("at_s")) is not None]
    span = max(box or 0.0, elapsed, *(_num(m["at_s"]) for m in marks), 1.0) * 1.04
    scale = (WIDTH - LEFT - RIGHT) / span

    def x(t: float) -> float:
        return LEFT + max(0.0, min(t, span)) * scale

    title = "Time-box timeline"
    desc = (f"Start, {len(marks)} logged run(s), first passes and last edit"
            + (f" against a {fmt_duration(box)} box." if box else "."))
    body = [f'<line x1="{LEFT}" y1="{LANE_Y}" x2="{WIDTH - RIGHT}" y2="{LANE_Y}" '
            f'stroke="{COLORS["axis"]}"/>']
    if box:
        body.append(f'<rect x="{LEFT}" y="{LANE_Y - 18}" width="{x(box) - LEFT:.1f}" height="36" '
                    f'fill="#e8f5e9"><title>the {_esc(fmt_duration(box))} box</title></rect>')
        if elapsed > box:
            body.append(f'<rect x="{x(box):.1f}" y="{LANE_Y - 18}" width="{x(elapsed) - x(box):.1f}" '
                        f'height="36" fill="#ffebee"><title>overrun: '
                        f'{_esc(fmt_duration(elapsed - box))} past the box</title></rect>')
        body.append(f'<line x1="{x(box):.1f}" y1="{LANE_Y - 22}" x2="{x(box):.1f}" y2="{LANE_Y + 22}" '
                    f'stroke="{COLORS["axis"]}" stroke-dasharray="3,2"/>'
                    f'<text x="{x(box):.1f}" y="{LANE_Y - 26}" text-anchor="end">box ends '
                    f'{_esc(fmt_duration(box))}</text>')
    body.append(f'<path d="M{LEFT},{LANE_Y - 8} L{LEFT + 7},{LANE_Y} L{LEFT},{LANE_Y + 8} Z" '
                f'fill="{COLORS["candidate"]}"><title>started {_esc(tl.get("started") or "")}'
                f'</title></path><text x="{LEFT}" y="{LANE_Y - 26}">start</text>')
    for m in marks:
        t, ok = _num(m["at_s"]), (m.get("passed") or 0) > 0
        body.append(f'<rect x="{x(t) - 1.5:.1f}" y="{LANE_Y - 14}" width="3" height="12" '
                    f'fill="{COLORS["faster"] if ok else COLORS["reference"]}"><title>run at '
                    f'+{_esc(fmt_duration(t))}: {int(m.get("passed") or 0)} passing, '
                    f'{int(m.get("failed") or 0)} failing</title></rect>')
    for slug, p in sorted((tl.get("first_pass") or {}).items()):
        pt = _point(p)
        if pt:
            cx = x(pt[0])
            body.append(f'<path d="M{cx:.1f},{LANE_Y + 4} l5,6 l-5,6 l-5,-6 Z" fill="{COLORS["faster"]}">'
                        f'<title>{_esc(slug)}: public tests first pass at +{_esc(fmt_duration(pt[0]))}'
                        f'</title></path>')
    edit = _point(tl.get("last_edit"))
    if edit:
        body.append(f'<line x1="{x(edit[0]):.1f}" y1="{LANE_Y}" x2="{x(edit[0]):.1f}" y2="{LANE_Y + 24}" '
                    f'stroke="{COLORS["slower"]}" stroke-width="2"><title>last edit seen at '
                    f'+{_esc(fmt_duration(edit[0]))}</title></line>'
                    f'<text x="{x(edit[0]):.1f}" y="{LANE_Y + 36}" text-anchor="middle">last edit</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_esc(title)}" '
            f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
            f'font-family="sans-serif" font-size="11"><title>{_esc(title)}</title>'
            f'<desc>{_esc(desc)}</desc>' + "".join(body) + "</svg>")


def _elapsed_text(tl: dict) -> str:
    box, used = _num(tl.get("time_box_s")), _num(tl.get("elapsed_s"))
    if used is None:
        return "unknown"
    if not box:
        return fmt_duration(used)
    left = box - used
    return (f"{fmt_duration(used)} of {fmt_duration(box)} "
            + (f"({fmt_duration(left)} left)" if left >= 0 else f"({fmt_duration(left)} over)"))


def timeline_view(result: dict, audience: str) -> dict | None:
    """What the Timeline section shows; None for the candidate's view or a result without one."""
    tl = result.get("timeline")
    if audience == "candidate" or not isinstance(tl, dict):
        return None
    chain = str(tl.get("chain", "absent"))
    rows = []
    if chain != "absent":
        rows.append(("started", f"{tl.get('started') or 'unknown'}"
                                + (f" (via {tl['started_via']})" if tl.get("started_via") else "")))
        for slug, p in sorted((tl.get("first_pass") or {}).items()):
            pt = _point(p)
            if pt:
                rows.append((f"first public pass: {slug}", f"+{fmt_duration(pt[0])} ({pt[1]})"))
        edit = _point(tl.get("last_edit"))
        rows.append(("last edit", (f"seen at +{fmt_duration(edit[0])} ({edit[1]})" if edit
                                   else "no edit seen by any logged run")
                     + ("; the submitted files changed after the last run"
                        if tl.get("edited_after_last_run") else "")))
        rows.append(("elapsed (start to last run)", _elapsed_text(tl)))
        rows.append(("runs of the public checks", str(int(tl.get("runs") or 0))))
    elif _num(tl.get("time_box_s")):
        rows.append(("time box", fmt_duration(_num(tl["time_box_s"]))))
    if tl.get("kit_id"):
        rows.append(("kit id", f"{tl['kit_id']} (compare with what torchdrill kit printed)"))
    flags = [{"kind": str(f.get("kind", "")), "detail": str(f.get("detail", ""))}
             for f in tl.get("flags") or [] if isinstance(f, dict)]
    return {"chain": chain, "chain_text": CHAIN_TEXT.get(chain, chain), "rows": rows,
            "flags": flags, "note": str(tl.get("note", "")),
            "svg": Markup(timeline_svg(tl)) if chain != "absent" else ""}
