"""Commands for the exercise author: validate."""

from __future__ import annotations

import sys

import click

from grader.catalogue import load_catalogue, select
from grader.cli import options as opt


@click.command()
@click.argument("slugs", nargs=-1)
@opt.jobs
@opt.isolation
def validate(slugs, jobs, isolation):
    """Prove references earn full marks, stubs zero, wrong variants lose points."""
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
                                    isolation=mode)
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
