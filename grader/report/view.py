"""Turns a result dict into what the HTML templates show, per audience. Reads, never re-derives.

Interviewer: everything, including the candidate's code (the optional per-exercise "sources"
key, see engine/sources.py) with line numbers, and marks on the lines that flags and failing
checks point at. Candidate: hidden checks' names and ids become "check N" plus a category
derived from the outcome and the candidate-facing message; only that message is kept; flags
whose detail could come from grader internals show their kind only; no code.

Whether an exercise was zeroed, and by which flags, is the engine's verdict (`zeroed`,
`zeroed_by` in the result, engine/scoring.py): this module only reads it. Text reaches the
page through jinja2's autoescape or `html.escape`; the few Markup values are built here from
escaped parts.
"""

from __future__ import annotations

import math
import re
from html import escape

from markupsafe import Markup

from grader.engine.scoring import NOT_MEASURED, not_measured_note
from grader.kinds import SPEED_CHECK, Flag, Outcome, Status
from grader.report import charts
from grader.report.timeline_view import timeline_view
from grader.timing import method_sentence as timing_method
from grader.report.format import OUTCOME_LABEL, STATUS_LABEL, pct, points

# "conv2d.py:12", "conv2d.py, line 12", "conv2d.py has a syntax error at line 12"
LINE_REF = re.compile(r"(?P<file>[A-Za-z0-9_][A-Za-z0-9_.-]*\.py)"
                      r"(?::| line |, line | has a syntax error at line )(?P<line>\d{1,6})")


def _anchor(*parts) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_-]+", "_", str(p)) for p in parts)


def categorise(check: dict) -> str:
    """A short category a candidate may see: what kind of problem, never which check."""
    outcome, text = check.get("outcome"), str(check.get("message", "")).lower()
    if outcome == Outcome.PASSED:
        return "passed"
    if outcome == Outcome.SKIPPED:
        return "not run"
    if outcome == "timeout" or "time limit" in text or "timed out" in text:
        return "time limit"
    if check.get("id") == SPEED_CHECK:
        return "speed"
    rules = (("no submission", "not attempted"), ("submission rejected", "rejected"),
             ("syntax error", "syntax error"),
             ("forbidden", "forbidden API"), ("missing from the submission", "missing file"),
             ("no result", "crash"), ("notimplementederror", "not implemented"),
             ("grad", "gradients"), ("dtype", "dtype"), ("shape", "shape"),
             ("device", "device"), ("modified", "inputs modified"),
             ("changed", "inputs modified"), ("raised", "exception"))
    for needle, label in rules:
        if needle in text:
            return label
    return "exception" if outcome == "error" else "wrong result"


def _refs(text: str, files) -> list[tuple[str, int]]:
    return [(m["file"], int(m["line"])) for m in LINE_REF.finditer(text or "")
            if m["file"] in files]


def linkify(text: str, slug: str, files) -> Markup:
    """Escape `text`; turn references to the candidate's files into links to the code view."""
    out, last = [], 0
    for m in LINE_REF.finditer(text or ""):
        if m["file"] not in files:
            continue
        out.append(escape(text[last:m.start()]))
        out.append(f'<a class="lineref" href="#{_anchor("src", slug, m["file"], m["line"])}">'
                   f'{escape(m.group(0))}</a>')
        last = m.end()
    out.append(escape((text or "")[last:]))
    return Markup("".join(out))


def source_files(ex: dict, marks: dict) -> list[dict]:
    """The candidate's files as numbered lines, with the marks that point at each line."""
    files = []
    for name, text in (ex.get("sources") or {}).items():
        if not isinstance(text, str):
            continue
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        marked = sorted(line for (f, line) in marks if f == name)
        files.append({
            "name": name, "id": _anchor("src", ex["slug"], name),
            "marked": [{"line": n, "href": "#" + _anchor("src", ex["slug"], name, n)}
                       for n in marked if 1 <= n <= len(lines)],
            "lines": [{"n": n, "text": line, "id": _anchor("src", ex["slug"], name, n),
                       "marks": marks.get((name, n), [])}
                      for n, line in enumerate(lines, 1)],
        })
    return files

def timing_charts(ex: dict) -> list[Markup]:
    return [Markup(svg) for svg in charts.timing_svgs(ex["timings"])] if ex.get("timings") else []


def method_sentence(result: dict) -> str:
    """How the timings were measured; the thread count is the one the timed rows ran with
    (the timing child uses every core, not the machine-wide figure in `environment`)."""
    env = result["environment"]
    threads = next((row.get("threads") for ex in result["exercises"]
                    for row in ex.get("timings") or [] if row.get("threads")),
                   env.get("threads", 1))
    return timing_method(env.get("device", "cpu"), env.get("device_name", ""), threads)


ISOLATION_NOTE = {
    "namespaces": "Every grading child ran in its own Linux namespaces: only its own workspace "
                  "writable (and nothing written there executable), no network, no other process, "
                  "nothing of the grader's checkout but the grader package.",
    "process": "Grading children ran as isolated processes without OS namespaces (--isolation "
               "process): the in-process sandbox was the only wall.",
}


def isolation_note(result: dict) -> str:
    """The OS wall the children ran behind, in words ('' for results from before it existed)."""
    return ISOLATION_NOTE.get(str(result["environment"].get("isolation", "")), "")


def speedup_geomean(exercises) -> tuple[float | None, int]:
    """Geometric mean of PyTorch time / candidate time over every timed case, and the count."""
    values = [float(t["speedup"]) for ex in exercises for t in ex.get("timings") or []
              if isinstance(t.get("speedup"), (int, float)) and not isinstance(t.get("speedup"), bool)
              and math.isfinite(t["speedup"]) and t["speedup"] > 0]
    if not values:
        return None, 0
    return math.exp(sum(math.log(v) for v in values) / len(values)), len(values)


def _flag_view(slug: str, flag: dict, files, candidate_view: bool, zeroing: set) -> dict:
    kind = str(flag.get("kind", ""))
    detail = str(flag.get("detail", ""))
    if candidate_view and kind not in Flag.CANDIDATE_DETAIL:
        detail = "details are in the interviewer's report"
    return {"slug": slug, "kind": kind, "zero": kind in zeroing,
            "detail": detail if candidate_view else linkify(detail, slug, files)}


def _exercise_view(ex: dict, candidate_view: bool) -> dict:
    sources = {} if candidate_view else (ex.get("sources") or {})
    files = set(sources)
    zeroing = set(ex.get("zeroed_by") or ())
    marks: dict[tuple[str, int], list[dict]] = {}
    checks = []
    for n, c in enumerate(ex["checks"], 1):
        name = str(c.get("name") or (f"check {n}" if candidate_view else c["id"]))
        message = str(c.get("message", ""))
        if c["outcome"] not in (Outcome.PASSED, Outcome.SKIPPED):
            for ref in _refs(message, files):
                marks.setdefault(ref, []).append({"text": f"✗ {name}", "zero": False})
        checks.append({
            "name": name, "id": "" if candidate_view else c["id"], "n": n,
            "outcome": c["outcome"], "label": OUTCOME_LABEL.get(c["outcome"], c["outcome"]),
            "category": categorise(c), "points": c["points"], "points_text": points(c["points"]),
            "message": message if candidate_view else linkify(message, ex["slug"], files),
        })
    flags = [f for f in ex["flags"] if f.get("kind") != Flag.SKIPPED]
    for f in flags:
        for ref in _refs(str(f.get("detail", "")), files):
            marks.setdefault(ref, []).append({"text": f"⚑ {f['kind']}",
                                              "zero": f["kind"] in zeroing})
    notes = [f for f in ex["flags"] if f.get("kind") == Flag.SKIPPED]
    passed = sum(c["outcome"] == Outcome.PASSED for c in checks)
    failing = [c for c in checks if c["outcome"] != Outcome.PASSED]
    here = float(ex.get("gradable_max_score", ex["max_score"]))
    return {
        **{k: v for k, v in ex.items() if k not in ("checks", "flags", "sources", "follow_ups")},
        "title": ex.get("title") or ex["slug"],
        "duration_s": float(ex.get("duration_s") or 0.0),
        "status_label": STATUS_LABEL.get(ex["status"], ex["status"]),
        "checks": checks, "pct": pct(ex["score"], here), "passed": passed,
        "attempted": ex["status"] != Status.MISSING,
        "here_text": points(here) if abs(here - ex["max_score"]) > 1e-9 else "",
        "not_measured": [c["message"] for c in checks
                         if c["outcome"] == Outcome.SKIPPED and c["message"].startswith(NOT_MEASURED)],
        "hints_text": (f"{ex['hints_seen']} of {ex['hints_total']} hints seen"
                       if isinstance(ex.get("hints_total"), int) else ""),
        "failing_checks": failing, "passed_checks": [c for c in checks if c["outcome"] == Outcome.PASSED],
        "untouched": bool(failing) and not passed
                     and all(c["category"] == "not implemented" for c in failing),
        "score_text": points(ex["score"]), "max_text": points(ex["max_score"]),
        "failing": len(checks) - passed - sum(c["outcome"] == Outcome.SKIPPED for c in checks),
        "flags": [_flag_view(ex["slug"], f, files, candidate_view, zeroing) for f in flags],
        "notes": [str(f.get("detail", "")) for f in notes],
        "zeroed": bool(ex.get("zeroed")), "zeroed_by": sorted(zeroing),
        "charts": timing_charts(ex), "sources": source_files(ex, marks) if sources else [],
        # interview questions are for the interviewer's eyes only, whatever the JSON holds
        "follow_ups": [] if candidate_view else list(ex.get("follow_ups") or []),
    }


def build_view(result: dict, audience: str) -> dict:
    candidate_view = audience == "candidate"
    exercises = [_exercise_view(ex, candidate_view) for ex in result["exercises"]]
    graded = [e for e in exercises if e["max_score"]]
    ranked = sorted((e for e in graded if e["attempted"]), key=lambda e: (-e["pct"], e["slug"]))
    strongest = [e for e in ranked if e["pct"] >= 80][:3]
    weakest = [e for e in reversed(ranked) if e["pct"] < 50 and e not in strongest][:3]
    here = float(result.get("gradable_max_score", result["max_score"]))
    flags = [f for e in exercises for f in e["flags"]]
    geomean, timed = speedup_geomean(result["exercises"])
    summary = {
        "full": sum(e["pct"] >= 99.95 for e in graded),
        "attempted": sum(e["status"] != Status.MISSING for e in graded),
        "total": len(graded),
        "zeroed": sum(e["zeroed"] for e in exercises),
        "zeroing_flags": sum(f["zero"] for f in flags),
        "skipped": [e["slug"] for e in exercises if not e["max_score"]],
        "speedup": geomean, "timed_cases": timed,
    }
    return {
        "result": result, "audience": audience, "exercises": exercises,
        "pct": pct(result["score"], here),
        "score_text": points(result["score"]), "max_text": points(result["max_score"]),
        "here_text": points(here) if abs(here - result["max_score"]) > 1e-9 else "",
        "not_measured": not_measured_note(result),
        "not_attempted": [e for e in exercises if not e["attempted"]],
        "score_chart": Markup(charts.score_bars_svg(graded)) if graded else "",
        "strongest": strongest, "weakest": weakest, "summary": summary,
        "flags": flags, "method": method_sentence(result), "isolation": isolation_note(result),
        "timeline": timeline_view(result, audience),
    }


# ----------------------------------------------------------------------------- leaderboard
