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


SIMILAR_SHOWN = 3          # names in a "similar to" cell; the rest are "and N more"


def similarity_column(meta: dict) -> dict | None:
    """The "similar to" column's heading, or None when the batch ran no similarity report
    (meta["similarity"]: its threshold, or False when it failed)."""
    if "similarity" not in meta:
        return None
    threshold = meta["similarity"]
    if threshold is False or threshold is None:
        return {"ok": False, "tip": "The similarity report failed for this batch (see the "
                                    "warning grade-many printed); no pairs were compared."}
    return {"ok": True, "tip": (
        f"Candidates with a pair score of {threshold:.2f} or more on some exercise: long runs "
        "of the same code once renaming, comments and layout are set aside, or the same wrong "
        "values in failed checks. Evidence for a person to look at, not a verdict: "
        "short exercises and the obvious solution make honest candidates look alike. "
        "similarity.html shows each pair side by side.")}


def similar_cell(names: list[str] | None, column: dict | None) -> dict:
    """Text of one row's "similar to" cell: the first SIMILAR_SHOWN names, "and N more"."""
    names = list(names or ())
    if column is None or not column["ok"]:
        return {"names": [], "more": 0, "count": 0, "tip": "not compared"}
    shown = names[:SIMILAR_SHOWN]
    tip = ("similar to " + ", ".join(names) + ": evidence to look at, not a verdict"
           if names else "no pair at or above the threshold")
    return {"names": shown, "more": len(names) - len(shown), "count": len(names), "tip": tip}


def leaderboard_view(rows: list[dict], exercises: list[dict], meta: dict) -> dict:
    """rows: batch.grade_one summaries (with "similar_to" once the batch compared them);
    exercises: [{"slug", "title", "max_score"}]."""
    similarity = similarity_column(meta)
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
                      "max_text": points(row["max_score"]),
                      "similar": similar_cell(row.get("similar_to"), similarity)})
    columns = [dict(ex, label=Markup(escape(ex["slug"]).replace("-", "-<wbr>")))
               for ex in exercises]
    return {"rows": shown, "exercises": columns, "meta": meta, "similarity": similarity,
            "script": Markup(sort_script()), "script_hash": script_hash(sort_script())}
