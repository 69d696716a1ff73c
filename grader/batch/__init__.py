"""Many candidates: intake, grade each (one result and report per candidate), similarity, leaderboard."""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from grader.batch.executors import EXECUTORS
from grader.batch.gate import GATE
from grader.batch import resume as resume_mod
from grader.batch.intake import Rejected, candidate_name, discover, ignored_entries
from grader.batch.intake import payload_hash, read_submission, write_submission
from grader.batch.leaderboard import exercise_columns, prepare_out_dir, write_leaderboard
from grader.errors import InputError
from grader.kinds import Flag, Status

__all__ = ["Rejected", "grade_one", "grade_payload", "ignored_entries", "prepare_out_dir",
           "row_from_result", "run_batch", "summary_row", "write_outcome", "write_similarity"]

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


def _empty_row(name: str, submission: str) -> dict:
    return {"candidate": name, "submission": submission, "status": "error", "error": "",
            "score": 0.0, "max_score": 0.0, "pct": 0.0, "exercises": {}, "flags": 0,
            "zeroing_flags": 0, "speedup": None, "timed_cases": 0, "duration_s": 0.0,
            "json": None, "html": None}


def row_from_result(name: str, result: dict) -> dict:
    """The leaderboard row of a written result (also how --resume rebuilds a finished one)."""
    row = _empty_row(name, result.get("submission", ""))
    row.update(summary_row(name, result), json=f"{name}.json", html=f"{name}.html",
               duration_s=round(sum(ex.get("duration_s", 0.0) for ex in result["exercises"]), 2))
    rejected = [f["detail"] for ex in result["exercises"] for f in ex["flags"]
                if f["kind"] == Flag.REJECTED]
    if rejected:
        row.update(status="rejected", error=rejected[0])
    return row


def grade_payload(payload: dict, options: dict) -> dict:
    """Grade one candidate from its submission as data (intake.read_submission), in a private
    temporary folder; return {"row", "json", "html"}: the leaderboard row, the result JSON's
    text and the rendered report (both None when the grader failed). Nothing here depends on
    the client's paths, so it runs on any worker; only the client writes OUT/. Never raises:
    a rejected submission is graded as errors with the reason, a grader failure becomes a row
    with status "error".

    options: name (file stem), submission (the label the result records), slugs (empty =
    all), device ("cpu"/"cuda", resolved), timing (bool), jobs (candidates graded at once,
    sets threads per child), audience, isolation; catalogue and batch (recorded in the result,
    for --resume). Plain values only: picklable.
    """
    started_wall = time.monotonic()
    name = options["name"]
    row = _empty_row(name, options.get("submission", name))
    outcome = {"row": row, "json": None, "html": None}
    clean = None
    try:
        from grader import report
        from grader.catalogue import load_catalogue, select
        from grader.engine import grading
        from grader.engine.sources import attach_sources, scrub
        exercises = select(load_catalogue(), options.get("slugs") or [])
        gopts = _options(options)
        started = _dt.datetime.now(_dt.timezone.utc)
        clean = Path(tempfile.mkdtemp(prefix="torchdrill-submission-"))
        try:
            if "rejected" in payload:
                raise Rejected(payload["rejected"])
            write_submission(payload, clean)
            results = _grade_folder(exercises, clean, gopts)
        except Rejected as exc:
            results = _rejected_results(exercises, str(exc))
        result = grading.build_result(results, row["submission"], gopts, started)
        attach_sources(result, exercises, clean)
        from grader.practice.timebox import attach_timeline
        attach_timeline(result, clean, exercises, options.get("time_box_s"))
        scrub(result)
        for key in ("catalogue", "batch"):       # optional keys of schema 1
            if options.get(key):
                result[key] = options[key]
        outcome.update(json=report.json_text(result), html=report.render_html(result, gopts.audience))
        row.update(row_from_result(name, result))
    except Exception as exc:  # noqa: BLE001 - one candidate's failure never stops the batch
        row.update(status="error", error=f"grader failed: {type(exc).__name__}: {exc}"[:500],
                   json=None, html=None)
        outcome.update(json=None, html=None)
    finally:
        if clean is not None:
            shutil.rmtree(clean, ignore_errors=True)
    row["duration_s"] = round(time.monotonic() - started_wall, 2)
    return outcome


def write_outcome(out_dir: Path, outcome: dict) -> dict:
    """On the client: OUT/<name>.json and .html from a graded outcome (atomically, as it
    arrives, so an interrupted batch keeps it); returns the row."""
    from grader.files import write_atomic
    row = outcome["row"]
    if outcome.get("json") is None:
        return row
    name = row["candidate"]
    try:
        write_atomic(Path(out_dir) / f"{name}.html", outcome["html"])
        write_atomic(Path(out_dir) / f"{name}.json", outcome["json"])   # last: --resume keys on it
    except (OSError, InputError) as exc:
        row.update(status="error", json=None, html=None,
                   error=f"grader failed: cannot write its report: {exc}"[:500])
    return row


def grade_one(submission_path: str, out_dir: str, options: dict) -> dict:
    """Grade one candidate here: read its submission, grade it, write OUT/<name>.json and
    .html; return the leaderboard row. Never raises (see grade_payload)."""
    submission = Path(submission_path)
    options = dict(options, name=options.get("name") or candidate_name(submission),
                   submission=str(submission))
    try:
        from grader.catalogue import load_catalogue, select
        payload = read_submission(submission, select(load_catalogue(), options.get("slugs") or []))
    except Exception as exc:  # noqa: BLE001 - as grade_payload: a row, never an exception
        row = _empty_row(options["name"], str(submission))
        row["error"] = f"grader failed: {type(exc).__name__}: {exc}"[:500]
        return row
    return write_outcome(Path(out_dir), grade_payload(payload, options))


def _rate_line(started: float, graded: int, remaining: int) -> dict:
    elapsed = max(time.monotonic() - started, 1e-6)
    rate = graded / elapsed
    return {"rate_per_min": round(rate * 60, 2),
            "left_s": round(remaining / rate, 1) if rate > 0 else None}


def run_batch(subs_dir: Path, out_dir: Path, options: dict, jobs: int,
              executor: str = "local", progress=None, starting=None,
              executor_options: dict | None = None, resume: bool = False,
              notice=None) -> list[dict]:
    """Grade every candidate of subs_dir; write their reports (each as it arrives) and the
    leaderboard; return the rows, best first. `progress(done, total, row, stats)` is called as
    each candidate finishes (stats: running, failed, rate_per_min, left_s), `starting(name)` as
    each starts, `notice(line)` for what the interviewer should know (resumed, refused workers).
    With `resume`, candidates OUT/ already holds a standing result of are not graded again."""
    from grader.catalogue import load_catalogue, project_root, select
    from grader.catalogue.archive import catalogue_hash
    if executor not in EXECUTORS:
        raise InputError(f"unknown executor {executor!r}; available: {', '.join(EXECUTORS)}")
    exercises = exercise_columns(options)          # an unknown slug fails here, once
    candidates = discover(subs_dir, out_dir)
    if not candidates:
        raise InputError(f"{subs_dir}: no submissions (expected one folder or .zip per candidate)")
    chosen = select(load_catalogue(), options.get("slugs") or [])
    digest, arguments = catalogue_hash(), resume_mod.arguments_hash(options)
    resume_mod.mark(out_dir, digest, arguments)
    rows, tasks = [], []
    for name, path in candidates:       # read on the client: workers never see these paths
        payload = read_submission(path, chosen)
        fingerprint = {"submission": payload_hash(payload), "arguments": arguments}
        earlier = resume_mod.finished(out_dir, name, digest, fingerprint) if resume else None
        if earlier is not None:
            rows.append(row_from_result(name, earlier))
            continue
        tasks.append((payload, dict(options, name=name, submission=str(path.resolve()),
                                    jobs=jobs, catalogue=digest, batch=fingerprint)))
    if resume and notice:
        notice(f"resuming: {len(rows)} of {len(candidates)} already graded in {out_dir}, "
               f"{len(tasks)} to grade")
    total, state, clock = len(candidates), {"running": set(), "failed": 0}, time.monotonic()

    def on_start(name):
        state["running"].add(name)
        if starting:
            starting(name)

    def on_done(outcome):
        row = write_outcome(out_dir, outcome)
        rows.append(row)
        state["running"].discard(row["candidate"])
        state["failed"] += row["status"] == Status.ERROR
        if progress:
            stats = {"running": len(state["running"]), "failed": state["failed"],
                     **_rate_line(clock, len(rows) - (total - len(tasks)), total - len(rows))}
            progress(len(rows), total, row, stats)

    started = _dt.datetime.now(_dt.timezone.utc)
    if tasks:
        EXECUTORS[executor](grade_payload, tasks, jobs, on_done, on_start,
                            catalogue=(digest, project_root()), notice=notice,
                            **(executor_options or {}))
    rows = sort_rows(rows)
    similarity = write_similarity(rows, out_dir, options)
    for row in rows:
        row["similar_to"] = (similarity or {}).get("similar", {}).get(row["candidate"], [])
    # the leaderboard's "similar to" column: the threshold, or False (failed, see the warning)
    write_leaderboard(rows, exercises, out_dir,
                      dict(options, catalogue=digest,
                           similarity=similarity["threshold"] if similarity else False),
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
