"""Many candidates: intake, grade each (one result and report per candidate), similarity, leaderboard."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from grader.batch.executors import EXECUTORS
from grader.batch.gate import GATE
from grader.batch.intake import Rejected, candidate_name, discover, ignored_entries
from grader.batch.intake import intake as unpack_submission
from grader.batch.leaderboard import exercise_columns, prepare_out_dir, write_leaderboard
from grader.errors import InputError
from grader.kinds import Flag, Status

__all__ = ["Rejected", "grade_one", "ignored_entries", "prepare_out_dir", "run_batch", "summary_row",
           "write_similarity"]

# OUT/similarity.html and .csv: a candidate called "similarity" becomes similarity-2, so that
_log = logging.getLogger("grader.batch")


# ----------------------------------------------------------------------------- one candidate

def _options(options: dict):
    from grader.engine.grading import GradeOptions
    return GradeOptions(device=options.get("device", "cpu"), timing=bool(options.get("timing", True)),
                        jobs=max(1, int(options.get("jobs", 1))),
                        audience=options.get("audience", "interviewer"),
                        isolation=options.get("isolation", "process"))


def _grade_folder(exercises, folder: Path, gopts) -> list[dict]:
    """grading's two phases, with the batch-wide gate around each run."""
    from grader.engine import grading
    return grading.grade_all(exercises, folder, gopts, gate=GATE)


def _rejected_results(exercises, reason: str) -> list[dict]:
    from grader.engine import grading
    return [grading.failed_result(ex, Status.ERROR, f"submission rejected: {reason}",
                                  flag={"kind": Flag.REJECTED, "detail": reason})
            for ex in exercises]


def summary_row(name: str, result: dict) -> dict:
    from grader.report.format import pct
    from grader.report.view import speedup_geomean
    cells, flags, zeroing = {}, 0, 0
    for ex in result["exercises"]:
        shown = [f for f in ex["flags"] if f.get("kind") != Flag.SKIPPED]
        kinds = set(ex.get("zeroed_by") or ())        # the engine's verdict, not re-derived
        flags += len(shown)
        zeroing += sum(f.get("kind") in kinds for f in shown)
        cells[ex["slug"]] = {"score": ex["score"], "max_score": ex["max_score"],
                             "status": ex["status"], "zeroed": bool(ex.get("zeroed"))}
    geomean, timed = speedup_geomean(result["exercises"])
    return {"candidate": name, "submission": result.get("submission", ""), "status": "graded",
            "error": "", "score": result["score"], "max_score": result["max_score"],
            "pct": round(pct(result["score"], result["max_score"]), 3), "exercises": cells,
            "flags": flags, "zeroing_flags": zeroing,
            "speedup": None if geomean is None else round(geomean, 4), "timed_cases": timed}


def grade_one(submission_path: str, out_dir: str, options: dict) -> dict:
    """Grade one candidate; write OUT/<name>.json and OUT/<name>.html; return a leaderboard
    row. Never raises: a rejected submission is graded as errors with the reason, a grader
    failure becomes a row with status "error".

    options: name (file stem), slugs (list, empty = all), device ("cpu"/"cuda", resolved),
    timing (bool), jobs (candidates graded at once, sets threads per child), audience,
    root (TORCHDRILL_ROOT for workers that do not inherit it). Plain values only: picklable.
    """
    started_wall = time.monotonic()
    submission = Path(submission_path)
    name = options.get("name") or candidate_name(submission)
    row = {"candidate": name, "submission": str(submission), "status": "error", "error": "",
           "score": 0.0, "max_score": 0.0, "pct": 0.0, "exercises": {}, "flags": 0,
           "zeroing_flags": 0, "speedup": None, "timed_cases": 0, "duration_s": 0.0,
           "json": None, "html": None}
    clean = None
    try:
        from grader import report
        from grader.catalogue import load_catalogue, select
        from grader.engine import grading
        from grader.engine.sources import attach_sources, scrub
        if options.get("root") and os.environ.get("TORCHDRILL_ROOT") != options["root"]:
            os.environ["TORCHDRILL_ROOT"] = options["root"]
        exercises = select(load_catalogue(), options.get("slugs") or [])
        gopts = _options(options)
        started = _dt.datetime.now(_dt.timezone.utc)
        clean = Path(tempfile.mkdtemp(prefix="torchdrill-intake-"))
        try:
            unpack_submission(submission, exercises, clean)
            results = _grade_folder(exercises, clean, gopts)
        except Rejected as exc:
            results = _rejected_results(exercises, str(exc))
        result = grading.build_result(results, submission, gopts, started)
        attach_sources(result, exercises, clean)
        from grader.practice.timebox import attach_timeline
        attach_timeline(result, clean, exercises, options.get("time_box_s"))
        scrub(result)
        out = Path(out_dir)
        report.write_json(result, out / f"{name}.json")
        report.write_html(result, out / f"{name}.html", gopts.audience)
        row.update(summary_row(name, result), json=f"{name}.json", html=f"{name}.html")
        rejected = [f["detail"] for ex in result["exercises"] for f in ex["flags"]
                    if f["kind"] == Flag.REJECTED]
        if rejected:
            row.update(status="rejected", error=rejected[0])
    except Exception as exc:  # noqa: BLE001 - one candidate's failure never stops the batch
        row.update(status="error", error=f"grader failed: {type(exc).__name__}: {exc}"[:500])
    finally:
        if clean is not None:
            shutil.rmtree(clean, ignore_errors=True)
    row["duration_s"] = round(time.monotonic() - started_wall, 2)
    return row

def run_batch(subs_dir: Path, out_dir: Path, options: dict, jobs: int,
              executor: str = "local", progress=None, starting=None,
              executor_options: dict | None = None) -> list[dict]:
    """Grade every candidate of subs_dir; write their reports and the leaderboard; return
    the rows, best first. `progress(done, total, row)` is called as each candidate finishes,
    `starting(name)` as each starts."""
    if executor not in EXECUTORS:
        raise InputError(f"unknown executor {executor!r}; available: {', '.join(EXECUTORS)}")
    exercises = exercise_columns(options)          # an unknown slug fails here, once
    candidates = discover(subs_dir, out_dir)
    if not candidates:
        raise InputError(f"{subs_dir}: no submissions (expected one folder or .zip per candidate)")
    root = os.environ.get("TORCHDRILL_ROOT")
    tasks = [(str(path.resolve()), str(out_dir.resolve()),
              dict(options, name=name, jobs=jobs, root=root)) for name, path in candidates]
    done = [0]

    def on_done(row):
        done[0] += 1
        if progress:
            progress(done[0], len(tasks), row)

    started = _dt.datetime.now(_dt.timezone.utc)
    rows = EXECUTORS[executor](grade_one, tasks, jobs, on_done, starting, **(executor_options or {}))
    rows = sort_rows(rows)
    similarity = write_similarity(rows, out_dir, options)
    for row in rows:
        row["similar_to"] = (similarity or {}).get("similar", {}).get(row["candidate"], [])
    # the leaderboard's "similar to" column: the threshold, or False (failed, see the warning)
    write_leaderboard(rows, exercises, out_dir,
                      dict(options, similarity=similarity["threshold"] if similarity else False),
                      started)
    return rows


# ----------------------------------------------------------------------------- similarity

def write_similarity(rows: list[dict], out_dir: Path, options: dict) -> dict | None:
    """OUT/similarity.csv and OUT/similarity.html from the graded candidates' result JSON
    (their "sources"; rows without a JSON, the grader's failures, are left out); returns
    {"threshold": t, "similar": candidate -> the others of a pair scoring t or more}.
    Evidence for a person to look at, not a verdict. Never raises: on a failure it warns in
    one line, removes an earlier run's pages (they would describe another batch) and returns
    None; the leaderboard is written all the same."""
    out_dir = Path(out_dir)
    try:
        from grader.batch import similarity as sim
        from grader.catalogue import load_catalogue, select
        from grader.files import write_atomic
        from grader.report.similarity_view import render_similarity_html
        results = {}
        for row in rows:
            try:
                if row.get("json"):
                    results[row["candidate"]] = json.loads((out_dir / row["json"]).read_text("utf-8"))
            except (OSError, ValueError):
                continue              # gone or damaged since it was written: nothing to compare
        stubs = {ex.slug: sim.concat_sources({f: (ex.path / f).read_text("utf-8", "replace")
                                              for f in ex.files if (ex.path / f).is_file()})
                 for ex in select(load_catalogue(), options.get("slugs") or [])}
        submissions = sim.submissions_from_results(results)
        pairs = sim.similarity_report(submissions, results, stubs, sim.THRESHOLD)
        write_atomic(out_dir / "similarity.csv", sim.to_csv(pairs))
        write_atomic(out_dir / "similarity.html",
                     render_similarity_html(pairs, submissions, sim.THRESHOLD))
        return {"threshold": sim.THRESHOLD, "similar": sim.similar_to(pairs, sim.THRESHOLD)}
    except Exception as exc:  # noqa: BLE001 - a similarity failure must not lose the leaderboard
        for stale in ("similarity.csv", "similarity.html"):
            with contextlib.suppress(OSError):
                (out_dir / stale).unlink(missing_ok=True)
        _log.warning("torchdrill: warning: similarity report skipped (%s: %s); the leaderboard "
                     "is written without it", type(exc).__name__, str(exc)[:200])
        return None


def sort_rows(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda r: (r["status"] == Status.ERROR, -r.get("pct", 0.0),
                                       r["candidate"].lower()))
