"""The one jinja environment, and the HTML report rendered from a result (self-contained)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from grader.files import write_atomic


@lru_cache(maxsize=1)
def environment():
    """Autoescape on, undefined names are errors, templates from grader/report/templates/."""
    import jinja2        # only when a page is wanted: `list`, `show` and `--help` stay instant
    return jinja2.Environment(
        loader=jinja2.PackageLoader("grader.report", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )


def render(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


def render_html(result: dict, audience: str | None = None) -> str:
    """The HTML report: a pure function of the result and the audience, so `torchdrill report
    RESULT.json` reproduces what `grade --html` wrote."""
    from grader.report.view import build_view
    return render("report.html.j2", **build_view(result, audience or result.get("audience", "interviewer")))


def write_html(result: dict, path: Path, audience: str | None = None) -> None:
    write_atomic(path, render_html(result, audience))
