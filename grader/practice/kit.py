"""`torchdrill kit OUT`: the folder (or .zip) an interviewer hands to a candidate.

    OUT/INSTRUCTIONS.md        how to start, what is graded, how to submit
    OUT/run_checks.py          runs the public checks (stdlib only; a copy of grader/watch.py)
    OUT/exercises/<slug>/      the prompt (README.md), the stub, the public tests
    OUT/exercises/.torchdrill/timebox.json   with --time-box: the box, a fresh kit id, the files
                               to edit (run_checks.py then logs each run: practice/timebox.py)

Built from `exercises/` only: nothing under `solutions/` is ever read into the kit, and the
grader package is not included. exercise.toml stays out too (it holds the hints, which the
interviewer may prefer to give in person: `--hints` puts them in INSTRUCTIONS.md). Before the
kit is written, `leak_problems` scans it against `solutions/` (identical files, hidden-check
file names, reference and hidden-check function bodies); any hit aborts the kit.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

from grader.catalogue import Exercise, solutions_dir
from grader.errors import InputError

SKIP_NAMES = {"__pycache__", ".pytest_cache", ".hypothesis", ".DS_Store", "exercise.toml"}
ZIP_TIME = (1980, 1, 1, 0, 0, 0)      # fixed: the same catalogue gives the same zip
MIN_BODY_CHARS = 40                   # shorter function bodies (`return x`) are not evidence


def check_out(out: Path) -> None:
    """Refuse to overwrite: OUT must not exist, or be an empty folder (not for a .zip)."""
    if out.suffix.lower() == ".zip":
        if out.exists():
            raise InputError(f"{out}: already exists; remove it or choose another name")
        if not out.parent.is_dir():
            raise InputError(f"{out.parent}: folder does not exist")
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: exists and is not an empty folder; choose a new or empty folder")


def _public_files(ex: Exercise):
    """(relative path, source path) of every file a candidate may see, links left out."""
    for root, dirs, files in os.walk(ex.path):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_NAMES and not d.startswith("."))
        for name in sorted(files):
            src = Path(root) / name
            if name in SKIP_NAMES or name.startswith(".") or name.endswith(".pyc"):
                continue
            if not stat.S_ISREG(os.lstat(src).st_mode):
                continue
            yield src.relative_to(ex.path), src


def _fmt_points(x: float) -> str:
    return f"{x:g}"


def _time_box_section(timebox: dict) -> list[str]:
    from grader.practice.watch import fmt_duration
    box = fmt_duration(timebox["time_box_s"])
    return [
        "",
        f"## Time box: {box}",
        "",
        f"This is a time-boxed exercise: you have {box} from when you start. Start the clock",
        "when you begin:",
        "",
        "    python run_checks.py --start",
        "",
        "(the first check run starts it too, if you forget). Every run of `run_checks.py` then",
        "adds a line to `exercises/.torchdrill/timebox.jsonl`: the time, which exercises pass their",
        "public tests, and a SHA-256 fingerprint of each file you edit, chained to the line before.",
        "Leave the `.torchdrill` folder in `exercises/` and in your zip; run the checks once more",
        "just before you zip, so the log's last line matches the files you send. Overrunning the",
        "box, or a changed log, is shown to the interviewer next to your grade; it does not change",
        "the grade.",
    ]


def instructions(exercises: list[Exercise], with_hints: bool = False,
                 timebox: dict | None = None) -> str:
    total = sum(ex.points for ex in exercises)
    lines = [
        "# Your torchdrill exercises",
        "",
        f"{len(exercises)} exercise{'s' if len(exercises) != 1 else ''}, "
        f"{_fmt_points(total)} points in all. Each folder under `exercises/` holds a prompt "
        "(`README.md`), a file to complete (the stub) and a few public sample tests.",
        "",
        "| exercise | difficulty | points | edit | time limit |",
        "|---|---|---|---|---|",
    ]
    for ex in exercises:
        edit = ", ".join(f"`exercises/{ex.slug}/{f}`" for f in ex.files)
        lines.append(f"| **{ex.slug}**: {ex.title} | {ex.difficulty} | {_fmt_points(ex.points)} "
                     f"| {edit} | {ex.time_limit_s:g} s |")
    lines += [
        "",
        "## Start",
        "",
        "You need Python 3.10 or newer with `torch`, `numpy` and `pytest`:",
        "",
        "    pip install torch numpy pytest",
        "",
        "Read `exercises/<slug>/README.md`, then replace the `raise NotImplementedError` lines of the",
        "stub with your code. Keep the file names and the function signatures.",
        "",
        "## Check your work",
        "",
        "    python run_checks.py                  # every exercise's public tests, once",
        "    python run_checks.py conv2d           # one exercise",
        "    python run_checks.py --watch          # rerun whenever you save a file",
        "    python run_checks.py --watch --manual # rerun when you press Enter (WSL, network drives)",
        "",
        "or plain pytest, one exercise at a time: `python -m pytest exercises/<slug>`.",
        "If you have torchdrill installed, `torchdrill check --dir exercises` and",
        "`torchdrill watch --dir exercises` do the same.",
        "",
        "## What is graded",
        "",
        "The public tests are a few samples. Your submission is graded by more thorough checks that",
        "you do not have: many shapes, parameters and data types, edge cases, gradients where the",
        "function must be differentiable, and your inputs left unchanged. Points are split over",
        "those checks. Each exercise runs in its own process with the time limit above: an",
        "infinite loop or a crash costs that exercise only.",
        "",
        "- Implement the operation yourself: calling a forbidden function (listed below) scores the",
        "  exercise zero, wherever the call is hidden.",
        "- Exercises marked *timed* also compare your function's speed with PyTorch's; speed",
        "  points count only when every correctness check passes.",
        "- Reading or writing files, network access, starting processes and inspecting the",
        "  interpreter are reported to the interviewer, who reads your code as well as the score.",
        "",
        "Per exercise:",
        "",
    ]
    for ex in exercises:
        extra = []
        if ex.forbidden:
            extra.append("forbidden: " + ", ".join(f"`{f}`" for f in ex.forbidden))
        if ex.timing is not None:
            extra.append("timed against PyTorch")
        if ex.requires:
            extra.append("needs " + ", ".join(f"`{r}`" for r in ex.requires))
        if extra:
            lines.append(f"- **{ex.slug}**: " + "; ".join(extra) + ".")
    if timebox:
        lines += _time_box_section(timebox)
    if with_hints and any(ex.hints for ex in exercises):
        lines += ["", "## Hints", ""]
        for ex in exercises:
            for i, h in enumerate(ex.hints, 1):
                lines.append(f"- **{ex.slug}**, hint {i}: {h.text}")
    lines += [
        "",
        "## Submit",
        "",
        "Send one `.zip` named after you (`your-name.zip`) holding one folder per exercise you",
        "attempted, named exactly like the exercise, with your file under the stub's name:",
        "",
        "    your-name.zip",
        "      exercises/",
        f"        {exercises[0].slug}/{exercises[0].files[0]}",
        "        ...",
        "",
        "The simplest way, from this folder (works on every system):",
        "",
        "    python -m zipfile -c your-name.zip exercises",
        "",
        "Untouched exercises may stay in the zip: they score zero, as missing ones do. Other files",
        "(notes, extra tests, a `conftest.py`) are ignored by the grader; symbolic links are not",
        "accepted.",
        "",
    ]
    return "\n".join(lines)


def _normalise(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _bodies(source: str) -> dict[str, str]:
    """Function name -> its body's source without the docstring, whitespace removed."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                body = body[1:]
            text = "".join(ast.get_source_segment(source, stmt) or "" for stmt in body)
            out[f"{node.name}@{node.lineno}"] = _normalise(text)
    return out


def _read_text(path: Path) -> str:
    return path.read_bytes()[:4_000_000].decode("utf-8", "replace")


def _all_files(root: Path) -> list[Path]:
    """Every file under root, following links (a linked folder is scanned, not skipped)."""
    out = []
    for base, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        out.extend(Path(base) / f for f in sorted(files))
    return [p for p in out if p.is_file()]


def leak_problems(kit_root: Path, solutions: Path, exercises_root: Path | None = None) -> list[str]:
    """What in `kit_root` comes from `solutions` (empty list: nothing found).

    Identical files; files or text naming the hidden checks; the body of any function of a
    reference, alternative, wrong variant or hidden check, unless the public stub has that
    very body (a helper the author gave away on purpose)."""
    problems = []
    kit_files = [p for p in sorted(kit_root.rglob("*")) if p.is_file()]
    secret_files = _all_files(solutions)
    digests = {}
    for p in secret_files:
        data = p.read_bytes()
        if data.strip():
            digests.setdefault(hashlib.sha256(data).hexdigest(), p)
    public_bodies = set()
    if exercises_root is not None and exercises_root.is_dir():
        for p in _all_files(exercises_root):
            if p.suffix != ".py":
                continue
            public_bodies.update(_bodies(_read_text(p)).values())
    secret_bodies = {}
    for p in secret_files:
        if p.suffix == ".py":
            for name, body in _bodies(_read_text(p)).items():
                if len(body) >= MIN_BODY_CHARS and body not in public_bodies:
                    secret_bodies.setdefault(body, f"{p.relative_to(solutions)}:{name}")
    for p in kit_files:
        rel = p.relative_to(kit_root)
        if any(part.startswith("test_hidden") or part in ("solutions", "wrong", "alt")
               for part in rel.parts):
            problems.append(f"{rel}: its name belongs to the hidden side")
        data = p.read_bytes()
        twin = digests.get(hashlib.sha256(data).hexdigest())
        if twin is not None:
            problems.append(f"{rel}: identical to {twin.relative_to(solutions)}")
        text = data[:4_000_000].decode("utf-8", "replace")
        if "test_hidden" in text:
            problems.append(f"{rel}: mentions test_hidden")
        flat = _normalise(text)
        for body, origin in secret_bodies.items():
            if body in flat:
                problems.append(f"{rel}: contains the body of {origin}")
                break
    return problems


def _write_tree(exercises: list[Exercise], root: Path, with_hints: bool,
                timebox: dict | None = None) -> int:
    count = 0
    for ex in exercises:
        for rel, src in _public_files(ex):
            dest = root / "exercises" / ex.slug / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
            count += 1
    (root / "INSTRUCTIONS.md").write_text(instructions(exercises, with_hints, timebox),
                                          encoding="utf-8")
    if timebox:
        from grader.practice.watch import KIT_FILE, TIMEBOX_DIR
        settings = root / "exercises" / TIMEBOX_DIR / KIT_FILE
        settings.parent.mkdir(parents=True)
        settings.write_text(json.dumps(timebox, indent=2) + "\n", encoding="utf-8")
        count += 1
    runner = root / "run_checks.py"
    shutil.copyfile(Path(__file__).with_name("watch.py"), runner)
    runner.chmod(0o755)
    return count + 2


def _zip_tree(root: Path, out: Path, top: str) -> None:
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for p in sorted(root.rglob("*")):
            rel = p.relative_to(root).as_posix()
            if p.is_dir():
                info = zipfile.ZipInfo(f"{top}/{rel}/", ZIP_TIME)
                info.external_attr = (0o40755 << 16) | 0x10
                zf.writestr(info, b"")
                continue
            info = zipfile.ZipInfo(f"{top}/{rel}", ZIP_TIME)
            info.external_attr = (0o100755 if os.access(p, os.X_OK) else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, p.read_bytes())
    tmp.replace(out)


def build_kit(exercises: list[Exercise], out: Path, with_hints: bool = False,
              timebox: dict | None = None) -> int:
    """Write the kit to folder `out` or, when it ends in .zip, to that zip. Returns the number
    of files. Refuses a non-empty target and any kit in which `leak_problems` finds something.
    `timebox` (practice/timebox.py:kit_settings) makes it a time-boxed kit."""
    check_out(out)
    if not exercises:
        raise InputError("no exercises to put in the kit")
    as_zip = out.suffix.lower() == ".zip"
    staging = Path(tempfile.mkdtemp(prefix="torchdrill-kit-"))
    try:
        count = _write_tree(exercises, staging, with_hints, timebox)
        problems = leak_problems(staging, solutions_dir(), exercises[0].path.parent)
        if problems:
            raise InputError(f"kit not written: {problems[0]}"
                              + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        if as_zip:
            _zip_tree(staging, out, out.stem or "kit")
        else:
            out.mkdir(parents=True, exist_ok=True)
            for p in sorted(staging.iterdir()):
                shutil.move(str(p), str(out / p.name))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return count
