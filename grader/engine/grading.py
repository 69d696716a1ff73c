"""Grade a submission: one child per exercise (in parallel), then timing runs one at a time.

Produces the result JSON (`schema: 1`: grader/schema/result-1.json, docs/design.md), the
single source of truth that every report is rendered from. Scoring rules: engine/scoring.py.
"""

from __future__ import annotations

import datetime as _dt
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from grader import __version__
from grader.catalogue import Exercise, timing_skip_reason
from grader.catalogue.hidden_checks import expected_checks
from grader.engine import follow_ups, scoring, static_check
from grader.engine.scoring import score_exercise
from grader.engine.sources import scrub
from grader.engine.environment import machine_environment
from grader.isolation.runner import ChildRun, describe_exit, prepare_workspace, run_child
from grader.kinds import SPEED_CHECK, Event, Flag, Outcome, Status


@dataclass(frozen=True)
class GradeOptions:
    device: str = "cpu"               # resolved: "cpu" or "cuda"
    timing: bool = True
    jobs: int = 1
    audience: str = "interviewer"
    isolation: str = "process"        # resolved: "namespaces" or "process" (engine/environment.py)
    only: tuple[str, ...] = ()        # validate: run only the checks these names select (-k)


def missing_requirements(exercise: Exercise) -> list[str]:
    from importlib.util import find_spec
    return [name for name in exercise.requires if find_spec(name) is None]


def grade_exercise(exercise: Exercise, submission: Path, options: GradeOptions) -> dict:
    """Correctness phase for one exercise. Never raises for anything the candidate did."""
    folder = submission / exercise.slug
    if not folder.is_dir():
        return failed_result(exercise, Status.MISSING, "no submission for this exercise")
    lacking = missing_requirements(exercise)
    if lacking:
        reason = (f"skipped: needs {', '.join(lacking)}, which is not installed here "
                  f"(pip install -e \".[{lacking[0]}]\")")
        result = failed_result(exercise, Status.GRADED, reason, outcome=Outcome.SKIPPED,
                               flag={"kind": Flag.SKIPPED, "detail": reason})
        result.update(max_score=0.0)
        return result
    result = _empty_result(exercise)
    result["flags"] = static_check.scan_folder(exercise, folder)
    root, absent = prepare_workspace(exercise, folder)
    try:
        if absent:
            message = f"{', '.join(absent)} missing from the submission folder {exercise.slug}/"
            return failed_result(exercise, Status.ERROR, message, flags=result["flags"])
        threads = max(1, (os.cpu_count() or 1) // max(1, options.jobs))
        run = run_child(exercise, root, mode="check", device=options.device, threads=threads,
                        isolation=options.isolation, only=options.only,
                        time_limit_s=exercise.time_limit_s)
        _fill_from_run(result, exercise, run)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return result


def _empty_result(exercise: Exercise) -> dict:
    return {"slug": exercise.slug, "title": exercise.title, "status": Status.GRADED, "score": 0.0,
            "max_score": exercise.points, "duration_s": 0.0, "checks": [], "timings": [],
            "flags": [], "zeroed": False, "zeroed_by": []}


def failed_result(exercise: Exercise, status: str, message: str, *, outcome: str = Outcome.FAILED,
                  flag: dict | None = None, flags: list | None = None) -> dict:
    """An exercise that was never run: every expected check gets `outcome` with `message`."""
    result = _empty_result(exercise)
    result["status"] = status
    result["checks"] = [_check(c, outcome, message)
                        for c in weighted_checks(expected_checks(exercise), exercise)]
    result["flags"] = list(flags or []) + ([flag] if flag else [])
    score_exercise(result)
    return result


def _check(spec: dict, outcome: str, message: str) -> dict:
    return {"id": spec["id"], "name": spec["name"], "outcome": outcome,
            "points": spec["points"], "message": message}


def weighted_checks(checks: list[dict], exercise: Exercise) -> list[dict]:
    """The exercise's hidden checks with their points (engine.scoring.weighted)."""
    return scoring.weighted(checks, exercise.points,
                            exercise.timing.speed_points if exercise.timing else 0.0)


def _fill_from_run(result: dict, exercise: Exercise, run: ChildRun) -> None:
    result["duration_s"] = round(run.seconds, 3)
    env = run.of(Event.ENV)
    if env:
        result["_environment"] = {k: v for k, v in env[0].items() if k not in ("event", "nonce")}
    collected = run.of(Event.COLLECTED)
    specs = collected[0]["checks"] if collected else expected_checks(exercise)
    specs = weighted_checks(specs, exercise)
    outcomes: dict[str, list[dict]] = {}
    for event in run.of(Event.RESULT):
        outcomes.setdefault(str(event.get("id")), []).append(event)
    finished = bool(run.of(Event.DONE))
    why = describe_exit(run, exercise.time_limit_s)
    started = [str(e.get("id")) for e in run.of(Event.START)]
    running = started[-1] if started and started[-1] not in outcomes else None
    checks, tampered = [], False
    for spec in specs:
        reports = outcomes.get(spec["id"], [])
        if len(reports) > 1:
            tampered = True
            checks.append(_check(spec, Outcome.FAILED, "more than one result arrived for this check: "
                                 "the result channel was tampered with"))
        elif reports:
            r = reports[0]
            outcome = r.get("outcome") if r.get("outcome") in Outcome.REPORTED else Outcome.ERROR
            checks.append(_check(spec, outcome, str(r.get("message", ""))[:4000]))
        elif spec["id"] == running:
            outcome = Outcome.TIMEOUT if run.timed_out else Outcome.FAILED
            checks.append(_check(spec, outcome, f"{why} while this check ran"))
        elif running is not None:
            outcome = Outcome.TIMEOUT if run.timed_out else Outcome.FAILED
            checks.append(_check(spec, outcome, f"not run: {why} during an earlier check"))
        else:
            outcome = Outcome.TIMEOUT if run.timed_out else Outcome.FAILED
            checks.append(_check(spec, outcome, f"no result: {why}"))
    unknown = set(outcomes) - {s["id"] for s in specs}
    if unknown or run.forged or tampered:
        result["flags"].append({"kind": Flag.RESULT_FORGERY,
                                "detail": f"{run.forged} unauthenticated line(s), "
                                          f"{len(unknown)} result(s) for unknown checks on the "
                                          "result channel"})
    for event in run.of(Event.FLAG):
        result["flags"].append({"kind": str(event.get("kind")), "detail": str(event.get("detail"))[:500]})
    for event in run.of(Event.COLLECT_ERROR):
        result["flags"].append({"kind": Flag.CHECKS_ERROR, "detail": str(event.get("detail"))[:500]})
    result["checks"] = checks
    result["flags"] = dedupe_flags(result["flags"])
    if run.timed_out:
        result["status"] = Status.TIMEOUT
    elif not collected or not finished:
        result["status"] = Status.ERROR
        result["flags"].append({"kind": Flag.CRASH, "detail": why})
    score_exercise(result)


def dedupe_flags(flags: list[dict]) -> list[dict]:
    seen, out = set(), []
    for f in flags:
        key = (f["kind"], f["detail"])
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out[:50]


def _not_timed(exercise: Exercise, result: dict, options: GradeOptions) -> str | None:
    """Why this exercise is not timed (None: time it). The machine's reasons come first and
    start with scoring.NOT_MEASURED: those points are left out of what is gradable here."""
    if not options.timing:
        return f"{scoring.NOT_MEASURED}: timing off (--no-timing)"
    reason = timing_skip_reason(exercise.requires, options.device)
    if reason:
        return f"{scoring.NOT_MEASURED}: needs a CUDA GPU ({reason})"
    if not (result["status"] == Status.GRADED and result["checks"] and result["score"] > 0
            and all(c["outcome"] == Outcome.PASSED for c in result["checks"])):
        return "not timed: correctness checks must all pass first"
    return None


def time_exercise(exercise: Exercise, submission: Path, result: dict, options: GradeOptions) -> None:
    """Timing phase (run alone): only for exercises whose correctness checks all passed."""
    timing = exercise.timing
    if timing is None:
        return
    reason = _not_timed(exercise, result, options)
    if reason:
        if timing.speed_points:
            result["checks"].append({"id": SPEED_CHECK, "name": "speed against PyTorch",
                                     "outcome": Outcome.SKIPPED, "points": timing.speed_points,
                                     "message": reason})
        return
    root, _ = prepare_workspace(exercise, submission / exercise.slug)
    try:
        run = run_child(exercise, root, mode="timing", device=options.device,
                        isolation=options.isolation,
                        threads=os.cpu_count() or 1, time_limit_s=max(60.0, exercise.time_limit_s))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    events = run.of(Event.TIMING)
    for event in run.of(Event.FLAG):
        result["flags"].append({"kind": str(event.get("kind")), "detail": str(event.get("detail"))[:500]})
    if events:
        result["timings"] = events[0].get("rows", [])
        share, earned = scoring.speed_points(result["timings"], timing.tiers, timing.speed_points)
        message = scoring.speed_message(result["timings"], timing.tiers, share)
        why = next(filter(None, (r.get("error") or r.get("skipped")
                                 for r in result["timings"])), None)
        if share == 0 and why:
            message += f": {why}"
    else:
        share = earned = 0.0
        errors = run.of(Event.TIMING_ERROR)
        message = errors[0]["detail"] if errors else f"timing failed: {describe_exit(run, 60)}"
    if timing.speed_points:
        outcome = Outcome.PASSED if share > 0 else Outcome.FAILED
        result["checks"].append({"id": SPEED_CHECK, "name": "speed against PyTorch",
                                 "outcome": outcome, "points": timing.speed_points,
                                 "message": message})
        result["_speed_points"] = earned
    score_exercise(result)


class NoGate:
    """Gate for `grade_all`: `shared()` around each correctness run, `exclusive()` around each
    timing run. grade-many passes a batch-wide gate so timing never shares the machine."""

    @contextmanager
    def shared(self):
        yield

    @contextmanager
    def exclusive(self):
        yield


def will_time(exercise: Exercise, result: dict, options: GradeOptions) -> bool:
    return exercise.timing is not None and _not_timed(exercise, result, options) is None


def grade_all(exercises: list[Exercise], submission: Path, options: GradeOptions,
              progress=None, gate=None) -> list[dict]:
    """Both phases: correctness children in parallel (-j), then timing runs one at a time.
    `progress(exercise, result, phase)` after each correctness run (phase "checks") and again
    after each timing run ("timed")."""
    gate = gate or NoGate()

    def one(ex: Exercise) -> dict:
        try:
            with gate.shared():
                res = grade_exercise(ex, submission, options)
        except Exception as exc:  # noqa: BLE001 - a grader bug costs this exercise only
            res = _empty_result(ex)
            res.update(status=Status.ERROR)
            res["flags"].append({"kind": Flag.GRADER_ERROR, "detail": f"{type(exc).__name__}: {exc}"})
        if progress:
            progress(ex, res, "checks")
        return res

    with ThreadPoolExecutor(max_workers=max(1, options.jobs)) as pool:
        results = list(pool.map(one, exercises))
    for ex, res in zip(exercises, results):
        if res["status"] == Status.GRADED and ex.timing is not None:
            timed = will_time(ex, res, options)
            with (gate.exclusive() if timed else nullcontext()):
                time_exercise(ex, submission, res, options)
            if progress and timed:
                progress(ex, res, "timed")
    if options.audience == "interviewer":     # never in a candidate's JSON or report
        for ex, res in zip(exercises, results):
            res["follow_ups"] = follow_ups.choose(ex, res)
    return results


def grade(exercises: list[Exercise], submission: Path, options: GradeOptions,
          progress=None) -> dict:
    """Grade every exercise; return the result JSON as a dict."""
    started = _dt.datetime.now(_dt.timezone.utc)
    results = grade_all(exercises, submission, options, progress)
    return build_result(results, submission, options, started)


def build_result(results: list[dict], submission: Path, options: GradeOptions, started) -> dict:
    env = next((r["_environment"] for r in results if r.get("_environment")), None)
    for r in results:
        r.pop("_environment", None)
        r.pop("_speed_points", None)
    environment = env or machine_environment(options.device)
    environment["device"] = options.device
    environment["isolation"] = options.isolation
    result = scrub({
        "schema": 1, "tool": "torchdrill", "version": __version__,
        "created": started.isoformat(timespec="seconds"),
        "environment": environment,
        "submission": str(submission), "audience": options.audience,
        "score": round(sum(r["score"] for r in results), 4),
        "max_score": round(sum(r["max_score"] for r in results), 4),
        "exercises": results,
    })
    scoring.set_gradable(result)
    return result
