"""`grade-many --resume`: which candidates an interrupted batch already finished in OUT/.

A candidate counts as finished when OUT/<name>.json and .html exist, the JSON is a valid
result, and it records the same catalogue, the same graded files and the same grading
arguments as this run (the result's "catalogue" and "batch" keys): anything else is graded
again, so a resumed leaderboard is the one a fresh run would write.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from grader.files import write_atomic

MARKER = ".torchdrill-batch.json"    # OUT/ holds a (possibly unfinished) grade-many batch
# the options that change a result; -j and the executor only change how fast it comes
ARGUMENTS = ("slugs", "device", "timing", "audience", "isolation", "time_box_s")


def arguments_hash(options: dict) -> str:
    chosen = {key: options.get(key) for key in ARGUMENTS}
    text = json.dumps(chosen, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def mark(out_dir: Path, catalogue: str, arguments: str) -> None:
    """Written before the first candidate: an interrupted OUT/ is still a grade-many folder."""
    write_atomic(Path(out_dir) / MARKER, json.dumps({"tool": "torchdrill", "catalogue": catalogue,
                                                    "arguments": arguments}) + "\n")


def is_batch_folder(out_dir: Path) -> bool:
    return (Path(out_dir) / MARKER).is_file() or (Path(out_dir) / "leaderboard.csv").is_file()


def finished(out_dir: Path, name: str, catalogue: str, fingerprint: dict) -> dict | None:
    """The earlier result of candidate `name` when it still stands (see the module), else None."""
    from grader.schema import validate_result
    out_dir = Path(out_dir)
    if not (out_dir / f"{name}.html").is_file():
        return None
    try:
        result = json.loads((out_dir / f"{name}.json").read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict) or validate_result(result) != "":
        return None
    if result.get("catalogue") != catalogue or result.get("batch") != fingerprint:
        return None
    return result
