"""The candidate's side: `start` copies exercises into a work folder, `check` runs the public
sample tests there. Neither imports torch in this process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from grader.catalogue import Exercise
from grader.errors import InputError

SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache")


def start(exercises: list[Exercise], target: Path) -> list[tuple[str, str]]:
    """Copy each exercise folder to target/<slug>. Existing files are never overwritten:
    restarting keeps the candidate's work. Returns (slug, what happened) pairs."""
    target.mkdir(parents=True, exist_ok=True)
    done = []
    for ex in exercises:
        dest = target / ex.slug
        if dest.exists() and not dest.is_dir():
            raise InputError(f"{dest} exists and is not a folder; move it away first")
        created = []
        for src in sorted(ex.path.rglob("*")):
            rel = src.relative_to(ex.path)
            if src.is_dir() or "__pycache__" in rel.parts or src.suffix == ".pyc":
                continue
            out = dest / rel
            if out.exists():
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, out)
            created.append(str(rel))
        done.append((ex.slug, f"created {len(created)} file(s)" if created else "already there, kept"))
    return done


def check(exercises: list[Exercise], folder: Path, echo=print) -> tuple[int, int]:
    """Run each exercise's public tests in folder/<slug>. Returns (passed, attempted) exercises."""
    passed = attempted = 0
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
        echo(f"{'✓' if ok else '✗'} {ex.slug}: {'public tests pass' if ok else 'public tests fail'}")
        if not ok:
            echo("\n".join("    " + line for line in tail.splitlines()[-25:]))
    return passed, attempted
