"""Carry the candidate's own files into the result JSON, so the interviewer's report can show
the code with line numbers next to the flags and failing checks.

Optional per-exercise key (schema 1 stays valid without it):
    "sources": {"conv2d.py": "def conv2d(...):\n    ..."}
Only the files the exercise grades are read, never through a symbolic link, each capped at
SOURCE_CAP characters (a truncated file ends with TRUNCATED_NOTE). Reading never imports or
runs anything.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

SOURCE_CAP = 100_000        # characters kept per file
TRUNCATED_NOTE = "\n# … [torchdrill: file truncated at {cap} characters]\n"


def read_source(path: Path, cap: int = SOURCE_CAP) -> str | None:
    """The text of a regular file (not a link, FIFO or device), capped; None if unreadable."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode):
            return None
        with open(path, "rb") as fh:
            raw = fh.read(cap * 4 + 4)
    except OSError:
        return None
    text = raw.decode("utf-8", "replace").replace("\x00", "\ufffd")
    if len(text) > cap or info.st_size > len(raw):
        text = text[:cap] + TRUNCATED_NOTE.format(cap=cap)
    return text


def attach_sources(result: dict, exercises, submission: Path, cap: int = SOURCE_CAP) -> dict:
    """Add "sources" to each graded exercise of `result` (in place; returns it)."""
    by_slug = {ex.slug: ex for ex in exercises}
    for entry in result.get("exercises", []):
        ex = by_slug.get(entry.get("slug"))
        if ex is None or entry.get("status") == "missing":
            continue
        folder = Path(submission) / ex.slug
        if folder.is_symlink():
            continue
        sources = {}
        for name in ex.files:
            text = read_source(folder / name, cap)
            if text is not None:
                sources[name] = text
        if sources:
            entry["sources"] = sources
    return result


def scrub(value):
    """Make every string in a result encodable as UTF-8 (in place for dicts and lists).

    Candidate messages arrive as JSON from the child, and JSON may carry lone surrogates
    ("\\ud800") that no UTF-8 file can hold; they become U+FFFD instead of crashing the
    report writer.
    """
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        for key in list(value):
            value[key] = scrub(value[key])
        return value
    if isinstance(value, list):
        for i, item in enumerate(value):
            value[i] = scrub(item)
        return value
    return value
