"""Commands for the candidate: list, show, hint, start, check, watch."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from grader.catalogue import load_catalogue, select
from grader.cli import options as opt
from grader.errors import InputError


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable catalogue.")
def list_cmd(as_json):
    """List the exercises."""
    exercises = list(load_catalogue().values())
    if as_json:
        rows = [{"slug": e.slug, "title": e.title, "difficulty": e.difficulty, "tags": list(e.tags),
                 "points": e.points, "time_limit_s": e.time_limit_s, "files": list(e.files),
                 "timed": e.timing is not None, "requires": list(e.requires)} for e in exercises]
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(e.slug) for e in exercises), default=4)
    for e in exercises:
        click.echo(f"{e.slug:<{width}}  {e.difficulty:<6}  {e.points:>4g} pts  {e.title}")


@click.command()
@click.argument("slug")
def show(slug):
    """Print an exercise's prompt."""
    ex = select(load_catalogue(), [slug])[0]
    click.echo(f"# {ex.title}  [{ex.slug} · {ex.difficulty} · {ex.points:g} points · "
               f"edit: {', '.join(ex.files)}]\n")
    click.echo(ex.prompt_path.read_text(encoding="utf-8"))


@click.command()
@click.argument("slug")
def hint(slug):
    """Print an exercise's hints."""
    ex = select(load_catalogue(), [slug])[0]
    if not ex.hints:
        click.echo(f"{slug} has no hints; `torchdrill show {slug}` repeats the prompt.")
    for i, h in enumerate(ex.hints, 1):
        click.echo(f"Hint {i}: {h.text}")


@click.command()
@click.argument("slugs", nargs=-1)
@opt.work_dir
def start(slugs, directory):
    """Copy exercises (stub, prompt, public tests) into a work folder."""
    from grader.practice import workspace
    target = Path(directory)
    for slug, what in workspace.start(select(load_catalogue(), slugs), target):
        click.echo(f"{target / slug}: {what}")
    click.echo("Next: edit the files, then `torchdrill check` (public tests) and "
               "`torchdrill grade` (hidden checks).")


@click.command()
@click.argument("slugs", nargs=-1)
@opt.work_dir
def check(slugs, directory):
    """Run the public sample tests on your work."""
    from grader.practice import workspace
    folder = opt.existing_dir(directory, "work folder")
    catalogue = load_catalogue()
    exercises = select(catalogue, slugs) if slugs else [
        e for e in catalogue.values() if (folder / e.slug).is_dir()]
    if not exercises:
        raise InputError(f"{directory}: no started exercise here; run `torchdrill start SLUG` first")
    passed, attempted = workspace.check(exercises, folder, echo=click.echo)
    click.echo(f"{passed} of {attempted} exercise(s) pass their public tests.")
    sys.exit(0 if passed == attempted else 1)


@click.command()
@click.argument("slugs", nargs=-1)
@opt.work_dir
@click.option("--manual", is_flag=True, help="Rerun when you press Enter instead of on save.")
@click.option("--once", is_flag=True, hidden=True, help="Run once and exit (tests).")
@click.option("--max-polls", type=int, default=None, hidden=True)
def watch(slugs, directory, manual, once, max_polls):
    """Rerun the public tests on every save; show your progress."""
    from grader.practice import watch as w
    folder = opt.existing_dir(directory, "work folder")
    catalogue = load_catalogue()
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
