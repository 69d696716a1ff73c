"""Renderers: they read the result JSON (grader/schema/result-1.json) and never re-derive it.

html (the report), view (what its template shows, per audience), charts (inline SVG),
junit (JUnit XML), leaderboard_view (the batch's page), format (points and labels).
"""

from __future__ import annotations

import json
from pathlib import Path

from grader.files import write_atomic
from grader.report.html import render_html, write_html
from grader.schema import load_result, validate_result

__all__ = ["json_text", "load_result", "render_html", "validate_result", "write_html", "write_json"]


def json_text(result: dict) -> str:
    """The result JSON as written to disk (a cluster worker returns this text to the client)."""
    return json.dumps(result, indent=2, ensure_ascii=False) + "\n"


def write_json(result: dict, path: Path) -> None:
    write_atomic(path, json_text(result))
