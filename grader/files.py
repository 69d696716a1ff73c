"""Writing the grader's own outputs: atomically, so a reader never sees half a report."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from grader.errors import InputError


def check_output_paths(*paths) -> None:
    """Refuse, before any work, an output whose folder does not exist: a grade that ran for
    minutes must never be lost because the report could not be written."""
    for path in filter(None, paths):
        parent = Path(path).parent
        if parent and not parent.exists():
            raise InputError(f"{parent}: folder does not exist; create it or choose another path")


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a unique temporary file in the same folder, then rename:
    two writers of the same report never share a half-written file."""
    path = Path(path)
    check_output_paths(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
