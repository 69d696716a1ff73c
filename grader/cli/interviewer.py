"""Commands for the interviewer: grade, report, kit, grade-many."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from grader.catalogue import load_catalogue, select
from grader.cli import options as opt
from grader.errors import InputError
from grader.files import check_output_paths


def _progress(ex, res, phase="checks"):
    from grader.kinds import SPEED_CHECK, Status
    if res["status"] == Status.MISSING:
        return                  # not attempted: one line for all of them, after the grade
    label = "timed" if phase == "timed" else res["status"]
    speed = next((c for c in res["checks"] if c["id"] == SPEED_CHECK), None)
    note = f"  (speed: {speed['message']})" if phase == "timed" and speed else ""
    click.echo(f"  {label:<8} {ex.slug:<22} {res['score']:>6.2f} / {res['max_score']:g}{note}",
               err=True)


@click.command()
@click.argument("submission", default=".", required=False)
@opt.exercise
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the result JSON.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), help="Write the HTML report.")
@click.option("--junit", "junit_out", type=click.Path(dir_okay=False), help="Write JUnit XML.")
@opt.no_timing
@opt.device
@opt.audience()
@click.option("--fail-under", type=click.FloatRange(0, 100), help="Exit 1 if the score % is lower.")
@opt.jobs
@opt.isolation
@click.option("--no-sources", is_flag=True,
              help="Leave the candidate's code out of the result (the interviewer's report shows it).")
@opt.time_box("The submission comes from a kit made with this --time-box: check its log against "
              "this box (a missing log is then flagged). Without it, a log found is checked "
              "against the kit's own box.")
def grade(submission, slugs, json_out, html_out, junit_out, no_timing, device, audience,
          fail_under, jobs, isolation, no_sources, time_box_s):
    """Grade a submission folder (one sub-folder per exercise; a work folder's manifest, when
    it has one, names the exercises graded)."""
    from grader.engine import grading, sources
    from grader.practice import workspace
    sub = opt.existing_dir(submission, "submission folder")
    check_output_paths(json_out, html_out, junit_out)
    catalogue = load_catalogue()
    manifest = workspace.read_manifest(sub)
    exercises = select(catalogue, slugs or (manifest or {}).get("exercises") or ())
    device = opt.resolve_device(device)
    options = grading.GradeOptions(device=device, timing=not no_timing, jobs=opt.resolve_jobs(jobs),
                                   audience=audience, isolation=opt.resolve_isolation(isolation, device))
    click.echo(f"Grading {sub} ({len(exercises)} exercise(s), {options.device}, "
               f"-j {options.jobs}, {options.isolation})", err=True)
    result = grading.grade(exercises, sub.resolve(), options, progress=_progress)
    if not no_sources:
        sources.attach_sources(result, exercises, sub.resolve())
    missing = [ex["slug"] for ex in result["exercises"] if ex["status"] == "missing"]
    if missing:
        click.echo(f"  not attempted ({len(missing)}): {', '.join(missing)}", err=True)
    if manifest is not None:
        _record_and_show_hints(result, sub, exercises)
    _show_timeline(result, sub, exercises, time_box_s)
    _write_outputs(result, json_out, html_out, junit_out, audience)
    pct = _headline(result, len(exercises) if manifest is not None else None)
    if fail_under is not None and pct < fail_under:
        click.echo(f"Score {pct:.1f}% is under --fail-under {fail_under:g}%.", err=True)
        sys.exit(1)


def _headline(result: dict, count: int | None) -> float:
    """Print the score line; return the percentage --fail-under compares (of what was
    gradable here: points this machine cannot award are not held against anyone)."""
    from grader.engine.scoring import not_measured_note
    full, here = result["max_score"], result.get("gradable_max_score", result["max_score"])
    pct = 100.0 * result["score"] / here if here else 0.0
    what = "" if count is None else f"{count} exercise{'s' if count != 1 else ''}: "
    if abs(here - full) > 1e-9:
        click.echo(f"Score: {what}{result['score']:.2f} / {here:.2f} here ({pct:.1f}%), "
                   f"{full:.2f} in all; {not_measured_note(result)}")
    else:
        click.echo(f"Score: {what}{result['score']:.2f} / {full:.2f} ({pct:.1f}%)")
    return pct


def _record_and_show_hints(result: dict, sub: Path, exercises) -> None:
    """A work folder (it has a manifest): record the grade in the practice history, and put
    how many hints were seen into the result (`hints_seen`, `hints_total`) and on stderr.
    The history never fails the grade."""
    from grader.practice.history import record_safely
    by_slug = {ex["slug"]: ex for ex in result["exercises"]}

    def record(hist):
        hist.record_grade(result, str(sub))
        for ex in exercises:
            if ex.hints and ex.slug in by_slug:
                seen = len([i for i in hist.hints_seen(ex.slug) if i < len(ex.hints)])
                by_slug[ex.slug].update(hints_seen=seen, hints_total=len(ex.hints))
                click.echo(f"  hints  {ex.slug:<22} {seen} of {len(ex.hints)} hints seen", err=True)

    record_safely(record, lambda message: click.echo(message, err=True))


def _show_timeline(result: dict, sub: Path, exercises, time_box_s) -> None:
    """A time-boxed submission: verify its log into the result's `timeline`; one line on stderr.
    Its flags are for the interviewer: the score stays as graded."""
    from grader.practice.timebox import attach_timeline, summary_line
    timeline = attach_timeline(result, sub, exercises, time_box_s)
    if timeline is not None:
        click.echo(f"  time box  {summary_line(timeline)}", err=True)


def _write_outputs(result, json_out, html_out, junit_out, audience):
    from grader import report
    if json_out:
        report.write_json(result, Path(json_out))
    if html_out:
        report.write_html(result, Path(html_out), audience)
    if junit_out:
        from grader.report import junit
        junit.write_junit(result, Path(junit_out), audience)


@click.command("report")
@click.argument("result_json", type=click.Path())
@click.option("--html", "html_out", required=True, type=click.Path(dir_okay=False))
@opt.audience(None, help="Default: the audience recorded in the result.")
def report_cmd(result_json, html_out, audience):
    """Render the HTML report from a result JSON."""
    from grader import report
    result = report.load_result(Path(result_json))
    report.write_html(result, Path(html_out), audience)
    click.echo(f"wrote {html_out}")


@click.command()
@click.argument("out", type=click.Path())
@opt.exercise
@click.option("--hints", is_flag=True, help="Print the exercises' hints in INSTRUCTIONS.md.")
@opt.time_box("A time-boxed take-home (3h, 90m, 2h30m): the kit's run_checks.py logs the start "
              "and every run in a hash-chained log that `grade` checks and shows as a timeline.")
def kit(out, slugs, hints, time_box_s):
    """Write a candidate kit (folder or .zip): prompts, stubs, public tests."""
    from grader.practice import kit as kit_mod
    exercises = select(load_catalogue(), slugs)
    timebox = None
    if time_box_s is not None:
        from grader.practice.timebox import kit_settings
        timebox = kit_settings(exercises, time_box_s)
    count = kit_mod.build_kit(exercises, Path(out), with_hints=hints, timebox=timebox)
    click.echo(f"wrote {out}: {len(exercises)} exercise(s), {count} file(s); "
               "no solutions or hidden checks. Send it to the candidate.")
    if timebox:
        from grader.practice.watch import fmt_duration
        click.echo(f"time box {fmt_duration(time_box_s)}, kit id {timebox['kit_id']}: the report "
                   "of each submission shows the kit id its log was started with; keep this one.")


@click.command("grade-many")
@click.argument("subs_dir")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the reports and the leaderboard.")
@opt.exercise
@opt.no_timing
@opt.device
@opt.audience(help="Who reads the per-candidate reports.")
@click.option("-j", "--jobs", type=int, default=None,
              help="Candidates graded at once (default: number of CPU cores).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --executor dask: the scheduler (tcp://host:8786); default: a local cluster.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where candidates are graded.")
@opt.isolation
@opt.time_box("The submissions come from a kit made with this --time-box (see `grade`).")
@opt.resume
def grade_many(subs_dir, out_dir, slugs, no_timing, device, audience, jobs, executor, scheduler,
               isolation, time_box_s, resume):
    """Grade many candidates (a folder or .zip each); write a leaderboard."""
    from grader import batch
    if scheduler and executor != "dask":
        raise InputError("--scheduler needs --executor dask")
    subs = opt.existing_dir(subs_dir, "submissions folder")
    select(load_catalogue(), slugs)
    out = Path(out_dir)
    batch.prepare_out_dir(out)
    device = opt.resolve_device(device)
    options = {"slugs": list(slugs), "device": device, "timing": not no_timing,
               "audience": audience, "isolation": opt.resolve_isolation(isolation, device),
               "time_box_s": time_box_s}
    for name in batch.ignored_entries(subs):
        click.echo(f"  skipping {name}: not a folder or a .zip", err=True)
    where = f"dask {scheduler or 'local cluster'}" if executor == "dask" else "here"
    click.echo(f"Grading {subs} into {out} ({options['device']}, {opt.resolve_jobs(jobs)} at once, "
               f"{where})", err=True)

    def starting(name):
        click.echo(f"  grading {name} ...", err=True)

    rows = batch.run_batch(subs, out, options, opt.resolve_jobs(jobs), executor=executor,
                           progress=_batch_progress, starting=starting, resume=resume,
                           notice=lambda line: click.echo(f"  {line}", err=True),
                           executor_options={"scheduler": scheduler} if executor == "dask" else None)
    ok = sum(r["status"] == "graded" for r in rows)
    click.echo(f"{len(rows)} candidate(s), {ok} graded normally; "
               f"leaderboard: {out / 'leaderboard.html'} and {out / 'leaderboard.csv'}")


def _batch_progress(done, total, row, stats):
    """One line per finished candidate: its verdict, then the batch's state and pace."""
    from grader.report.format import points
    what = (f"{row['pct']:.0f}% ({points(row['score'])} / {points(row['max_score'])})"
            if row["status"] == "graded" else f"{row['status']}: {row['error']}")
    left = stats.get("left_s")
    pace = (f"{stats['running']} running, {stats['failed']} failed, "
            f"{stats['rate_per_min']:.1f}/min"
            + (f", about {left:.0f} s left" if left is not None and done < total else ""))
    click.echo(f"[{done}/{total}] {row['candidate']} {what} {row['duration_s']:.1f} s  ({pace})",
               err=True)
