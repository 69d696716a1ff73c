#!/usr/bin/env python3
"""Run the public checks of torchdrill exercises, once or every time a file changes.

    python run_checks.py                 run every exercise's public checks once
    python run_checks.py conv2d          only that exercise
    python run_checks.py --watch         rerun when you save a file (Ctrl-C to stop)
    python run_checks.py --watch --manual
                                         rerun when you press Enter (for file systems that do
                                         not update modification times, e.g. WSL on /mnt/c)

Only the Python standard library is used here; the checks themselves need torch, numpy and
pytest. The same file is `torchdrill watch` inside torchdrill and `run_checks.py` in a kit.
Each exercise runs in its own `python -m pytest` process, in its own folder, so exercises can
never see each other's modules.

Changes are found by polling (a stat of each file once a second, about 0.2 ms for an exercise
folder), not with watchfiles/inotify: this file must run without anything but the standard
library, the file systems where events fail (WSL's /mnt/c, network drives) are the ones
--manual exists for, and a second of latency is small beside a pytest run of several seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

POLL_S = 1.0
DEFAULT_TIMEOUT_S = 300.0
SKIP_DIRS = {"__pycache__", ".pytest_cache", ".hypothesis", ".git", ".ipynb_checkpoints"}
MAX_FILES = 500                 # per exercise folder, for the change fingerprint
TAIL_LINES = 30


@dataclass
class Exercise:
    slug: str
    folder: Path
    timeout_s: float = DEFAULT_TIMEOUT_S
    state: str = "pending"      # pending | pass | fail
    tail: str = ""
    seconds: float = 0.0
    stamp: tuple = field(default_factory=tuple)


def find_exercises(folder: Path, order=None, timeouts=None) -> list[Exercise]:
    """Sub-folders of `folder` holding public tests (test_*.py): in `order` when given (slugs
    not in it follow, sorted), else sorted by name."""
    timeouts = timeouts or {}
    found = {p.name: p for p in sorted(folder.iterdir())
             if p.is_dir() and not p.name.startswith((".", "_")) and any(p.glob("test_*.py"))}
    ranked = [s for s in (order or []) if s in found] + sorted(s for s in found if s not in (order or []))
    return [Exercise(s, found[s], float(timeouts.get(s, DEFAULT_TIMEOUT_S))) for s in ranked]


def fingerprint(folder: Path) -> tuple:
    """(path, mtime, size) of the files in an exercise folder: changes when you save."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith((".pyc", ".swp", "~")) or name.startswith(".#"):
                continue
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            out.append((os.path.relpath(os.path.join(root, name), folder), st.st_mtime_ns, st.st_size))
            if len(out) >= MAX_FILES:
                return tuple(out)
    return tuple(out)


def run_public(ex: Exercise) -> None:
    """Run one exercise's public tests in a fresh pytest process; record pass/fail and output."""
    tests = sorted(p.name for p in ex.folder.glob("test_*.py"))
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "--no-header", "--tb=short", "-p", "no:cacheprovider",
             "--rootdir", str(ex.folder), *tests],
            cwd=ex.folder, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            errors="replace", timeout=ex.timeout_s)
        ok, tail = proc.returncode == 0, (proc.stdout + proc.stderr).strip()
        if proc.returncode == 1 and "No module named pytest" in tail:
            tail += "\n(install the checks' requirements: pip install torch numpy pytest)"
    except subprocess.TimeoutExpired:
        ok, tail = False, f"timed out after {ex.timeout_s:g} s (an infinite loop?)"
    ex.seconds = time.monotonic() - started
    ex.state = "pass" if ok else "fail"
    ex.tail = "\n".join(tail.splitlines()[-TAIL_LINES:])


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // total if total else width
    head = ">" if 0 < filled < width else ""
    return "[" + "#" * filled + head + "-" * (width - filled - len(head)) + f"] {done}/{total}"


def render(exercises: list[Exercise], echo) -> None:
    """The status table, the progress bar, and the output of the first failing exercise."""
    width = max(len(e.slug) for e in exercises)
    current = next((e for e in exercises if e.state != "pass"), None)
    for e in exercises:
        mark = {"pass": "✓", "fail": "✗"}.get(e.state, "·")
        what = {"pass": "public checks pass", "fail": "public checks fail"}.get(e.state, "not run yet")
        arrow = "  <- next" if e is current else ""
        echo(f"  {mark} {e.slug:<{width}}  {what}{arrow}")
    done = sum(e.state == "pass" for e in exercises)
    echo(f"Progress: {progress_bar(done, len(exercises))} exercises pass their public checks")
    if current is None:
        echo("All public checks pass. The hidden checks grade more cases than these samples: "
             "test edge cases yourself before you submit.")
    elif current.state == "fail":
        echo(f"\n{current.slug} ({current.folder}):\n" +
             "\n".join("    " + line for line in current.tail.splitlines()))


class Watcher:
    """Reruns the exercises whose files change (or, on Enter, the current one too)."""

    def __init__(self, exercises: list[Exercise], echo=print, clear=None,
                 poll_s: float = POLL_S, manual: bool = False, sleep=time.sleep, lines=None):
        self.exercises, self.echo, self.clear = exercises, echo, clear
        self.poll_s, self.manual, self.sleep = poll_s, manual, sleep
        self.lines = lines               # iterator of input lines (Enter), or None
        self._queue: list[str] = []
        self._lock = threading.Lock()

    def run(self, targets: list[Exercise]) -> None:
        if self.clear:
            self.clear()
        for i, ex in enumerate(targets, 1):
            self.echo(f"[{i}/{len(targets)}] checking {ex.slug} ...")
            ex.stamp = fingerprint(ex.folder)
            run_public(ex)
        render(self.exercises, self.echo)

    def _reader(self) -> None:
        for line in self.lines:
            with self._lock:
                self._queue.append(line.strip().lower())
        with self._lock:
            self._queue.append("eof")

    def loop(self, max_polls: int | None = None) -> int:
        """Watch until Ctrl-C, `q` + Enter, end of input in manual mode, or max_polls polls."""
        hint = "press Enter to rerun" if self.manual else "save a file to rerun, Enter to rerun now"
        polls = 0
        try:
            self.run(self.exercises)
            self.echo(f"\nWatching {len(self.exercises)} exercise(s): {hint}; "
                      "q + Enter or Ctrl-C to stop.")
            if self.lines is not None:
                threading.Thread(target=self._reader, daemon=True).start()
            while max_polls is None or polls < max_polls:
                self.sleep(self.poll_s)
                polls += 1
                with self._lock:
                    commands, self._queue = self._queue, []
                asked = stop = False
                for command in commands:          # in order: Enter then q reruns, then stops
                    if command in ("q", "quit") or (command == "eof" and self.manual):
                        stop = True
                        break
                    asked = asked or command != "eof"
                if stop and not asked:
                    break
                changed = [] if self.manual else [e for e in self.exercises
                                                  if fingerprint(e.folder) != e.stamp]
                if asked:
                    changed = [e for e in self.exercises if fingerprint(e.folder) != e.stamp]
                    current = next((e for e in self.exercises if e.state != "pass"), None)
                    if current is not None and current not in changed:
                        changed.append(current)
                if changed:
                    self.run(changed)
                if stop:
                    break
        except KeyboardInterrupt:
            pass
        return 0 if all(e.state == "pass" for e in self.exercises) else 1


def main(argv=None) -> int:
    here = Path(__file__).resolve().parent
    default_dir = here / "exercises" if (here / "exercises").is_dir() else Path(".")
    parser = argparse.ArgumentParser(prog="run_checks.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("slugs", nargs="*", help="exercises to run (default: all)")
    parser.add_argument("--dir", default=str(default_dir), help="folder holding the exercises")
    parser.add_argument("--watch", action="store_true", help="rerun when a file changes")
    parser.add_argument("--manual", action="store_true", help="with --watch: rerun on Enter only")
    parser.add_argument("--max-polls", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"run_checks.py: {folder}: no such folder", file=sys.stderr)
        return 2
    exercises = find_exercises(folder)
    if args.slugs:
        unknown = [s for s in args.slugs if s not in {e.slug for e in exercises}]
        if unknown:
            print(f"run_checks.py: no exercise '{unknown[0]}' in {folder}", file=sys.stderr)
            return 2
        exercises = [e for e in exercises if e.slug in args.slugs]
    if not exercises:
        print(f"run_checks.py: no exercises with public tests in {folder}", file=sys.stderr)
        return 2
    clear = (lambda: print("\033[2J\033[H", end="")) if args.watch and sys.stdout.isatty() else None
    echo = lambda *a: print(*a, flush=True)  # noqa: E731 - progress must show before pytest ends
    watcher = Watcher(exercises, echo=echo, clear=clear, manual=args.manual,
                      lines=sys.stdin if args.watch else None)
    if args.watch:
        return watcher.loop(args.max_polls)
    watcher.run(exercises)
    return 0 if all(e.state == "pass" for e in exercises) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
