"""Result JSON I/O and the HTML report rendered from it (jinja2, autoescape on, self-contained).

The result dict is the single source of truth: the HTML is a pure function of it (and the
audience), so `torchdrill report RESULT.json --html FILE` reproduces what `grade --html` wrote.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from grader.errors import InputError

OUTCOMES = ("passed", "failed", "error", "timeout", "skipped")
STATUSES = ("graded", "missing", "error", "timeout")


def write_json(result: dict, path: Path) -> None:
    _write_atomic(path, json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise InputError(f"{path.parent}: folder does not exist; create it or choose another path")
    # a unique temporary name: two writers of the same report never share a half-written file
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_result(path: Path) -> dict:
    """Read and validate a result JSON; any problem is a one-line InputError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    except ValueError as exc:
        raise InputError(f"{path}: not valid JSON ({exc})") from None
    problem = validate_result(data)
    if problem:
        raise InputError(f"{path}: not a torchdrill result ({problem})")
    return data


def validate_result(data) -> str:
    """'' when `data` follows schema 1, else the first problem found."""
    if not isinstance(data, dict) or data.get("schema") != 1 or data.get("tool") != "torchdrill":
        return "expected schema 1 and tool torchdrill"
    for key, kind in (("score", (int, float)), ("max_score", (int, float)), ("exercises", list),
                      ("environment", dict), ("created", str), ("version", str)):
        if not isinstance(data.get(key), kind):
            return f"key '{key}' missing or of the wrong type"
    for ex in data["exercises"]:
        if not isinstance(ex, dict) or ex.get("status") not in STATUSES:
            return "an exercise lacks a valid status"
        for key, kind in (("slug", str), ("score", (int, float)), ("max_score", (int, float)),
                          ("checks", list), ("timings", list), ("flags", list)):
            if not isinstance(ex.get(key), kind):
                return f"exercise key '{key}' missing or of the wrong type"
        for check in ex["checks"]:
            if not isinstance(check, dict) or check.get("outcome") not in OUTCOMES:
                return f"a check of {ex['slug']} lacks a valid outcome"
    return ""


def render_html(result: dict, audience: str | None = None) -> str:
    from grader.report_view import build_view  # jinja2 only when a report is wanted
    import jinja2
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    view = build_view(result, audience or result.get("audience", "interviewer"))
    return env.get_template("report.html.j2").render(**view)


def write_html(result: dict, path: Path, audience: str | None = None) -> None:
    _write_atomic(path, render_html(result, audience))
