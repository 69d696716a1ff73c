#!/usr/bin/env python3
"""Run the public checks of torchdrill exercises, once or every time a file changes.

    python run_checks.py                 run every exercise's public checks once
    python run_checks.py conv2d          only that exercise
    python run_checks.py --watch         rerun when you save a file (Ctrl-C to stop)
    python run_checks.py --watch --manual
                                         rerun when you press Enter (for file systems that do
                                         not update modification times, e.g. WSL on /mnt/c)
    python run_checks.py --start         in a time-boxed kit: start the clock

In a time-boxed kit (`torchdrill kit OUT --time-box 3h`, which writes
exercises/.torchdrill/timebox.json) every run also appends an entry to the hash-chained log
exercises/.torchdrill/timebox.jsonl: the time, which exercises pass, a SHA-256 of each file to
edit, and the SHA-256 of the previous line. The grader verifies it (grader/practice/timebox.py).
It is tamper-evident, not tamper-proof: whoever holds the files can rewrite them.

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
import hashlib
import json
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
TIMEBOX_DIR = ".torchdrill"     # inside the exercises folder, so the submission zip carries it
KIT_FILE = "timebox.json"       # written by `torchdrill kit --time-box`: kit id, box, files
LOG_FILE = "timebox.jsonl"      # one canonical JSON entry a line, each naming the previous hash
HEAD_FILE = "timebox.head"      # the entry count and the last line's hash: a cut log shows
FIRST_PREV = "0" * 64


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
                 poll_s: float = POLL_S, manual: bool = False, sleep=time.sleep, lines=None,
                 log_dir: Path | None = None, via: str = "run_checks.py"):
        self.exercises, self.echo, self.clear = exercises, echo, clear
        self.log_dir, self.via = log_dir, via    # where to log runs if time-boxed, and who ran
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
        if self.log_dir is not None:
            # exercises not rerun keep their state: their files have not changed since
            record_run(self.log_dir, {e.slug: e.state == "pass" for e in self.exercises
                                      if e.state != "pending"}, self.via, self.echo)
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

# ----------------------------------------------------------------------------- time-boxed kits

def line_hash(line: str) -> str:
    """SHA-256 of one log line as written (without its newline): any edit to it changes this."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()


def canonical(entry: dict) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def file_sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def fmt_duration(seconds: float) -> str:
    """1 h 05 min, 12 min, 40 s: how long, for people."""
    s = int(round(abs(seconds)))
    if s < 60:
        return f"{s} s"
    h, m = divmod(s // 60, 60)
    return (f"{h} h {m:02d} min" if m else f"{h} h") if h else f"{m} min"


def utc_text(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def read_kit(folder: Path) -> dict | None:
    """The time-box settings `torchdrill kit --time-box` wrote into the kit, or None."""
    try:
        data = json.loads((folder / TIMEBOX_DIR / KIT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    ok = isinstance(data, dict) and isinstance(data.get("files"), dict) \
        and isinstance(data.get("time_box_s"), (int, float))
    return data if ok else None


def file_hashes(folder: Path, kit: dict) -> dict:
    """'slug/file' -> SHA-256 (None: absent) of every file the kit says to edit."""
    out = {}
    for slug, names in sorted(kit["files"].items()):
        for name in names if isinstance(names, list) else ():
            if isinstance(name, str) and "/" not in slug + name and not slug.startswith("."):
                out[f"{slug}/{name}"] = file_sha256(folder / slug / name)
    return out


def _log_lines(folder: Path) -> list[str]:
    try:
        text = (folder / TIMEBOX_DIR / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [line for line in text.split("\n") if line]


def _append(folder: Path, entry: dict) -> dict:
    """Append entry (numbered, chained to the last line on disk) and rewrite the head."""
    lines = _log_lines(folder)
    entry = dict(entry, n=len(lines), prev=line_hash(lines[-1]) if lines else FIRST_PREV)
    line = canonical(entry)
    box = folder / TIMEBOX_DIR
    with open(box / LOG_FILE, "a", encoding="utf-8", newline="\n") as fh:   # \n on Windows too
        fh.write(line + "\n")                       # one write: a line is whole or absent
    tmp = box / f"{HEAD_FILE}.tmp"
    tmp.write_text(canonical({"entries": len(lines) + 1, "last": line_hash(line)}) + "\n",
                   encoding="utf-8")
    os.replace(tmp, box / HEAD_FILE)
    return entry


def _started_at(folder: Path) -> float | None:
    lines = _log_lines(folder)
    try:
        t = json.loads(lines[0])["t"] if lines else None
    except (ValueError, KeyError, TypeError):
        return None
    return float(t) if isinstance(t, (int, float)) else None


def start_clock(folder: Path, via: str, echo=print) -> bool:
    """Write the start entry (once) of a time-boxed kit; False when the kit has no time box."""
    kit = read_kit(folder)
    if kit is None:
        return False
    try:
        began = _started_at(folder)
        if began is None and not _log_lines(folder):
            began = _append(folder, {"event": "start", "t": time.time(), "time": utc_text(time.time()),
                                     "kit_id": kit.get("kit_id"), "time_box_s": kit["time_box_s"],
                                     "via": via, "files": file_hashes(folder, kit)})["t"]
            echo(f"Time box: {fmt_duration(kit['time_box_s'])}, started now; it ends at "
                 f"{time.strftime('%H:%M', time.localtime(began + kit['time_box_s']))} "
                 "(your clock). Each check run is logged in exercises/.torchdrill/.")
        elif began is not None:
            echo(f"Time box: started {fmt_duration(time.time() - began)} ago, "
                 f"{fmt_duration(kit['time_box_s'])} in all.")
    except OSError as exc:
        echo(f"warning: could not write the time-box log ({exc.strerror or exc})")
    return True


def record_run(folder: Path, outcomes: dict, via: str, echo=print) -> None:
    """In a time-boxed kit, log one run of the public checks (starting the clock if need be).
    Never fails the run: a log it cannot write is a one-line warning."""
    kit = read_kit(folder)
    if kit is None:
        return
    if not _log_lines(folder):
        start_clock(folder, f"{via} (first run)", echo)
    try:
        now = time.time()
        entry = _append(folder, {"event": "run", "t": now, "time": utc_text(now), "via": via,
                                 "passed": sorted(s for s, ok in outcomes.items() if ok),
                                 "failed": sorted(s for s, ok in outcomes.items() if not ok),
                                 "files": file_hashes(folder, kit)})
    except OSError as exc:
        echo(f"warning: could not write the time-box log ({exc.strerror or exc})")
        return
    began = _started_at(folder)
    if began is not None:
        used = now - began
        left = kit["time_box_s"] - used
        echo(f"Time box: {fmt_duration(used)} of {fmt_duration(kit['time_box_s'])} used"
             + (f", {fmt_duration(left)} left" if left >= 0 else f", {fmt_duration(left)} over")
             + f" (run {entry['n']} logged).")


def main(argv=None) -> int:
    here = Path(__file__).resolve().parent
    default_dir = here / "exercises" if (here / "exercises").is_dir() else Path(".")
    parser = argparse.ArgumentParser(prog="run_checks.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("slugs", nargs="*", help="exercises to run (default: all)")
    parser.add_argument("--dir", default=str(default_dir), help="folder holding the exercises")
    parser.add_argument("--watch", action="store_true", help="rerun when a file changes")
    parser.add_argument("--manual", action="store_true", help="with --watch: rerun on Enter only")
    parser.add_argument("--start", action="store_true", help="time-boxed kit: start the clock")
    parser.add_argument("--max-polls", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    folder = Path(args.dir)
    if not folder.is_dir():
        print(f"run_checks.py: {folder}: no such folder", file=sys.stderr)
        return 2
    if args.start:
        if start_clock(folder, "run_checks.py --start"):
            return 0
        print(f"run_checks.py: {folder} is not a time-boxed kit; nothing to start", file=sys.stderr)
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
                      lines=sys.stdin if args.watch else None, log_dir=folder)
    if args.watch:
        return watcher.loop(args.max_polls)
    watcher.run(exercises)
    return 0 if all(e.state == "pass" for e in exercises) else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
