"""Commands for the exercise author: validate (and its mutation testing, --mutants)."""

from __future__ import annotations

import sys

import click

from grader.catalogue import load_catalogue, select
from grader.cli import options as opt
from grader.errors import InputError


@click.command()
@click.argument("slugs", nargs=-1)
@opt.jobs
@opt.isolation
@click.option("--mutants", is_flag=True,
              help="Mutation-test the hidden checks instead: every small mutant of the reference "
                   "must lose points (docs/mutation.md); exit 1 under 95 %.")
@click.option("--json", "json_path", default=None, help="With --mutants: write the report here.")
@click.option("--all-checks", is_flag=True,
              help="Run every check on each wrong variant (default: only the checks its docstring "
                   "names), to see everything that catches it.")
@click.option("--seeds", type=click.IntRange(1, 10), default=2, show_default=True,
              help="Secret seeds each alt/ solution is graded under.")
@click.option("--quick", is_flag=True,
              help="The test suite's pass: one seed, and the first alt/ and partial/ variant of "
                   "each exercise only (every wrong/ variant still runs).")
@click.option("--limit", type=int, default=None,
              help="With --mutants: grade at most N mutants per exercise, spread over the module.")
def validate(slugs, jobs, isolation, mutants, json_path, limit, all_checks, seeds, quick):
    """Prove references earn full marks, stubs zero, wrong variants lose points."""
    if mutants:
        return _mutants(slugs, jobs, isolation, json_path, limit)
    if json_path is not None or limit is not None:
        raise InputError("--json and --limit go with --mutants")
    from grader.catalogue.lint import catalogue_problems
    from grader.engine import validate as v
    from grader.engine.grading import missing_requirements
    catalogue = load_catalogue()
    exercises = select(catalogue, slugs)
    for ex in exercises:
        lacking = missing_requirements(ex)
        if lacking:
            click.echo(f"- {ex.slug}: skipped, needs {', '.join(lacking)} "
                       f"(pip install -e \".[{lacking[0]}]\")")

    def progress(o):
        click.echo(f"{'✓' if o.ok else '✗'} {o.case.label}: {o.detail}")

    mode = opt.resolve_isolation(isolation, "cpu")
    problems, outcomes = v.validate(exercises, opt.resolve_jobs(jobs), progress=progress,
                                    isolation=mode, all_checks=all_checks, seeds=seeds, quick=quick)
    if not slugs:
        problems = catalogue_problems(catalogue) + problems
    for p in problems:
        click.echo(f"✗ {p}")
    bad = [o for o in outcomes if not o.ok]
    click.echo(f"{len(outcomes) - len(bad)} of {len(outcomes)} validation runs ok, "
               f"{len(problems)} structural problem(s).")
    if bad or problems:
        click.echo("FAILED:\n" + "\n".join(f"  {o.case.label}: {o.detail}" for o in bad))
        sys.exit(1)


def _mutants(slugs, jobs, isolation, json_path, limit):
    """`validate --mutants`: one line per exercise, then each survivor; progress on stderr."""
    import json
    from pathlib import Path

    from grader.engine import mutation
    from grader.engine.grading import missing_requirements
    from grader.files import write_atomic
    if limit is not None and limit < 1:
        raise InputError("--limit must be at least 1")
    exercises = select(load_catalogue(), slugs)
    for ex in exercises:   # a malformed marks file is bad input: say so before minutes of grading
        mutation.equivalent_marks(ex)
    mode = opt.resolve_isolation(isolation, "cpu")
    jobs = opt.resolve_jobs(jobs)
    reports = []
    for ex in exercises:
        lacking = missing_requirements(ex)
        if lacking or not ex.hidden_tests.is_file():
            # an exercise that cannot be graded here would "survive" every mutant
            click.echo(f"- {ex.slug}: skipped, needs {', '.join(lacking) or 'hidden checks'}")
            continue

        def progress(done, total, result, slug=ex.slug):
            if done % 10 == 0 or done == total:
                click.echo(f"  {slug}: {done}/{total} mutants graded", err=True)

        report = mutation.run_mutants(ex, jobs, limit=limit, progress=progress, isolation=mode)
        reports.append(report)
        click.echo(report.summary())
        for r in report.survived:
            why = f" (grader error: {r.error})" if r.error else ""
            click.echo(f"  survived {r.id}: {r.description}{why}")
        for s in report.stale:
            click.echo(f"  stale equivalent mark {s['id']}: the generator no longer makes it; "
                       f"remove it from solutions/{ex.slug}/{mutation.EQUIVALENT_FILE}")
    if json_path:
        write_atomic(Path(json_path), json.dumps(mutation.reports_json(reports), indent=2) + "\n")
    low = [r.slug for r in reports if not r.passed]
    if low:
        click.echo(f"under the {mutation.TARGET:.0%} target: {', '.join(low)}")
        sys.exit(1)
