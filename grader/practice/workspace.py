"""The candidate's side: `start` copies exercises into a work folder, `check` runs the public
sample tests there, and the work folder's manifest (WORK/.torchdrill.json) says which exercises
it holds, so `grade WORK` grades only those. Nothing here imports torch in this process."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from grader.catalogue import Exercise
from grader.errors import InputError
from grader.practice.watch import record_run, start_clock

SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")
MANIFEST = ".torchdrill.json"
MANIFEST_FORMAT = 1
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def read_manifest(folder: Path) -> dict | None:
    """folder's manifest as {"exercises": [slug...], "kit": str | None}; None when it has none.
    A manifest that is not what `start` writes is an InputError (one line, exit 2)."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    fix = f"fix it or delete it (`torchdrill start SLUG --dir {folder}` writes a new one)"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        why = " ".join(str(exc).split())
        raise InputError(f"{path}: not a torchdrill manifest ({why}); {fix}") from None
    slugs = data.get("exercises") if isinstance(data, dict) else None
    kit = data.get("kit") if isinstance(data, dict) else None
    if (not isinstance(slugs, list) or not slugs
            or not all(isinstance(s, str) and _SLUG.match(s) for s in slugs)
            or not (kit is None or isinstance(kit, str))):
        raise InputError(f"{path}: not a torchdrill manifest (it needs \"exercises\": a list of "
                         f"exercise slugs); {fix}")
    return {"exercises": list(dict.fromkeys(slugs)), "kit": kit}


def write_manifest(folder: Path, slugs, kit: str | None = None) -> dict:
    """Add slugs to folder's manifest (creating it; slugs listed before whose folder is gone
    are dropped); returns the manifest written."""
    try:
        old = read_manifest(folder) or {"exercises": [], "kit": None}
    except InputError:
        old = {"exercises": [], "kit": None}       # start repairs a broken manifest
    data = {"manifest": "torchdrill workspace", "format": MANIFEST_FORMAT,
            "exercises": list(dict.fromkeys([*(s for s in old["exercises"] if (folder / s).is_dir()),
                                             *slugs]))}
    if kit or old.get("kit"):
        data["kit"] = kit or old["kit"]
    tmp = folder / f"{MANIFEST}.tmp"
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, folder / MANIFEST)
    return {"exercises": data["exercises"], "kit": data.get("kit")}


def kit_name(folder: Path) -> str | None:
    """The kit's name when folder is a kit's exercises/ folder (INSTRUCTIONS.md and
    run_checks.py beside it), else None."""
    parent = folder.resolve().parent
    if folder.name == "exercises" and (parent / "INSTRUCTIONS.md").is_file() \
            and (parent / "run_checks.py").is_file():
        return parent.name
    return None


def adopt_kit(folder: Path, catalogue) -> dict | None:
    """A kit's exercises/ folder used with torchdrill gets a manifest naming the kit and its
    exercises (every exercise folder the kit shipped); returns it, or the existing manifest."""
    manifest = read_manifest(folder)
    name = kit_name(folder)
    if manifest is not None or name is None:
        return manifest
    slugs = [s for s in catalogue if (folder / s).is_dir()]
    return write_manifest(folder, slugs, kit=name) if slugs else None


def start(exercises: list[Exercise], target: Path, echo=print) -> list[tuple[str, str]]:
    """Copy each exercise folder to target/<slug>. Existing files are never overwritten:
    restarting keeps the candidate's work. In a time-boxed kit, starts the clock (once).
    Returns (slug, what happened) pairs."""
    target.mkdir(parents=True, exist_ok=True)
    done = []
    for ex in exercises:
        dest = target / ex.slug
        if dest.exists() and not dest.is_dir():
            raise InputError(f"{dest} exists and is not a folder; move it away first")
        created = []
        for src in sorted(ex.path.rglob("*")):
            rel = src.relative_to(ex.path)
            if src.is_dir() or "__pycache__" in rel.parts or src.suffix == ".pyc" \
                    or rel.name == "exercise.toml":
                continue            # the metadata holds every hint and the interview follow-ups
            out = dest / rel
            if out.exists():
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)
            created.append(str(rel))
        done.append((ex.slug, f"created {len(created)} file(s)" if created else "already there, kept"))
    write_manifest(target, [ex.slug for ex in exercises], kit=kit_name(target))
    start_clock(target, "torchdrill start", echo)
    return done


def check(exercises: list[Exercise], folder: Path, echo=print,
          record=None) -> tuple[int, int]:
    """Run each exercise's public tests in folder/<slug>. Returns (passed, attempted) exercises;
    `record(slug, passed)` after each one run. A time-boxed kit's log gets the run."""
    passed = attempted = 0
    outcomes = {}
    for ex in exercises:
        work = folder / ex.slug
        if not work.is_dir():
            echo(f"- {ex.slug}: not started (torchdrill start {ex.slug})")
            continue
        tests = sorted(p.name for p in work.glob("test_*.py"))
        if not tests:
            echo(f"- {ex.slug}: no public tests in {work}")
            continue
        attempted += 1
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "--no-header", "-p", "no:cacheprovider",
                 "--rootdir", str(work), *tests],
                cwd=work, env=env, capture_output=True, text=True, timeout=ex.time_limit_s)
            ok, tail = proc.returncode == 0, (proc.stdout + proc.stderr).strip()
        except subprocess.TimeoutExpired:
            ok, tail = False, f"timed out after {ex.time_limit_s:g} s"
        passed += ok
        outcomes[ex.slug] = ok
        if record:
            record(ex.slug, ok)
        echo(f"{'✓' if ok else '✗'} {ex.slug}: {'public tests pass' if ok else 'public tests fail'}")
        if not ok:
            echo("\n".join("    " + line for line in tail.splitlines()[-25:]))
    if outcomes:
        record_run(folder, outcomes, "torchdrill check", echo)
    return passed, attempted
