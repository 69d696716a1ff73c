"""The `torchdrill` command line: one click group, one thin function per command.

Commands live in a module per audience (candidate, interviewer, author), shared options in
options.py, logic in the packages below (catalogue, practice, engine, batch, report). Importing this
module must not import torch: `list`, `show`, `hint` and `--help` have to feel instant.
Exit codes: 0 done, 1 score under --fail-under (or checks failing for `check`/`validate`),
2 bad usage or input, 3 the grader itself failed.
"""

from __future__ import annotations

import os
import sys

import click

from grader import __version__
from grader.errors import GraderError, InputError


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
        except BrokenPipeError:   # `torchdrill hint x | head -1`: the reader left, not a failure
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(0)
        except Exception as exc:  # noqa: BLE001 - the grader itself failed: exit 3, one line
            if os.environ.get("TORCHDRILL_DEBUG"):
                raise
            raise _OneLineError(f"internal error: {type(exc).__name__}: {exc}", 3) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="torchdrill")
def cli():
    """torchdrill: PyTorch interview exercises, graded in isolated processes."""




def main(argv=None) -> None:
    """Console entry point (`torchdrill`, `python -m grader`)."""
    cli.main(args=argv, prog_name="torchdrill")


def _register() -> None:
    """One module per audience; each command is defined there and added to the one group."""
    from grader.cli import author, candidate, interviewer
    for command in (candidate.list_cmd, candidate.show, candidate.hint, candidate.start,
                    candidate.check, candidate.watch, candidate.progress, candidate.next_cmd,
                    interviewer.grade, interviewer.report_cmd,
                    interviewer.kit, interviewer.grade_many, author.validate):
        cli.add_command(command)


_register()
