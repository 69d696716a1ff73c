"""The batch's outputs: leaderboard HTML and CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader import __version__
from grader.errors import InputError
from grader.files import write_atomic
from grader.kinds import Status


def exercise_columns(options: dict) -> list[dict]:
    from grader.catalogue import load_catalogue, select
    return [{"slug": ex.slug, "title": ex.title, "max_score": ex.points}
            for ex in select(load_catalogue(), options.get("slugs") or [])]


def _csv_safe(value):
    """Spreadsheets run cells starting with = + - @ as formulas; candidate names are input."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rows: list[dict], exercises: list[dict]) -> str:
    from grader.report.leaderboard_view import leaderboard_view
    view = leaderboard_view(rows, exercises, {})
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["rank", "candidate", "status", "score", "max_score", "percent",
                     *[ex["slug"] for ex in exercises], "flags", "zeroing_flags",
                     "speedup_geomean", "timed_cases", "duration_s", "report", "error",
                     "similar_to"])
    for row in view["rows"]:
        cells = [(row["exercises"].get(ex["slug"]) or {}).get("score", "") for ex in exercises]
        writer.writerow([row["rank"], _csv_safe(row["candidate"]), row["status"],
                         f'{row["score"]:g}', f'{row["max_score"]:g}', f'{row["pct"]:.1f}',
                         *[c if c == "" else f"{c:g}" for c in cells], row["flags"],
                         row["zeroing_flags"],
                         "" if row["speedup"] is None else f'{row["speedup"]:.3f}',
                         row["timed_cases"], f'{row["duration_s"]:.1f}', row["html"] or "",
                         _csv_safe(row["error"]),
                         _csv_safe("; ".join(row.get("similar_to") or ()))])
    return buf.getvalue()


def render_leaderboard(rows: list[dict], exercises: list[dict], meta: dict) -> str:
    from grader.report.html import render
    from grader.report.leaderboard_view import leaderboard_view
    return render("leaderboard.html.j2", **leaderboard_view(rows, exercises, meta))


def write_leaderboard(rows: list[dict], exercises: list[dict], out_dir: Path, options: dict,
                      started) -> None:
    meta = {"created": started.isoformat(timespec="seconds"), "version": __version__,
            "candidates": len(rows), "device": options.get("device", "cpu"),
            "timing": bool(options.get("timing", True)),
            "graded": sum(r["status"] == Status.GRADED for r in rows),
            "problems": sum(r["status"] != Status.GRADED for r in rows),
            "catalogue": options.get("catalogue", ""),
            # the threshold of similarity.html; False: it failed; absent: not run
            **({"similarity": options["similarity"]} if "similarity" in options else {})}
    write_atomic(out_dir / "leaderboard.csv", to_csv(rows, exercises))
    write_atomic(out_dir / "leaderboard.html", render_leaderboard(rows, exercises, meta))


def prepare_out_dir(out_dir: Path) -> None:
    """Create OUT; refuse a non-empty folder unless it holds an earlier (maybe unfinished) batch."""
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: exists and is not a folder")
    from grader.batch.resume import is_batch_folder
    if out_dir.is_dir() and any(out_dir.iterdir()) and not is_batch_folder(out_dir):
        raise InputError(f"{out_dir}: not empty and not an earlier grade-many output; "
                         "choose an empty or new folder")
    out_dir.mkdir(parents=True, exist_ok=True)
