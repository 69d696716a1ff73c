"""Turns a result dict into what the HTML templates show, per audience.

Interviewer: everything, including the candidate's code (the optional per-exercise "sources"
key, see grader/sources.py) with line numbers, and marks on the lines that flags and failing
checks point at. Candidate: hidden checks' names and ids become "check N" plus a category
derived from the outcome and the candidate-facing message; only that message is kept; flags
whose detail could come from grader internals show their kind only; no code.

Everything here is a pure function of the result JSON, so `torchdrill report RESULT.json`
reproduces what `grade --html` wrote. Text reaches the page through jinja2's autoescape or
`html.escape`; the few Markup values are built here from escaped parts.
"""

from __future__ import annotations

import hashlib
import math
import re
from html import escape

from markupsafe import Markup

OUTCOME_LABEL = {"passed": "passed", "failed": "failed", "error": "error", "timeout": "timed out",
                 "skipped": "skipped"}
STATUS_LABEL = {"graded": "graded", "missing": "not attempted", "error": "error",
                "timeout": "timed out"}
ZEROING_FLAGS = {"forbidden-api", "grader-import", "result-forgery"}
# Flags whose detail is about the candidate's own code or process, safe to show a candidate.
CANDIDATE_FLAG_DETAIL = {"forbidden-api", "grader-import", "file-access", "network", "subprocess",
                         "dynamic-code", "introspection", "skipped", "crash", "result-forgery",
                         "rejected-submission"}
# "conv2d.py:12", "conv2d.py, line 12", "conv2d.py has a syntax error at line 12"
LINE_REF = re.compile(r"(?P<file>[A-Za-z0-9_][A-Za-z0-9_.-]*\.py)"
                      r"(?::| line |, line | has a syntax error at line )(?P<line>\d{1,6})")


def _pct(score: float, max_score: float) -> float:
    return 100.0 * score / max_score if max_score else 0.0


def points(x) -> str:
    """2.608696 -> "2.61", 4.0 -> "4": readable, never misleadingly rounded to a whole point."""
    text = f"{float(x):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _anchor(*parts) -> str:
    return "-".join(re.sub(r"[^A-Za-z0-9_-]+", "_", str(p)) for p in parts)


def categorise(check: dict) -> str:
    """A short category a candidate may see: what kind of problem, never which check."""
    outcome, text = check.get("outcome"), str(check.get("message", "")).lower()
    if outcome == "passed":
        return "passed"
    if outcome == "skipped":
        return "not run"
    if outcome == "timeout" or "time limit" in text or "timed out" in text:
        return "time limit"
    if check.get("id") == "timing::speed":
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


def score_bars_svg(exercises: list[dict]) -> Markup:
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
            f'<a href="#ex-{escape(ex["slug"])}"><text x="{label_w - 8}" y="{y + 14}" '
            f'text-anchor="end">{escape(label)}</text></a>'
            f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="18" rx="3" fill="#ececec"/>'
            f'<rect x="{label_w}" y="{y}" width="{max(bar_w * pct / 100, 0):.1f}" height="18" '
            f'rx="3" fill="{colour}"><title>{escape(tip)}</title></rect>'
            f'<text x="{label_w + bar_w + 8}" y="{y + 14}"><tspan font-weight="600">{pct:.0f}%'
            f'</tspan> {points(ex["score"])}/{points(ex["max_score"])}{escape(note)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def timing_charts(ex: dict) -> list[Markup]:
    from grader import charts    # torch-free; imported late so `list`/`show` stay instant
    return [Markup(svg) for svg in charts.timing_svgs(ex["timings"])] if ex.get("timings") else []


def method_sentence(result: dict) -> str:
    """How the timings were measured; the thread count is the one the timed rows ran with
    (the timing child uses every core, not the machine-wide figure in `environment`)."""
    from grader import charts
    env = result["environment"]
    threads = next((row.get("threads") for ex in result["exercises"]
                    for row in ex.get("timings") or [] if row.get("threads")),
                   env.get("threads", 1))
    return charts.method_sentence(env.get("device", "cpu"), env.get("device_name", ""), threads)


def speedup_geomean(exercises) -> tuple[float | None, int]:
    """Geometric mean of PyTorch time / candidate time over every timed case, and the count."""
    values = [float(t["speedup"]) for ex in exercises for t in ex.get("timings") or []
              if isinstance(t.get("speedup"), (int, float)) and not isinstance(t.get("speedup"), bool)
              and math.isfinite(t["speedup"]) and t["speedup"] > 0]
    if not values:
        return None, 0
    return math.exp(sum(math.log(v) for v in values) / len(values)), len(values)


def _flag_view(slug: str, flag: dict, files, candidate_view: bool) -> dict:
    kind = str(flag.get("kind", ""))
    detail = str(flag.get("detail", ""))
    if candidate_view and kind not in CANDIDATE_FLAG_DETAIL:
        detail = "details are in the interviewer's report"
    return {"slug": slug, "kind": kind, "zero": kind in ZEROING_FLAGS,
            "detail": detail if candidate_view else linkify(detail, slug, files)}


def _exercise_view(ex: dict, candidate_view: bool) -> dict:
    sources = {} if candidate_view else (ex.get("sources") or {})
    files = set(sources)
    marks: dict[tuple[str, int], list[dict]] = {}
    checks = []
    for n, c in enumerate(ex["checks"], 1):
        hidden_name = candidate_view and not str(c["id"]).startswith("timing::")
        name = f"check {n}" if hidden_name else c["name"]
        message = str(c.get("message", ""))
        if c["outcome"] not in ("passed", "skipped"):
            for ref in _refs(message, files):
                marks.setdefault(ref, []).append({"text": f"✗ {name}", "zero": False})
        checks.append({
            "name": name, "id": "" if candidate_view else c["id"], "n": n,
            "outcome": c["outcome"], "label": OUTCOME_LABEL.get(c["outcome"], c["outcome"]),
            "category": categorise(c), "points": c["points"], "points_text": points(c["points"]),
            "message": message if candidate_view else linkify(message, ex["slug"], files),
        })
    flags = [f for f in ex["flags"] if f.get("kind") != "skipped"]
    for f in flags:
        for ref in _refs(str(f.get("detail", "")), files):
            marks.setdefault(ref, []).append({"text": f"⚑ {f['kind']}",
                                              "zero": f["kind"] in ZEROING_FLAGS})
    notes = [f for f in ex["flags"] if f.get("kind") == "skipped"]
    passed = sum(c["outcome"] == "passed" for c in checks)
    failing = [c for c in checks if c["outcome"] != "passed"]
    return {
        **{k: v for k, v in ex.items() if k not in ("checks", "flags", "sources")},
        "title": ex.get("title") or ex["slug"],
        "duration_s": float(ex.get("duration_s") or 0.0),
        "status_label": STATUS_LABEL.get(ex["status"], ex["status"]),
        "checks": checks, "pct": _pct(ex["score"], ex["max_score"]), "passed": passed,
        "failing_checks": failing, "passed_checks": [c for c in checks if c["outcome"] == "passed"],
        "untouched": bool(failing) and not passed
                     and all(c["category"] == "not implemented" for c in failing),
        "score_text": points(ex["score"]), "max_text": points(ex["max_score"]),
        "failing": len(checks) - passed - sum(c["outcome"] == "skipped" for c in checks),
        "flags": [_flag_view(ex["slug"], f, files, candidate_view) for f in flags],
        "notes": [str(f.get("detail", "")) for f in notes],
        "zeroed": any(f.get("kind") in ZEROING_FLAGS for f in flags),
        "charts": timing_charts(ex), "sources": source_files(ex, marks) if sources else [],
    }


def build_view(result: dict, audience: str) -> dict:
    candidate_view = audience == "candidate"
    exercises = [_exercise_view(ex, candidate_view) for ex in result["exercises"]]
    graded = [e for e in exercises if e["max_score"]]
    ranked = sorted(graded, key=lambda e: (-e["pct"], e["slug"]))
    strongest = [e for e in ranked if e["pct"] >= 80][:3]
    weakest = [e for e in reversed(ranked) if e["pct"] < 50 and e not in strongest][:3]
    flags = [f for e in exercises for f in e["flags"]]
    geomean, timed = speedup_geomean(result["exercises"])
    summary = {
        "full": sum(e["pct"] >= 99.95 for e in graded),
        "attempted": sum(e["status"] != "missing" for e in graded),
        "total": len(graded),
        "zeroed": sum(e["zeroed"] for e in exercises),
        "zeroing_flags": sum(f["zero"] for f in flags),
        "skipped": [e["slug"] for e in exercises if not e["max_score"]],
        "speedup": geomean, "timed_cases": timed,
    }
    return {
        "result": result, "audience": audience, "exercises": exercises,
        "pct": _pct(result["score"], result["max_score"]),
        "score_text": points(result["score"]), "max_text": points(result["max_score"]),
        "score_chart": score_bars_svg(graded) if graded else "",
        "strongest": strongest, "weakest": weakest, "summary": summary,
        "flags": flags, "method": method_sentence(result),
    }


# ----------------------------------------------------------------------------- leaderboard

# Sorts the leaderboard table when a header is clicked (progressive enhancement: the table is
# already sorted by total without it). Allowed by the page's CSP through its sha256 hash only.
SORT_SCRIPT = """
(function () {
  var table = document.getElementById("leaderboard");
  if (!table) { return; }
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  function key(row, i) {
    var v = row.cells[i].getAttribute("data-sort");
    var n = parseFloat(v);
    return isNaN(n) ? (v || "").toLowerCase() : n;
  }
  function sortBy(i, dir) {
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i), y = key(b, i);
      if (x === y) { return 0; }
      if (typeof x !== typeof y) { return typeof x === "number" ? -1 : 1; }
      return (x < y ? -1 : 1) * dir;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    for (var j = 0; j < heads.length; j++) { heads[j].removeAttribute("aria-sort"); }
    heads[i].setAttribute("aria-sort", dir > 0 ? "ascending" : "descending");
    table.setAttribute("data-sorted-by", heads[i].getAttribute("data-key") + (dir > 0 ? ":asc" : ":desc"));
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    th.classList.add("sortable");
    th.tabIndex = 0;
    function go() {
      var dir = th.getAttribute("aria-sort") === "descending" ? 1 : -1;
      if (th.getAttribute("data-type") === "text" && !th.hasAttribute("aria-sort")) { dir = 1; }
      sortBy(i, dir);
      history.replaceState(null, "", "#sort=" + th.getAttribute("data-key") + (dir > 0 ? ":asc" : ":desc"));
    }
    th.addEventListener("click", go);
    th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); go(); } });
  });
  var m = /^#sort=([^:]+)(?::(asc|desc))?$/.exec(decodeURIComponent(location.hash));
  if (m) {
    for (var k = 0; k < heads.length; k++) {
      if (heads[k].getAttribute("data-key") === m[1]) { sortBy(k, m[2] === "asc" ? 1 : -1); }
    }
  }
})();
""".strip()


def script_hash(script: str) -> str:
    import base64
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()


def leaderboard_view(rows: list[dict], exercises: list[dict], meta: dict) -> dict:
    """rows: batch.grade_one summaries; exercises: [{"slug", "title", "max_score"}]."""
    shown = []
    for row in rows:
        rank = 1 + sum(other.get("pct", 0) > row.get("pct", 0) for other in rows)
        cells = []
        for ex in exercises:
            cell = (row.get("exercises") or {}).get(ex["slug"])
            if cell is None:
                cells.append({"slug": ex["slug"], "text": "—", "sort": -1, "pct": None, "zeroed": False,
                              "status": "error", "tip": "not graded"})
                continue
            pct = _pct(cell["score"], cell["max_score"])
            status = cell.get("status", "graded")
            tip = f'{ex["title"]}: {points(cell["score"])} / {points(cell["max_score"])}'
            if status != "graded":
                tip += f" ({STATUS_LABEL.get(status, status)})"
            if cell.get("zeroed"):
                tip += " (zeroed by a flag)"
            cells.append({"slug": ex["slug"], "text": points(cell["score"]), "sort": round(pct, 3),
                          "pct": pct, "status": status, "tip": tip, "zeroed": bool(cell.get("zeroed"))})
        shown.append({**row, "rank": rank, "cells": cells, "score_text": points(row["score"]),
                      "max_text": points(row["max_score"])})
    columns = [dict(ex, label=Markup(escape(ex["slug"]).replace("-", "-<wbr>")))
               for ex in exercises]
    return {"rows": shown, "exercises": columns, "meta": meta,
            "script": Markup(SORT_SCRIPT), "script_hash": script_hash(SORT_SCRIPT)}
