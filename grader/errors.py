"""Errors the CLI turns into one-line messages and exit codes (docs/design.md: exit codes)."""


class InputError(Exception):
    """Bad usage or bad input: unknown slug, missing path, malformed exercise.toml. Exit 2."""

    exit_code = 2


class GraderError(Exception):
    """The grader itself failed. Exit 3."""

    exit_code = 3
