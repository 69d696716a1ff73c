"""Click options shared by several commands, defined once (pip-tools' options.py)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from grader.errors import InputError

JOBS_HELP = "Parallel grading processes (default: number of CPU cores)."

exercise = click.option("--exercise", "slugs", multiple=True,
                        help="Only this exercise (repeatable).")
no_timing = click.option("--no-timing", is_flag=True, help="Skip kernel timing.")
device = click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto",
                      show_default=True, help="Where checks and timing run.")
jobs = click.option("-j", "--jobs", type=int, default=None, help=JOBS_HELP)
work_dir = click.option("--dir", "directory", default=".", show_default=True, help="Work folder.")
isolation = click.option("--isolation", type=click.Choice(["auto", "namespaces", "process"]),
                         default="auto", show_default=True,
                         help="The OS wall around every grading child: Linux namespaces where they "
                              "work (auto), required (namespaces), or plain processes.")

resume = click.option("--resume", is_flag=True,
                      help="Keep the candidates OUT already holds a result of, graded with the same "
                           "catalogue, files and arguments; grade only the rest.")



def time_box(help: str):
    """--time-box 3h (also 90m, 2h30m), parsed to seconds; None when not given."""
    def parse(ctx, param, value):
        from grader.practice.timebox import parse_time_box
        return None if value is None else parse_time_box(value)
    return click.option("--time-box", "time_box_s", default=None, metavar="DURATION",
                        callback=parse, help=help)


def resolve_isolation(requested: str, device: str) -> str:
    """The isolation mode; prints once why it is weaker than asked, when it is."""
    from grader.engine.environment import resolve_isolation as resolve
    mode, note = resolve(requested, device)
    if note:
        click.echo(note, err=True)
    return mode


def resolve_device(requested: str) -> str:
    from grader.engine.environment import resolve_device as resolve
    return resolve(requested)


def audience(default: str | None = "interviewer", help: str = "Who reads the report."):
    return click.option("--audience", type=click.Choice(["interviewer", "candidate"]),
                        default=default, show_default=default is not None, help=help)


def resolve_jobs(value: int | None) -> int:
    if value is not None and value < 1:
        raise InputError("-j must be at least 1")
    return value or os.cpu_count() or 1


def existing_dir(path: str, what: str) -> Path:
    """A readable folder given on the command line, relative to the current directory."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{path}: no such {what}")
    if not p.is_dir():
        raise InputError(f"{path}: is not a folder; give the {what} folder")
    if not os.access(p, os.R_OK | os.X_OK):
        raise InputError(f"{path}: cannot be read (permission denied)")
    return p.resolve()
