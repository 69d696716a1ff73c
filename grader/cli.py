"""The `torchdrill` command line: one click group, one thin function per command.

Logic lives in plain modules (catalogue, workspace, grading, report, validate). Importing this
module must not import torch: `list`, `show`, `hint` and `--help` have to feel instant.
Exit codes: 0 done, 1 score under --fail-under (or checks failing for `check`/`validate`),
2 bad usage or input, 3 the grader itself failed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from grader import __version__
from grader.catalogue import load_catalogue, select
from grader.errors import GraderError, InputError

JOBS_HELP = "Parallel grading processes (default: number of CPU cores)."


def _catalogue():
    return load_catalogue()


def _jobs(jobs: int | None) -> int:
    if jobs is not None and jobs < 1:
        raise InputError("-j must be at least 1")
    return jobs or os.cpu_count() or 1


def _existing_dir(path: str, what: str) -> Path:
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such {what}")
    if not p.is_dir():
        raise InputError(f"{path}: is not a folder; give the {what} folder")
    if not os.access(p, os.R_OK | os.X_OK):
        raise InputError(f"{path}: cannot be read (permission denied)")
    return p


class _OneLineError(click.ClickException):
    """Our errors as click sees them: one line on stderr, our exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file=None) -> None:
        click.echo(f"torchdrill: error: {self.message}", err=True)


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (InputError, GraderError) as exc:
            raise _OneLineError(str(exc), exc.exit_code) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit,
                KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the grader itself failed: exit 3, one line
            if os.environ.get("TORCHDRILL_DEBUG"):
                raise
            raise _OneLineError(f"internal error: {type(exc).__name__}: {exc}", 3) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="torchdrill")
def cli():
    """torchdrill: PyTorch interview exercises, graded in isolated processes."""


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable catalogue.")
def list_cmd(as_json):
    """List the exercises."""
    exercises = list(_catalogue().values())
    if as_json:
        rows = [{"slug": e.slug, "title": e.title, "difficulty": e.difficulty, "tags": list(e.tags),
                 "points": e.points, "time_limit_s": e.time_limit_s, "files": list(e.files),
                 "timed": e.timing is not None, "requires": list(e.requires)} for e in exercises]
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(e.slug) for e in exercises), default=4)
    for e in exercises:
        click.echo(f"{e.slug:<{width}}  {e.difficulty:<6}  {e.points:>4g} pts  {e.title}")


@cli.command()
@click.argument("slug")
def show(slug):
    """Print an exercise's prompt."""
    ex = select(_catalogue(), [slug])[0]
    click.echo(f"# {ex.title}  [{ex.slug} · {ex.difficulty} · {ex.points:g} points · "
               f"edit: {', '.join(ex.files)}]\n")
    click.echo(ex.prompt_path.read_text(encoding="utf-8"))


@cli.command()
@click.argument("slug")
def hint(slug):
    """Print an exercise's hints."""
    ex = select(_catalogue(), [slug])[0]
    if not ex.hints:
        click.echo(f"{slug} has no hints; `torchdrill show {slug}` repeats the prompt.")
    for i, h in enumerate(ex.hints, 1):
        click.echo(f"Hint {i}: {h.text}")


@cli.command()
@click.argument("slugs", nargs=-1)
@click.option("--dir", "directory", default=".", show_default=True, help="Work folder.")
def start(slugs, directory):
    """Copy exercises (stub, prompt, public tests) into a work folder."""
    from grader import workspace
    target = Path(directory)
    for slug, what in workspace.start(select(_catalogue(), slugs), target):
        click.echo(f"{target / slug}: {what}")
    click.echo("Next: edit the files, then `torchdrill check` (public tests) and "
               "`torchdrill grade` (hidden checks).")


@cli.command()
@click.argument("slugs", nargs=-1)
@click.option("--dir", "directory", default=".", show_default=True, help="Work folder.")
def check(slugs, directory):
    """Run the public sample tests on your work."""
    from grader import workspace
    folder = _existing_dir(directory, "work folder")
    catalogue = _catalogue()
    exercises = select(catalogue, slugs) if slugs else [
        e for e in catalogue.values() if (folder / e.slug).is_dir()]
    if not exercises:
        raise InputError(f"{directory}: no started exercise here; run `torchdrill start SLUG` first")
    passed, attempted = workspace.check(exercises, folder, echo=click.echo)
    click.echo(f"{passed} of {attempted} exercise(s) pass their public tests.")
    sys.exit(0 if passed == attempted else 1)


def _progress(ex, res, phase="checks"):
    from grader.grading import SPEED_CHECK
    label = "timed" if phase == "timed" else res["status"]
    speed = next((c for c in res["checks"] if c["id"] == SPEED_CHECK), None)
    note = f"  (speed: {speed['message']})" if phase == "timed" and speed else ""
    click.echo(f"  {label:<8} {ex.slug:<22} {res['score']:>6.2f} / {res['max_score']:g}{note}",
               err=True)


@cli.command()
@click.argument("submission", default=".", required=False)
@click.option("--exercise", "slugs", multiple=True, help="Grade only this exercise (repeatable).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the result JSON.")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), help="Write the HTML report.")
@click.option("--junit", "junit_out", type=click.Path(dir_okay=False), help="Write JUnit XML.")
@click.option("--no-timing", is_flag=True, help="Skip kernel timing.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True, help="Where checks and timing run.")
@click.option("--audience", type=click.Choice(["interviewer", "candidate"]), default="interviewer",
              show_default=True, help="Who reads the report.")
@click.option("--fail-under", type=click.FloatRange(0, 100), help="Exit 1 if the score % is lower.")
@click.option("-j", "--jobs", type=int, default=None, help=JOBS_HELP)
@click.option("--no-sources", is_flag=True,
              help="Leave the candidate's code out of the result (the interviewer's report shows it).")
def grade(submission, slugs, json_out, html_out, junit_out, no_timing, device, audience,
          fail_under, jobs, no_sources):
    """Grade a submission folder (one sub-folder per exercise)."""
    from grader import grading, sources
    sub = _existing_dir(submission, "submission folder")
    exercises = select(_catalogue(), slugs)
    options = grading.GradeOptions(device=grading.resolve_device(device), timing=not no_timing,
                                   jobs=_jobs(jobs), audience=audience)
    click.echo(f"Grading {sub} ({len(exercises)} exercise(s), {options.device}, "
               f"-j {options.jobs})", err=True)
    result = grading.grade(exercises, sub.resolve(), options, progress=_progress)
    if not no_sources:
        sources.attach_sources(result, exercises, sub.resolve())
    _write_outputs(result, json_out, html_out, junit_out, audience)
    pct = 100.0 * result["score"] / result["max_score"] if result["max_score"] else 0.0
    click.echo(f"Score: {result['score']:.2f} / {result['max_score']:.2f} ({pct:.1f}%)")
    if fail_under is not None and pct < fail_under:
        click.echo(f"Score {pct:.1f}% is under --fail-under {fail_under:g}%.", err=True)
        sys.exit(1)


def _write_outputs(result, json_out, html_out, junit_out, audience):
    from grader import report
    if json_out:
        report.write_json(result, Path(json_out))
    if html_out:
        report.write_html(result, Path(html_out), audience)
    if junit_out:
        from grader import junit
        junit.write_junit(result, Path(junit_out), audience)


@cli.command("report")
@click.argument("result_json", type=click.Path())
@click.option("--html", "html_out", required=True, type=click.Path(dir_okay=False))
@click.option("--audience", type=click.Choice(["interviewer", "candidate"]), default=None,
              help="Default: the audience recorded in the result.")
def report_cmd(result_json, html_out, audience):
    """Render the HTML report from a result JSON."""
    from grader import report
    result = report.load_result(Path(result_json))
    report.write_html(result, Path(html_out), audience)
    click.echo(f"wrote {html_out}")


@cli.command()
@click.argument("out", type=click.Path())
@click.option("--exercise", "slugs", multiple=True, help="Put only this exercise in (repeatable).")
@click.option("--hints", is_flag=True, help="Print the exercises' hints in INSTRUCTIONS.md.")
def kit(out, slugs, hints):
    """Write a candidate kit (folder or .zip): prompts, stubs, public tests."""
    from grader import kit as kit_mod
    exercises = select(_catalogue(), slugs)
    count = kit_mod.build_kit(exercises, Path(out), with_hints=hints)
    click.echo(f"wrote {out}: {len(exercises)} exercise(s), {count} file(s); "
               "no solutions or hidden checks. Send it to the candidate.")


@cli.command("grade-many")
@click.argument("subs_dir")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the reports and the leaderboard.")
@click.option("--exercise", "slugs", multiple=True, help="Grade only this exercise (repeatable).")
@click.option("--no-timing", is_flag=True, help="Skip kernel timing.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
              show_default=True, help="Where checks and timing run.")
@click.option("--audience", type=click.Choice(["interviewer", "candidate"]), default="interviewer",
              show_default=True, help="Who reads the per-candidate reports.")
@click.option("-j", "--jobs", type=int, default=None,
              help="Candidates graded at once (default: number of CPU cores).")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="With --executor dask: the scheduler (tcp://host:8786); default: a local cluster.")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True,
              help="Where candidates are graded.")
def grade_many(subs_dir, out_dir, slugs, no_timing, device, audience, jobs, executor, scheduler):
    """Grade many candidates (a folder or .zip each); write a leaderboard."""
    from grader import batch, grading
    from grader.report_view import points
    if scheduler and executor != "dask":
        raise InputError("--scheduler needs --executor dask")
    subs = _existing_dir(subs_dir, "submissions folder")
    select(_catalogue(), slugs)
    out = Path(out_dir)
    batch.prepare_out_dir(out)
    options = {"slugs": list(slugs), "device": grading.resolve_device(device),
               "timing": not no_timing, "audience": audience}

    def progress(done, total, row):
        what = (f"{row['pct']:.0f}% ({points(row['score'])} / {points(row['max_score'])})"
                if row["status"] == "graded" else f"{row['status']}: {row['error']}")
        click.echo(f"[{done}/{total}] {row['candidate']} {what} {row['duration_s']:.1f} s", err=True)

    for name in batch.ignored_entries(subs):
        click.echo(f"  skipping {name}: not a folder or a .zip", err=True)
    click.echo(f"Grading {subs} into {out} ({options['device']}, {_jobs(jobs)} at once)", err=True)
    def starting(name):
        click.echo(f"  grading {name} ...", err=True)

    rows = batch.run_batch(subs, out, options, _jobs(jobs), executor=executor, progress=progress,
                           starting=starting,
                           executor_options={"scheduler": scheduler} if executor == "dask" else None)
    ok = sum(r["status"] == "graded" for r in rows)
    click.echo(f"{len(rows)} candidate(s), {ok} graded normally; "
               f"leaderboard: {out / 'leaderboard.html'} and {out / 'leaderboard.csv'}")


@cli.command()
@click.argument("slugs", nargs=-1)
@click.option("--dir", "directory", default=".", show_default=True, help="Work folder.")
@click.option("--manual", is_flag=True, help="Rerun when you press Enter instead of on save.")
@click.option("--once", is_flag=True, hidden=True, help="Run once and exit (tests).")
@click.option("--max-polls", type=int, default=None, hidden=True)
def watch(slugs, directory, manual, once, max_polls):
    """Rerun the public tests on every save; show your progress."""
    from grader import watch as w
    folder = _existing_dir(directory, "work folder")
    catalogue = _catalogue()
    chosen = select(catalogue, slugs) if slugs else list(catalogue.values())
    exercises = [e for e in w.find_exercises(folder, order=[c.slug for c in chosen],
                                             timeouts={c.slug: c.time_limit_s for c in chosen})
                 if e.slug in {c.slug for c in chosen}]
    if not exercises:
        raise InputError(f"{directory}: no started exercise here; run `torchdrill start SLUG` first")
    clear = click.clear if sys.stdout.isatty() and not once else None
    watcher = w.Watcher(exercises, echo=click.echo, clear=clear, manual=manual,
                        lines=None if once else sys.stdin)
    if once:
        watcher.run(exercises)
        sys.exit(0 if all(e.state == "pass" for e in exercises) else 1)
    sys.exit(watcher.loop(max_polls))


@cli.command()
@click.argument("slugs", nargs=-1)
@click.option("-j", "--jobs", type=int, default=None, help=JOBS_HELP)
def validate(slugs, jobs):
    """Prove references earn full marks, stubs zero, wrong variants lose points."""
    from grader import validate as v
    from grader.grading import missing_requirements
    exercises = select(_catalogue(), slugs)
    for ex in exercises:
        lacking = missing_requirements(ex)
        if lacking:
            click.echo(f"- {ex.slug}: skipped, needs {', '.join(lacking)} "
                       f"(pip install -e \".[{lacking[0]}]\")")

    def progress(o):
        click.echo(f"{'✓' if o.ok else '✗'} {o.case.label}: {o.detail}")

    problems, outcomes = v.validate(exercises, _jobs(jobs), progress=progress)
    for p in problems:
        click.echo(f"✗ {p}")
    bad = [o for o in outcomes if not o.ok]
    click.echo(f"{len(outcomes) - len(bad)} of {len(outcomes)} validation runs ok, "
               f"{len(problems)} structural problem(s).")
    if bad or problems:
        click.echo("FAILED:\n" + "\n".join(f"  {o.case.label}: {o.detail}" for o in bad))
        sys.exit(1)


def main(argv=None) -> None:
    """Console entry point (`torchdrill`, `python -m grader`)."""
    cli.main(args=argv, prog_name="torchdrill")
