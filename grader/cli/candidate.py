"""Commands for the candidate: list, show, hint, start, check, watch, progress, next."""

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


def _warn(message: str) -> None:
    click.echo(message, err=True)


def _open_history():
    """The practice history for reading; a file it cannot use at all is a one-line error."""
    import sqlite3
    from grader.practice.history import open_history
    try:
        hist = open_history()
    except (OSError, sqlite3.Error) as exc:
        raise InputError(f"cannot open the practice history: {' '.join(str(exc).split())}") from None
    if hist.note:
        _warn(hist.note)
    return hist


def _catalogue_dicts(catalogue) -> list[dict]:
    return [{"slug": e.slug, "title": e.title, "difficulty": e.difficulty, "tags": list(e.tags),
             "hints": len(e.hints)} for e in catalogue.values()]


@click.command()
@click.argument("slug")
@click.option("--all", "show_all", is_flag=True, help="Every hint at once.")
def hint(slug, show_all):
    """Print the next hint you have not seen (and how many remain)."""
    from grader.practice import hints as h
    from grader.practice.history import record_safely
    ex = select(load_catalogue(), [slug])[0]
    texts = [x.text for x in ex.hints]
    if show_all:
        click.echo(h.format_all_hints(slug, texts))
        record_safely(lambda hist: [hist.mark_hint(slug, i) for i in range(len(texts))], _warn)
        return
    seen: list[int] = []
    record_safely(lambda hist: seen.extend(hist.hints_seen(slug)), _warn)
    picked = h.next_hint(texts, seen)
    click.echo(h.format_hint(slug, texts, picked))
    if picked is not None:
        record_safely(lambda hist: hist.mark_hint(slug, picked[0]), _warn)


@click.command()
@click.option("--html", "html_out", type=click.Path(dir_okay=False),
              help="Also write the progress page (self-contained HTML) to this file.")
def progress(html_out):
    """Your skill profile: mastery per tag, and every exercise's best and last grade."""
    from grader.practice.progress import format_progress, skill_profile
    catalogue = _catalogue_dicts(load_catalogue())
    with _open_history() as hist:
        click.echo(format_progress(skill_profile(hist, catalogue), hist, catalogue))
        if html_out:
            from grader.files import write_atomic
            from grader.report.progress_html import render_progress_html
            write_atomic(Path(html_out), render_progress_html(hist, catalogue))
            click.echo(f"wrote {html_out}")


@click.command("next")
def next_cmd():
    """The exercise to do next (spaced repetition over your grades), and why."""
    from grader.practice.progress import next_exercise
    with _open_history() as hist:
        pick = next_exercise(hist, _catalogue_dicts(load_catalogue()))
    click.echo(f"Next: {pick.slug}\n  why: {pick.reason}\n  torchdrill start {pick.slug}")


@click.command()
@click.argument("slugs", nargs=-1)
@opt.work_dir
def start(slugs, directory):
    """Copy exercises (stub, prompt, public tests) into a work folder."""
    from grader.practice import workspace
    target = Path(directory)
    for slug, what in workspace.start(select(load_catalogue(), slugs), target, echo=click.echo):
        click.echo(f"{target / slug}: {what}")
    click.echo("Next: edit the files, then `torchdrill check` (public tests) and "
               "`torchdrill grade` (hidden checks).")


@click.command()
@click.argument("slugs", nargs=-1)
@opt.work_dir
def check(slugs, directory):
    """Run the public sample tests on your work."""
    from grader.practice import workspace
    from grader.practice.history import record_safely
    folder = opt.existing_dir(directory, "work folder")
    catalogue = load_catalogue()
    manifest = workspace.adopt_kit(folder, catalogue)
    if slugs:
        exercises = select(catalogue, slugs)
    elif manifest:
        exercises = select(catalogue, manifest["exercises"])
    else:
        exercises = [e for e in catalogue.values() if (folder / e.slug).is_dir()]
    if not exercises:
        raise InputError(f"{directory}: no started exercise here; run `torchdrill start SLUG` first")
    outcomes: list[tuple[str, bool]] = []
    passed, attempted = workspace.check(exercises, folder, echo=click.echo,
                                        record=lambda slug, ok: outcomes.append((slug, ok)))
    record_safely(lambda hist: [hist.record_check(slug, str(folder), ok) for slug, ok in outcomes],
                  _warn)
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
    from grader.practice import workspace
    folder = opt.existing_dir(directory, "work folder")
    catalogue = load_catalogue()
    manifest = workspace.adopt_kit(folder, catalogue)
    chosen = select(catalogue, slugs or (manifest or {}).get("exercises") or ())
    exercises = [e for e in w.find_exercises(folder, order=[c.slug for c in chosen],
                                             timeouts={c.slug: c.time_limit_s for c in chosen})
                 if e.slug in {c.slug for c in chosen}]
    if not exercises:
        raise InputError(f"{directory}: no started exercise here; run `torchdrill start SLUG` first")
    clear = click.clear if sys.stdout.isatty() and not once else None
    watcher = w.Watcher(exercises, echo=click.echo, clear=clear, manual=manual,
                        lines=None if once else sys.stdin, log_dir=folder, via="torchdrill watch")
    if once:
        watcher.run(exercises)
        sys.exit(0 if all(e.state == "pass" for e in exercises) else 1)
    sys.exit(watcher.loop(max_polls))

