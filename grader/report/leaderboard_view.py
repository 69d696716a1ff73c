"""What the leaderboard template shows, from the batch's summary rows."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from html import escape
from importlib import resources

from markupsafe import Markup

from grader.kinds import Status
from grader.report.format import STATUS_LABEL, pct, points


@lru_cache(maxsize=1)
def sort_script() -> str:
    """Sorts the leaderboard table when a header is clicked (progressive enhancement: the table
    is already sorted by total without it). Allowed by the page's CSP through its hash only."""
    return resources.files("grader.report").joinpath("assets/sort.js").read_text("utf-8").strip()


def script_hash(script: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()


def leaderboard_view(rows: list[dict], exercises: list[dict], meta: dict) -> dict:
    """rows: batch.grade_one summaries; exercises: [{"slug", "title", "max_score"}]."""
    shown = []
    for row in rows:
        rank = 1 + sum(other.get("pct", 0) > row.get("pct", 0) for other in rows)
        cells = []
        for ex in exercises:
            cell = (row.get("exercises") or {}).get(ex["slug"])
            if cell is None:
                cells.append({"slug": ex["slug"], "text": "—", "sort": -1, "pct": None, "zeroed": False,
                              "status": Status.ERROR, "tip": "not graded"})
                continue
            share = pct(cell["score"], cell["max_score"])
            status = cell.get("status", Status.GRADED)
            tip = f'{ex["title"]}: {points(cell["score"])} / {points(cell["max_score"])}'
            if status != Status.GRADED:
                tip += f" ({STATUS_LABEL.get(status, status)})"
            if cell.get("zeroed"):
                tip += " (zeroed by a flag)"
            cells.append({"slug": ex["slug"], "text": points(cell["score"]), "sort": round(share, 3),
                          "pct": share, "status": status, "tip": tip, "zeroed": bool(cell.get("zeroed"))})
        shown.append({**row, "rank": rank, "cells": cells, "score_text": points(row["score"]),
                      "max_text": points(row["max_score"])})
    columns = [dict(ex, label=Markup(escape(ex["slug"]).replace("-", "-<wbr>")))
               for ex in exercises]
    return {"rows": shown, "exercises": columns, "meta": meta,
            "script": Markup(sort_script()), "script_hash": script_hash(sort_script())}
